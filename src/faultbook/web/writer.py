"""CI reports written in batches: one writer thread per server process, one transaction per batch.

Why.  Every report needs the project's write lock (SQLite's single write
lock, or the project row on PostgreSQL) for the few statements that number
and recognise its failure, and then a commit.  With a transaction per
report, each worker thread took the lock, paid for a session, a BEGIN and a
COMMIT (an fsync on PostgreSQL), and the other threads of the process fought
it for the GIL while it held the lock: a busy server spent most of its time
on that overhead.  Here a report's request hands it to the process's writer
thread and waits; the writer takes whatever reports are waiting (up to
``MAX_BATCH``), writes them in one transaction, commits, and only then
answers each request.  A report that fails (bad input the request checks
missed, a conflict) is answered with its error and the batch is written
again without it.  An answered report is committed — the client's outbox may forget
it — and a report whose batch failed to commit gets the error, so its client
sends it again (the idempotency key makes that safe).

With one report waiting, a batch is that one report: nothing waits for a
batch to fill.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from faultbook.domain import Deployment, Failure
from faultbook.services import ingest
from faultbook.services.ledger import ProjectRef
from faultbook.store.db import Database

#: The most reports written in one transaction.
MAX_BATCH = 64


@dataclass
class _Job:
    deployment: Deployment
    failure: Failure | None
    host: str | None
    output_tail: str | None
    actor: str | None
    future: Future = field(default_factory=Future)


class ReportWriter:
    def __init__(self, database: Database, project: ProjectRef) -> None:
        self.database = database
        self.project = project
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        #: Batches written and reports in them (for tests and the curious).
        self.batches = 0
        self.reports = 0

    async def write(
        self,
        *,
        deployment: Deployment,
        failure: Failure | None = None,
        host: str | None = None,
        output_tail: str | None = None,
        actor: str | None = None,
    ) -> ingest.IngestResult:
        """Queue one report and wait until its batch is committed (or has failed)."""
        job = _Job(deployment=deployment, failure=failure, host=host, output_tail=output_tail, actor=actor)
        self._ensure_thread()
        self._jobs.put(job)
        return await asyncio.wrap_future(job.future)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="faultbook-report-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._jobs.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Job]) -> None:
        """Write the batch in one transaction; a report that raises is answered with its error and the
        transaction is redone without it (rare: the request was validated already), so no report pays for
        a SAVEPOINT."""
        pending = list(batch)
        while pending:
            results: list[ingest.IngestResult] = []
            failed: _Job | None = None
            try:
                with self.database.session(write=True) as session:
                    for job in pending:
                        failed = job
                        results.append(
                            ingest.ingest_report(
                                session,
                                project=self.project,
                                deployment=job.deployment,
                                failure=job.failure,
                                host=job.host,
                                output_tail=job.output_tail,
                                actor=job.actor,
                            )
                        )
                    failed = None
            except Exception as exc:
                if failed is None:  # the commit failed: nothing of the batch is stored
                    for job in pending:
                        job.future.set_exception(exc)
                    return
                failed.future.set_exception(exc)
                pending = [job for job in pending if job is not failed]
                continue
            except BaseException as exc:
                for job in pending:
                    job.future.set_exception(exc)
                raise
            self.batches += 1
            self.reports += len(pending)
            for job, result in zip(pending, results):
                job.future.set_result(result)
            return
