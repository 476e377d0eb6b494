"""JSON report in the shape of ``terraform validate -json`` (valid, counts, diagnostics with ranges).

Extra keys (``rule``, ``name``, ``env``, ``fix``, ``info_count``) are additions;
the terraform keys keep terraform's meaning so existing tooling can read it.
"""

from __future__ import annotations

import json

from faultbook.checks.base import Report


def to_data(report: Report) -> dict:
    return {
        "format_version": "1.0",
        "valid": report.error_count == 0,
        "error_count": report.error_count,
        "warning_count": report.warning_count,
        "info_count": report.info_count,
        "suppressed_count": len(report.suppressed),
        "files": list(report.files),
        "online": report.online,
        "diagnostics": [
            {
                "rule": f.rule_id,
                "name": f.rule_name,
                "severity": f.severity.value,
                "summary": f.summary,
                "detail": f.detail,
                "env": f.env,
                "fix": f.fix.description if f.fix else None,
                "range": {
                    "filename": f.path,
                    "start": {"line": f.line, "column": f.column},
                    "end": {"line": f.end_line, "column": f.end_column},
                },
            }
            for f in report.findings
        ],
    }


def format(report: Report) -> str:  # noqa: A001
    return json.dumps(to_data(report), indent=2, ensure_ascii=False) + "\n"
