"""``faultbook explain``, ``merge`` and ``catalog`` through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from faultbook.cli import app as cli_app
from faultbook.domain import Failure, Status
from faultbook.services import ledger

SEED_10021 = "binding IMAGES has an unknown type Images [code: 10021]"
SEED_10085 = "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]"


@pytest.fixture
def cli(db_url, project, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAULTBOOK_PROJECT", project.key)
    monkeypatch.setattr(cli_app.state, "_settings", None)
    monkeypatch.setattr(cli_app.state, "_db", None)

    def run(*args):
        cli_app.state._settings = None
        cli_app.state._db = None
        code = cli_app.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def seeded(database, project):
    with database.session(write=True) as s:
        for number, message in ((1, SEED_10021), (2, SEED_10085)):
            ledger.record_failure(s, project=project, failure=Failure(
                number=number, title=f"Seed failure {number}", occurred_at=None, component="Backend",
                step="Worker deployment", error_message=message, root_cause=f"cause {number}",
                resolution=f"fix {number}", status=Status.RESOLVED, lessons_learned=f"lesson {number}"))


def test_explain_prints_the_seen_before_failure_first(cli, seeded):
    code, out, err = cli("explain", SEED_10021)
    assert code == 0 and err == ""
    assert out.splitlines()[:4] == [
        "Seen before as Failure #1, Resolved: Seed failure 1",
        "  root cause: cause 1",
        "  resolution: fix 1",
        "  lessons: lesson 1",
    ]
    assert "Known Cloudflare error 10021 (Unknown binding type)" in out


def test_explain_json(cli, seeded):
    code, out, _ = cli("explain", "R2 bucket 'other' not found. Please use a different name and try again. [code: 10085]",
                       "--json")
    data = json.loads(out)
    assert code == 0
    assert [(m["source"], m["failure_number"], m["known_error_id"]) for m in data[:2]] == [
        ("ledger", 2, None), ("catalog", None, "workers-r2-bucket-missing")]


def test_explain_with_nothing_known(cli):
    code, out, err = cli("explain", "zzz qqq")
    assert (code, out) == (0, "") and "Nothing known matches" in err


def test_explain_without_text_is_a_usage_error(cli):
    code, out, err = cli("explain", "   ")
    assert code == 2 and out == "" and "no error text" in err and "Traceback" not in err


def test_merge_then_show(cli, seeded):
    code, out, err = cli("merge", "1", "2")
    assert code == 0 and out == ""
    assert "Merged failure #2 into #1" in err
    code, out, _ = cli("show", "2", "--json")
    assert json.loads(out)["status"] == "resolved"
    code, out, err = cli("merge", "1", "2")
    assert code != 0 and "already merged into failure #1" in err and "Traceback" not in err


def test_merge_unknown_failure(cli, seeded):
    code, _, err = cli("merge", "1", "99")
    assert code != 0 and "no failure #99" in err


def test_catalog_lists_every_entry(cli):
    code, out, err = cli("catalog")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["CODE", "API", "ID", "TITLE"]
    assert len(lines) - 1 >= 30 and f"{len(lines) - 1} known errors" in err
    assert any(line.split()[:3] == ["10085", "script-upload", "workers-r2-bucket-missing"] for line in lines)
    code, out, _ = cli("catalog", "--json")
    assert {e["id"] for e in json.loads(out)} >= {"workers-unknown-binding-type", "r2-no-such-bucket"}


def test_explain_from_stdin_in_a_real_process(db_url, project, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "FAULTBOOK_DATABASE_URL": db_url,
           "FAULTBOOK_PROJECT": project.key}
    block = ("✘ [ERROR] A request to the Cloudflare API (/accounts/abc/workers/scripts/qv) failed.\n\n"
             f"  {SEED_10085}\n")
    done = subprocess.run([sys.executable, "-m", "faultbook", "explain", "--stdin"], input=block, env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Known Cloudflare error 10085 (R2 bucket missing)\n")
