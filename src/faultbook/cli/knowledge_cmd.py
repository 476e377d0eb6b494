"""``faultbook explain``, ``faultbook merge`` and ``faultbook catalog``: thin wrappers over services.recognition.

``explain`` prints what is known about an error (the same lookup ``faultbook
run`` does on a failed deploy) to stdout; ``--json`` prints the matches as
an array.  ``merge A B`` folds failure B into A for good.  ``catalog`` lists
the built-in Cloudflare errors.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer

from faultbook.cli import output
from faultbook.domain.limits import MAX_NUMBER


def register(app: Any, state: Any) -> None:
    @app.command("explain")
    def explain_(
        text: Optional[str] = typer.Argument(None, help="The error text (a whole wrangler [ERROR] block is fine)."),
        from_stdin: bool = typer.Option(False, "--stdin", help="Read the error text from standard input."),
        code: Optional[int] = typer.Option(None, "--code", min=0, max=MAX_NUMBER, help="The API error code, if the text does not show it."),
        component: Optional[str] = typer.Option(None, "--component", help="Backend, Frontend, Assets, DNS ..."),
        endpoint: Optional[str] = typer.Option(
            None, "--endpoint", help="The API path that returned the error, or an API name (r2, kv, script-upload ...)."
        ),
        limit: int = typer.Option(3, "--limit", min=1, max=20, help="At most this many matches."),
        as_json: bool = typer.Option(False, "--json", help="Print the matches as a JSON array."),
    ) -> None:
        """Say what faultbook knows about an error: seen before, a known Cloudflare error, or anticipated."""
        from faultbook.errors import InputError
        from faultbook.services.recognition import explain, render_match

        if from_stdin:
            if text:
                raise InputError("give the error text as an argument or with --stdin, not both")
            text = sys.stdin.read()
        if not text or not text.strip():
            raise InputError('no error text: faultbook explain "<error text>" (or --stdin)')
        with state.database().session() as session:
            matches = explain(
                session,
                project=state.project_ref(),
                text=text,
                code=code,
                component=component,
                endpoint=endpoint,
                limit=limit,
            )
        if as_json:
            output.emit_json([m.to_json() for m in matches])
            return
        if not matches:
            output.info("Nothing known matches this error (no earlier failure, catalog entry or potential failure).")
            return
        output.emit_text("\n\n".join(render_match(m) for m in matches))

    @app.command("merge")
    def merge_(
        into: int = typer.Argument(..., min=1, max=MAX_NUMBER, help="The failure number to keep (A)."),
        other: int = typer.Argument(..., min=1, max=MAX_NUMBER, help="The failure number merged into A (B); its later occurrences land on A."),
        as_json: bool = typer.Option(False, "--json", help="Print the merged failure as JSON."),
    ) -> None:
        """Merge failure B into failure A, permanently (B is kept, Resolved, marked merged)."""
        from faultbook.services.recognition import merge_failures

        with state.database().session(write=True) as session:
            failure = merge_failures(session, project=state.project_ref(), into=into, other=other, actor=output.actor())
        if as_json:
            output.emit_json(failure.to_json(extended=True))
        output.info(
            f"Merged failure #{other} into #{into} (now seen {failure.occurrence_count} times); "
            f"later occurrences of #{other} land on #{into}."
        )

    @app.command("catalog")
    def catalog_(
        as_json: bool = typer.Option(False, "--json", help="Print every entry, with cause and fix, as JSON."),
    ) -> None:
        """List the built-in catalog of Cloudflare deploy errors."""
        from faultbook.knowledge.catalog import load_catalog

        entries = load_catalog()
        if as_json:
            output.emit_json([e.to_json() for e in entries])
            return
        lines = [f"{'CODE':>8}  {'API':<19}  {'ID':<34}  TITLE"]
        for entry in entries:
            code = str(entry.code) if entry.code is not None else "-"
            lines.append(f"{code:>8}  {entry.endpoint:<19}  {entry.id:<34}  {entry.title}")
        output.emit_text("\n".join(lines))
        output.info(f"{len(entries)} known errors")
