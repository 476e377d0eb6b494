"""Gather a failure's postmortem facts from the ledger (``faultbook postmortem N``, the dashboard's page).

The window of the incident runs from the first failed deployment that hit the
failure to the one that restored service: the first successful deployment of
the same component and environment after it, or a rollback that landed and
whose checks did not fail, whichever came first.  "Deploys blocked" counts
every failed deployment of that component and environment inside the window
(whatever failure each hit: they were all blocked).  The rendering is
``markdown.postmortem`` (pure); this only reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from faultbook.domain import utcnow
from faultbook.markdown.postmortem import ActionItem, PostmortemFacts, render_postmortem
from faultbook.services.ledger import ProjectRef, _require_project
from faultbook.services.suspect import suspect_changes_for_deployment
from faultbook.store import repo
from faultbook.store.tables import DeploymentRow, FollowupRow, OccurrenceRow, RecoverySnapshotRow

__all__ = ["gather_postmortem", "postmortem_markdown", "render_postmortem"]


def gather_postmortem(session: Session, *, project: ProjectRef, number: int, root: Path | None = None) -> PostmortemFacts:
    """Everything the postmortem of failure ``number`` says; ``root`` lets git add commits to the trigger."""
    row_project = _require_project(session, project)
    failure_row = repo.get_failure_row(session, project_id=row_project.id, number=number)
    failure = repo.row_to_failure(failure_row, with_timeline=True)

    occurrence_deployments = select(OccurrenceRow.deployment_id).where(OccurrenceRow.failure_id == failure_row.id)
    failed_rows = list(session.scalars(
        select(DeploymentRow).where(
            DeploymentRow.project_id == row_project.id,
            (DeploymentRow.failure_id == failure_row.id) | DeploymentRow.id.in_(occurrence_deployments),
        ).order_by(DeploymentRow.started_at, DeploymentRow.id)
    ))
    first = failed_rows[0] if failed_rows else None
    last_good = restoring = None
    blocked = len(failed_rows)
    suspects: list[dict[str, Any]] = []
    rolled_back_at = None
    for snap in session.scalars(
        select(RecoverySnapshotRow).where(RecoverySnapshotRow.failure_id == failure_row.id)
        .order_by(RecoverySnapshotRow.id)
    ):
        if snap.outcome == "rolled_back" and snap.verified is not False and snap.finished_at:
            rolled_back_at = snap.finished_at
            break
    if first is not None:
        from faultbook.services.suspect import last_good_before

        last_good = last_good_before(session, first)
        restoring = session.scalar(
            _same_target(select(DeploymentRow), first).where(
                DeploymentRow.outcome == "succeeded", DeploymentRow.started_at > first.started_at,
            ).order_by(DeploymentRow.started_at, DeploymentRow.id).limit(1)
        )
        window = _same_target(select(DeploymentRow), first).where(
            DeploymentRow.outcome == "failed", DeploymentRow.started_at >= first.started_at,
        )
        end = restoring.started_at if restoring else None
        if rolled_back_at and (end is None or rolled_back_at < end):
            end = rolled_back_at
        if end is not None:
            window = window.where(DeploymentRow.started_at < end)
        blocked = len(list(session.scalars(window)))
        suspects = [c.to_json() for c in suspect_changes_for_deployment(
            session, project=project, deployment_id=first.id, error_text=failure.error_message, root=root)]

    items = tuple(
        ActionItem(title=row.title, status=row.status, done_at=row.done_at, source=row.source)
        for row in session.scalars(
            select(FollowupRow).where(FollowupRow.failure_id == failure_row.id).order_by(FollowupRow.id)
        )
    )
    return PostmortemFacts(
        project=row_project.name or project.key,
        failure=failure,
        failed_deployments=tuple(repo.row_to_deployment(r, failure_number=number) for r in failed_rows),
        last_good=repo.row_to_deployment(last_good) if last_good else None,
        restoring=repo.row_to_deployment(restoring) if restoring else None,
        rolled_back_at=rolled_back_at,
        blocked_deploys=blocked,
        action_items=items,
        suspect_changes=tuple(suspects),
        generated_at=utcnow(),
    )


def postmortem_markdown(session: Session, *, project: ProjectRef, number: int, root: Path | None = None) -> str:
    return render_postmortem(gather_postmortem(session, project=project, number=number, root=root))


def _same_target(stmt: Any, deployment: DeploymentRow) -> Any:
    return stmt.where(
        DeploymentRow.project_id == deployment.project_id,
        DeploymentRow.component.is_(None) if deployment.component is None
        else DeploymentRow.component == deployment.component,
        DeploymentRow.environment.is_(None) if deployment.environment is None
        else DeploymentRow.environment == deployment.environment,
    )
