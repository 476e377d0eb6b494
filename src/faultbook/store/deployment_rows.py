"""The one definition of a deployment row's values: what a started, a finished and a reported deployment store.

Three writers put deployment rows in the ledger: ``services.deployments`` (SQLAlchemy, any database),
``store.fastpath`` (raw ``sqlite3``, so that a successful ``faultbook run`` never imports SQLAlchemy: about
190 ms saved on a path whose budget is 100 ms) and ``services.ingest`` (a team server's CI reports, many rows
in one statement).  Each only *executes* the values built here, so the columns, defaults, the host and pid
stamp and the stored tail's limit cannot drift apart; ``tests/capture/test_fastpath.py`` is the contract
(a row written each way, compared byte for byte).

Standard library only: the fast path imports this.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from typing import Any

from faultbook.domain import Deployment, DeploymentOutcome, ensure_aware, utcnow
from faultbook.domain.classify import classify_command

#: Output tails are stored up to this many characters (the end is kept).
MAX_STORED_TAIL = 64 * 1024

#: The columns a reported deployment (a team server's CI report) carries, as the Deployment's field names.
REPORTED_FIELDS = (
    "started_at", "finished_at", "command", "outcome", "component", "step", "environment", "cwd",
    "exit_code", "git_commit", "git_branch", "git_dirty", "config_hash", "version_id", "url",
)


def this_host() -> str:
    """This machine's name as deployments record it (``gethostname``, read without importing ``socket``)."""
    return os.uname().nodename


def stored_tail(text: str | None) -> str | None:
    return text[-MAX_STORED_TAIL:] if text is not None else None


def started(
    *,
    project_id: int,
    command: str,
    cwd: str | None,
    component: str | None,
    step: str | None,
    env: str | None = None,
    git_commit: str | None = None,
    git_branch: str | None = None,
    git_dirty: bool | None = None,
    config_hash: str | None = None,
    key: str | None = None,
    host: str | None = None,
    pid: int | None = None,
    started_at: datetime | None = None,
    snapshot: dict[str, Any] | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """A deployment about to start: outcome ``running``, stamped with this host and this process.

    ``snapshot`` is what it deploys, scrubbed (``services.snapshot``): the suspect change's input.
    ``kind``: deploy / provision / other (``faultbook run --kind``); None = classified from the command.
    """
    return {
        "project_id": project_id,
        "key": key or str(uuid.uuid4()),
        "started_at": started_at or utcnow(),
        "component": component,
        "step": step,
        "environment": env,
        "command": command,
        "cwd": cwd,
        "outcome": DeploymentOutcome.RUNNING.value,
        "git_commit": git_commit,
        "git_branch": git_branch,
        "git_dirty": git_dirty,
        "config_hash": config_hash,
        "host": host or this_host(),
        "pid": os.getpid() if pid is None else pid,
        "snapshot": snapshot,
        "kind": kind or classify_command(command),
    }


def finished(
    *,
    outcome: DeploymentOutcome,
    exit_code: int | None,
    version_id: str | None = None,
    url: str | None = None,
    output_tail: str | None = None,
    finished_at: datetime | None = None,
) -> dict[str, Any]:
    """How a deployment ended (``output_tail`` only when given: None leaves the stored one)."""
    values: dict[str, Any] = {
        "outcome": outcome.value,
        "exit_code": exit_code,
        "finished_at": finished_at or utcnow(),
        "version_id": version_id,
        "url": url,
    }
    if output_tail is not None:
        values["output_tail"] = stored_tail(output_tail)
    return values


def reported(
    deployment: Deployment, *, project_id: int, host: str | None, output_tail: str | None,
    snapshot: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A deployment a CI runner reported to the team server (times as given, in UTC; ``snapshot`` as the
    client scrubbed it, None from clients older than the field)."""
    values = {name: getattr(deployment, name) for name in REPORTED_FIELDS}
    values.update(
        outcome=deployment.outcome.value, project_id=project_id, key=deployment.key, host=host,
        output_tail=output_tail, snapshot=snapshot, started_at=_utc(deployment.started_at),
        finished_at=_utc(deployment.finished_at) if deployment.finished_at else None,
        kind=deployment.kind or classify_command(deployment.command),
    )
    return values


def _utc(moment: datetime) -> datetime:
    return ensure_aware(moment).astimezone(timezone.utc)


def to_deployment(values: dict[str, Any], *, id: int, failure_number: int | None = None) -> Deployment:
    """The Deployment these values describe (what the writers return)."""
    return Deployment(
        id=id,
        key=values["key"],
        started_at=values["started_at"],
        command=values["command"],
        outcome=DeploymentOutcome(values["outcome"]),
        component=values.get("component"),
        step=values.get("step"),
        environment=values.get("environment"),
        cwd=values.get("cwd"),
        git_commit=values.get("git_commit"),
        git_branch=values.get("git_branch"),
        git_dirty=values.get("git_dirty"),
        config_hash=values.get("config_hash"),
        exit_code=values.get("exit_code"),
        finished_at=values.get("finished_at"),
        version_id=values.get("version_id"),
        url=values.get("url"),
        failure_number=failure_number,
        kind=values.get("kind") or classify_command(values["command"]),
    )
