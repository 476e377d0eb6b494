"""Database fixtures: every storage test runs on SQLite AND the local PostgreSQL.

PostgreSQL is at 127.0.0.1:5432 (trust auth) on every machine of this project;
``FAULTBOOK_TEST_PG_URL`` overrides it.  Each test session creates its own
database with a random name and drops it at the end, so concurrent runs never
see each other's rows.  With ``CI=true`` an unreachable PostgreSQL FAILS the
run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from typing import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("FAULTBOOK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _admin_engine():  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def pg_unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI and is not usable at {PG_ADMIN_URL}: {reason}")
    pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {reason}")


def create_pg_database() -> str:
    """A new empty PostgreSQL database; returns its URL."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    name = "faultbook_t_" + uuid.uuid4().hex[:12]
    try:
        engine = _admin_engine()
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except OperationalError as exc:
        pg_unavailable(str(exc.orig).strip().splitlines()[0])
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    from sqlalchemy import text

    name = url.rsplit("/", 1)[1]
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def _session_pg_url() -> Iterator[str]:
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path, request: pytest.FixtureRequest) -> str:
    """A database URL on the parametrised backend (SQLite: a fresh file; PostgreSQL: the session's database)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("_session_pg_url")


@pytest.fixture
def fresh_db_url(backend: str, tmp_path) -> Iterator[str]:
    """A database URL with nothing in it at all, even on PostgreSQL (costs a CREATE DATABASE)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture
def database(db_url: str):  # type: ignore[no-untyped-def]
    from faultbook.store.db import Database

    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def project():  # type: ignore[no-untyped-def]
    """A project key of its own for each test, so tests sharing a PostgreSQL database never collide."""
    from faultbook.services.ledger import ProjectRef

    key = "p-" + uuid.uuid4().hex[:10]
    return ProjectRef(key=key, name="QuoteViral")
