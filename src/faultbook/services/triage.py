"""Triage: clean the ledger up without losing track of what was done.

A ledger that can never shed junk stops being read, so failures can be deleted (admins only), marked "not a
deployment failure" (kept, but out of the metrics), merged, resolved several at once, and a status change can
be undone.  Every one of these writes an ``audit_events`` row: a deleted failure has no timeline left to carry
the record, so its full text goes into the audit row, and the audit page shows who did what, when.

Undo reverts the latest status change that is not itself an undo and not already undone, by making the
opposite change (so the timeline reads forwards: "changed to Resolved", "changed back to Open (undo)").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from faultbook.domain import Failure, Status, utcnow
from faultbook.errors import ConflictError, InputError, NotFoundError
from faultbook.services import ledger
from faultbook.services.ledger import ProjectRef
from faultbook.store import repo
from faultbook.store.tables import (
    AuditEventRow,
    DeploymentRow,
    FailureRow,
    FingerprintAliasRow,
    FollowupRow,
    OccurrenceRow,
    ProjectRow,
    RecoverySnapshotRow,
    TimelineRow,
)

NOT_DEPLOYMENT = "not_deployment"


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str | None
    action: str
    subject: str
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor, "action": self.action,
                "subject": self.subject, "details": self.details}


def _project(session: Session, project: ProjectRef) -> ProjectRow:
    row = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if row is None:
        raise NotFoundError(f"there is no project {project.key!r} in this ledger")
    return row


def _audit(session: Session, project_id: int, *, actor: str | None, action: str, subject: str,
           details: dict[str, Any]) -> None:
    session.add(AuditEventRow(project_id=project_id, at=utcnow(), actor=actor, action=action, subject=subject,
                              details=details))


def delete_failure(session: Session, *, project: ProjectRef, number: int, actor: str | None = None) -> Failure:
    """Delete failure #number for good; its text is kept in the audit trail.  Returns what was deleted.

    Its occurrences and timeline go with it; deployments, follow-ups and rollback records that pointed at it
    stay, pointing at nothing (they happened).
    """
    project_row = _project(session, project)
    row = repo.get_failure_row(session, project_id=project_row.id, number=number)
    failure = repo.row_to_failure(row, with_timeline=True)
    occurrences = session.scalars(select(OccurrenceRow.id).where(OccurrenceRow.failure_id == row.id)).all()
    for table in (DeploymentRow, FollowupRow, RecoverySnapshotRow):
        session.execute(update(table).where(table.failure_id == row.id).values(failure_id=None))
    session.execute(delete(OccurrenceRow).where(OccurrenceRow.failure_id == row.id))
    session.execute(delete(FingerprintAliasRow).where(FingerprintAliasRow.failure_id == row.id))
    session.delete(row)
    _audit(session, project_row.id, actor=actor, action="delete", subject=f"failure #{number}",
           details={"failure": failure.to_json(), "occurrences": len(occurrences)})
    session.flush()
    return failure


def mark_not_deployment(
    session: Session, *, project: ProjectRef, number: int, actor: str | None = None, on: bool = True
) -> Failure:
    """Mark (or unmark) failure #number as not a failure of the project's deploy: it leaves the metrics."""
    project_row = _project(session, project)
    row = repo.get_failure_row(session, project_id=project_row.id, number=number)
    value = NOT_DEPLOYMENT if on else None
    if row.triage != value:
        row.triage = value
        row.updated_at = utcnow()
        text = "Marked as not a deployment failure" if on else "No longer marked as not a deployment failure"
        repo.add_event(session, row, kind="triage", actor=actor, at=row.updated_at, description=text,
                       details={"triage": value})
        _audit(session, project_row.id, actor=actor, action="mark_not_deployment" if on else "unmark_not_deployment",
               subject=f"failure #{number}", details={})
        session.flush()
    return repo.row_to_failure(row, with_timeline=True)


def set_status_many(
    session: Session, *, project: ProjectRef, numbers: Sequence[int], status: Status, actor: str | None = None
) -> list[Failure]:
    """Give several failures one status (all or nothing: an unknown number changes none)."""
    numbers = sorted(set(numbers))
    if not numbers:
        raise InputError("choose at least one failure")
    if len(numbers) > 500:
        raise InputError("at most 500 failures at once")
    project_row = _project(session, project)
    changed = [
        ledger.update_failure(session, project=project, number=n, changes={"status": status}, actor=actor)
        for n in numbers
    ]
    _audit(session, project_row.id, actor=actor, action="bulk_status",
           subject=", ".join(f"#{n}" for n in numbers)[:200], details={"numbers": numbers, "status": status.value})
    return changed


def last_status_change(session: Session, *, project: ProjectRef, number: int) -> TimelineRow | None:
    """The status change an undo would revert, or None."""
    project_row = _project(session, project)
    row = repo.get_failure_row(session, project_id=project_row.id, number=number)
    events = session.scalars(
        select(TimelineRow).where(TimelineRow.failure_id == row.id, TimelineRow.kind == "status")
        .order_by(TimelineRow.id.desc()).limit(50)
    ).all()
    for event in events:
        details = event.details or {}
        if details.get("undone") or details.get("undo_of"):
            continue
        if details.get("from") and details.get("to"):
            return event
    return None


def undo_status(session: Session, *, project: ProjectRef, number: int, actor: str | None = None) -> Failure:
    """Revert failure #number's latest status change."""
    project_row = _project(session, project)
    event = last_status_change(session, project=project, number=number)
    if event is None:
        raise ConflictError(f"failure #{number} has no status change to undo")
    row = repo.get_failure_row(session, project_id=project_row.id, number=number)
    if row.status != event.details["to"]:
        raise ConflictError(
            f"failure #{number} is {row.status} now, not {event.details['to']}: its status changed since; "
            "set the status you want instead"
        )
    previous = Status.parse(event.details["from"])
    now = utcnow()
    row.status = previous.value
    row.resolved_at = now if previous is Status.RESOLVED else None
    row.updated_at = now
    event.details = {**event.details, "undone": True}
    repo.add_event(session, row, kind="status", actor=actor, at=now,
                   description=f"Status changed back to {previous.label} (undo)",
                   details={"from": event.details["to"], "to": previous.value, "undo_of": event.id})
    _audit(session, project_row.id, actor=actor, action="undo_status", subject=f"failure #{number}",
           details={"from": event.details["to"], "to": previous.value})
    session.flush()
    session.refresh(row)
    return repo.row_to_failure(row, with_timeline=True)


def merge(session: Session, *, project: ProjectRef, into: int, other: int, actor: str | None = None) -> Failure:
    """``recognition.merge_failures`` with an audit row."""
    from faultbook.services.recognition import merge_failures

    merged = merge_failures(session, project=project, into=into, other=other, actor=actor)
    _audit(session, _project(session, project).id, actor=actor, action="merge", subject=f"failure #{other}",
           details={"into": into})
    session.flush()
    return merged


def possibly_fixed(
    session: Session, *, project: ProjectRef, deployment_id: int, limit: int = 20
) -> list[Failure]:
    """After a successful deploy: the open failures of its component that it may have fixed.

    Open (or worked around) failures of the same component (case-insensitive), last seen before this
    deployment started and not produced by it.  Only a *deploy* can fix anything: a provisioning step or
    another command gets an empty list.  "May have": faultbook cannot know that the fix is in this deploy,
    so it names them and says how to resolve them; it never resolves them by itself.
    """
    from faultbook.domain.classify import DEPLOY, classify_command

    project_row = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if project_row is None:
        return []
    deployment = session.scalar(select(DeploymentRow).where(DeploymentRow.project_id == project_row.id,
                                                            DeploymentRow.id == deployment_id))
    if deployment is None or deployment.outcome != "succeeded" or not deployment.component:
        return []
    if (deployment.kind or classify_command(deployment.command)) != DEPLOY:
        return []
    produced = set(session.scalars(select(OccurrenceRow.failure_id).where(OccurrenceRow.deployment_id == deployment.id)))
    if deployment.failure_id is not None:
        produced.add(deployment.failure_id)
    rows = session.scalars(
        select(FailureRow).where(
            FailureRow.project_id == project_row.id,
            FailureRow.status.in_([Status.OPEN.value, Status.WORKAROUND.value]),
            func.lower(FailureRow.component) == deployment.component.lower(),
            FailureRow.last_seen < deployment.started_at,
            FailureRow.triage.is_(None),
        ).order_by(FailureRow.last_seen.desc(), FailureRow.number.desc()).limit(limit)
    ).all()
    return [repo.row_to_failure(r) for r in rows if r.id not in produced]


def fixed_hint(failures: Sequence[tuple[int, str]]) -> list[str]:
    """What ``faultbook run`` says after a successful deploy that may have fixed open failures (number, title)."""
    if not failures:
        return []
    lines = [f"faultbook: this deploy may have fixed {len(failures)} open failure"
             f"{'' if len(failures) == 1 else 's'} of this component:"]
    lines += [f"  #{number} {title}" for number, title in failures]
    if len(failures) == 1:
        lines.append(f"faultbook: if it did, resolve it: faultbook update {failures[0][0]} --status resolved")
    else:
        numbers = ", ".join(str(number) for number, _ in failures)
        lines.append(f"faultbook: if it did, resolve each: faultbook update N --status resolved (N = {numbers})")
    return lines


def list_audit(session: Session, *, project: ProjectRef, limit: int = 200) -> list[AuditEvent]:
    project_row = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if project_row is None:
        return []
    rows = session.scalars(
        select(AuditEventRow).where(AuditEventRow.project_id == project_row.id)
        .order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc()).limit(limit)
    ).all()
    return [AuditEvent(id=r.id, at=r.at, actor=r.actor, action=r.action, subject=r.subject, details=r.details or {})
            for r in rows]


def triage_of(session: Session, *, project: ProjectRef, numbers: Sequence[int]) -> dict[int, str]:
    """number -> triage mark, for the failures of a page that have one."""
    project_row = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if project_row is None or not numbers:
        return {}
    return {n: t for n, t in session.execute(
        select(FailureRow.number, FailureRow.triage).where(
            FailureRow.project_id == project_row.id, FailureRow.number.in_(list(numbers)),
            FailureRow.triage.is_not(None)))}
