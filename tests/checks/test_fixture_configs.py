"""Whole configs: clean ones give no errors or warnings (false positives cost trust); planted ones give
exactly the planted findings, in TOML and in JSONC with comments, trailing commas and several envs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from faultbook.checks.base import Severity
from faultbook.checks.runner import run
from faultbook.cloudflare.config import load_config

CONFIGS = Path(__file__).parent / "configs"
TODAY = date(2026, 1, 1)


@pytest.mark.parametrize("name", ["clean_toml", "clean_jsonc"])
def test_clean_configs_have_no_errors_or_warnings(name: str) -> None:
    report = run(load_config(CONFIGS / name), today=TODAY)
    assert [f for f in report.findings if f.severity != Severity.INFO] == []
    # The only notes allowed are "bucket not verified offline", one per bucket.
    assert {f.rule_id for f in report.findings} <= {"FB110"}


@pytest.mark.parametrize("env", ["staging", "dev"])
def test_clean_toml_each_env_alone(env: str) -> None:
    assert run(load_config(CONFIGS / "clean_toml"), env=env, today=TODAY).findings == ()


PLANTED = {
    "planted_toml": [
        ("FB201", 2), ("FB204", 3), ("FB202", 4), ("FB107", 11), ("FB106", 14), ("FB104", 15), ("FB105", 19),
        ("FB103", 21), ("FB101", 26),
    ] + [("FB108", 28)] * 6,
    "planted_jsonc": [
        ("FB201", 3), ("FB203", 5), ("FB205", 6), ("FB110", 8), ("FB104", 10), ("FB101", 11), ("FB107", 15),
        ("FB102", 18),
    ] + [("FB108", 20)] * 3,
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_configs_report_every_planted_mistake(name: str) -> None:
    report = run(load_config(CONFIGS / name), today=TODAY)
    assert sorted((f.rule_id, f.line) for f in report.findings) == sorted(PLANTED[name])


def test_planted_toml_env_warnings_name_every_missing_key() -> None:
    report = run(load_config(CONFIGS / "planted_toml"), today=TODAY, selected=["FB108"])
    assert sorted(f.summary for f in report.findings) == sorted(
        f'"{key}" exists at the top level, but not on "env.staging".'
        for key in ("vars", "r2_buckets", "kv_namespaces", "d1_databases", "services", "unsafe")
    )


def test_selecting_an_env_checks_only_that_env() -> None:
    report = run(load_config(CONFIGS / "planted_jsonc"), env="production", today=TODAY)
    assert {f.env for f in report.findings} == {"production"}
    # Inherited top-level keys are still checked for the selected env.
    assert "FB203" in {f.rule_id for f in report.findings}


def test_an_invalid_top_level_name_is_reported_whatever_env_is_selected(tmp_path) -> None:
    """wrangler validates the top-level name even with -e (an env with its own name included)."""
    (tmp_path / "wrangler.toml").write_text('name = "Foo_Bar"\n[env.prod]\n[env.eu]\nname = "api-eu"\n')
    for env in ("prod", "eu"):
        report = run(load_config(tmp_path), env=env, today=TODAY, selected=["FB201"])
        assert [(f.line, f.severity) for f in report.findings] == [(1, Severity.ERROR)]
