"""The suspect change: the diff of two snapshots plus the commits, ranked by what the error names."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from faultbook.services.snapshot import take_snapshot
from faultbook.services.suspect import diff_snapshots, rank, suspect, suspect_changes_for_failure

GOOD = """
name = "quoteviral-api"
main = "src/index.ts"
compatibility_date = "2025-08-01"
routes = [{ pattern = "api.quoteviral.com/*", zone_name = "quoteviral.com" }]

[vars]
FRONTEND_ORIGIN = "https://quoteviral.com"

[[r2_buckets]]
binding = "UPLOADS"
bucket_name = "quoteviral-uploads"
"""
BAD = """
name = "quoteviral-api"
main = "src/index.ts"
compatibility_date = "2025-08-20"
compatibility_flags = ["nodejs_compat"]
routes = [{ pattern = "api.quoteviral.com/v2/*", zone_name = "quoteviral.com" }]

[vars]
FRONTEND_ORIGIN = "https://quoteviral.com"
API_KEY = "planted-var-value-3e5f"

[[r2_buckets]]
binding = "UPLOADS"
bucket_name = "quoteviral-uploads-v2"

[[unsafe.bindings]]
name = "IMAGES"
type = "Images"
"""
ERROR = "binding IMAGES has an unknown type Images [code: 10021]"


def snap(text: str, lock: dict | None = None, secrets: list[str] | None = None) -> dict:
    data = take_snapshot(tomllib.loads(text), config_file="wrangler.toml")
    if lock is not None:
        data["lockfile"] = {"file": "package-lock.json", "dependencies": lock}
    if secrets is not None:
        data["secrets"] = secrets
    return data


def test_the_config_diff_by_key():
    changes = diff_snapshots(snap(GOOD), snap(BAD))
    assert [(c.kind, c.summary) for c in changes] == [
        ("binding", "binding IMAGES added (unsafe.bindings: type = Images)"),
        ("binding", "binding UPLOADS changed (bucket_name: quoteviral-uploads -> quoteviral-uploads-v2)"),
        ("compatibility", "compatibility_date 2025-08-01 -> 2025-08-20"),
        ("compatibility", "compatibility flag nodejs_compat added"),
        ("config", "config key routes changed"),
        ("var", "var API_KEY added"),
    ]
    assert "planted-var-value-3e5f" not in json.dumps([c.to_json() for c in changes])


def test_lockfile_and_secret_names():
    before = snap(GOOD, lock={"wrangler": "4.85.0", "hono": "4.6.3", "zod": "3.23.0"}, secrets=["STRIPE_KEY"])
    after = snap(GOOD, lock={"wrangler": "4.86.0", "hono": "4.6.3", "itty-router": "5.0.0"}, secrets=["SENTRY_DSN"])
    assert [c.summary for c in diff_snapshots(before, after)] == [
        "secret SENTRY_DSN added",
        "secret STRIPE_KEY removed",
        "wrangler 4.85.0 -> 4.86.0",
        "dependency itty-router 5.0.0 added",
        "dependency zod 3.23.0 removed",
    ]


@pytest.mark.parametrize("error, first", [
    (ERROR, "binding IMAGES added (unsafe.bindings: type = Images)"),
    ("R2 bucket 'quoteviral-uploads-v2' not found [code: 10085]", "binding UPLOADS changed (bucket_name: quoteviral-uploads -> quoteviral-uploads-v2)"),
    ("No such compatibility flag: nodejs_compat", "compatibility flag nodejs_compat added"),
    ("Can't set compatibility date in the future: 2025-08-20", "compatibility_date 2025-08-01 -> 2025-08-20"),
    ("wrangler 4.86.0 failed to bundle", "wrangler 4.85.0 -> 4.86.0"),
])
def test_a_change_the_error_names_comes_first(error, first):
    before = snap(GOOD, lock={"wrangler": "4.85.0"})
    after = snap(BAD, lock={"wrangler": "4.86.0"})
    commits = [{"hash": "a" * 40, "author": "Ann", "subject": "Tidy the README"}]
    ranked = suspect(before, after, commits=commits, error_text=error)
    assert ranked[0].summary == first and ranked[0].named_in_error
    assert sum(c.named_in_error for c in ranked) >= 1
    assert ranked[-1].kind == "commit"


def test_without_a_named_change_config_comes_before_lockfile_secrets_and_commits():
    before = snap(GOOD, lock={"wrangler": "4.85.0"}, secrets=[])
    after = snap(GOOD.replace("2025-08-01", "2025-08-02"), lock={"wrangler": "4.86.0"}, secrets=["X_SECRET"])
    commits = [{"hash": "b" * 40, "author": "Bo", "subject": "Bump deps"}]
    ranked = rank([*reversed(diff_snapshots(before, after))], "something unrelated broke")
    kinds = [c.kind for c in suspect(before, after, commits=commits, error_text="something unrelated broke")]
    assert kinds == ["compatibility", "lockfile", "secret", "commit"]
    assert not any(c.named_in_error for c in ranked)


def test_nothing_to_compare_is_no_suspects():
    assert diff_snapshots(None, snap(BAD)) == []
    assert diff_snapshots(snap(GOOD), snap(GOOD)) == []


# ---------------------------------------------------------------- gathered from the ledger (SQLite and PostgreSQL)

GIT_ENV = {"GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@example.com", "GIT_COMMITTER_NAME": "Ann",
           "GIT_COMMITTER_EMAIL": "ann@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def record(database, project, *, at, outcome, snapshot, commit=None, component="Backend", env=None, error=None):
    from faultbook.domain import DeploymentOutcome, Failure
    from faultbook.services import deployments
    from faultbook.services.deployments import GitContext
    from faultbook.services.recognition import record_occurrence

    with database.session(write=True) as session:
        dep = deployments.start_deployment(
            session, project=project, command="wrangler deploy", cwd="/srv", component=component, step="Worker deployment",
            env=env, git=GitContext(commit=commit), started_at=at, snapshot=snapshot)
        number = None
        if error:
            rec = record_occurrence(session, project=project, draft=Failure(
                number=None, title="Worker deploy failed", occurred_at=at, component=component, error_message=error),
                deployment_id=dep.id)
            number = rec.failure.number
        deployments.finish_deployment(
            session, project=project, deployment_id=dep.id, exit_code=0 if error is None else 1,
            outcome=DeploymentOutcome.SUCCEEDED if error is None else DeploymentOutcome.FAILED,
            failure_number=number, finished_at=at + timedelta(minutes=1))
    return number


T0 = datetime(2025, 8, 19, 10, 0, tzinfo=timezone.utc)


def test_gathered_without_git_from_the_stored_snapshots(database, project):
    record(database, project, at=T0, outcome="ok", snapshot=snap(GOOD))
    # Another component's later success and an older env's success are not the baseline.
    record(database, project, at=T0 + timedelta(hours=1), outcome="ok", snapshot=snap(BAD), component="Frontend")
    record(database, project, at=T0 + timedelta(hours=2), outcome="ok", snapshot=snap(BAD), env="staging")
    number = record(database, project, at=T0 + timedelta(days=1), outcome="fail", snapshot=snap(BAD), error=ERROR)
    with database.session() as session:
        changes = suspect_changes_for_failure(session, project=project, number=number)
    assert changes[0].summary.startswith("binding IMAGES added") and changes[0].named_in_error
    assert {c.kind for c in changes} == {"binding", "compatibility", "config", "var"}
    assert not any(c.kind == "commit" for c in changes)


def test_gathered_with_git_adds_the_commits_in_between(database, project, tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "wrangler.toml").write_text(GOOD)
    git(root, "add", "wrangler.toml")
    git(root, "commit", "-q", "-m", "QuoteViral API with R2 uploads")
    good = git(root, "rev-parse", "HEAD")
    (root / "wrangler.toml").write_text(BAD)
    git(root, "commit", "-q", "-am", "Add the Images binding")
    bad = git(root, "rev-parse", "HEAD")
    record(database, project, at=T0, outcome="ok", snapshot=snap(GOOD), commit=good)
    number = record(database, project, at=T0 + timedelta(days=1), outcome="fail", snapshot=snap(BAD), commit=bad,
                    error=ERROR)
    with database.session() as session:
        changes = suspect_changes_for_failure(session, project=project, number=number, root=root)
    commit = next(c for c in changes if c.kind == "commit")
    assert commit.to_json().items() >= {"kind": "commit", "hash": bad, "author": "Ann", "subject": "Add the Images binding"}.items()
    assert commit.named_in_error  # "Images" is in the subject and in the error
    assert changes[0].kind == "binding"
