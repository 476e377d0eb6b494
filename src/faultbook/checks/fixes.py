"""Apply the text edits of findings' fixes to a config, preserving every other byte.

Rules propose edits as (line, column)-ranges over the original text (a value's
exact span, found by the config locator), so comments, spacing, key order and
quoting survive; overlapping edits are skipped.  The result is parsed again
(tomllib / our JSONC parser) before anyone writes it, so a fix can never leave a
config that does not parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from faultbook.checks.base import Finding, TextEdit
from faultbook.cloudflare.config import WranglerConfig, parse_config
from faultbook.errors import InputError


@dataclass(frozen=True)
class FixResult:
    text: str
    applied: tuple[Finding, ...]


def _offset(starts: list[int], line: int, column: int) -> int:
    return starts[line - 1] + column - 1


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    ranges = sorted(
        ((_offset(starts, e.line, e.column), _offset(starts, e.end_line, e.end_column), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new in ranges:
        text = text[:start] + new + text[end:]
    return text


def fix_text(config: WranglerConfig, findings: Iterable[Finding]) -> FixResult:
    """The config text with every non-overlapping edit applied."""
    chosen: list[TextEdit] = []
    applied: list[Finding] = []
    taken: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for finding in findings:
        if not finding.fix or not finding.fix.edits:
            continue
        spans = [((e.line, e.column), (e.end_line, e.end_column)) for e in finding.fix.edits]
        if any(a < d and c < b for a, b in spans for c, d in taken):
            continue
        if all(e in chosen for e in finding.fix.edits):
            applied.append(finding)  # same edit proposed for another env
            continue
        chosen.extend(finding.fix.edits)
        taken.extend(spans)
        applied.append(finding)
    return FixResult(apply_edits(config.text, chosen), tuple(applied))


def write_fixed(config: WranglerConfig, result: FixResult) -> None:
    """Validate the edited text by parsing it, then write it over the config all at once.

    A symlinked config is written through to the file it points at (the link
    stays); the file keeps its mode; nothing is written when the fix would not
    parse (``files.write_atomic``).
    """
    from faultbook.files import write_atomic

    if result.text == config.text:
        return
    if config.lossy:
        raise InputError("the file has bytes that are not UTF-8: fix it by hand; nothing written", path=str(config.path))
    try:
        parse_config(config.path, result.text)
    except InputError as exc:
        raise InputError(f"the automatic fix would break the file ({exc.reason}); nothing written", path=str(config.path))
    write_atomic(config.path, result.text.encode("utf-8"), what="config")