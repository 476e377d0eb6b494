"""Migration 0007 on a ledger that already has deployments: each gets its kind from its stored command."""

from __future__ import annotations

from sqlalchemy import text


def test_existing_deployments_are_classified(fresh_db_url):
    from faultbook.store.db import Database, run_alembic_upgrade

    db = Database(fresh_db_url, upgrade=False)
    try:
        run_alembic_upgrade(db.engine, "0005_ingest_indexes")
        commands = ["npx wrangler deploy", "wrangler r2 bucket create b", "pwd", "npm run deploy"]
        with db.engine.begin() as c:
            c.execute(text("INSERT INTO projects (key, name, created_at) VALUES ('p', 'P', CURRENT_TIMESTAMP)"))
            for i, command in enumerate(commands):
                c.execute(text("INSERT INTO deployments (project_id, key, started_at, command, outcome) "
                               "VALUES (1, :k, CURRENT_TIMESTAMP, :c, 'succeeded')"), {"k": f"k{i}", "c": command})
        db.upgrade()
        with db.engine.connect() as c:
            kinds = dict(c.execute(text("SELECT command, kind FROM deployments")).all())
            assert c.execute(text("SELECT count(*) FROM audit_events")).scalar() == 0
        assert kinds == {"npx wrangler deploy": "deploy", "wrangler r2 bucket create b": "provision",
                         "pwd": "other", "npm run deploy": "deploy"}
    finally:
        db.dispose()
