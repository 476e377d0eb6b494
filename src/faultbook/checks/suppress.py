"""Inline suppressions: ``# faultbook: ignore[FB101] reason`` (TOML) / ``// faultbook: ignore[FB101] reason`` (JSONC).

A suppression covers findings on its own line; a comment alone on a line also
covers the next line.  A suppression must give a reason — without one it still
applies, but is itself reported (FB001), so silenced checks stay explained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from faultbook.checks.base import Finding, Severity
from faultbook.cloudflare.config import WranglerConfig

_PATTERN = re.compile(r"(?:#|//)\s*faultbook:\s*ignore\[(?P<ids>[^\]]*)\](?P<reason>[^\n]*)", re.IGNORECASE)


@dataclass(frozen=True)
class Suppression:
    line: int
    column: int
    rule_ids: frozenset[str]
    reason: str
    own_line: bool

    def covers(self, finding: Finding) -> bool:
        lines = {self.line, self.line + 1} if self.own_line else {self.line}
        return finding.line in lines and (finding.rule_id in self.rule_ids or "*" in self.rule_ids)


def find_suppressions(config: WranglerConfig) -> list[Suppression]:
    marker = "#" if config.format == "toml" else "//"
    found = []
    for number, text in enumerate(config.text.splitlines(), start=1):
        match = _PATTERN.search(text)
        if not match or not match.group(0).startswith(marker):
            continue
        ids = frozenset(part.strip().upper() for part in match.group("ids").split(",") if part.strip())
        reason = match.group("reason").strip().lstrip("-—:").strip()
        found.append(Suppression(number, match.start() + 1, ids, reason, not text[: match.start()].strip()))
    return found


def apply_suppressions(
    config: WranglerConfig, findings: list[Finding]
) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(kept, suppressed, reasonless-suppression findings)."""
    suppressions = find_suppressions(config)
    kept, suppressed = [], []
    for finding in findings:
        # Comments in the wrangler config cover its own lines only (network findings may be in faultbook.toml).
        if finding.path == str(config.path) and any(s.covers(finding) for s in suppressions):
            suppressed.append(finding)
        else:
            kept.append(finding)
    problems = [
        Finding(
            rule_id="FB001",
            severity=Severity.WARNING,
            summary=f"suppression of {', '.join(sorted(s.rule_ids)) or 'nothing'} gives no reason",
            detail="Write why the check is silenced after the bracket: faultbook: ignore[FB101] reason",
            path=str(config.path),
            line=s.line,
            column=s.column,
            end_line=s.line,
            end_column=len(config.line_text(s.line)) + 1,
            rule_name="suppression-without-reason",
        )
        for s in suppressions
        if not s.reason
    ]
    return kept, suppressed, problems
