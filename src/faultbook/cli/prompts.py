"""Asking for a failure's fields on a terminal, the way the seed's log is written by hand.

``faultbook record`` asks only when stdin is a terminal.  Two things make this
more than a loop of ``typer.prompt``:

- The exact error message is several lines (wrangler's ``[ERROR]`` block, a
  stack note).  A one-line prompt takes the first line and spills the rest into
  the next questions.  So a *block* is read until an empty line — but a pasted
  block often holds empty lines itself, and a paste arrives all at once: an
  empty line that has more input right behind it (within 150 ms) belongs to the
  paste, not to the person pressing Enter.  ``$VISUAL``/``$EDITOR`` is offered
  as ``git commit`` does, for those who would rather edit.
- An empty deployment step or error message is allowed (it is not always
  known), but never silently: the prompt says what the field is for and asks
  once more.

Reading goes through the file descriptor (``os.read``), not ``sys.stdin``'s
buffer, so "is more input waiting?" can be asked of the terminal with
``select`` without a buffered read-ahead hiding it.
"""

from __future__ import annotations

import os
import select
import shlex
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Callable

import typer

from faultbook.cli import output

if TYPE_CHECKING:
    from faultbook.config import Environment

#: An empty line followed this quickly by more input is part of a paste.
PASTE_GAP_SECONDS = 0.15

EDITOR_TEMPLATE = """\

# {label}.
# Lines starting with '#' are ignored; an empty message leaves the field empty.
"""


class _Terminal:
    """Line reads from stdin's descriptor, with a look at whether more input is already waiting."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""

    def readline(self) -> str | None:
        while b"\n" not in self.pending:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                if not self.pending:
                    return None
                line, self.pending = self.pending, b""
                return line.decode("utf-8", "replace").rstrip("\r")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode("utf-8", "replace").rstrip("\r")

    def more_waiting(self) -> bool:
        if self.pending:
            return True
        ready, _, _ = select.select([self.fd], [], [], PASTE_GAP_SECONDS)
        return bool(ready)


def read_block(label: str, *, env: "Environment | None" = None) -> str:
    """A multi-line answer: pasted or typed lines up to an empty line (an empty first line opens the editor)."""
    from faultbook.config import process_environment

    env = env or process_environment()
    editor = env.VISUAL or env.EDITOR
    hint = " (an empty line ends it" + (f"; Enter alone opens {editor}" if editor else "") + ")"
    output.info(f"{label}{hint}:")
    sys.stderr.flush()
    terminal = _Terminal(sys.stdin.fileno())
    lines: list[str] = []
    while True:
        line = terminal.readline()
        if line is None:
            break
        if line.strip() == "" and not terminal.more_waiting():
            if not lines and editor:
                return edit_text(label, editor)
            break
        lines.append(line)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def edit_text(label: str, editor: str) -> str:
    """Open ``editor`` on a temporary file, as ``git commit`` does; '#' lines are dropped."""
    fd, path = tempfile.mkstemp(prefix="faultbook-", suffix=".md")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(EDITOR_TEMPLATE.format(label=label))
        try:
            subprocess.run([*shlex.split(editor), path], check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            output.warn(f"the editor {editor!r} did not finish ({exc}); the field is left empty")
            return ""
        with open(path, encoding="utf-8", errors="replace") as handle:
            kept = [line.rstrip("\n") for line in handle if not line.startswith("#")]
    finally:
        os.unlink(path)
    return "\n".join(kept).strip("\n")


def ask_line(label: str, *, required: bool = False, why: str | None = None, default: str = "") -> str:
    """One line; a ``required`` field is asked until given, a field with ``why`` once more when left empty."""
    while True:
        answer = str(typer.prompt(label, default=default, show_default=bool(default))).strip()
        if answer or not (required or why):
            return answer
        if required:
            output.warn(f"{label} is needed")
            continue
        output.warn(f"{label} is empty: {why}")
        return str(typer.prompt(f"{label} (Enter again to leave it empty)", default="", show_default=False)).strip()


def ask_block(label: str, *, why: str | None = None, read: Callable[[str], str] = read_block) -> str:
    answer = read(label)
    if answer or not why:
        return answer
    output.warn(f"{label} is empty: {why}")
    return read(f"{label} (an empty line again leaves it empty)")


def ask_failure_fields(values: dict[str, str | None], *, status: str | None) -> tuple[dict[str, str | None], str | None]:
    """Fill every field of the seed's failure block that was not given as an option."""
    plan: list[tuple[str, Callable[[], str]]] = [
        ("title", lambda: ask_line("Brief description", required=True)),
        ("component", lambda: ask_line("Component (Backend, Frontend, Assets, DNS or your own)", required=True)),
        ("component_detail", lambda: ask_line('Component detail, e.g. "Cloudflare Worker" (blank for none)')),
        ("step", lambda: ask_line(
            'Deployment step, e.g. "Worker deployment"',
            why="it says where in the deploy this failed, for the next person reading the log")),
        ("error_message", lambda: ask_block(
            "Exact error message",
            why="the exact message is what recognises this failure when it happens again")),
        ("root_cause", lambda: ask_block("Root cause (blank if unknown)")),
        ("resolution", lambda: ask_block("Resolution (blank if none yet)")),
        ("lessons_learned", lambda: ask_block("Lessons learned (blank for none)")),
    ]
    filled = dict(values)
    for key, ask in plan:
        if filled.get(key) is None:
            filled[key] = ask()
    if status is None:
        status = ask_line("Status: open, resolved or workaround", default="open")
    return filled, status
