"""GitHub Actions workflow commands: one ``::error file=,line=,col=,title=::message`` line per finding."""

from __future__ import annotations

from faultbook.checks.base import Report, Severity

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    """One line (``%0A``), with no old-style ``##[`` command and no control characters (``text.neutralise``)."""
    from faultbook.reports.text import neutralise

    return neutralise(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def format(report: Report) -> str:  # noqa: A001
    lines = []
    for f in report.findings:
        props = ",".join([
            f"file={_property(f.path)}",
            f"line={f.line}",
            f"col={f.column}",
            f"endLine={f.end_line}",
            f"endColumn={f.end_column}",
            f"title={_property(f'{f.rule_id} {f.rule_name}')}",
        ])
        message = f.summary + (f"\nfix: {f.fix.description}" if f.fix else "")
        lines.append(f"::{_COMMAND[f.severity]} {props}::{_data(message)}")
    return "".join(line + "\n" for line in lines)
