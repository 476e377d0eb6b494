"""``faultbook postmortem N [-o FILE] [--json]``: the blameless postmortem of a failure, drafted from the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from faultbook.cli import output


def register(app: Any, state: Any) -> None:
    @app.command("postmortem")
    def postmortem_(
        number: int = typer.Argument(..., help="The failure number."),
        out: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the Markdown to this file."),
        as_json: bool = typer.Option(False, "--json", help="Print the facts it is drafted from as JSON."),
    ) -> None:
        """Draft a blameless postmortem (Markdown): impact, UTC timeline, trigger, resolution, action items."""
        from faultbook.markdown.postmortem import render_postmortem
        from faultbook.services.postmortem import gather_postmortem

        root = state.settings().project_root
        with state.database().session() as session:
            facts = gather_postmortem(session, project=state.project_ref(), number=number, root=root)
        if as_json:
            output.emit_json(facts.to_json())
            return
        text = render_postmortem(facts)
        if out is None:
            output.emit_text(text, end="")
            return
        output.write_atomically(out, text)
        output.info(f"Wrote {out}")
