"""Recording one failed deployment's error: look the owner up, apply the rule, hand the decision to a writer.

Concurrency: the lookup and the insert happen under the project lock that ``ledger.record_failure`` also takes
(``SELECT ... FOR UPDATE`` on PostgreSQL; the write lock taken at BEGIN on SQLite, so callers must use
``db.session(write=True)``).  Ten processes hitting the same new error at once therefore queue; the first
creates the failure and the other nine find it — one failure, ten occurrences.

On PostgreSQL, when the lock is not held yet, the owner is read first without it and, if there is none (most
likely a new failure), the knowledge base is consulted before taking the lock, so other reports wait only for
the insert.  The owner is read again under the lock before deciding.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from faultbook.domain import Failure, Status, TimelineEvent, ensure_aware, utcnow
from faultbook.knowledge.match import Match, ledger_match
from faultbook.services import ledger
from faultbook.services.ledger import ProjectRef
from faultbook.services.recognition.rule import New, decide, new_failure_events
from faultbook.services.recognition.statements import STATEMENTS as SQL
from faultbook.services.recognition.writers import ImmediateWriter, Owner, Writer, code_of, fingerprints_of
from faultbook.store import repo


@dataclass(frozen=True)
class Recognition:
    """What recording one failed deployment's error came to."""

    failure: Failure
    is_new: bool
    is_regression: bool
    matches: list[Match] = field(default_factory=list)


def record_occurrence(
    session: Session,
    *,
    project: ProjectRef,
    draft: Failure,
    deployment_id: int | None,
    writer: Writer | None = None,
    endpoint: str | None = None,
    actor: str | None = None,
    source: str = "captured",
    detailed: bool = True,
    matches: list[Match] | None = None,
) -> Recognition:
    """Count this error on its failure (reopening a resolved one) or record a new failure with suggestions.

    ``writer``: where the writes go (``ImmediateWriter`` when not given; the team server's ingest passes a
    ``BatchWriter`` for the whole batch).  ``source`` names where a new failure came from on its "created"
    event: ``captured`` by a local ``faultbook run``, ``reported`` to a team server.  ``detailed=False`` (the
    team server's ingest) skips what only a person at a terminal reads: the recurring failure's recent
    timeline and the catalog's view of a known error.  ``matches``: the knowledge base's matches for the
    draft, when the caller consulted it already (``BatchWriter.suggest``), before taking the lock.
    """
    writer = writer if writer is not None else ImmediateWriter()
    project_id = repo.project_id(session, key=project.key, name=project.name)
    code = code_of(draft)
    keys = fingerprints_of(draft, endpoint)
    at = _utc(ensure_aware(draft.occurred_at) if draft.occurred_at else utcnow())
    unfingerprinted: bool | None = None
    early = session.get_bind().dialect.name == "postgresql" and not repo.holds_project_lock(session, project_id)
    if early and matches is None and writer.lookup(session, project_id=project_id, keys=keys) is None:
        unfingerprinted = writer.has_unfingerprinted(session, project_id=project_id)
        matches = writer.matches(session, project_id=project_id, draft=draft, endpoint=endpoint)
    repo.lock_project(session, project_id)
    owner = writer.find(session, project_id=project_id, keys=keys, unfingerprinted=unfingerprinted)
    if owner is None and matches is None:
        matches = writer.matches(session, project_id=project_id, draft=draft, endpoint=endpoint)
    now = _utc(utcnow())
    previous = writer.counted(owner) if owner is not None else None
    decision = decide(owner=previous, draft=draft, fingerprint=keys[0], code=code, matches=matches or [], at=at,
                      now=now, deployment_id=deployment_id, actor=actor)
    occurrence = {"deployment_id": deployment_id, "occurred_at": at, "error_message": draft.error_message or "",
                  "fingerprint": keys[0]}
    if isinstance(decision, New):
        decision = dataclasses.replace(decision, failure=ledger.validate_failure(decision.failure))
        ref, number = writer.create(session, project_id=project_id, failure=decision.failure, now=now)
        events = new_failure_events(decision, number=number, source=source, actor=actor, now=now)
        writer.attach(session, ref=ref, project_id=project_id, events=events, occurrence=occurrence,
                      deployment_id=deployment_id)
        stored = decision.failure.with_changes(
            number=number, created_at=now, updated_at=now,
            resolved_at=now if decision.failure.status is Status.RESOLVED else None, timeline=tuple(events),
        )
        return Recognition(failure=stored, is_new=True, is_regression=False, matches=list(matches or []))

    assert owner is not None and previous is not None
    if decision.regression:
        writer.reopened(project_id)
    writer.count(session, owner=owner, counted=decision.counted)
    writer.attach(session, ref=owner.ref, project_id=owner.project_id, events=[decision.event], occurrence=occurrence,
                  deployment_id=deployment_id)
    if not detailed:
        return Recognition(failure=decision.failure, is_new=False, is_regression=decision.regression, matches=[])
    return Recognition(
        failure=_with_recent_events(session, decision.failure, owner),
        is_new=False,
        is_regression=decision.regression,
        matches=_known_before(writer, previous, draft=draft, code=code, endpoint=endpoint),
    )


def _with_recent_events(session: Session, failure: Failure, owner: Owner) -> Failure:
    if not isinstance(owner.ref, int):  # created earlier in this batch: nothing stored yet
        return failure
    recent = session.execute(SQL.recent_events, {"fid": owner.ref}).all()[::-1]
    return failure.with_changes(
        timeline=tuple(
            TimelineEvent(at=e.at, kind=e.kind, description=e.description, actor=e.actor, details=e.details or {})
            for e in recent
        )
    )


def _known_before(writer: Writer, previous: Failure, *, draft: Failure, code: int | None, endpoint: str | None) -> list[Match]:
    """What was known before this occurrence: the failure itself first, then the catalog's view."""
    matches = [ledger_match(previous)]
    catalog = writer.knowledge.catalog().match(
        message=draft.error_message, code=code, component=draft.component, endpoint=endpoint, limit=2
    )
    matches.extend(m for m in catalog if m.source == "catalog")
    return matches


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)
