"""Deployments: one row per wrapped deploy command, written before it starts.

``faultbook run`` records the deployment (outcome ``running``, with this
host's name and faultbook's pid) in its own committed transaction *before*
the command starts, and fills in outcome, exit code, version and output tail
when it ends.  If faultbook never gets there (killed with -9, the CI runner
killed the process group, the machine rebooted) the row stays ``running``;
``reap_interrupted`` — called whenever a later faultbook command opens the
database — finds such rows whose process is gone and marks them
``interrupted`` so the next command can say so.

Functions take a session owned by the caller and never print.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from faultbook.domain import Deployment, DeploymentOutcome, utcnow
from faultbook.errors import NotFoundError
from faultbook.services.ledger import ProjectRef
from faultbook.store import deployment_rows, repo
from faultbook.store.deployment_rows import this_host
from faultbook.store.tables import DeploymentRow, FailureRow, ProjectRow

#: A deployment still "running" on another host after this long is taken as interrupted.
STALE_AFTER = timedelta(hours=12)


@dataclass(frozen=True)
class GitContext:
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None


def start_deployment(
    session: Session,
    *,
    project: ProjectRef,
    command: str,
    cwd: str | None,
    component: str | None,
    step: str | None,
    env: str | None = None,
    git: GitContext = GitContext(),
    config_hash: str | None = None,
    key: str | None = None,
    host: str | None = None,
    pid: int | None = None,
    started_at: datetime | None = None,
    snapshot: dict | None = None,
    kind: str | None = None,
) -> Deployment:
    """Record a deployment that is about to start (``command`` and ``snapshot`` must already be scrubbed)."""
    row_project = repo.get_or_create_project(session, key=project.key, name=project.name)
    row = DeploymentRow(
        **deployment_rows.started(
            project_id=row_project.id, command=command, cwd=cwd, component=component, step=step, env=env,
            git_commit=git.commit, git_branch=git.branch, git_dirty=git.dirty, config_hash=config_hash, key=key,
            host=host, pid=pid, started_at=started_at, snapshot=snapshot, kind=kind,
        )
    )
    session.add(row)
    session.flush()
    return repo.row_to_deployment(row)


def finish_deployment(
    session: Session,
    *,
    project: ProjectRef,
    deployment_id: int,
    outcome: DeploymentOutcome,
    exit_code: int | None,
    version_id: str | None = None,
    url: str | None = None,
    output_tail: str | None = None,
    failure_number: int | None = None,
    finished_at: datetime | None = None,
) -> Deployment:
    """Record how a deployment ended (``output_tail`` must already be scrubbed)."""
    row = _get_row(session, project=project, deployment_id=deployment_id)
    for name, value in deployment_rows.finished(
        outcome=outcome, exit_code=exit_code, version_id=version_id, url=url, output_tail=output_tail,
        finished_at=finished_at,
    ).items():
        setattr(row, name, value)
    if failure_number is not None:
        row.failure_id = session.scalar(
            select(FailureRow.id).where(
                FailureRow.project_id == row.project_id, FailureRow.number == failure_number
            )
        )
    session.flush()
    return repo.row_to_deployment(row, failure_number=failure_number)


def get_deployment(session: Session, *, project: ProjectRef, deployment_id: int) -> Deployment:
    row = _get_row(session, project=project, deployment_id=deployment_id)
    return repo.row_to_deployment(row, failure_number=_failure_number(session, row))


def list_deployments(
    session: Session,
    *,
    project: ProjectRef,
    outcome: DeploymentOutcome | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 100,
    offset: int = 0,
    kind: str | None = None,
) -> list[Deployment]:
    """Newest first (``faultbook deployments``, the dashboard and the API); ``count_deployments`` gives the
    total for paging."""
    project_id = _project_id(session, project)
    if project_id is None:
        return []
    query = (
        select(DeploymentRow, FailureRow.number)
        .outerjoin(FailureRow, FailureRow.id == DeploymentRow.failure_id)
        .where(*_conditions(project_id, outcome=outcome, since=since, until=until, kind=kind))
        .order_by(DeploymentRow.started_at.desc(), DeploymentRow.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return [repo.row_to_deployment(row, failure_number=number) for row, number in session.execute(query)]


def count_deployments(
    session: Session,
    *,
    project: ProjectRef,
    outcome: DeploymentOutcome | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
) -> int:
    """How many deployments ``list_deployments`` would page through."""
    project_id = _project_id(session, project)
    if project_id is None:
        return 0
    conditions = _conditions(project_id, outcome=outcome, since=since, until=until, kind=kind)
    return session.scalar(select(func.count()).select_from(DeploymentRow).where(*conditions)) or 0


def _conditions(
    project_id: int, *, outcome: DeploymentOutcome | None, since: datetime | None, until: datetime | None,
    kind: str | None = None,
) -> list[ColumnElement[bool]]:
    conditions = [DeploymentRow.project_id == project_id]
    if outcome is not None:
        conditions.append(DeploymentRow.outcome == outcome.value)
    if since is not None:
        conditions.append(DeploymentRow.started_at >= since)
    if until is not None:
        conditions.append(DeploymentRow.started_at < until)
    if kind is not None:
        conditions.append(DeploymentRow.kind == kind)
    return conditions


def output_tail(session: Session, *, project: ProjectRef, deployment_id: int) -> str | None:
    return _get_row(session, project=project, deployment_id=deployment_id).output_tail


def reap_interrupted(
    session: Session,
    *,
    project: ProjectRef,
    host: str | None = None,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> list[Deployment]:
    """Mark ``running`` deployments whose faultbook process is gone as ``interrupted``; returns them.

    On this host a deployment is gone when its pid no longer runs faultbook;
    on another host (a shared PostgreSQL ledger) only when it is older than
    ``stale_after``, since its process cannot be seen from here.
    """
    project_id = _project_id(session, project)
    if project_id is None:
        return []
    host = host or this_host()
    now = now or utcnow()
    rows = session.scalars(
        select(DeploymentRow).where(
            DeploymentRow.project_id == project_id,
            DeploymentRow.outcome == DeploymentOutcome.RUNNING.value,
        )
    ).all()
    reaped: list[Deployment] = []
    for row in rows:
        if row.host == host:
            gone = not faultbook_alive(row.pid)
        else:
            gone = now - row.started_at > stale_after
        if not gone:
            continue
        row.outcome = DeploymentOutcome.INTERRUPTED.value
        row.finished_at = now
        reaped.append(repo.row_to_deployment(row))
    session.flush()
    return reaped


def has_running(session: Session, *, project: ProjectRef) -> bool:
    """Cheap read-only check before ``reap_interrupted`` takes a write lock."""
    project_id = _project_id(session, project)
    if project_id is None:
        return False
    return (
        session.scalar(
            select(DeploymentRow.id)
            .where(
                DeploymentRow.project_id == project_id,
                DeploymentRow.outcome == DeploymentOutcome.RUNNING.value,
            )
            .limit(1)
        )
        is not None
    )


def faultbook_alive(pid: int | None) -> bool:
    """Whether ``pid`` is a live faultbook process (a zombie or a reused pid is not)."""
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    proc = Path("/proc") / str(pid)
    if not Path("/proc/self").exists():
        return True  # no procfs: trust kill(0)
    try:
        stat = (proc / "stat").read_text()
        state = stat.rsplit(")", 1)[1].split()[0]
        if state in ("Z", "X"):
            return False
        return b"faultbook" in (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False


def recent_commands(
    session: Session, *, project: ProjectRef, since: datetime, outcome: DeploymentOutcome
) -> list[str]:
    """Command lines of deployments that ended with ``outcome`` since ``since`` (newest first)."""
    project_id = _project_id(session, project)
    if project_id is None:
        return []
    return list(
        session.scalars(
            select(DeploymentRow.command)
            .where(
                DeploymentRow.project_id == project_id,
                DeploymentRow.outcome == outcome.value,
                DeploymentRow.started_at >= since,
            )
            .order_by(DeploymentRow.started_at.desc())
        )
    )


def _project_id(session: Session, project: ProjectRef) -> int | None:
    return session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))


def _get_row(session: Session, *, project: ProjectRef, deployment_id: int) -> DeploymentRow:
    project_id = _project_id(session, project)
    row = session.get(DeploymentRow, deployment_id)
    if row is None or row.project_id != project_id:
        raise NotFoundError(f"there is no deployment {deployment_id}")
    return row


def _failure_number(session: Session, row: DeploymentRow) -> int | None:
    if row.failure_id is None:
        return None
    return session.scalar(select(FailureRow.number).where(FailureRow.id == row.failure_id))
