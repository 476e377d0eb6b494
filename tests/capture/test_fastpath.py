"""The raw-sqlite3 fast path of ``faultbook run``: same rows as the ORM, used only when it applies."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from faultbook.domain import DeploymentOutcome
from faultbook.services import deployments
from faultbook.services.project import ProjectRef
from faultbook.store import deployment_rows, fastpath
from faultbook.store.db import Database
from faultbook.store.fastpath import FastLedger
from faultbook.store.repo import row_to_deployment
from faultbook.store.tables import DeploymentRow

SRC = str(Path(__file__).resolve().parents[2] / "src")
PROJECT = ProjectRef(key="quoteviral", name="QuoteViral")
COMMAND = "wrangler deploy --var 'GREETING:héllo \"world\"'\nsecond line"
STARTED = datetime(2025, 8, 20, 16, 15, 0, 0, tzinfo=timezone(timedelta(hours=2)))  # microsecond 0, not UTC
FINISHED = datetime(2025, 8, 20, 14, 16, 1, 123456, tzinfo=timezone.utc)


@pytest.fixture
def ledger_url(tmp_path):
    """A SQLite ledger with the project row in it (the fast path's precondition)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    db = Database(url)
    with db.session(write=True) as session:
        from faultbook.store import repo

        repo.get_or_create_project(session, key=PROJECT.key, name=PROJECT.name)
    db.dispose()
    return url


def _raw_rows(url: str) -> list[dict]:
    conn = sqlite3.connect(fastpath.sqlite_file(url))
    conn.row_factory = sqlite3.Row
    columns = [row[1] for row in conn.execute("PRAGMA table_info(deployments)")]
    selected = ", ".join(f"{c}, typeof({c}) AS type_{c}" for c in columns)
    rows = [dict(row) for row in conn.execute(f"SELECT {selected} FROM deployments ORDER BY id")]
    conn.close()
    return rows


@pytest.mark.parametrize("dirty", [True, False, None])
def test_a_fast_path_row_is_byte_for_byte_the_orm_row(ledger_url, dirty):
    start = dict(
        command=COMMAND,
        cwd="/srv/quoteviral",
        component="Backend",
        step="Worker deployment",
        env="production",
        config_hash="sha256:" + "ab" * 32,
        host="builder-7",
        pid=4242,
        started_at=STARTED,
        snapshot={"v": 1, "bindings": {"IMAGES": {"kind": "images", "fields": {}}}, "vars": ["ENVIRONMENT"]},
    )
    git = dict(commit="c0ffee" * 6 + "abcd", branch="main", dirty=dirty)
    finish = dict(
        outcome=DeploymentOutcome.SUCCEEDED,
        exit_code=0,
        version_id="11111111-2222-4333-8444-555555555555",
        url="https://quoteviral-api.example.workers.dev",
        output_tail="x" * (deployment_rows.MAX_STORED_TAIL + 10) + "\n✓ done",  # cut to the stored maximum
        finished_at=FINISHED,
    )
    db = Database(ledger_url)
    with db.session(write=True) as session:
        orm_started = deployments.start_deployment(
            session, project=PROJECT, git=deployments.GitContext(**git), key="orm", **start
        )
    with db.session(write=True) as session:
        orm_finished = deployments.finish_deployment(session, project=PROJECT, deployment_id=orm_started.id, **finish)

    fast = FastLedger.open(ledger_url, project_key=PROJECT.key)
    assert fast is not None
    fast_started = fast.start_deployment(
        key="fast", git_commit=git["commit"], git_branch=git["branch"], git_dirty=git["dirty"], **start
    )
    fast_finished = fast.finish_deployment(deployment=fast_started, **finish)
    fast.close()

    orm_raw, fast_raw = _raw_rows(ledger_url)
    assert {**fast_raw, "id": None, "key": None} == {**orm_raw, "id": None, "key": None}
    assert orm_raw["started_at"] == "2025-08-20 14:15:00.000000" and orm_raw["type_started_at"] == "text"
    assert len(fast_raw["output_tail"]) == deployment_rows.MAX_STORED_TAIL

    with db.session() as session:
        orm_row, fast_row = session.scalars(select(DeploymentRow).order_by(DeploymentRow.id)).all()
        read_orm, read_fast = row_to_deployment(orm_row), row_to_deployment(fast_row)
    db.dispose()
    assert replace(read_fast, id=None, key=None) == replace(read_orm, id=None, key=None)
    # What each path hands back to ``run`` is what a later read gives.
    assert replace(fast_started, id=None, key=None) == replace(orm_started, id=None, key=None)
    assert fast_finished == read_fast and orm_finished == read_orm


def test_the_fast_path_writes_this_host_and_pid_like_the_orm(ledger_url):
    fast = FastLedger.open(ledger_url, project_key=PROJECT.key)
    started = fast.start_deployment(command="true", cwd=None, component=None, step=None)
    fast.close()
    (raw,) = _raw_rows(ledger_url)
    assert (raw["host"], raw["pid"], raw["outcome"]) == (deployments.this_host(), os.getpid(), "running")
    assert started.started_at.tzinfo is not None
    import socket

    assert deployments.this_host() == socket.gethostname()


def test_the_fast_path_does_not_apply_unless_the_ledger_is_ready(tmp_path, ledger_url):
    assert FastLedger.open(f"sqlite:///{tmp_path / 'missing.db'}", project_key=PROJECT.key) is None
    assert not (tmp_path / "missing.db").exists()  # never creates a database
    assert FastLedger.open(ledger_url, project_key="another-project") is None
    assert FastLedger.open("postgresql+psycopg://postgres@127.0.0.1:5432/test", project_key=PROJECT.key) is None
    assert FastLedger.open(ledger_url + "?timeout=5", project_key=PROJECT.key) is None

    path = fastpath.sqlite_file(ledger_url)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '0001_initial_schema'")  # schema behind
    conn.commit()
    assert FastLedger.open(ledger_url, project_key=PROJECT.key) is None
    conn.execute("UPDATE alembic_version SET version_num = ?", (fastpath.HEAD,))
    conn.commit()
    conn.close()

    fast = FastLedger.open(ledger_url, project_key=PROJECT.key)
    assert fast is not None
    fast.start_deployment(command="sleep 60", cwd=None, component=None, step=None, pid=999_999_999)
    fast.close()
    # A "running" row may be a killed faultbook's: the full path must reap and report it.
    assert FastLedger.open(ledger_url, project_key=PROJECT.key) is None


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////abs/ledger.db", "/abs/ledger.db"),
        ("sqlite:///rel/ledger.db", "rel/ledger.db"),
        ("sqlite+pysqlite:////abs/ledger.db", "/abs/ledger.db"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:////abs/ledger.db?mode=ro", None),
        ("postgresql+psycopg://postgres@127.0.0.1/test", None),
    ],
)
def test_sqlite_file(url, path):
    assert fastpath.sqlite_file(url) == path


# ---------------------------------------------------------------- through ``faultbook run``

PROBE = (
    "import sys\n"
    "from faultbook.cli.app import main\n"
    "code = main(sys.argv[1:])\n"
    "print('LOADED=' + ','.join(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic', 'pydantic'})),"
    " file=sys.stderr)\n"
    "sys.exit(code)\n"
)


@pytest.fixture
def faultbook(tmp_path):
    """``faultbook`` as a process in a fresh project folder (embedded SQLite ledger, not created yet)."""
    folder = tmp_path / "quoteviral"
    folder.mkdir()
    (folder / "faultbook.toml").write_text('project = "quoteviral"\n')
    env = {**os.environ, "PYTHONPATH": SRC}
    for name in ("FAULTBOOK_DATABASE_URL", "FAULTBOOK_PROJECT"):
        env.pop(name, None)

    def run(*args):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, *args], cwd=folder, env=env, capture_output=True, timeout=120
        )
        loaded = done.stderr.rsplit(b"LOADED=", 1)[1].decode().split()
        return done, loaded[0].split(",") if loaded else []

    run.folder = folder
    return run


def test_run_on_a_fresh_project_creates_the_ledger_then_stays_off_sqlalchemy(faultbook):
    done, loaded = faultbook("run", "--", "true")
    assert done.returncode == 0, done.stderr
    assert (faultbook.folder / ".faultbook" / "faultbook.db").is_file()
    assert "sqlalchemy" in loaded  # no database yet: the full path made it

    done, loaded = faultbook("run", "--", sys.executable, "-c", "print('deployed')")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"deployed\n"
    assert b"faultbook: deployment 2 succeeded" in done.stderr
    assert loaded == []  # neither SQLAlchemy nor Alembic nor Pydantic

    listed, _ = faultbook("deployments", "--json")
    items = json.loads(listed.stdout)
    assert [(d["id"], d["outcome"], d["exit_code"]) for d in items] == [(2, "succeeded", 0), (1, "succeeded", 0)]
    assert items[0]["command"] == f"{sys.executable} -c 'print('\"'\"'deployed'\"'\"')'"
    assert items[0]["finished_at"] is not None


def test_a_failing_command_on_the_fast_path_is_recorded_with_the_full_ledger(faultbook):
    faultbook("run", "--", "true")
    done, loaded = faultbook(
        "run", "--", sys.executable, "-c", "import sys; print('✘ [ERROR] A request to the Cloudflare API failed. "
        "Authentication error [code: 10000]', file=sys.stderr); sys.exit(1)"
    )
    assert done.returncode == 1
    assert "sqlalchemy" in loaded
    assert b"faultbook: recorded failure #1: " in done.stderr
    listed, _ = faultbook("deployments", "--json")
    latest = json.loads(listed.stdout)[0]
    assert (latest["outcome"], latest["exit_code"], latest["failure_number"]) == ("failed", 1, 1)
    shown, _ = faultbook("show", "1", "--json")
    assert "Authentication error [code: 10000]" in json.loads(shown.stdout)["error_message"]


def test_an_interrupted_run_is_reported_by_the_next_run(faultbook):
    faultbook("run", "--", "true")
    conn = sqlite3.connect(faultbook.folder / ".faultbook" / "faultbook.db")
    conn.execute("UPDATE deployments SET outcome = 'running', finished_at = NULL, pid = 999999999")
    conn.commit()
    conn.close()
    done, loaded = faultbook("run", "--", "true")
    assert done.returncode == 0
    assert b"deployment 1 (true, started " in done.stderr and b"was interrupted" in done.stderr
    assert "sqlalchemy" in loaded  # the reaper is the full path's
    done, loaded = faultbook("run", "--", "true")
    assert b"interrupted" not in done.stderr and loaded == []
