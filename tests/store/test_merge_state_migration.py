"""Migration 0009_merge_state: a ledger merged before the column existed keeps its merges."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from faultbook.store.db import run_alembic_upgrade


def test_the_column_is_filled_from_merged_into_events(fresh_db_url):
    from faultbook.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(fresh_db_url))
    try:
        run_alembic_upgrade(engine, "0005_ingest_indexes")
        key = "p-" + uuid.uuid4().hex[:8]
        now = "2026-01-01 00:00:00"
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO projects (key, name, created_at) VALUES (:k, 'P', :now)"),
                         {"k": key, "now": now})
            pid = conn.execute(sa.text("SELECT id FROM projects WHERE key = :k"), {"k": key}).scalar_one()
            ids = []
            for number in (1, 2, 3):
                conn.execute(
                    sa.text("INSERT INTO failures (project_id, number, position, title, component, step, error_message, "
                            "root_cause, resolution, status, lessons_learned, created_at, updated_at, occurrence_count, "
                            "suggested_fields) VALUES (:p, :n, :n, 't', 'Backend', '', '', '', '', 'open', '', :now, :now, "
                            "1, '[]')"),
                    {"p": pid, "n": number, "now": now},
                )
                ids.append(conn.execute(sa.text("SELECT id FROM failures WHERE project_id = :p AND number = :n"),
                                        {"p": pid, "n": number}).scalar_one())
            conn.execute(
                sa.text("INSERT INTO timeline_events (failure_id, at, kind, description, details) "
                        "VALUES (:f, :now, 'merged-into', 'Merged into Failure #1', :d)"),
                {"f": ids[1], "now": now, "d": json.dumps({"into": 1})},
            )
        run_alembic_upgrade(engine, "0009_merge_state")
        with engine.connect() as conn:
            merged = dict(conn.execute(sa.text("SELECT number, merged_into FROM failures WHERE project_id = :p"),
                                       {"p": pid}).all())
        assert merged == {1: None, 2: 1, 3: None}
    finally:
        engine.dispose()
