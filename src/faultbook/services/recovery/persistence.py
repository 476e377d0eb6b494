"""What a rollback leaves on record: the state preserved before it, its outcome, the timeline, the follow-up.

``preserve_state`` saves the live deployment/version ids, the wrangler config (scrubbed) and the last captured
output in ``recovery_snapshots``; the caller commits it before anything is changed, so the record exists even
when faultbook dies mid-rollback.  ``record_outcome`` finishes it and opens the redeploy follow-up (seed step
6) only after a rollback.  Callers get domain values (``Snapshot``, ``RollbackReport``), never rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from faultbook.capture.scrub import Scrubber
from faultbook.cloudflare.project import WranglerFile
from faultbook.domain import TimelineKind, utcnow
from faultbook.errors import FaultbookError
from faultbook.services import followups
from faultbook.services.ledger import ProjectRef
from faultbook.services.recovery.types import (
    Execution,
    Outcome,
    RollbackPlan,
    RollbackReport,
    Snapshot,
    Target,
    Verification,
)
from faultbook.store import repo
from faultbook.store.tables import DeploymentRow, FailureRow, ProjectRow, RecoverySnapshotRow

if TYPE_CHECKING:
    from faultbook.config import Settings


def scrubber_for(settings: "Settings", config: WranglerFile | None = None) -> Scrubber:
    """The capture scrubber for this environment, plus the config's secret-looking ``vars`` values."""
    extra = config_secret_values(config.data) if config is not None else []
    return Scrubber.from_environ(settings.environ, extra=extra)


def config_secret_values(data: Mapping[str, Any]) -> list[str]:
    """Values of ``[vars]`` (top level and per ``[env.X]``) whose names look secret.

    Secrets belong in ``wrangler secret put``, not in ``vars`` — but people
    put them there, and a support bundle must not carry them on.
    """
    from faultbook.capture.scrub import looks_secret_name

    found: list[str] = []
    tables = [data.get("vars")]
    for section in (data.get("env") or {}).values() if isinstance(data.get("env"), Mapping) else ():
        if isinstance(section, Mapping):
            tables.append(section.get("vars"))
    for table in tables:
        if not isinstance(table, Mapping):
            continue
        for name, value in table.items():
            if isinstance(value, str) and len(value) >= 4 and looks_secret_name(str(name)):
                found.append(value)
    return found


def _project_row(session: Session, project: ProjectRef) -> ProjectRow:
    return repo.get_or_create_project(session, key=project.key, name=project.name)


def project_id(session: Session, project: ProjectRef) -> int:
    """The project's id (created if need be)."""
    return _project_row(session, project).id


def find_failure(session: Session, *, project: ProjectRef, number: int | None) -> FailureRow | None:
    """Failure ``number``; without one, the open failure of the project's most recent failed deployment."""
    row_project = _project_row(session, project)
    if number is not None:
        return repo.get_failure_row(session, project_id=row_project.id, number=number)
    deployment = session.scalar(
        select(DeploymentRow)
        .where(DeploymentRow.project_id == row_project.id, DeploymentRow.outcome == "failed",
               DeploymentRow.failure_id.is_not(None))
        .order_by(DeploymentRow.started_at.desc(), DeploymentRow.id.desc())
        .limit(1)
    )
    if deployment is None:
        return None
    failure = session.get(FailureRow, deployment.failure_id)
    return failure if failure is not None and failure.status == "open" else None


def preserve_state(
    session: Session,
    *,
    settings: "Settings",
    project: ProjectRef,
    plan: RollbackPlan,
    failure_number: int | None = None,
    actor: str | None = None,
) -> int:
    """Save the live ids, the config (scrubbed) and the last captured output; returns the snapshot id.

    The caller commits this before changing anything.
    """
    row_project = _project_row(session, project)
    failure = find_failure(session, project=project, number=failure_number)
    scrubber = scrubber_for(settings, plan.target.config)
    deployment = _last_deployment(session, row_project.id, failure)
    config = plan.target.config
    row = RecoverySnapshotRow(
        project_id=row_project.id,
        failure_id=failure.id if failure else None,
        created_at=utcnow(),
        actor=actor,
        kind=plan.target.kind,
        target_name=plan.target.name,
        environment=plan.target.environment,
        account_id=plan.target.account_id,
        live_deployment_id=plan.live_deployment_id,
        live_versions=[{"version_id": s.id, "percentage": s.percentage} for s in plan.live],
        target_id=plan.target_id,
        config_path=_relative(config.path, settings) if config else None,
        config_text=scrubber.scrub(config.text) if config else None,
        deployment_id=deployment.id if deployment else None,
        output_tail=scrubber.scrub_optional(deployment.output_tail) if deployment else None,
        outcome="planned",
        summary="",
        details={"plan": plan.to_json()},
    )
    session.add(row)
    session.flush()
    if failure is not None:
        kept = [f"live deployment {plan.live_deployment_id} ({plan.from_text})"]
        if config:
            kept.append(f"config {row.config_path}")
        if deployment is not None:
            kept.append(f"the output of deployment {deployment.id}")
        repo.add_event(
            session, failure, kind=TimelineKind.STATE_PRESERVED, actor=actor,
            description=f"Preserved state before rolling back {plan.target.label}: " + ", ".join(kept),
            details={"snapshot": row.id},
        )
    return row.id


def _last_deployment(session: Session, project_id: int, failure: FailureRow | None) -> DeploymentRow | None:
    stmt = select(DeploymentRow).where(DeploymentRow.project_id == project_id)
    if failure is not None:
        linked = session.scalar(
            stmt.where(DeploymentRow.failure_id == failure.id)
            .order_by(DeploymentRow.started_at.desc(), DeploymentRow.id.desc()).limit(1)
        )
        if linked is not None:
            return linked
    return session.scalar(stmt.order_by(DeploymentRow.started_at.desc(), DeploymentRow.id.desc()).limit(1))


def _relative(path: Path, settings: "Settings") -> str:
    try:
        return str(path.relative_to(settings.project_root))
    except ValueError:
        return str(path)


def record_outcome(
    session: Session,
    *,
    project: ProjectRef,
    snapshot_id: int,
    plan: RollbackPlan,
    execution: Execution,
    verification: Verification,
    actor: str | None = None,
    source: str = "rollback",
) -> RollbackReport:
    """Finish the snapshot row, write the timeline event, open the follow-up (only after a rollback)."""
    row = session.get(RecoverySnapshotRow, snapshot_id)
    assert row is not None
    at = utcnow()
    who = actor or "unknown"
    when = at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if execution.outcome is Outcome.ROLLED_BACK:
        summary = (
            f"Rolled back {plan.target.label} from {plan.from_text} to {plan.target_label} at {when} by {who}"
            + (" (forced past changed secrets)" if execution.forced else "")
            + f"; verified: {verification.text}"
        )
    elif execution.outcome is Outcome.UNKNOWN:
        summary = (
            f"Rollback of {plan.target.label} from {plan.from_text} to {plan.target_label} at {when} by {who}: "
            "OUTCOME UNKNOWN"
        )
    else:
        summary = (
            f"NOT rolled back: {plan.target.label} from {plan.from_text} to {plan.target_label}, "
            f"attempted at {when} by {who}"
        )
    summary += f". {execution.explanation}"
    if execution.outcome is Outcome.ROLLED_BACK and verification.ok is False:
        summary += " The checks still fail after the rollback: " + "; ".join(
            r.line for r in verification.results if not r.ok
        )
    row.outcome = execution.outcome.value
    row.new_deployment_id = execution.new_deployment_id
    row.finished_at = at
    row.verified = verification.ok
    row.summary = summary
    row.details = {
        **(row.details or {}),
        "forced": execution.forced,
        "changed_secrets": list(execution.changed_secrets),
        "error": {"code": execution.error_code, "status": execution.error_status,
                  "message": execution.error_message} if execution.error_message else None,
        "checks": [r.to_json() for r in verification.results],
        "source": source,
    }
    failure = session.get(FailureRow, row.failure_id) if row.failure_id else None
    followup_id = None
    if failure is not None:
        repo.add_event(
            session, failure, kind=TimelineKind.ROLLBACK, actor=actor, at=at, description=summary,
            details={
                "snapshot": row.id, "outcome": execution.outcome.value, "kind": plan.target.kind,
                "name": plan.target.name, "from": [s.id for s in plan.live], "to": plan.target_id,
                "new_deployment_id": execution.new_deployment_id, "verified": verification.ok,
            },
        )
    if execution.outcome is Outcome.ROLLED_BACK:
        followup = followups.open_followup(
            session, project=project, title=followups.REDEPLOY_TITLE,
            failure_id=failure.id if failure else None, source=source,
        )
        followup_id = followup.id
    session.flush()
    return RollbackReport(
        plan=plan, outcome=execution.outcome, summary=summary, execution=execution, verification=verification,
        snapshot_id=row.id, failure_number=failure.number if failure else None, followup_id=followup_id,
        at=at, actor=actor,
    )


def record_not_attempted(
    session: Session,
    *,
    project: ProjectRef,
    target: Target | None,
    error: FaultbookError,
    failure_number: int | None = None,
    actor: str | None = None,
    source: str = "rollback",
) -> str:
    """A rollback that stopped before changing anything (no target, refused token...): say so on record."""
    row_project = _project_row(session, project)
    try:
        failure = find_failure(session, project=project, number=failure_number)
    except FaultbookError:
        failure = None
    at = utcnow()
    label = target.label if target else "the deployment"
    summary = (
        f"NOT rolled back: rollback of {label} stopped at {at.strftime('%Y-%m-%d %H:%M:%S UTC')} "
        f"by {actor or 'unknown'} before changing anything: {error}. Nothing was changed."
    )
    session.add(
        RecoverySnapshotRow(
            project_id=row_project.id, failure_id=failure.id if failure else None, created_at=at, actor=actor,
            kind=target.kind if target else "worker", target_name=target.name if target else "",
            environment=target.environment if target else None,
            account_id=target.account_id if target else None, live_versions=[], outcome="not_rolled_back",
            finished_at=at, summary=summary,
            details={
                "source": source,
                "error": {"code": getattr(error, "code", None), "status": getattr(error, "status", None),
                          "message": str(error)},
            },
        )
    )
    if failure is not None:
        repo.add_event(session, failure, kind=TimelineKind.ROLLBACK, actor=actor, at=at, description=summary,
                       details={"outcome": "not_rolled_back"})
    session.flush()
    return summary


def list_snapshots(session: Session, *, project: ProjectRef, failure_number: int | None = None) -> list[Snapshot]:
    """Recovery records of the project (of one failure), oldest first."""
    row_project = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if row_project is None:
        return []
    stmt = select(RecoverySnapshotRow, FailureRow.number).outerjoin(
        FailureRow, FailureRow.id == RecoverySnapshotRow.failure_id
    ).where(RecoverySnapshotRow.project_id == row_project.id)
    if failure_number is not None:
        failure = repo.get_failure_row(session, project_id=row_project.id, number=failure_number)
        stmt = stmt.where(RecoverySnapshotRow.failure_id == failure.id)
    return [_snapshot(row, number) for row, number in session.execute(stmt.order_by(RecoverySnapshotRow.id))]


def _snapshot(row: RecoverySnapshotRow, failure_number: int | None) -> Snapshot:
    return Snapshot(
        id=row.id, created_at=row.created_at, actor=row.actor, kind=row.kind, target_name=row.target_name,
        environment=row.environment, account_id=row.account_id, live_deployment_id=row.live_deployment_id,
        live_versions=list(row.live_versions or []), target_id=row.target_id, config_path=row.config_path,
        config_text=row.config_text, deployment_id=row.deployment_id, output_tail=row.output_tail,
        outcome=row.outcome, new_deployment_id=row.new_deployment_id, finished_at=row.finished_at,
        verified=row.verified, summary=row.summary, details=dict(row.details or {}),
        failure_number=failure_number, failure_id=row.failure_id,
    )
