"""`faultbook rollback`, `followups` and `bundle` as a user runs them: streams and exit codes."""

from __future__ import annotations

import json
import zipfile

import pytest

from faultbook.cli.app import main
from recovery.helpers import WORKER


@pytest.fixture
def cli(qv, monkeypatch, capsys):
    for name, value in qv.cf_api.emulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FAULTBOOK_ACTOR", "ann")
    monkeypatch.chdir(qv.root)

    def run(*args: str):
        from faultbook.cli import app as app_module

        app_module.state.__init__()
        app_module.state._settings = None
        app_module.state._db = None
        app_module.state.project = None
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_rollback_yes_json_and_followups(cli, qv, cf_api, worker_history):
    _, v2, v3 = worker_history
    number = qv.record_failed_deploy()
    code, out, err = cli("rollback", "backend", "--yes", "--failure", str(number), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["outcome"] == "rolled_back" and report["plan"]["target_id"] == v2.id
    assert report["by"] == "ann" and report["failure"] == number
    assert f"  roll back to: version {v2.id} (#2)" in err
    assert "warning: A rollback only changes which code serves traffic. It does NOT restore: data in D1" in err
    assert "Opened follow-up #" in err

    code, out, err = cli("followups", "--json")
    [item] = json.loads(out)
    assert (item["title"], item["status"], item["failure"]) == (
        "Schedule redeployment after issue resolution", "open", number)
    code, out, err = cli("followups", "done", str(item["id"]))
    assert code == 0 and "done: Schedule redeployment" in err
    assert cli("followups")[2].strip() == "No open follow-ups."
    code, out, _ = cli("followups", "--all")
    assert out.split("\t")[1] == "done"
    assert qv.timeline(number)[-1].kind == "followup_done"


def test_rollback_needs_yes_without_a_terminal(cli, cf_api, worker_history):
    code, out, err = cli("rollback")
    assert code == 2
    assert "error: a rollback needs confirmation and stdin is not a terminal: pass --yes" in err
    assert cf_api.calls("POST") == []


def test_rollback_failure_exit_code_3(cli, cf_api):
    cf_api.state.add_version(WORKER)
    code, out, err = cli("rollback", "--yes")
    assert code == 3
    assert "error: no earlier version of Worker quoteviral-api to roll back to" in err
    assert "hint: name one with --to VERSION_ID" in err
    assert "Traceback" not in err


def test_rollback_refused_secret_force_without_terminal_exit_3(cli, cf_api):
    cf_api.state.add_version(WORKER)
    cf_api.state.add_version(WORKER)
    cf_api.state.set_secret(WORKER, "API_KEY", "rotated-value")
    code, out, err = cli("rollback", "--yes")
    assert code == 3
    assert "Not forcing: pass --force to allow it." in err
    assert "NOT rolled back" in err
    code, out, err = cli("rollback", "--yes", "--force")
    assert code == 0 and "(forced past changed secrets)" in err


def test_unknown_component_is_usage(cli):
    code, _, err = cli("rollback", "database", "--yes")
    assert code == 2 and "unknown component 'database'" in err


def test_bundle_command(cli, qv, tmp_path):
    number = qv.record_failed_deploy(output="✘ [ERROR] boom")
    target = tmp_path / "out" / "support.zip"
    code, _, err = cli("bundle", str(number), "-o", str(target))
    assert code == 0 and f"Wrote {target}" in err
    assert "SUPPORT.md" in zipfile.ZipFile(target).namelist()
    assert cli("bundle", "99")[0] == 2
