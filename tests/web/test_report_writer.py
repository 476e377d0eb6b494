"""The report writer: many concurrent reports in few transactions, one bad report failing alone."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timezone

from sqlalchemy import func, select

from faultbook.domain import Deployment, DeploymentOutcome, Failure
from faultbook.errors import InputError
from faultbook.services import ingest
from faultbook.store.tables import DeploymentRow, FailureRow, ProjectRow
from faultbook.web.writer import ReportWriter

T0 = datetime(2025, 8, 20, 14, 10, tzinfo=timezone.utc)


def letters(i: int) -> str:
    out = ""
    while True:
        i, r = divmod(i, 26)
        out += "abcdefghijklmnopqrstuvwxyz"[r]
        if i == 0:
            return out


def deployment(key: str) -> Deployment:
    return Deployment(id=None, key=key, started_at=T0, command="npx wrangler deploy", outcome=DeploymentOutcome.FAILED)


def failure(i: int, title: str | None = None) -> Failure:
    return Failure(number=None, title=title if title is not None else f"failure {i}", occurred_at=None,
                   component="Backend", error_message="boom module" + letters(i))


def counts(database, project) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with database.session() as session:
        pid = session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))
        return (
            session.scalar(select(func.count()).select_from(DeploymentRow).where(DeploymentRow.project_id == pid)),
            session.scalar(select(func.count()).select_from(FailureRow).where(FailureRow.project_id == pid)),
        )


def hold_first_batch(monkeypatch):  # type: ignore[no-untyped-def]
    """Make the writer's first batch wait until released, so that the reports sent meanwhile queue up."""
    release = threading.Event()
    original = ingest.ingest_reports
    calls = {"n": 0}

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(ingest, "ingest_reports", held)
    return release


async def send_all(writer: ReportWriter, jobs: list[tuple[Deployment, Failure]], release: threading.Event):  # type: ignore[no-untyped-def]
    tasks = [asyncio.ensure_future(writer.write(deployment=d, failure=f, actor="ci")) for d, f in jobs]
    await asyncio.sleep(0.3)  # every report is queued behind the held first batch
    release.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


def test_concurrent_reports_go_in_few_transactions_with_gapless_numbers(database, project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    release = hold_first_batch(monkeypatch)
    writer = ReportWriter(database, project)
    jobs = [(deployment(f"k-{i}"), failure(i)) for i in range(50)]
    results = asyncio.run(send_all(writer, jobs, release))
    assert all(isinstance(r, ingest.IngestResult) and r.created for r in results)
    assert sorted(r.failure_number for r in results) == list(range(1, 51))
    assert writer.reports == 50 and writer.batches <= 3  # the held one, then everything that queued behind it
    assert counts(database, project) == (50, 50)


def test_a_bad_report_fails_alone(database, project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    release = hold_first_batch(monkeypatch)
    writer = ReportWriter(database, project)
    jobs = [(deployment(f"good-{i}"), failure(i)) for i in range(6)]
    jobs.insert(3, (deployment("bad"), failure(99, title="")))  # a failure needs a title
    results = asyncio.run(send_all(writer, jobs, release))
    assert isinstance(results[3], InputError)
    good = [r for i, r in enumerate(results) if i != 3]
    assert all(isinstance(r, ingest.IngestResult) and r.created for r in good)
    assert sorted(r.failure_number for r in good) == list(range(1, 7))
    assert counts(database, project) == (6, 6)  # the bad report's deployment was not kept either


def test_a_key_sent_twice_at_once_is_stored_once(database, project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    release = hold_first_batch(monkeypatch)
    writer = ReportWriter(database, project)
    jobs = [(deployment("first"), failure(1)), (deployment("same"), failure(2)), (deployment("same"), failure(2))]
    first, a, b = asyncio.run(send_all(writer, jobs, release))
    assert (a.created, b.created) == (True, False)
    assert a.deployment.id == b.deployment.id and a.failure_number == b.failure_number == 2
    assert counts(database, project) == (2, 2)


def test_a_batch_that_cannot_commit_answers_every_report_with_the_error(database, project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    writer = ReportWriter(database, project)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(ingest, "ingest_reports", broken)
    monkeypatch.setattr(ingest, "ingest_report", broken)
    results = asyncio.run(send_all(writer, [(deployment(f"k-{i}"), failure(i)) for i in range(3)], threading.Event()))
    assert all(isinstance(r, RuntimeError) for r in results)
    with database.session() as session:
        assert session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key)) is None or counts(
            database, project
        ) == (0, 0)


def test_a_ledger_filling_from_empty_gets_fresh_planner_statistics(fresh_db_url, backend, project) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL plans a fast-filling ledger as an empty table until its statistics are refreshed (the
    lookups then scan every failure); the writer refreshes them at 500, 2,000, 8,000 ... reports."""
    from sqlalchemy import text

    from faultbook.store.db import Database

    database = Database(fresh_db_url)

    def planned_rows() -> float | None:
        if backend != "postgresql":
            return None
        with database.session() as session:
            return session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'failures'"))

    try:
        assert planned_rows() in (None, -1)  # never analysed
        writer = ReportWriter(database, project)
        writer.analyze_at = 3
        jobs = [(deployment(f"k-{i}"), failure(i)) for i in range(4)]
        results = asyncio.run(send_all(writer, jobs, threading.Event()))
        assert all(isinstance(r, ingest.IngestResult) for r in results)
        assert writer.analyze_at == 12  # next at 4x
        # The refresh runs on the writer's thread after the answers: wait for it (a loaded machine is slow).
        deadline = time.monotonic() + 30
        while planned_rows() not in (None, 4) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert planned_rows() in (None, 4)
        assert database.refresh_statistics() is (backend == "postgresql")
    finally:
        database.dispose()
