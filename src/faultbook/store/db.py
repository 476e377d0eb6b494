"""Engines, sessions and schema upgrades.

``Database`` wraps one SQLAlchemy engine.  ``session(write=...)`` is the only
way code gets a session: one transaction, committed when the block ends
without error and rolled back otherwise, so a failed import leaves nothing
half-written.

SQLite specifics.  WAL mode lets readers proceed while one process writes.
Write transactions start with ``BEGIN IMMEDIATE`` so that the write lock is
taken up front: two processes that both read-then-write (allocating the next
failure number) queue on the busy timeout instead of one of them failing
with "database is locked" on upgrade from a read lock.  PostgreSQL gets the
same serialisation from ``SELECT ... FOR UPDATE`` on the project row.

Writers on one SQLite file queue on a lock file rather than on SQLite's busy
handler.  That handler polls: a writer that finds the database locked sleeps
1, 2, 5 ... up to 100 ms before it looks again, so with a team server's
worker processes and threads all writing, most of the time went into those
sleeps (about 60 reports/s with two workers).  ``session(write=True)`` first
takes a thread lock (one writer per process) and then an exclusive ``flock``
on ``<database>.lock`` — the kernel wakes the next writer the moment the
previous one commits — and only then ``BEGIN IMMEDIATE``.  A writer that does
not take the lock file (another tool, an older faultbook) is still handled by
the busy timeout.  The same file serialises schema upgrades.

Schema upgrades run on first use.  The fast path is one query of
``alembic_version``; only when it is behind is Alembic imported and run, under
a lock (a file lock beside the SQLite file, an advisory lock on PostgreSQL) so
that twenty processes starting at once on an empty database migrate it once.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError as SqlDatabaseError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from faultbook.config import redact_url
from faultbook.errors import DatabaseError
from faultbook.store.migrations import HEAD

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("faultbook_write", default=False)
_PG_MIGRATION_LOCK = 0x6661756C  # "faul": an arbitrary, stable advisory-lock key


class Database:
    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._queue_path = _WriteQueue.path_of(self.engine)
        if upgrade:
            self.upgrade()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One transaction.  ``write=True`` takes SQLite's write lock at BEGIN (queued on the lock file)."""
        queue = _WriteQueue.for_path(self._queue_path) if write and self._queue_path else None
        with queue.held() if queue is not None else contextlib.nullcontext():
            token = _write_intent.set(write)
            session = Session(self.engine, expire_on_commit=False, autoflush=True)
            try:
                try:
                    session.connection()  # BEGIN now, while the intent is set
                except SqlDatabaseError as exc:  # unreachable, or a file that is not a SQLite database
                    raise self._unreachable(exc) from None
                finally:
                    _write_intent.reset(token)
                yield session
                try:
                    session.commit()
                except OperationalError as exc:  # "database or disk is full", a lost connection
                    raise self._unreachable(exc) from None
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    def current_revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                if not self.engine.dialect.has_table(conn, "alembic_version"):
                    return None
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SqlDatabaseError as exc:  # unreachable, or "file is not a database"
            raise self._unreachable(exc) from None

    def upgrade(self) -> bool:
        """Bring the schema to HEAD; returns True when a migration ran."""
        if self.current_revision() == HEAD:
            return False
        with self._migration_lock():
            if self.current_revision() == HEAD:
                return False
            run_alembic_upgrade(self.engine)
            return True

    def dispose(self) -> None:
        self.engine.dispose()

    #: The tables a stream of CI reports grows.
    GROWING_TABLES = ("failures", "deployments", "occurrences", "timeline_events", "fingerprint_aliases")

    def refresh_statistics(self, tables: tuple[str, ...] = GROWING_TABLES) -> bool:
        """ANALYZE the tables on PostgreSQL (False elsewhere: SQLite's planner does without).

        PostgreSQL plans from statistics that autovacuum refreshes at most once a minute, and only after
        10 % of a table changed: a ledger filled quickly from empty is planned as if it still held one row,
        and every lookup by project scans the project's failures instead of seeking the fingerprint
        (PostgreSQL CPU per report doubled in bench_web).  ANALYZE samples at most 30,000 rows, takes a
        lock that does not block writers, and is not rolled back with anything.
        """
        if self.dialect != "postgresql":
            return False
        with self.engine.connect() as conn:
            conn.execute(text("ANALYZE " + ", ".join(tables)))
            conn.commit()
        return True

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.dialect == "sqlite":
            path = self.engine.url.database
            if not path or path == ":memory:":
                yield
                return
            import fcntl

            with open(path + ".lock", "w") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        elif self.dialect == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                    conn.commit()
        else:  # pragma: no cover
            yield

    def _unreachable(self, exc: Exception) -> DatabaseError:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        return DatabaseError(
            f"cannot use the database {redact_url(self.url)}: {reason}",
            hint="check FAULTBOOK_DATABASE_URL or database_url in faultbook.toml",
        )


class _WriteQueue:
    """One writer at a time on a SQLite file: a thread lock, then ``flock`` on ``<file>.lock``.

    Re-entrant per thread (a nested write session on the same file would have
    waited out the busy timeout before; it still does, on SQLite's own lock).
    """

    _by_path: dict[str, "_WriteQueue"] = {}
    _guard = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._handle: int | None = None

    @staticmethod
    def path_of(engine: Engine) -> str | None:
        """The SQLite file whose writers queue together (None: not a file, no queue)."""
        if engine.dialect.name != "sqlite":
            return None
        path = engine.url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        return os.path.abspath(path)

    @classmethod
    def for_path(cls, path: str) -> "_WriteQueue":
        queue = cls._by_path.get(path)
        if queue is not None:
            return queue
        with cls._guard:
            queue = cls._by_path.get(path)
            if queue is None:
                queue = cls._by_path[path] = cls(path)
            return queue

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        import fcntl

        with self._lock:
            locked = False
            if self._depth == 0:
                try:
                    if self._handle is None:
                        self._handle = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
                    fcntl.flock(self._handle, fcntl.LOCK_EX)
                    locked = True
                except OSError:
                    pass  # no lock file (a read-only folder ...): SQLite's busy timeout still serialises writers
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if locked and self._handle is not None:
                    fcntl.flock(self._handle, fcntl.LOCK_UN)


def _after_fork_in_child() -> None:
    # A forked child shares its parent's open lock file (and so its flock): give it queues of its own.
    _WriteQueue._by_path = {}
    _WriteQueue._guard = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def make_engine(url: str) -> Engine:
    try:
        if url.startswith("sqlite"):
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True, future=True)
    except (ImportError, ValueError, DBAPIError) as exc:
        raise DatabaseError(f"cannot use the database {redact_url(url)}: {exc}") from None
    except Exception as exc:  # sqlalchemy.exc.ArgumentError for a malformed URL
        raise DatabaseError(f"not a usable database URL {redact_url(url)}: {exc}") from None


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 60}, future=True)
    path = engine.url.database
    if path and path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the folder for {path}: {exc.strerror}") from None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event own transactions (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")

    return engine


def alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("faultbook.store") / "migrations"))
    return config


def run_alembic_upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def sqlite_path(url: str) -> str | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[-1]
    return os.path.abspath(path) if path else None
