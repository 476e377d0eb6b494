"""What the dashboard shows beyond a single table: a deployment with its evidence, occurrences with their output.

A deployment is named by its number everywhere (the dashboard, the JSON API, the CLI): the row's id, which is
stable, never reused and already in every link; a per-project counter would need a column and a lock on every
CI report, for a number nobody types more than they click.

Everything here is read-only and bounded: a page asks for one deployment, or for one failure's latest
occurrences (``OCCURRENCE_LIMIT``), so a failure seen 10,000 times still renders in one query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from faultbook.domain.classify import classify_command
from faultbook.domain import Deployment
from faultbook.errors import NotFoundError
from faultbook.services.ledger import ProjectRef
from faultbook.store import repo
from faultbook.store.tables import (
    DeploymentRow,
    FailureRow,
    OccurrenceRow,
    ProjectRow,
    RecoverySnapshotRow,
    TimelineRow,
)

#: A failure page lists this many occurrences (the latest), each with its output.
OCCURRENCE_LIMIT = 20
#: CSI / OSC escape sequences (colours, cursor moves, hyperlinks) that terminals draw and pages should not.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def strip_ansi(text: str | None) -> str:
    """Output as a terminal would show it, minus the colours (wrangler's ``✘ [ERROR]`` is red on a tty)."""
    if not text:
        return ""
    return _ANSI.sub("", text).replace("\r\n", "\n")


@dataclass(frozen=True)
class Rollback:
    id: int
    created_at: Any
    kind: str
    target_name: str
    outcome: str
    summary: str
    failure_number: int | None
    actor: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "kind": self.kind,
            "target_name": self.target_name,
            "outcome": self.outcome,
            "summary": self.summary,
            "failure_number": self.failure_number,
            "actor": self.actor,
        }


@dataclass(frozen=True)
class DeploymentDetail:
    deployment: Deployment
    host: str | None
    #: Scrubbed when stored (capture/scrub.py); colours stripped here.
    output: str
    #: The failures this deployment produced: [{"number", "title", "status"}].
    failures: list[dict[str, Any]] = field(default_factory=list)
    rollbacks: list[Rollback] = field(default_factory=list)

    @property
    def duration_seconds(self) -> float | None:
        d = self.deployment
        return (d.finished_at - d.started_at).total_seconds() if d.finished_at else None

    @property
    def command_not_found(self) -> bool:
        """Exit 127: the shell found no such command; a typo, not a failure of the project's deploy."""
        return self.deployment.exit_code == 127

    def to_json(self) -> dict[str, Any]:
        return {
            **self.deployment.to_json(),
            "host": self.host,
            "duration_seconds": self.duration_seconds,
            "output": self.output,
            "failures": self.failures,
            "rollbacks": [r.to_json() for r in self.rollbacks],
        }


def _project_id(session: Session, project: ProjectRef) -> int | None:
    return session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))


def deployment_detail(session: Session, *, project: ProjectRef, number: int) -> DeploymentDetail:
    project_id = _project_id(session, project)
    row = None
    if project_id is not None:
        row = session.scalar(select(DeploymentRow).where(DeploymentRow.project_id == project_id,
                                                         DeploymentRow.id == number))
    if row is None:
        raise NotFoundError(f"there is no deployment #{number}")
    failure_ids = set(session.scalars(select(OccurrenceRow.failure_id).where(OccurrenceRow.deployment_id == row.id)))
    if row.failure_id is not None:
        failure_ids.add(row.failure_id)
    failures = []
    number_of_linked = None
    if failure_ids:
        for f in session.execute(
            select(FailureRow.id, FailureRow.number, FailureRow.title, FailureRow.status)
            .where(FailureRow.id.in_(failure_ids)).order_by(FailureRow.number)
        ):
            failures.append({"number": f.number, "title": f.title, "status": f.status})
            if f.id == row.failure_id:
                number_of_linked = f.number
    snapshots = session.execute(
        select(RecoverySnapshotRow, FailureRow.number)
        .outerjoin(FailureRow, FailureRow.id == RecoverySnapshotRow.failure_id)
        .where(RecoverySnapshotRow.project_id == project_id, RecoverySnapshotRow.deployment_id == row.id)
        .order_by(RecoverySnapshotRow.created_at)
    ).all()
    rollbacks = [
        Rollback(id=s.id, created_at=s.created_at, kind=s.kind, target_name=s.target_name, outcome=s.outcome,
                 summary=s.summary, failure_number=n, actor=s.actor)
        for s, n in snapshots
    ]
    return DeploymentDetail(
        deployment=repo.row_to_deployment(row, failure_number=number_of_linked),
        host=row.host,
        output=strip_ansi(row.output_tail),
        failures=failures,
        rollbacks=rollbacks,
    )


def recent_occurrences(
    session: Session, *, project: ProjectRef, number: int, limit: int = OCCURRENCE_LIMIT
) -> tuple[list[dict[str, Any]], int]:
    """A failure's latest occurrences, newest first, each with its deployment and output; and how many in all."""
    project_id = _project_id(session, project)
    if project_id is None:
        raise NotFoundError(f"there is no failure #{number}")
    failure = repo.get_failure_row(session, project_id=project_id, number=number)
    total = session.scalar(select(func.count()).select_from(OccurrenceRow)
                           .where(OccurrenceRow.failure_id == failure.id)) or 0
    rows = session.execute(
        select(OccurrenceRow, DeploymentRow)
        .outerjoin(DeploymentRow, DeploymentRow.id == OccurrenceRow.deployment_id)
        .where(OccurrenceRow.failure_id == failure.id)
        .order_by(OccurrenceRow.occurred_at.desc(), OccurrenceRow.id.desc())
        .limit(limit)
    ).all()
    out = []
    for o, d in rows:
        out.append({
            "occurred_at": o.occurred_at,
            "error_message": o.error_message,
            "deployment_number": d.id if d is not None else None,
            "kind": (d.kind or classify_command(d.command)) if d is not None else None,
            "outcome": d.outcome if d is not None else None,
            "git_commit": d.git_commit if d is not None else None,
            "version_id": d.version_id if d is not None else None,
            "environment": d.environment if d is not None else None,
            "output": strip_ansi(d.output_tail) if d is not None else "",
        })
    return out, total


def regression_numbers(session: Session, *, project: ProjectRef, numbers: Sequence[int]) -> set[int]:
    """Of these failures (a page of them), the numbers of those that came back after being resolved."""
    project_id = _project_id(session, project)
    if project_id is None or not numbers:
        return set()
    return set(session.scalars(
        select(FailureRow.number)
        .join(TimelineRow, TimelineRow.failure_id == FailureRow.id)
        .where(FailureRow.project_id == project_id, FailureRow.number.in_(list(numbers)),
               TimelineRow.kind == "regression")
        .distinct()
    ))
