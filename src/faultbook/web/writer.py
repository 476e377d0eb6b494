"""CI reports written in batches: one writer thread per server process, one transaction per batch.

Why.  Every report needs the project's write lock (SQLite's single write
lock, or the project row on PostgreSQL) for the few statements that number
and recognise its failure, and then a commit.  With a transaction per
report, each worker thread took the lock, paid for a session, a BEGIN and a
COMMIT (an fsync on PostgreSQL), and the other threads of the process fought
it for the GIL while it held the lock: a busy server spent most of its time
on that overhead.  Here a report's request hands it to the process's writer
thread and waits; the writer takes whatever reports are waiting (up to
``MAX_BATCH``), writes them in one transaction (``ingest.ingest_reports``:
one multi-row statement per table rather than three per report), commits,
and only then answers each request.  A report that fails (bad input the request checks
missed, a conflict) is answered with its error and the batch is written
again without it.  An answered report is committed — the client's outbox may forget
it — and a report whose batch failed to commit gets the error, so its client
sends it again (the idempotency key makes that safe).

A batch does not wait to fill: the writer takes the first report waiting and
whatever arrives within ``LINGER_SECONDS`` (2 ms) after it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from faultbook.domain import Deployment, Failure
from faultbook.services import ingest
from faultbook.services.ledger import ProjectRef
from faultbook.services.recognition import KnowledgeCache
from faultbook.store.db import Database
import time
from starlette.datastructures import Headers
from faultbook.web.auth import cached_bearer
from faultbook.web.schemas import ReportOut
import json
from pydantic import ValidationError
from faultbook.web.schemas import ReportIn

#: The most reports written in one transaction.
MAX_BATCH = 64
#: How long the writer waits for more reports to join a batch (seconds).  Measured with 8 keep-alive
#: senders and 2 workers: 2 ms took SQLite from ~240 to ~360 reports/s and PostgreSQL from ~135 to ~170.
LINGER_SECONDS = 0.002
#: Reports written before the first statistics refresh (``ReportWriter._refresh_statistics``).
ANALYZE_FIRST = 500

log = logging.getLogger(__name__)


class RevokedToken(Exception):
    """The report's token was revoked before its batch was written (nothing of it is stored)."""


@dataclass
class _Job:
    deployment: Deployment
    failure: Failure | None
    host: str | None
    output_tail: str | None
    actor: str | None
    #: The API token the report came with: checked not revoked in the batch's transaction.
    token_id: int | None = None
    endpoint: str | None = None
    snapshot: dict[str, Any] | None = None
    future: Future = field(default_factory=Future)


class ReportWriter:
    def __init__(self, database: Database, project: ProjectRef, *, knowledge: KnowledgeCache | None = None) -> None:
        self.database = database
        self.project = project
        #: The app's knowledge cache (a long-lived server keeps its index warm across batches).
        self.knowledge = knowledge if knowledge is not None else KnowledgeCache()
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        #: The project's id, read by the first batch (projects are never deleted; forgotten on any error).
        self._project_id: int | None = None
        #: Batches written and reports in them (for tests and the curious).
        self.batches = 0
        self.reports = 0
        #: Statistics are refreshed when this many reports have been written, then 4 times as many, ...
        self.analyze_at = ANALYZE_FIRST

    async def write(
        self,
        *,
        deployment: Deployment,
        failure: Failure | None = None,
        host: str | None = None,
        output_tail: str | None = None,
        actor: str | None = None,
        token_id: int | None = None,
        endpoint: str | None = None,
        snapshot: dict[str, Any] | None = None,
    ) -> ingest.IngestResult:
        """Queue one report and wait until its batch is committed (or has failed: ``RevokedToken`` when
        ``token_id`` was revoked before the batch's transaction)."""
        job = _Job(deployment=deployment, failure=failure, host=host, output_tail=output_tail, actor=actor,
                   token_id=token_id, endpoint=endpoint, snapshot=snapshot)
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
            # Linger a moment for the reports just behind this one (PostgreSQL's commit_delay idea): clients
            # answered by the previous batch send their next reports a millisecond or two later, and without
            # the wait each batch would hold one report and the next the rest.
            deadline = time.monotonic() + LINGER_SECONDS
            while len(batch) < MAX_BATCH:
                remaining = deadline - time.monotonic()
                try:
                    batch.append(self._jobs.get(timeout=remaining) if remaining > 0 else self._jobs.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Job]) -> None:
        """Write the batch in one transaction (``ingest.ingest_reports``); if anything in it fails, write the
        reports again one by one to answer the failing one with its error (rare: the requests were
        validated already)."""
        try:
            with self.database.session(write=True) as session:
                batch = self._without_revoked(session, batch)
                if not batch:
                    return
                if self._project_id is None:
                    self._project_id = ingest.project_id(session, self.project)
                results = ingest.ingest_reports(
                    session,
                    project=self.project,
                    known_project_id=self._project_id,
                    knowledge=self.knowledge,
                    reports=[
                        ingest.Report(deployment=job.deployment, failure=job.failure, host=job.host,
                                      output_tail=job.output_tail, actor=job.actor, endpoint=job.endpoint,
                                      snapshot=job.snapshot)
                        for job in batch
                    ],
                )
        except Exception:
            self._project_id = None  # (it may have been created in the transaction rolled back)
            self._write_singly(batch)
            return
        self.batches += 1
        self.reports += len(batch)
        refresh = self.reports >= self.analyze_at
        while self.analyze_at <= self.reports:
            self.analyze_at *= 4
        for job, result in zip(batch, results):
            job.future.set_result(result)
        if refresh:
            self._refresh_statistics()

    @staticmethod
    def _without_revoked(session: Any, batch: list[_Job]) -> list[_Job]:
        """Answer the reports whose token was revoked (in this transaction's view) and drop them."""
        from faultbook.services.tokens import active_ids

        ids = {job.token_id for job in batch if job.token_id is not None}
        if not ids:
            return batch
        active = active_ids(session, ids)
        kept = []
        for job in batch:
            if job.token_id is not None and job.token_id not in active:
                job.future.set_exception(RevokedToken(f"token #{job.token_id} is revoked"))
            else:
                kept.append(job)
        return kept

    def _refresh_statistics(self) -> None:
        """A fresh ledger filling fast is planned from empty-table statistics until autovacuum catches up
        (``Database.refresh_statistics``); refresh them at 500, 2,000, 8,000 ... reports, after the answers."""
        try:
            self.database.refresh_statistics()
        except Exception:  # only an optimisation: never let it stop the writer
            log.warning("could not refresh the database statistics", exc_info=True)

    def _write_singly(self, batch: list[_Job]) -> None:
        """One transaction still, without the batch statements: a report that raises is answered with its
        error and the transaction redone without it, so no report pays for a SAVEPOINT."""
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
                                knowledge=self.knowledge,
                                endpoint=job.endpoint,
                                snapshot=job.snapshot,
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


class ReportFastPath:
    """``POST /api/v1/reports`` from a known writer token, answered without FastAPI's routing.

    A CI report is the one request a team server gets in volume, and FastAPI's routing, dependency
    solving and response validation cost about as much CPU as writing the report.  This ASGI middleware
    (inside the security-header and Host checks, which still apply) handles exactly the ordinary case:
    a Bearer token verified within the last few seconds with the writer role, a JSON body that
    ``ReportIn`` accepts, a matching ``Idempotency-Key`` if any.  Everything else — another path, no or
    unknown token, a body that does not validate, a write that raised — goes to the FastAPI route
    unchanged (with the body replayed), so errors, status codes and the OpenAPI document are the
    route's own.  A write that raised stored nothing, so the route writing it again is safe.
    """

    PATH = "/api/v1/reports"

    def __init__(self, app: Any, ctx: Any) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.PATH:
            await self.app(scope, receive, send)
            return


        headers = Headers(scope=scope)
        who = cached_bearer(headers.get("authorization"))
        if who is None or not who.can("writer") or not headers.get("content-type", "").startswith("application/json"):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        result = await self._write(body, headers.get("idempotency-key"), who)
        if result is None:
            await self.app(scope, replay, send)
            return

        payload = ReportOut.model_validate(result.to_json()).model_dump_json().encode()
        await send({
            "type": "http.response.start",
            "status": 201 if result.created else 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        })
        await send({"type": "http.response.body", "body": payload})

    async def _write(self, body: bytes, key_header: str | None, who: Any) -> ingest.IngestResult | None:



        try:
            report = ReportIn.model_validate(json.loads(body))
        except (ValueError, ValidationError, RecursionError):  # (JSONDecodeError is a ValueError; deep nesting)
            return None
        if key_header is not None and (len(key_header) > 100 or key_header != report.deployment.key):
            return None
        try:
            return await self.ctx.reports.write(
                deployment=report.deployment.to_domain(),
                failure=report.failure.to_domain() if report.failure else None,
                host=report.host,
                output_tail=report.output_tail,
                actor=who.name,
                token_id=who.token_id,
                endpoint=report.endpoint,
                snapshot=report.snapshot,
            )
        except Exception:  # (RevokedToken too: the route verifies the token again and answers 401)
            return None
