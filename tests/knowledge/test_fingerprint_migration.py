"""0006_fingerprint_v2 on a ledger written by v1, on SQLite and PostgreSQL: numbers kept, keys recomputed."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from faultbook.knowledge.fingerprint import fingerprint
from faultbook.store.db import make_engine, run_alembic_upgrade

UPLOAD = "/accounts/0123456789abcdef0123456789abcdef/workers/scripts/quoteviral-api"
ROUTES = "/zones/fedcba9876543210fedcba9876543210/workers/routes"
SEED = "binding IMAGES has an unknown type Images [code: 10021]"
REF_A = "Uncaught Error: internal error; reference = subhugho2re78qb852ji8945 [code: 10021]"
REF_B = "Uncaught Error: internal error; reference = k1m2n3b4v5c6x7z8l9q0 [code: 10021]"
AUTH = "Authentication error [code: 10000]"
MERGED = "KV namespace 'abc' not found [code: 10041]"
T = datetime(2025, 8, 20, 14, 5, tzinfo=timezone.utc)


def tail(path: str | None) -> str:
    header = f"A request to the Cloudflare API\n  ({path}) failed." if path else "Build failed."
    return f"--- stderr ---\n✘ [ERROR] {header}\n\n  something [code: 1]\n"


def v1(message: str, component: str = "Backend") -> str:
    return fingerprint(message, code=None, component=component, version="v1")


def v2(message: str, endpoint: str | None = None, component: str = "Backend") -> str:
    return fingerprint(message, code=None, component=component, endpoint=endpoint, version="v2")


@pytest.fixture
def v1_ledger(fresh_db_url):
    """A ledger at 0005 holding failures, occurrences and a merge alias keyed by v1."""
    engine = make_engine(fresh_db_url)
    run_alembic_upgrade(engine, "0005_ingest_indexes")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (id, key, name, created_at) VALUES (1, 'qv', 'QuoteViral', :t)"), {"t": T})
        for i, path in enumerate([UPLOAD, UPLOAD.replace("quoteviral-api", "other"), ROUTES, UPLOAD, None, UPLOAD], 1):
            conn.execute(text("INSERT INTO deployments (id, project_id, key, started_at, command, outcome, output_tail) "
                              "VALUES (:i, 1, :k, :t, 'wrangler deploy', 'failed', :tail)"),
                         {"i": i, "k": f"d{i}", "t": T, "tail": tail(path)})
        failures = [  # number, message, fingerprint
            (1, SEED, v1(SEED)),
            (2, REF_A, v1(REF_A)),
            (3, REF_B, v1(REF_B)),  # v1 kept the two references apart; v2 does not
            (4, AUTH, v1(AUTH)),  # one v1 failure seen on the script upload and on routes
            (5, "Failed to upload to R2 by hand", None),  # recorded by hand: never fingerprinted
            (6, MERGED, None),  # merged into #1: its key lives on as an alias
        ]
        for number, message, fp in failures:
            conn.execute(text(
                "INSERT INTO failures (id, project_id, number, position, title, component, step, error_message, "
                "root_cause, resolution, status, lessons_learned, created_at, updated_at, fingerprint, error_code, "
                "occurrence_count, suggested_fields) VALUES (:n, 1, :n, :n, :title, 'Backend', 'Worker deployment', "
                ":m, '', '', 'open', '', :t, :t, :fp, NULL, 1, '[]')"),
                {"n": number, "title": message[:60], "m": message, "t": T, "fp": fp})
        occurrences = [  # id, failure, deployment, message, fingerprint
            (1, 1, 1, SEED, v1(SEED)),
            (2, 2, 2, REF_A, v1(REF_A)),
            (3, 3, 4, REF_B, v1(REF_B)),
            (4, 4, 4, AUTH, v1(AUTH)),
            (5, 4, 3, AUTH, v1(AUTH)),
            (6, 1, 6, MERGED, v1(MERGED)),  # moved to #1 by the merge
        ]
        for oid, fid, did, message, fp in occurrences:
            conn.execute(text("INSERT INTO occurrences (id, failure_id, deployment_id, occurred_at, error_message, "
                              "fingerprint) VALUES (:o, :f, :d, :t, :m, :fp)"),
                         {"o": oid, "f": fid, "d": did, "t": T, "m": message, "fp": fp})
        conn.execute(text("INSERT INTO fingerprint_aliases (id, project_id, fingerprint, failure_id) VALUES (1, 1, :fp, 1)"),
                     {"fp": v1(MERGED)})
        conn.execute(text("INSERT INTO timeline_events (failure_id, at, kind, description, details) "
                          "VALUES (6, :t, 'merged-into', 'Merged into Failure #1', :d)"),
                     {"t": T, "d": json.dumps({"into": 1, "fingerprint": v1(MERGED)})})
        if engine.dialect.name == "postgresql":  # the rows above chose their ids: move the sequences past them
            for table in ("projects", "deployments", "failures", "occurrences", "fingerprint_aliases"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    yield engine
    engine.dispose()


def keys(engine, table: str) -> dict[int, str | None]:
    column = "number" if table == "failures" else "id"
    with engine.connect() as conn:
        return dict(conn.execute(text(f"SELECT {column}, fingerprint FROM {table} ORDER BY {column}")).all())


def test_upgrade_recomputes_every_key_and_keeps_every_number(v1_ledger):
    run_alembic_upgrade(v1_ledger, "0006_fingerprint_v2")
    assert keys(v1_ledger, "failures") == {
        1: v2(SEED, UPLOAD),  # the family from the output tail of its deployment
        2: v2(REF_A, UPLOAD),  # the older of the two that collapse owns the v2 key ...
        3: v1(REF_B),  # ... the younger keeps its number and its v1 key, which no lookup computes
        4: v2(AUTH, UPLOAD),  # the family of its oldest occurrence
        5: None,  # never fingerprinted: recognition does it on first use
        6: None,
    }
    assert v2(REF_A, UPLOAD) == v2(REF_B, UPLOAD)
    assert keys(v1_ledger, "occurrences") == {
        1: v2(SEED, UPLOAD),
        2: v2(REF_A, UPLOAD),
        3: v2(REF_B, UPLOAD),
        4: v2(AUTH, UPLOAD),
        5: v2(AUTH, ROUTES),  # each occurrence says which API it came from
        6: v2(MERGED, UPLOAD),
    }
    assert keys(v1_ledger, "fingerprint_aliases") == {1: v2(MERGED, UPLOAD)}


def test_downgrade_gives_the_v1_keys_back(v1_ledger):
    before = (keys(v1_ledger, "failures"), keys(v1_ledger, "fingerprint_aliases"))
    run_alembic_upgrade(v1_ledger, "0006_fingerprint_v2")
    from alembic import command

    from faultbook.store.db import alembic_config

    config = alembic_config()
    with v1_ledger.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005_ingest_indexes")
    assert (keys(v1_ledger, "failures"), keys(v1_ledger, "fingerprint_aliases")) == before


def test_after_the_upgrade_each_error_comes_back_to_its_number(v1_ledger, fresh_db_url):
    from faultbook.domain import Failure
    from faultbook.services.ledger import ProjectRef
    from faultbook.services.recognition import record_occurrence
    from faultbook.store.db import Database

    run_alembic_upgrade(v1_ledger, "0006_fingerprint_v2")
    database = Database(fresh_db_url)  # (upgrades to head: the later revisions of other work)
    project = ProjectRef(key="qv", name="QuoteViral")

    def again(message: str, endpoint: str) -> tuple[int, bool]:
        draft = Failure(number=None, title=message[:60], occurred_at=T, component="Backend",
                        step="Worker deployment", error_message=message)
        with database.session(write=True) as session:
            got = record_occurrence(session, project=project, draft=draft, deployment_id=None, endpoint=endpoint)
        return got.failure.number, got.is_new

    try:
        assert again(SEED, UPLOAD) == (1, False)
        assert again(REF_B, UPLOAD) == (2, False)  # the older of the two that collapsed owns the key
        assert again(AUTH, UPLOAD.replace("quoteviral-api", "other")) == (4, False)  # same API, another script
        assert again(AUTH, ROUTES) == (7, True)  # another API: another failure from now on
        assert again("Failed to upload to R2 by hand", UPLOAD) == (5, False)  # fingerprinted on first use
    finally:
        database.dispose()
