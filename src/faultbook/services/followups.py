"""Follow-ups: things to do later that a recovery leaves behind.

A rollback is a stop-gap: the seed's recovery procedure ends with step 6,
"Schedule redeployment after issue resolution".  Every rollback opens that
item here, linked to its failure, so ``faultbook followups`` keeps it in
sight until someone marks it done.  Functions take the caller's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from faultbook.domain import TimelineKind, utcnow
from faultbook.errors import NotFoundError
from faultbook.services.ledger import ProjectRef
from faultbook.store import repo
from faultbook.store.tables import FailureRow, FollowupRow, ProjectRow

REDEPLOY_TITLE = "Schedule redeployment after issue resolution"


@dataclass(frozen=True)
class Followup:
    id: int
    title: str
    status: str
    created_at: datetime
    done_at: datetime | None = None
    failure_number: int | None = None
    source: str = "manual"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "done_at": self.done_at.isoformat() if self.done_at else None,
            "failure": self.failure_number,
            "source": self.source,
        }


def open_followup(
    session: Session,
    *,
    project: ProjectRef,
    title: str,
    failure_id: int | None = None,
    source: str = "manual",
) -> Followup:
    row_project = repo.get_or_create_project(session, key=project.key, name=project.name)
    row = FollowupRow(
        project_id=row_project.id, failure_id=failure_id, title=title, status="open",
        created_at=utcnow(), source=source,
    )
    session.add(row)
    session.flush()
    return _to_followup(session, row)


def list_followups(session: Session, *, project: ProjectRef, include_done: bool = False) -> list[Followup]:
    row_project = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if row_project is None:
        return []
    stmt = select(FollowupRow).where(FollowupRow.project_id == row_project.id)
    if not include_done:
        stmt = stmt.where(FollowupRow.status == "open")
    return [_to_followup(session, row) for row in session.scalars(stmt.order_by(FollowupRow.id))]


def mark_done(session: Session, *, project: ProjectRef, followup_id: int, actor: str | None = None) -> Followup:
    row_project = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    row = None
    if row_project is not None:
        row = session.scalar(
            select(FollowupRow).where(FollowupRow.project_id == row_project.id, FollowupRow.id == followup_id)
        )
    if row is None:
        raise NotFoundError(f"there is no follow-up #{followup_id}")
    if row.status != "done":
        row.status = "done"
        row.done_at = utcnow()
        if row.failure_id is not None:
            failure = session.get(FailureRow, row.failure_id)
            if failure is not None:
                repo.add_event(
                    session, failure, kind=TimelineKind.FOLLOWUP_DONE, actor=actor,
                    description=f"Follow-up #{row.id} done: {row.title}", details={"followup": row.id},
                )
        session.flush()
    return _to_followup(session, row)


def _to_followup(session: Session, row: FollowupRow) -> Followup:
    number = None
    if row.failure_id is not None:
        number = session.scalar(select(FailureRow.number).where(FailureRow.id == row.failure_id))
    return Followup(
        id=row.id, title=row.title, status=row.status, created_at=row.created_at, done_at=row.done_at,
        failure_number=number, source=row.source,
    )
