"""Tokens are scoped to a project, and a revoked token stops at once in every process (issue 14)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from webfixtures import bearer

REPORT = {
    "deployment": {
        "key": "dep-scope-1", "started_at": "2025-08-20T14:10:00Z", "finished_at": "2025-08-20T14:11:30Z",
        "command": "npx wrangler deploy", "outcome": "failed", "component": "Backend",
    },
    "failure": {"title": "Worker deployment failed", "component": "Backend",
                "error_message": "KV namespace 'abc' is not valid. [code: 10041]"},
}
FAILURE = {"title": "by hand", "component": "Backend"}


def test_a_token_of_another_project_is_refused(client, token, database):
    other = token("writer", project="someone-elses-project")
    for method, path, body in (("post", "/api/v1/failures", FAILURE), ("post", "/api/v1/reports", REPORT),
                               ("get", "/api/v1/failures", None)):
        r = getattr(client, method)(path, json=body, headers=bearer(other)) if body else client.get(
            path, headers=bearer(other))
        assert r.status_code == 401, (path, r.text)
    # Its own project's token and an all-projects token work.
    assert client.post("/api/v1/failures", json=FAILURE, headers=bearer(token("writer"))).status_code == 201
    assert client.post("/api/v1/reports", json=REPORT, headers=bearer(token("writer", project=None))).status_code == 201


def test_only_an_all_projects_admin_grants_all_projects(client, token, project):
    scoped = bearer(token("admin"))
    made = client.post("/api/v1/tokens", json={"role": "writer"}, headers=scoped)
    assert made.status_code == 201 and made.json()["project"] == project.key
    assert client.post("/api/v1/tokens", json={"role": "writer", "all_projects": True}, headers=scoped).status_code == 403
    made = client.post("/api/v1/tokens", json={"role": "writer", "all_projects": True},
                       headers=bearer(token("admin", project=None)))
    assert made.status_code == 201 and made.json()["project"] is None


def test_revocation_is_immediate_even_for_a_token_this_process_knows(client, token, database):
    """Another worker process revokes (here: straight in the database, which is all another process shares):
    the very next request with the token is refused, the report fast path included."""
    from faultbook.services import tokens

    secret = token("writer")
    w = bearer(secret)
    assert client.get("/api/v1/failures", headers=w).status_code == 200  # now cached in this process
    body = {**REPORT, "deployment": {**REPORT["deployment"], "key": "dep-before"}}
    assert client.post("/api/v1/reports", json=body, headers=w).status_code == 201
    with database.session(write=True) as s:
        token_id = tokens.verify_token(s, secret=secret).id
        tokens.revoke_token(s, token_id=token_id)
    body = {**REPORT, "deployment": {**REPORT["deployment"], "key": "dep-after"}}
    assert client.post("/api/v1/reports", json=body, headers=w).status_code == 401
    assert client.post("/api/v1/failures", json=FAILURE, headers=w).status_code == 401
    assert client.get("/api/v1/failures", headers=w).status_code == 401
    assert client.get("/api/v1/deployments", headers=bearer(token("reader"))).json()["total"] == 1


def test_cli_token_create_scopes(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from faultbook.cli import app as app_module
    from faultbook.cli.app import app

    app_module.state.__init__()  # fresh, as a new process would be
    app_module.state._settings = None
    app_module.state._db = None
    monkeypatch.delenv("FAULTBOOK_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "faultbook.toml").write_text('project = "qv"\nname = "QuoteViral"\n')
    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'l.db'}")
    runner = CliRunner()
    made = [json.loads(runner.invoke(app, ["token", "create", "--role", "writer", "--json", *extra]).stdout)
            for extra in ([], ["--project", "other"], ["--all-projects"])]
    assert [m["project"] for m in made] == ["qv", "other", None]
    both = runner.invoke(app, ["token", "create", "--role", "writer", "--project", "x", "--all-projects"])
    assert both.exit_code != 0 and "not both" in str(both.exception)  # (main() prints it, exit 2)


T = datetime(2025, 8, 20, tzinfo=timezone.utc)


@pytest.mark.parametrize("projects", [["qv"], ["qv", "other"]])
def test_migration_scopes_existing_tokens(fresh_db_url, projects):
    from faultbook.store.db import make_engine, run_alembic_upgrade

    engine = make_engine(fresh_db_url)
    run_alembic_upgrade(engine, "0009_merge_state")
    with engine.begin() as conn:
        for i, key in enumerate(projects, 1):
            conn.execute(text("INSERT INTO projects (id, key, name, created_at) VALUES (:i, :k, :k, :t)"),
                         {"i": i, "k": key, "t": T})
        for i, role in enumerate(("reader", "writer", "admin"), 1):
            conn.execute(text("INSERT INTO api_tokens (id, name, role, token_hash, created_at) "
                              "VALUES (:i, :r, :r, :h, :t)"), {"i": i, "r": role, "h": f"{i:064x}", "t": T})
    run_alembic_upgrade(engine)
    with engine.connect() as conn:
        scopes = dict(conn.execute(text("SELECT role, project_key FROM api_tokens")).all())
    engine.dispose()
    if len(projects) == 1:
        assert scopes == {"reader": "qv", "writer": "qv", "admin": "qv"}
    else:  # which project a token was for is unknown: fail closed, admins keep working
        assert scopes == {"reader": "", "writer": "", "admin": None}
