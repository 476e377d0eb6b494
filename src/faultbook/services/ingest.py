"""Deployments and reports arriving at a team server (or recorded locally).

A *report* is what ``faultbook run`` sends after a wrapped deploy: the
deployment, and when it failed, a draft of the failure.  ``ingest_report``
stores both in one transaction and is idempotent by the deployment's ``key``
(a client-chosen uuid): sending the same report twice returns the stored
deployment and changes nothing, which is what makes the client's outbox safe
to resend after a timeout.

The failure draft goes through ``services.recognition.record_occurrence`` —
the same code ``faultbook run`` uses locally — so a report from CI and a local
run recognise a failure identically: the fingerprint is recomputed from the
message, error code and component (a fingerprint the client sent is not
trusted as a key: it may come from another normaliser version or another
tool, and an arbitrary key could attach the report to an unrelated failure),
merge aliases hold, a resolved failure whose error comes back is reopened as
a regression, and a new failure gets the knowledge base's suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from faultbook.capture.scrub import scrub, scrub_fields
from faultbook.domain import Deployment, Failure, ensure_aware
from faultbook.errors import InputError, NotFoundError
from faultbook.knowledge.match import Match
from faultbook.services.ledger import ProjectRef, with_clean_message
from faultbook.services.recognition import BatchWriter, KnowledgeCache, fingerprints_of, record_occurrence
from faultbook.store import deployment_rows, repo
from faultbook.store.tables import DeploymentRow, FailureRow, OccurrenceRow, ProjectRow

@dataclass(frozen=True)
class IngestResult:
    deployment: Deployment
    #: False when the key was already stored (a resend): nothing was written.
    created: bool
    failure_number: int | None = None
    #: True when the failure draft matched an existing failure (an occurrence was added).
    recurrence: bool = False
    #: True when that failure was resolved and has been reopened.
    regression: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "deployment": self.deployment.to_json(),
            "failure_number": self.failure_number,
            "recurrence": self.recurrence,
            "regression": self.regression,
        }


def ingest_report(
    session: Session,
    *,
    project: ProjectRef,
    deployment: Deployment,
    failure: Failure | None = None,
    host: str | None = None,
    output_tail: str | None = None,
    actor: str | None = None,
    knowledge: KnowledgeCache | None = None,
    endpoint: str | None = None,
    snapshot: dict[str, Any] | None = None,
) -> IngestResult:
    """Store a deployment (and the failure it hit) unless its key is already stored.

    The deployment goes in with ``INSERT ... ON CONFLICT DO NOTHING``: a resend of a stored key inserts
    nothing (also when two copies race: on PostgreSQL the second waits for the first to commit) and gets the
    stored deployment back.  No project lock is needed for that; recognising the failure takes it.
    """
    report = Report(deployment=deployment, failure=failure, host=host, output_tail=output_tail, actor=actor,
                    endpoint=endpoint, snapshot=snapshot)
    return ingest_reports(session, project=project, reports=[report], knowledge=knowledge)[0]


@dataclass(frozen=True)
class Report:
    """One CI report: what ``ingest_report`` takes, for ``ingest_reports``."""

    deployment: Deployment
    failure: Failure | None = None
    host: str | None = None
    output_tail: str | None = None
    actor: str | None = None
    #: The Cloudflare API path the failure's request went to (fingerprint v2 keys by its API family, as a
    #: local run does); None from clients older than the field.
    endpoint: str | None = None
    #: What the deployment deployed, scrubbed by the client (``services.snapshot``): the suspect change's input.
    snapshot: dict[str, Any] | None = None


def project_id(session: Session, project: ProjectRef) -> int:
    """The project's id (created if need be), for a caller that writes many batches (``ingest_reports``)."""
    return repo.project_id(session, key=project.key, name=project.name)


def ingest_reports(
    session: Session,
    *,
    project: ProjectRef,
    reports: Sequence[Report],
    known_project_id: int | None = None,
    knowledge: KnowledgeCache | None = None,
) -> list[IngestResult]:
    """``ingest_report`` for each report in turn, in this transaction, with fewer round trips.

    The deployments go in with one multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, and
    recognition sends its dependent writes together at the end (a ``BatchWriter``); the results are
    what the reports one after another would have given — a key repeated within the batch is a resend of
    the first, a failure first seen earlier in the batch is recognised.  Any error raises (the caller
    rolls back and may retry the reports one by one).  ``known_project_id``: the project's id
    (``project_id``), from a caller that keeps it across transactions; ``knowledge``: the caller's
    long-lived knowledge cache (the team server's app context).
    """
    for report in reports:
        if not report.deployment.key:
            raise InputError("a report needs an idempotency key (the deployment's 'key')")
    reports = [_scrubbed(report) for report in reports]
    if known_project_id is not None:
        repo.remember_project_id(session, key=project.key, project_id=known_project_id)
    project_id = repo.project_id(session, key=project.key, name=project.name)
    first: dict[str, int] = {}
    rows = []
    for i, report in enumerate(reports):
        if _key(report) not in first:
            first[_key(report)] = i
            rows.append(deployment_rows.reported(report.deployment, project_id=project_id, host=report.host,
                                                 output_tail=report.output_tail, snapshot=report.snapshot))
    inserted = {
        key: id_
        for id_, key in repo.insert_many(
            session, DeploymentRow.__table__, rows, returning=("id", "key"), skip_conflicts_on=("project_id", "key")
        )
    }
    results: list[IngestResult] = []
    writer = BatchWriter(knowledge)
    with_failure = [i for i, r in enumerate(reports) if r.failure is not None and first[_key(r)] == i]
    drafts = [_draft(reports[i].failure, reports[i].deployment) for i in with_failure]  # type: ignore[arg-type]
    suggestions: dict[int, list[Match] | None] = {}
    if drafts:
        endpoints = [reports[i].endpoint for i in with_failure]
        keys = sorted({k for d, e in zip(drafts, endpoints) for k in fingerprints_of(d, e)})
        if session.get_bind().dialect.name == "postgresql":
            # Matching first, while the project lock is not held yet; then the lock and the lookups.
            suggestions = dict(zip(with_failure, writer.suggest(session, project_id=project_id, drafts=drafts,
                                                                endpoints=endpoints)))
            writer.prefetch(session, project_id=project_id, keys=keys)
        else:  # SQLite's write lock is held from BEGIN: one lookup serves both
            writer.prefetch(session, project_id=project_id, keys=keys)
            suggestions = dict(zip(with_failure, writer.suggest(session, project_id=project_id, drafts=drafts,
                                                                endpoints=endpoints)))
    for i, report in enumerate(reports):
        key = _key(report)
        if first[key] != i:  # sent twice in one batch: the second is a resend of the first
            earlier = results[first[key]]
            results.append(
                IngestResult(deployment=earlier.deployment, created=False, failure_number=earlier.failure_number)
            )
        elif key not in inserted:
            results.append(_existing(session, project_id, key))
        else:
            results.append(
                _recognise(session, project=project, report=report, deployment_id=inserted[key],
                           matches=suggestions.get(i), writer=writer)
            )
    writer.flush(session)
    return results


#: The deployment's texts a client could have sent unscrubbed (an old client, a hand-made report).
_DEPLOYMENT_TEXTS = ("command", "url", "cwd", "git_branch", "environment", "component", "step")


def _key(report: Report) -> str:
    key = report.deployment.key
    assert key, "ingest_reports checks every report's key on entry"
    return key


def _scrubbed(report: Report) -> Report:
    """The report as the server keeps it: whatever the client sent, no secret is stored (shape rules)."""
    deployment = replace(
        report.deployment,
        **scrub_fields({name: getattr(report.deployment, name) for name in _DEPLOYMENT_TEXTS}),
    )
    failure = report.failure
    if failure is not None:
        failure = failure.with_changes(
            **scrub_fields({name: getattr(failure, name) for name in Failure.EDITABLE if type(getattr(failure, name)) is str})
        )
    tail = scrub(report.output_tail) if report.output_tail else report.output_tail
    return replace(report, deployment=deployment, failure=failure, output_tail=tail)


def _existing(session: Session, project_id: int, key: str) -> IngestResult:
    existing = _deployment_by_key(session, project_id, key)
    if existing is None:  # pragma: no cover - the conflicting row cannot vanish within a transaction
        raise InputError(f"deployment {key!r} could not be stored")
    return IngestResult(
        deployment=_to_deployment(session, existing), created=False, failure_number=_number(session, existing)
    )


def _recognise(
    session: Session,
    *,
    project: ProjectRef,
    report: Report,
    deployment_id: int,
    writer: BatchWriter,
    matches: list[Match] | None = None,
) -> IngestResult:
    """The result for a newly stored deployment, recognising its failure if it has one."""
    deployment = report.deployment
    stored = replace(
        deployment, id=deployment_id, started_at=_utc(deployment.started_at),
        finished_at=_utc(deployment.finished_at) if deployment.finished_at else None, failure_number=None,
    )
    if report.failure is None:
        return IngestResult(deployment=stored, created=True)
    recognition = record_occurrence(
        session, project=project, draft=_draft(report.failure, deployment), deployment_id=deployment_id,
        actor=report.actor, source="reported", detailed=False, matches=matches, writer=writer,
        endpoint=report.endpoint,
    )
    number = recognition.failure.number
    return IngestResult(
        deployment=replace(stored, failure_number=number),
        created=True,
        failure_number=number,
        recurrence=not recognition.is_new,
        regression=recognition.is_regression,
    )


def _draft(failure: Failure, deployment: Deployment) -> Failure:
    """The occurrence is dated when the failure happened, else when the deployment ended or began."""
    return with_clean_message(failure).with_changes(
        number=None, occurred_at=failure.occurred_at or deployment.finished_at or deployment.started_at
    )


def _utc(moment: datetime) -> datetime:
    return ensure_aware(moment).astimezone(timezone.utc)


def occurrences_of(session: Session, *, project: ProjectRef, number: int) -> list[dict[str, Any]]:
    """A failure's occurrences, oldest first, with the deployment each came from."""
    project_id = session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))
    if project_id is None:
        raise NotFoundError(f"there is no failure #{number}")
    failure = repo.get_failure_row(session, project_id=project_id, number=number)
    rows = session.execute(
        select(OccurrenceRow, DeploymentRow)
        .outerjoin(DeploymentRow, DeploymentRow.id == OccurrenceRow.deployment_id)
        .where(OccurrenceRow.failure_id == failure.id)
        .order_by(OccurrenceRow.occurred_at, OccurrenceRow.id)
    ).all()
    return [
        {
            "occurred_at": o.occurred_at.isoformat(),
            "error_message": o.error_message,
            "fingerprint": o.fingerprint,
            "deployment_key": d.key if d is not None else None,
            "deployment_number": d.id if d is not None else None,
            "git_commit": d.git_commit if d is not None else None,
            "version_id": d.version_id if d is not None else None,
        }
        for o, d in rows
    ]


def _deployment_by_key(session: Session, project_id: int, key: str) -> DeploymentRow | None:
    return session.scalar(
        select(DeploymentRow).where(DeploymentRow.project_id == project_id, DeploymentRow.key == key)
    )


def _number(session: Session, row: DeploymentRow) -> int | None:
    if row.failure_id is None:
        return None
    return session.scalar(select(FailureRow.number).where(FailureRow.id == row.failure_id))


def _to_deployment(session: Session, row: DeploymentRow) -> Deployment:
    return repo.row_to_deployment(row, failure_number=_number(session, row))
