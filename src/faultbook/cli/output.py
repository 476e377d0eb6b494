"""Terminal output for the CLI: data to stdout, messages to stderr.

Rich is imported only when a table is drawn, to keep start-up fast.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Any, Iterable


def stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def actor() -> str | None:
    """Who is acting, for the timeline: FAULTBOOK_ACTOR, else the login name."""
    name = os.environ.get("FAULTBOOK_ACTOR")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return None


def info(message: str) -> None:
    print(message, file=sys.stderr)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def error(message: str, *, hint: str | None = None) -> None:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)


def emit_text(text: str, *, end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(soft_wrap=False)


def failure_table(failures: Iterable[Any]) -> None:
    from rich.table import Table

    failures = list(failures)
    if not failures:
        info("No failures match.")
        return
    if not sys.stdout.isatty():
        # Piped: one tab-separated line per failure, for grep/cut/awk.
        for f in failures:
            when = f.occurred_at.strftime("%Y-%m-%dT%H:%MZ") if f.occurred_at else "-"
            sys.stdout.write(f"{f.number}\t{f.status.value}\t{when}\t{f.component}\t{f.title}\n")
        return
    table = Table(show_lines=False)
    for name in ("#", "Status", "Occurred (UTC)", "Component", "Title", "Seen"):
        table.add_column(name, overflow="fold")
    for f in failures:
        table.add_row(
            str(f.number),
            f.status.label,
            f.occurred_at.strftime("%Y-%m-%d %H:%M") if f.occurred_at else "",
            f.component + (f" ({f.component_detail})" if f.component_detail else ""),
            f.title,
            str(f.occurrence_count),
        )
    _console().print(table)


def potential_table(items: Iterable[Any]) -> None:
    from rich.table import Table

    items = list(items)
    if not items:
        info("No potential failures recorded.")
        return
    table = Table()
    for name in ("#", "Component", "Step", "Title", "Messages"):
        table.add_column(name, overflow="fold")
    for p in items:
        table.add_row(str(p.number), p.component, p.step, p.title, str(len(p.possible_error_messages)))
    _console().print(table)


def failure_detail(failure: Any) -> None:
    from rich.markup import escape

    console = _console()
    console.print(f"[bold]Failure #{failure.number}: {escape(failure.title)}[/bold]  {failure.status.label}")
    rows = [
        ("Occurred", failure.occurred_at.isoformat() if failure.occurred_at else "—"),
        ("Component", failure.component + (f" ({failure.component_detail})" if failure.component_detail else "")),
        ("Deployment step", failure.step or "—"),
        ("Error message", failure.error_message or "—"),
        ("Root cause", failure.root_cause or "—"),
        ("Resolution", failure.resolution or "—"),
        ("Lessons learned", failure.lessons_learned or "—"),
        ("Occurrences", f"{failure.occurrence_count}"),
    ]
    for label, value in rows:
        suggested = " [yellow](suggested, not confirmed)[/yellow]" if _field_of(label) in failure.suggested_fields else ""
        console.print(f"[bold]{label}:[/bold]{suggested}")
        console.print("  " + escape(value).replace("\n", "\n  "), highlight=False)
    if failure.timeline:
        console.print("[bold]Timeline:[/bold]")
        for event in failure.timeline:
            who = f" by {escape(event.actor)}" if event.actor else ""
            console.print(f"  {event.at:%Y-%m-%d %H:%M:%S} UTC  {escape(event.description)}{who}", highlight=False)


def _field_of(label: str) -> str:
    return label.lower().replace(" ", "_")
