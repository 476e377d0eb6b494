"""Online rules against the local Cloudflare API emulator (tests/cfapi): the seed's Failure #2 per bucket,
jurisdictions, KV/D1/queues, rollback versions, bad tokens, and --fix --create-missing."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from faultbook.cli.check_cmd import check_command
from faultbook.config import Settings

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 1, 1)
BUCKETS = ("quoteviral-uploads", "quoteviral-generated", "quoteviral-templates")


def FakeSettings(environ: dict | None = None) -> Settings:
    return Settings(project_root=ROOT, project_key="p", project_name="p", database_url="sqlite://",
                    environ=environ or {})


def settings_for(cf_api, **overrides) -> Settings:
    environ = {
        "CLOUDFLARE_API_TOKEN": cf_api.token,
        "CLOUDFLARE_ACCOUNT_ID": cf_api.account_id,
        "CLOUDFLARE_API_BASE_URL": cf_api.base_url,
    }
    environ.update(overrides)
    return FakeSettings(environ=environ)


@pytest.fixture
def quoteviral(tmp_path: Path) -> Path:
    project = tmp_path / "quoteviral"
    shutil.copytree(ROOT / "examples" / "quoteviral", project, ignore=shutil.ignore_patterns("node_modules"))
    return project


def diagnostics(stdout: str) -> list[dict]:
    return json.loads(stdout)["diagnostics"]


def test_missing_buckets_are_the_seed_failure_2_each(cf_api, quoteviral: Path) -> None:
    stdout, _, code = check_command(
        str(quoteviral), output_format="json", settings=settings_for(cf_api), today=TODAY, select=["FB4"]
    )
    found = [d for d in diagnostics(stdout) if d["rule"] == "FB402"]
    assert [(d["range"]["start"]["line"]) for d in found] == [13, 17, 21]
    for d, name in zip(found, BUCKETS):
        assert d["summary"].startswith(f"R2 bucket '{name}' not found. Please use a different name and try again. [code: 10085]")
        assert f"wrangler r2 bucket create {name}" in d["summary"]
    assert code == 1
    # One GET per bucket, with the token from settings, against the emulator only.
    assert len(cf_api.calls("GET", "/r2/buckets/")) == 3


def test_existing_buckets_pass_and_offline_note_disappears(cf_api, quoteviral: Path) -> None:
    for name in BUCKETS:
        cf_api.state.create_r2_bucket(name)
    stdout, _, _ = check_command(str(quoteviral), output_format="json", settings=settings_for(cf_api), today=TODAY)
    rules = {d["rule"] for d in diagnostics(stdout)}
    assert "FB402" not in rules and "FB110" not in rules
    assert "FB101" in rules  # offline rules still run online


def test_jurisdiction_is_sent(cf_api, tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(
        'name = "w"\nmain = "i.js"\ncompatibility_date = "2025-01-01"\n'
        '[[r2_buckets]]\nbinding = "EU"\nbucket_name = "eu-bucket"\njurisdiction = "eu"\n'
    )
    (tmp_path / "i.js").write_text("")
    cf_api.state.create_r2_bucket("eu-bucket")  # exists, but in the default jurisdiction only
    stdout, _, _ = check_command(str(tmp_path), output_format="json", settings=settings_for(cf_api), today=TODAY, select=["FB402"])
    [finding] = diagnostics(stdout)
    assert "wrangler r2 bucket create eu-bucket --jurisdiction eu" in finding["summary"]
    cf_api.state.create_r2_bucket("eu-bucket", jurisdiction="eu")
    stdout, _, _ = check_command(str(tmp_path), output_format="json", settings=settings_for(cf_api), today=TODAY, select=["FB402"])
    assert diagnostics(stdout) == []


def test_kv_d1_queue_and_rollback_checks(cf_api, tmp_path: Path) -> None:
    kv = cf_api.state.create_kv_namespace("cache")
    (tmp_path / "wrangler.toml").write_text(
        'name = "svc"\nmain = "i.js"\ncompatibility_date = "2025-01-01"\n'
        f'[[kv_namespaces]]\nbinding = "CACHE"\nid = "{kv.id}"\n'
        '[[kv_namespaces]]\nbinding = "GONE"\nid = "0f2ac74b498b48028cb68387c421e279"\n'
        '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "svc-db"\ndatabase_id = "7f3b1a2c-4d5e-4f60-8a9b-0c1d2e3f4a5b"\n'
        '[[queues.producers]]\nbinding = "JOBS"\nqueue = "svc-jobs"\n'
    )
    (tmp_path / "i.js").write_text("")
    stdout, _, _ = check_command(str(tmp_path), output_format="json", settings=settings_for(cf_api), today=TODAY, select=["FB4"])
    found = sorted((d["rule"], d["range"]["start"]["line"]) for d in diagnostics(stdout))
    assert found == [("FB403", 9), ("FB404", 13), ("FB405", 16), ("FB406", 1)]
    cf_api.state.add_version("svc")
    cf_api.state.add_version("svc")
    stdout, _, _ = check_command(str(tmp_path), output_format="json", settings=settings_for(cf_api), today=TODAY, select=["FB406"])
    assert diagnostics(stdout) == []


def test_invalid_token_is_one_finding_and_stops_online_checks(cf_api, quoteviral: Path) -> None:
    settings = settings_for(cf_api, CLOUDFLARE_API_TOKEN="not-a-real-token")
    stdout, _, code = check_command(str(quoteviral), output_format="json", settings=settings, today=TODAY, select=["FB4"])
    assert [d["rule"] for d in diagnostics(stdout)] == ["FB401"]
    assert code == 1


def test_offline_flag_and_missing_credentials_never_call_the_api(cf_api, quoteviral: Path) -> None:
    check_command(str(quoteviral), offline=True, settings=settings_for(cf_api), today=TODAY)
    _, stderr, _ = check_command(str(quoteviral), settings=FakeSettings(), today=TODAY)
    assert cf_api.requests == [] or list(cf_api.requests) == []
    assert "online checks skipped" in stderr


def test_fix_create_missing_creates_after_confirmation(cf_api, quoteviral: Path) -> None:
    asked: list[str] = []

    def confirm(prompt: str) -> bool:
        asked.append(prompt)
        return "generated" not in prompt  # decline one bucket

    stdout, stderr, code = check_command(
        str(quoteviral), output_format="json", settings=settings_for(cf_api), today=TODAY,
        fix=True, create_missing=True, confirm=confirm,
    )
    assert len(asked) == 3
    assert cf_api.state.find_r2_bucket("quoteviral-uploads") and cf_api.state.find_r2_bucket("quoteviral-templates")
    assert cf_api.state.find_r2_bucket("quoteviral-generated") is None
    remaining = [(d["rule"], d["summary"].split("'")[1]) for d in diagnostics(stdout) if d["rule"] in ("FB402", "FB101")]
    assert remaining == [("FB402", "quoteviral-generated")]  # FB101 fixed in the file, 2 buckets created
    assert "created R2 bucket 'quoteviral-uploads'" in stderr and code == 1


def test_empty_ids_are_left_to_the_offline_rules_not_looked_up(cf_api, tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(
        'name = "svc"\nmain = "i.js"\ncompatibility_date = "2025-01-01"\n'
        '[[r2_buckets]]\nbinding = "B"\nbucket_name = ""\n'
        '[[kv_namespaces]]\nbinding = "CACHE"\nid = ""\n'
        '[[d1_databases]]\nbinding = "DB"\ndatabase_id = ""\n'
    )
    (tmp_path / "i.js").write_text("")
    stdout, _, _ = check_command(
        str(tmp_path), output_format="json", settings=settings_for(cf_api), today=TODAY,
        select=["FB402", "FB403", "FB404"],
    )
    assert diagnostics(stdout) == []
    assert cf_api.calls("GET", "/r2/buckets/") == []
