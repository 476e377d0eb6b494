"""SARIF 2.1.0 report (GitHub code scanning and other viewers).

Rule metadata comes from the rules themselves (summary, docstring as help);
severity maps error→error, warning→warning, info→note.  Text-edit fixes are
emitted as SARIF ``fixes`` with replacements.  Tests validate the output against
the official SARIF 2.1.0 schema.
"""

from __future__ import annotations

import json
from pathlib import PurePath

from faultbook import __version__
from faultbook.checks.base import Report, Severity
from faultbook.checks.registry import get_rule

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _uri(path: str) -> str:
    return PurePath(path).as_posix()


def to_data(report: Report) -> dict:
    rule_ids = sorted(set(report.rules_run) | {f.rule_id for f in report.findings})
    rules = []
    for rule_id in rule_ids:
        rule = get_rule(rule_id)
        if rule is None:
            continue
        rules.append({
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.summary()},
            "fullDescription": {"text": rule.explanation()},
            "help": {"text": rule.explanation(), "markdown": rule.explanation()},
            "defaultConfiguration": {"level": LEVELS[rule.severity]},
        })
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for f in report.findings:
        result: dict = {
            "ruleId": f.rule_id,
            "level": LEVELS[f.severity],
            "message": {"text": f.summary + (f"\n{f.detail}" if f.detail else "")},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(f.path)},
                    "region": {
                        "startLine": f.line, "startColumn": f.column,
                        "endLine": f.end_line, "endColumn": max(f.end_column, 1),
                    },
                }
            }],
        }
        if f.rule_id in index:
            result["ruleIndex"] = index[f.rule_id]
        if f.env:
            result["properties"] = {"env": f.env}
        if f.fix and f.fix.edits:
            result["fixes"] = [{
                "description": {"text": f.fix.description},
                "artifactChanges": [{
                    "artifactLocation": {"uri": _uri(f.path)},
                    "replacements": [
                        {
                            "deletedRegion": {
                                "startLine": e.line, "startColumn": e.column,
                                "endLine": e.end_line, "endColumn": e.end_column,
                            },
                            "insertedContent": {"text": e.new_text},
                        }
                        for e in f.fix.edits
                    ],
                }],
            }]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "faultbook", "version": __version__, "rules": rules}},
            "artifacts": [{"location": {"uri": _uri(path)}} for path in report.files],
            "results": results,
        }],
    }


def format(report: Report) -> str:  # noqa: A001
    return json.dumps(to_data(report), indent=2, ensure_ascii=False) + "\n"
