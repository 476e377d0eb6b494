"""Terminal output for the CLI: data to stdout, messages to stderr.

Rich is imported only when a table is drawn, to keep start-up fast.

Stored text is untrusted (captured output, reports from CI, imported documents): an escape sequence in a
title could retitle the terminal, clear it, or hide lines.  Whatever goes to a terminal passes through
``terminal_safe``: C0 and C1 control characters other than newline and tab are shown as ``\\xNN``
(Rich strips only BEL, BS, VT, FF and CR itself; ESC and CSI went through).  Piped output and ``--json``
keep the data as stored.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence


def stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def actor() -> str | None:
    """Who is acting, for the timeline: FAULTBOOK_ACTOR, else the login name."""
    from faultbook.config import process_environment

    name = process_environment().FAULTBOOK_ACTOR
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return None


#: C0 controls except tab and newline, DEL, and the C1 range.
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def terminal_safe(text: str) -> str:
    """``text`` with every control character but newline and tab written as ``\\xNN``."""
    return text.translate(_CONTROLS)


def stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _to_stderr(message: str) -> None:
    print(terminal_safe(message) if stderr_is_tty() else message, file=sys.stderr)


def info(message: str) -> None:
    _to_stderr(message)


def warn(message: str) -> None:
    _to_stderr(f"warning: {message}")


def error(message: str, *, hint: str | None = None) -> None:
    _to_stderr(f"error: {message}")
    if hint:
        _to_stderr(f"hint: {hint}")


def emit_text(text: str, *, end: str = "\n") -> None:
    if stdout_is_tty():
        text = terminal_safe(text)
    sys.stdout.write(text + end)
    sys.stdout.flush()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _console():
    from rich.console import Console

    return Console(soft_wrap=False)


def listing(
    items: Iterable[Any],
    *,
    columns: Sequence[str],
    row: Callable[[Any], Sequence[str]],
    plain: Callable[[Any], Sequence[object]],
    empty: str,
) -> None:
    """A list on stdout: a Rich table on a terminal, one tab-separated line per item when piped.

    ``row`` gives the table's cells (for people), ``plain`` the piped fields (for grep/cut/awk:
    stable values such as ISO times and status words, no header).  Tabs and newlines inside a
    field become spaces so each item stays one line of the same number of fields.  ``empty`` goes
    to stderr when there is nothing to list.
    """
    items = list(items)
    if not items:
        info(empty)
        return
    if not stdout_is_tty():
        for item in items:
            sys.stdout.write("\t".join(_plain_field(v) for v in plain(item)) + "\n")
        sys.stdout.flush()
        return
    from rich.table import Table

    table = Table()
    for name in columns:
        table.add_column(name, overflow="fold")
    for item in items:
        table.add_row(*(terminal_safe(cell) for cell in row(item)))
    _console().print(table)


def _plain_field(value: Any) -> str:
    return "" if value is None else str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def failure_table(failures: Iterable[Any]) -> None:
    listing(
        failures,
        columns=("#", "Status", "Occurred (UTC)", "Component", "Title", "Seen"),
        row=lambda f: (
            str(f.number),
            f.status.label,
            f.occurred_at.strftime("%Y-%m-%d %H:%M") if f.occurred_at else "",
            f.component + (f" ({f.component_detail})" if f.component_detail else ""),
            f.title,
            str(f.occurrence_count),
        ),
        plain=lambda f: (
            f.number,
            f.status.value,
            f.occurred_at.strftime("%Y-%m-%dT%H:%MZ") if f.occurred_at else "-",
            f.component,
            f.title,
        ),
        empty="No failures match.",
    )


def potential_table(items: Iterable[Any]) -> None:
    listing(
        items,
        columns=("#", "Component", "Step", "Title", "Messages"),
        row=lambda p: (str(p.number), p.component, p.step, p.title, str(len(p.possible_error_messages))),
        plain=lambda p: (p.number, p.component, p.step, p.title, len(p.possible_error_messages)),
        empty="No potential failures recorded.",
    )


def deployment_table(items: Iterable[Any]) -> None:
    listing(
        items,
        columns=("#", "Started (UTC)", "Outcome", "Kind", "Exit", "Component", "Step", "Command", "Version", "Failure"),
        row=lambda d: (
            str(d.id),
            d.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            d.outcome.value,
            d.kind or "",
            "" if d.exit_code is None else str(d.exit_code),
            d.component or "",
            d.step or "",
            _short(d.command),
            d.version_id or "",
            f"#{d.failure_number}" if d.failure_number else "",
        ),
        plain=lambda d: (
            d.id,
            d.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            d.outcome.value,
            d.exit_code,
            d.component,
            d.step,
            d.command,
            d.version_id,
            d.failure_number,
            d.kind,  # last, so scripts that cut the earlier columns keep working
        ),
        empty="No deployments recorded.",
    )


def _short(command: str, width: int = 60) -> str:
    first = command.split("\n", 1)[0]
    return first if len(first) <= width and "\n" not in command else first[: width - 1] + "…"


def failure_detail(failure: Any) -> None:
    from rich.markup import escape

    console = _console()
    console.print(
        f"[bold]Failure #{failure.number}: {escape(terminal_safe(failure.title))}[/bold]  {failure.status.label}"
    )
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
        console.print("  " + escape(terminal_safe(value)).replace("\n", "\n  "), highlight=False)
    if failure.timeline:
        console.print("[bold]Timeline:[/bold]")
        for event in failure.timeline:
            who = f" by {escape(terminal_safe(event.actor))}" if event.actor else ""
            text = f"  {event.at:%Y-%m-%d %H:%M:%S} UTC  {escape(terminal_safe(event.description))}{who}"
            console.print(text, highlight=False)


def _field_of(label: str) -> str:
    return label.lower().replace(" ", "_")


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file beside it, then a rename)."""
    import os
    import tempfile

    from faultbook.errors import InputError

    path = path.resolve()
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", path=str(path)) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
