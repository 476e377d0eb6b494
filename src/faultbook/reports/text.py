"""Human-readable report: findings grouped by file, each with the offending line, a caret, and the fix.

The report quotes config values and source lines, and it is read in CI logs, where a line starting with
``::`` (after blanks) is a GitHub Actions workflow command and ``##[`` anywhere is an old-style one: a value
with a newline and ``::error::`` in it wrote its own annotations into the log.  ``neutralise`` breaks such
lines visibly (``: :``, ``## [``) and escapes control characters other than newline and tab; the github
format uses it for its data as well.
"""

from __future__ import annotations

import re
from pathlib import Path

from faultbook.checks.base import Finding, Report, Severity

_COMMAND_START = re.compile(r"^([ \t]*):(?=:)", re.MULTILINE)
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def neutralise(text: str) -> str:
    """``text`` that cannot issue a workflow command: ``::`` at a line start and ``##[`` anywhere broken up."""
    return _COMMAND_START.sub(r"\1: ", text.translate(_CONTROLS)).replace("##[", "## [")


_LABEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _source_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


#: Longest source line shown under a finding (the rest is elided around the column).
SNIPPET_CHARS = 160


def snippet(line: int, source: str, column: int, end: int | None = None) -> list[str]:
    """The source line and a caret line under ``column`` (to ``end``, exclusive; default the line's end).

    A line longer than ``SNIPPET_CHARS`` (minified, or hostile) is shown around the column only.
    """
    gutter = f"{line:>6} | "
    end = len(source) + 1 if end is None else end
    if len(source) > SNIPPET_CHARS:
        first = max(0, column - 1 - SNIPPET_CHARS // 3)
        lead = 1 if first else 0  # the "…" in front
        source = ("…" if first else "") + source[first : first + SNIPPET_CHARS] + "…"
        column = column - first + lead
        end = min(end - first + lead, len(source) + 1)
    width = max(1, end - column)
    return [f"{gutter}{source}", " " * (len(gutter) - 2) + "| " + " " * (column - 1) + "^" * width]


def format_finding(finding: Finding, lines: list[str]) -> list[str]:
    env = f" [env {finding.env}]" if finding.env else ""
    out = [f"  {finding.line}:{finding.column}  {_LABEL[finding.severity]:<7}  {finding.rule_id}  {finding.summary}{env}"]
    if 1 <= finding.line <= len(lines):
        end = finding.end_column if finding.end_line == finding.line else None
        out += snippet(finding.line, lines[finding.line - 1], finding.column, end)
    if finding.fix:
        how = "" if finding.fix.edits or finding.fix.action else ""
        hint = " (faultbook check --fix)" if finding.fix.edits else (
            " (faultbook check --fix --create-missing)" if finding.fix.action else "")
        out.append(f"         fix: {finding.fix.description}{how}{hint}")
    return out


def format(report: Report) -> str:  # noqa: A001 - the formatter interface
    out: list[str] = []
    by_file: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_file.setdefault(finding.path, []).append(finding)
    for path, findings in by_file.items():
        out.append(path)
        lines = _source_lines(path)
        for finding in findings:
            out.extend(format_finding(finding, lines))
        out.append("")
    counts = ", ".join([
        _plural(report.error_count, "error"),
        _plural(report.warning_count, "warning"),
        _plural(report.info_count, "note"),
    ])
    summary = f"{counts} in {_plural(len(report.files), 'file')}"
    if report.suppressed:
        summary += f" ({len(report.suppressed)} suppressed)"
    if not report.findings:
        summary = f"No problems found in {_plural(len(report.files), 'file')}." + (
            f" ({len(report.suppressed)} suppressed)" if report.suppressed else "")
    out.append(summary)
    if not report.online:
        out.append("Offline: resource existence (buckets, namespaces, databases, queues) was not checked.")
    return neutralise("\n".join(out)) + "\n"
