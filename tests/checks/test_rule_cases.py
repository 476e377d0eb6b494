"""Data-driven rule cases (cases/*.yml): each config gives exactly the listed (rule, line) findings,
and where a case has `fix`, --fix turns the config into exactly that text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from faultbook.checks.fixes import fix_text
from faultbook.checks.runner import run
from faultbook.cloudflare.config import load_config

CASES_DIR = Path(__file__).parent / "cases"
CASES = [case for file in sorted(CASES_DIR.glob("*.yml")) for case in yaml.safe_load(file.read_text())]
TODAY = date(2026, 1, 1)


def _materialise(case: dict, tmp_path: Path) -> Path:
    name = "wrangler.jsonc" if case.get("format") == "jsonc" else "wrangler.toml"
    config = tmp_path / name
    config.write_text(case["config"], encoding="utf-8")
    if not case.get("no_main_file"):
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "index.js").write_text("export default {}\n")
    for rel, content in (case.get("files") or {}).items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return config


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_rule_case(case: dict, tmp_path: Path) -> None:
    rules = case["rule"] if isinstance(case["rule"], list) else [case["rule"]]
    config = load_config(_materialise(case, tmp_path))
    report = run(config, selected=rules, today=TODAY)
    found = sorted([f.rule_id, f.line] for f in report.findings)
    assert found == sorted(case["expect"]), [f"{f.rule_id}:{f.line} {f.summary}" for f in report.findings]
    if "fix" in case:
        assert fix_text(config, report.findings).text == case["fix"]


def test_every_rule_family_has_cases() -> None:
    from faultbook.checks.registry import all_rules

    covered = set()
    for case in CASES:
        covered |= set(case["rule"] if isinstance(case["rule"], list) else [case["rule"]])
    # Network rules (FB5xx) have their own tests against local servers (tests/checks/network/).
    offline = {r.id for r in all_rules() if not r.online and not r.network and r.id not in ("FB000", "FB206", "FB207")}
    assert offline - covered == set()
