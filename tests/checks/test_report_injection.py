"""A config value cannot write GitHub Actions workflow commands into a CI log through `check` (issue 14)."""

from __future__ import annotations

import re

import pytest

from faultbook.checks.base import Finding, Fix, Report, Severity
from faultbook.reports import github, text

INJECTIONS = [
    "bucket \"x\n::error file=app.js,line=1::Pwned by config\"",
    "x\n  ::warning::indented still counts",
    "x\r\n::add-mask::hide-everything",
    "##[error]old-style command anywhere on a line",
    "x\n::stop-commands::token\n::error::after stop",
    "x\x1b[2K\x1b[1Awipes the previous line",
]


def _report(value: str) -> Report:
    finding = Finding(
        rule_id="FB999", severity=Severity.ERROR, summary=f"R2 bucket {value} does not exist", detail=value,
        path=f"wrangler.toml\n::error::{value}", line=3, column=1, end_line=3, end_column=2,
        fix=Fix(description=f"create {value}"), env=value, rule_name="test",
    )
    return Report(findings=(finding,), files=("wrangler.toml",))


@pytest.mark.parametrize("value", INJECTIONS)
def test_text_report_issues_no_workflow_command(value):
    out = text.format(_report(value))
    for line in out.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line
        assert "\x1b" not in line and "\r" not in line
    assert "does not exist" in out  # the finding is still there to read


@pytest.mark.parametrize("value", INJECTIONS)
def test_github_report_has_exactly_one_command_per_finding(value):
    lines = github.format(_report(value)).splitlines()
    assert len(lines) == 1
    assert re.match(r"^::error file=[^:]*,line=3,col=1,endLine=3,endColumn=2,title=[^:]*::", lines[0])
    assert "##[" not in lines[0] and "\x1b" not in lines[0]


def test_ordinary_text_is_unchanged():
    assert text.neutralise("a: b :: c\n  x::y\n# [note]") == "a: b :: c\n  x::y\n# [note]"
