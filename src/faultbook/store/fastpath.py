"""Record a deployment with raw ``sqlite3``, so a successful ``faultbook run`` never imports SQLAlchemy.

Why this exists.  ``faultbook run`` sits in front of every deploy, and may
add at most 80 ms to a command that does nothing.  Importing SQLAlchemy
alone takes about 190 ms, before the schema check and two ORM sessions.  On
the embedded default (a SQLite file) the success path needs only two
statements: insert the ``running`` deployment row before the command
starts, update it when it ends.  This module does exactly that with the
standard library's ``sqlite3``; the full ``Database`` is opened only when it
is needed (the command failed and the failure must be recognised against
the ledger, or this path does not apply).

When it applies (``FastLedger.open`` returns None otherwise, and the caller
uses the full path):

* the URL is a plain SQLite file URL (``sqlite:///path``, no query string)
  and the file exists (a first run creates the database the full way);
* ``alembic_version`` is exactly ``migrations.HEAD`` (a schema behind or
  ahead of this faultbook is the full path's business);
* the project row exists (the full path creates it);
* no deployment of the project is still ``running``: such a row may belong
  to a killed faultbook, and the full path's reaper must mark it
  ``interrupted`` and say so (on the fast path there is nothing to reap).

What it guarantees: the rows it writes are byte for byte what
``services.deployments.start_deployment`` / ``finish_deployment`` write
through the ORM: both execute the values ``store.deployment_rows`` builds
(the one definition of a deployment row), this module with times as SQLAlchemy stores
``UTCDateTime`` on SQLite, ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC; booleans as
0/1), under the same transaction rules as ``Database.session(write=True)``
(``BEGIN IMMEDIATE``, a 60 s busy timeout, foreign keys on, WAL).  A test
writes a row each way and compares them.  Any ``sqlite3`` error raises
``FastPathUnavailable`` so the caller can redo the step on the full path.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from faultbook.domain import Deployment, DeploymentOutcome
from faultbook.store import deployment_rows
from faultbook.store.migrations import HEAD

if TYPE_CHECKING:
    import sqlite3

_URL_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")


class FastPathUnavailable(Exception):
    """The fast path cannot do this step; do it on the full path."""


def sqlite_file(url: str) -> str | None:
    """The file a plain SQLite URL names, or None (not SQLite, in memory, or with options)."""
    for prefix in _URL_PREFIXES:
        if url.startswith(prefix):
            path = url[len(prefix) :]
            if not path or path == ":memory:" or "?" in path:
                return None
            return path
    return None


def sqlite_time(value: datetime) -> str:
    """A time as ``UTCDateTime`` stores it on SQLite (naive UTC, SQLAlchemy's DATETIME text format)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    v = value.astimezone(timezone.utc)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


class FastLedger:
    """One project's deployments in one SQLite file, written without the ORM."""

    def __init__(self, connection: sqlite3.Connection, *, project_id: int) -> None:
        self._conn = connection
        self.project_id = project_id

    @classmethod
    def open(cls, url: str, *, project_key: str) -> "FastLedger | None":
        """The fast path for this database and project, or None when it does not apply (see the module)."""
        path = sqlite_file(url)
        if path is None or not os.path.isfile(path):
            return None
        import sqlite3

        try:
            # mode=rw: never create a database here; that is the full path's job.
            conn = sqlite3.connect(
                f"file:{_uri_path(path)}?mode=rw", uri=True, timeout=60, isolation_level=None
            )
        except sqlite3.Error:
            return None
        try:
            for pragma in (
                "PRAGMA journal_mode=WAL",
                "PRAGMA foreign_keys=ON",
                "PRAGMA busy_timeout=60000",
                "PRAGMA synchronous=NORMAL",
            ):
                conn.execute(pragma)
            (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone() or (None,)
            if version != HEAD:
                raise LookupError("schema not current")
            row = conn.execute("SELECT id FROM projects WHERE key = ?", (project_key,)).fetchone()
            if row is None:
                raise LookupError("no project row yet")
            project_id = row[0]
            running = conn.execute(
                "SELECT 1 FROM deployments WHERE project_id = ? AND outcome = ? LIMIT 1",
                (project_id, DeploymentOutcome.RUNNING.value),
            ).fetchone()
            if running is not None:
                raise LookupError("a deployment is still running (or was interrupted)")
        except (sqlite3.Error, LookupError):
            conn.close()
            return None
        return cls(conn, project_id=project_id)

    def close(self) -> None:
        self._conn.close()

    def start_deployment(
        self,
        *,
        command: str,
        cwd: str | None,
        component: str | None,
        step: str | None,
        env: str | None = None,
        git_commit: str | None = None,
        git_branch: str | None = None,
        git_dirty: bool | None = None,
        config_hash: str | None = None,
        key: str | None = None,
        host: str | None = None,
        pid: int | None = None,
        started_at: datetime | None = None,
        snapshot: dict | None = None,
        kind: str | None = None,
    ) -> Deployment:
        """What ``deployments.start_deployment`` does, for an existing project."""
        values = deployment_rows.started(
            project_id=self.project_id, command=command, cwd=cwd, component=component, step=step, env=env,
            git_commit=git_commit, git_branch=git_branch, git_dirty=git_dirty, config_hash=config_hash, key=key,
            host=host, pid=pid, started_at=started_at, snapshot=snapshot, kind=kind,
        )
        params = {**values, "started_at": sqlite_time(values["started_at"])}
        if snapshot is not None:
            import json  # what SQLAlchemy's JSON type writes on SQLite: json.dumps with its defaults

            params["snapshot"] = json.dumps(snapshot)
        columns = ", ".join(params)
        marks = ", ".join(f":{name}" for name in params)
        deployment_id = self._write(f"INSERT INTO deployments ({columns}) VALUES ({marks})", params)
        return deployment_rows.to_deployment(values, id=deployment_id)

    def finish_deployment(
        self,
        *,
        deployment: Deployment,
        outcome: DeploymentOutcome,
        exit_code: int | None,
        version_id: str | None = None,
        url: str | None = None,
        output_tail: str | None = None,
        finished_at: datetime | None = None,
    ) -> Deployment:
        """What ``deployments.finish_deployment`` does for a deployment that recorded no failure."""
        from dataclasses import replace

        values = deployment_rows.finished(
            outcome=outcome, exit_code=exit_code, version_id=version_id, url=url, output_tail=output_tail,
            finished_at=finished_at,
        )
        params = {**values, "finished_at": sqlite_time(values["finished_at"])}
        assignments = ", ".join(f"{name} = :{name}" for name in params)
        self._write(
            f"UPDATE deployments SET {assignments} WHERE id = :id AND project_id = :project_id",
            {**params, "id": deployment.id, "project_id": self.project_id},
            expect_rows=1,
        )
        return replace(
            deployment, outcome=outcome, exit_code=exit_code, finished_at=values["finished_at"],
            version_id=version_id, url=url, failure_number=None,
        )

    def possibly_fixed(self, *, deployment: Deployment, limit: int = 20) -> list[tuple[int, str]]:
        """What ``services.triage.possibly_fixed`` answers, as (number, title), for a successful deploy.

        Kept here so that a successful ``faultbook run`` still never imports SQLAlchemy; a test compares the two.
        """
        if not deployment.component:
            return []
        try:
            rows = self._conn.execute(
                "SELECT number, title FROM failures WHERE project_id = ? AND status IN ('open', 'workaround') "
                "AND lower(component) = lower(?) AND last_seen < ? AND triage IS NULL AND id NOT IN "
                "(SELECT failure_id FROM occurrences WHERE deployment_id = ?) "
                "ORDER BY last_seen DESC, number DESC LIMIT ?",
                (self.project_id, deployment.component, sqlite_time(deployment.started_at), deployment.id, limit),
            ).fetchall()
        except sqlite3.Error as exc:
            raise FastPathUnavailable(str(exc)) from None
        return [(int(number), str(title)) for number, title in rows]

    def _write(self, sql: str, values: dict[str, object], *, expect_rows: int | None = None) -> int:
        """One statement in its own write transaction; returns the new row id."""
        import sqlite3

        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = conn.execute(sql, values)
                if expect_rows is not None and cursor.rowcount != expect_rows:
                    raise FastPathUnavailable(f"expected {expect_rows} row(s), changed {cursor.rowcount}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise FastPathUnavailable(str(exc)) from exc
        return int(cursor.lastrowid or 0)


def _uri_path(path: str) -> str:
    """A file path as the path part of an SQLite ``file:`` URI."""
    return path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
