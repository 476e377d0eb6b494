"""Rollback that preserves state first, verifies after, and never claims what did not happen.

This is the seed's "Immediate Rollback" procedure made software:

3. *Preserve current state* — ``preserve_state`` saves the live
   deployment/version ids, the wrangler config (scrubbed) and the last captured
   output in ``recovery_snapshots`` and commits, before anything is changed;
4. *Execute rollback* — ``plan_rollback`` picks the target the way
   ``wrangler rollback`` does (the newest earlier deployment that served one
   version at 100 %; wrangler: ``versions/rollback/index.ts``
   ``fetchDefaultRollbackVersionId``) or takes ``--to``; ``execute_rollback``
   POSTs the deployment and, on 10220 (secrets changed since that version),
   asks the injected ``confirm_force`` before retrying with ``?force=true``.
   Pages projects roll back to the previous successful production deployment;
5. *Verify* — the configured health/smoke checks run (``services.health``);
6. *Schedule redeployment* — a follow-up is opened.

Everything lands on the failure's timeline.  The outcome is one of
``rolled_back``, ``not_rolled_back`` or ``unknown``: when the connection drops
while the POST is in flight the deployments are read again to find out, and
if even that fails the record says that nobody knows.  One difference from
wrangler: a version that is already live is never chosen as the target (a
"rollback" to the running code changes nothing).

``rollback`` is the flow the CLI calls; ``rollback_on_failure`` is what
``faultbook run --rollback-on-failure`` calls after a failed deploy.
Nothing here prints; questions go through the ``confirm`` callables.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from faultbook.cloudflare.api import ApiError, account_id_for, call, make_client
from faultbook.cloudflare.project import WranglerFile, load_project_wrangler
from faultbook.domain import utcnow
from faultbook.errors import FaultbookError, InputError, OperationFailed
from faultbook.services import followups
from faultbook.services.health import HealthResult, load_health_checks, run_health_checks
from faultbook.services.ledger import ProjectRef
from faultbook.store import repo
from faultbook.store.tables import DeploymentRow, FailureRow, ProjectRow, RecoverySnapshotRow

if TYPE_CHECKING:
    from faultbook.config import Settings
    from faultbook.store.db import Database

#: What a Worker rollback leaves as it is (wrangler says the same about bound resources).
WORKER_NOT_RESTORED = (
    "A rollback only changes which code serves traffic. It does NOT restore: data in D1 databases, "
    "KV namespaces and R2 buckets (the old code meets today's data); secrets (they keep their current "
    "values); routes and custom domains (they stay as they are now)."
)
PAGES_NOT_RESTORED = (
    "A Pages rollback only changes which build serves production. It does NOT restore: data in D1, KV "
    "or R2 used by its Functions; secrets and environment variables; custom domains and DNS."
)
#: The changed-secrets refusal (wrangler: CANNOT_ROLLBACK_WITH_MODIFIED_SECERT_CODE).
CHANGED_SECRETS_CODE = 10220
CHANGED_SECRETS_MARK = "The following secrets have changed:"
#: The annotation is truncated by the API at 1000 bytes; wrangler asks for at most 120 characters.
MESSAGE_LIMIT = 120


class Component(str, enum.Enum):
    BACKEND = "backend"
    FRONTEND = "frontend"

    @classmethod
    def parse(cls, text: str | None) -> "Component":
        word = (text or "backend").strip().lower()
        if word.startswith(("backend", "worker", "api")):
            return cls.BACKEND
        if word.startswith(("frontend", "pages", "front")):
            return cls.FRONTEND
        raise InputError(f"unknown component {text!r}: expected backend (Worker) or frontend (Pages)")


class Outcome(str, enum.Enum):
    ROLLED_BACK = "rolled_back"
    NOT_ROLLED_BACK = "not_rolled_back"
    #: The POST may or may not have landed and re-reading could not tell.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Target:
    """What is rolled back: a Worker (``kind="worker"``) or a Pages project (``kind="pages"``)."""

    kind: str
    name: str
    account_id: str
    environment: str | None = None
    config: WranglerFile | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"Worker {self.name}" if self.kind == "worker" else f"Pages project {self.name}"


@dataclass(frozen=True)
class Split:
    """One version (or Pages deployment) and its share of traffic."""

    id: str
    percentage: float
    label: str = ""

    def describe(self) -> str:
        name = self.label or self.id
        return name if self.percentage == 100 else f"{name} ({self.percentage:g} %)"


@dataclass(frozen=True)
class RollbackPlan:
    target: Target
    live_deployment_id: str | None
    live: tuple[Split, ...]
    target_id: str
    target_label: str
    #: What will change, one line each.
    changes: tuple[str, ...]
    not_restored: str
    explicit: bool = False

    @property
    def from_text(self) -> str:
        return ", ".join(s.describe() for s in self.live) or "nothing live"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.target.kind,
            "name": self.target.name,
            "environment": self.target.environment,
            "account_id": self.target.account_id,
            "live_deployment_id": self.live_deployment_id,
            "live": [{"id": s.id, "percentage": s.percentage} for s in self.live],
            "target_id": self.target_id,
            "target": self.target_label,
            "changes": list(self.changes),
            "not_restored": self.not_restored,
        }


@dataclass(frozen=True)
class Execution:
    outcome: Outcome
    #: What happened, in plain words (goes on the timeline and to the user).
    explanation: str
    new_deployment_id: str | None = None
    forced: bool = False
    changed_secrets: tuple[str, ...] = ()
    error_code: int | None = None
    error_status: int | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Verification:
    results: tuple[HealthResult, ...] = ()
    #: True/False after checks ran; None when none ran (none configured, or nothing to verify).
    ok: bool | None = None
    note: str = ""

    @property
    def text(self) -> str:
        if self.ok is None:
            return f"not checked ({self.note})" if self.note else "not checked"
        if self.ok:
            return f"yes ({len(self.results)} of {len(self.results)} checks passed)"
        failed = sum(1 for r in self.results if not r.ok)
        return f"no ({failed} of {len(self.results)} checks failed)"


@dataclass(frozen=True)
class RollbackReport:
    plan: RollbackPlan | None
    outcome: Outcome
    summary: str
    execution: Execution | None = None
    verification: Verification = Verification()
    snapshot_id: int | None = None
    failure_number: int | None = None
    followup_id: int | None = None
    at: datetime | None = None
    actor: str | None = None

    @property
    def rolled_back(self) -> bool:
        return self.outcome is Outcome.ROLLED_BACK

    def to_json(self) -> dict[str, Any]:
        execution = self.execution
        return {
            "outcome": self.outcome.value,
            "summary": self.summary,
            "plan": self.plan.to_json() if self.plan else None,
            "new_deployment_id": execution.new_deployment_id if execution else None,
            "forced": execution.forced if execution else False,
            "error": (
                {"code": execution.error_code, "status": execution.error_status, "message": execution.error_message}
                if execution and execution.error_message
                else None
            ),
            "verified": self.verification.ok,
            "checks": [r.to_json() for r in self.verification.results],
            "snapshot": self.snapshot_id,
            "failure": self.failure_number,
            "followup": self.followup_id,
            "at": self.at.isoformat() if self.at else None,
            "by": self.actor,
        }


ConfirmPlan = Callable[[RollbackPlan], bool]
ConfirmForce = Callable[[str], bool]


# ------------------------------------------------------------------------------------ targets


def resolve_target(
    settings: "Settings", *, component: Component, env: str | None = None
) -> Target:
    """The Worker (wrangler config ``name``, per ``[env.X]``) or the Pages project to roll back."""
    section = settings.section("rollback")
    wrangler = load_project_wrangler(settings.project_root, section)
    data = wrangler.data if wrangler else {}
    if component is Component.FRONTEND:
        if env not in (None, "production"):
            raise InputError("Pages rollbacks apply to production deployments only (drop --env)")
        name = settings.section("pages").get("project")
        if not name and wrangler is not None and wrangler.is_pages:
            name = data.get("name")
        if not name or not isinstance(name, str):
            raise InputError(
                "no Pages project to roll back: set [pages] project = \"NAME\" in faultbook.toml",
                path=str(settings.config_path) if settings.config_path else None,
            )
        return Target(kind="pages", name=name, account_id=account_id_for(settings, data), config=wrangler)
    name = section.get("worker") if isinstance(section.get("worker"), str) else None
    if name is None and wrangler is not None:
        name = wrangler.worker_name(env)
    if not name:
        raise InputError(
            "no Worker to roll back: no wrangler config with a name in the project root "
            "(or set [rollback] worker = \"NAME\" in faultbook.toml)"
        )
    return Target(kind="worker", name=name, account_id=account_id_for(settings, data), environment=env,
                  config=wrangler)


# ------------------------------------------------------------------------------------ reading


def _get(client: Any, path: str, *, params: Mapping[str, str] | None = None, action: str) -> Any:
    """One GET of the v4 API through the SDK (its errors and auth), returning the envelope's ``result``.

    The SDK's typed list methods page through results; faultbook needs the
    first page only (the newest deployments), so it reads the raw envelope.
    """
    options = {"params": dict(params)} if params else {}
    body = call(client.with_options(max_retries=2).get, path, cast_to=object, options=options, action=action)
    return body.get("result") if isinstance(body, dict) else None


def worker_deployments(client: Any, target: Target) -> list[dict[str, Any]]:
    """The Worker's deployments, newest first (the first one is live)."""
    result = _get(
        client, f"/accounts/{target.account_id}/workers/scripts/{target.name}/deployments",
        action=f"listing the deployments of {target.label}",
    )
    items = list((result or {}).get("deployments") or [])
    items.sort(key=lambda d: str(d.get("created_on") or ""), reverse=True)
    return items


def worker_versions(client: Any, target: Target) -> list[dict[str, Any]]:
    result = _get(
        client, f"/accounts/{target.account_id}/workers/scripts/{target.name}/versions",
        params={"deployable": "true"}, action=f"listing the versions of {target.label}",
    )
    if isinstance(result, dict):
        return list(result.get("items") or [])
    return list(result or [])


def worker_version(client: Any, target: Target, version_id: str) -> dict[str, Any]:
    try:
        return _get(
            client, f"/accounts/{target.account_id}/workers/scripts/{target.name}/versions/{version_id}",
            action=f"reading version {version_id} of {target.label}",
        ) or {}
    except ApiError as exc:
        if exc.not_found:
            raise ApiError(exc.status, exc.code, f"{target.label} has no version {version_id}",
                           action="choosing the rollback target") from None
        raise


def pages_deployments(client: Any, target: Target) -> list[dict[str, Any]]:
    """Production deployments of the Pages project, newest first."""
    result = _get(
        client, f"/accounts/{target.account_id}/pages/projects/{target.name}/deployments",
        params={"env": "production"}, action=f"listing the deployments of {target.label}",
    )
    items = [d for d in (result or []) if d.get("environment", "production") == "production"]
    items.sort(key=lambda d: str(d.get("created_on") or ""), reverse=True)
    return items


# ------------------------------------------------------------------------------------ planning


def plan_rollback(*, client: Any, target: Target, to: str | None = None) -> RollbackPlan:
    """Read the live state and choose the target; raises OperationFailed when there is none."""
    if target.kind == "pages":
        return _plan_pages(client, target, to)
    return _plan_worker(client, target, to)


def _plan_worker(client: Any, target: Target, to: str | None) -> RollbackPlan:
    deployments = worker_deployments(client, target)
    if not deployments:
        raise OperationFailed(f"{target.label} has no deployments: there is nothing to roll back")
    versions = {v.get("id"): v for v in worker_versions(client, target)}
    live_deployment = deployments[0]
    live = tuple(
        Split(id=str(v["version_id"]), percentage=float(v.get("percentage", 0)),
              label=_version_label(str(v["version_id"]), versions))
        for v in live_deployment.get("versions") or []
    )
    live_ids = {s.id for s in live}
    if to:
        if to not in versions:
            versions[to] = worker_version(client, target, to)
        if live_ids == {to}:
            raise OperationFailed(f"{target.label} already serves version {to} to 100 % of traffic")
        target_id = to
    else:
        target_id = ""
        for deployment in deployments[1:]:
            stable = next(
                (v for v in deployment.get("versions") or [] if float(v.get("percentage", 0)) == 100), None
            )
            if stable and str(stable["version_id"]) not in live_ids:
                target_id = str(stable["version_id"])
                break
        if not target_id:
            raise OperationFailed(
                f"no earlier version of {target.label} to roll back to: no earlier deployment served a "
                "different version to 100 % of traffic",
                hint="name one with --to VERSION_ID (see `wrangler versions list`)",
            )
    target_label = _version_label(target_id, versions)
    changes = [
        f"Traffic: {', '.join(s.describe() for s in live)} -> {target_label} (100 %)",
        f"Target: {_version_label(target_id, versions, when=True)}",
    ]
    changes.extend(_version_differences([versions.get(s.id) or {} for s in live], versions.get(target_id) or {}))
    return RollbackPlan(
        target=target,
        live_deployment_id=live_deployment.get("id"),
        live=live,
        target_id=target_id,
        target_label=target_label,
        changes=tuple(changes),
        not_restored=WORKER_NOT_RESTORED,
        explicit=bool(to),
    )


def _version_label(version_id: str, versions: Mapping[Any, Mapping[str, Any]], *, when: bool = False) -> str:
    """``version <id> (#3)``; with ``when``, also the upload time."""
    version = versions.get(version_id) or {}
    number = version.get("number")
    created = ((version.get("metadata") or {}).get("created_on") or "")[:19].replace("T", " ")
    extra = [f"#{number:g}"] if isinstance(number, (int, float)) else []
    if when and created:
        extra.append(f"uploaded {created} UTC")
    return f"version {version_id}" + (f" ({', '.join(extra)})" if extra else "")


def _version_differences(live: Sequence[Mapping[str, Any]], target: Mapping[str, Any]) -> list[str]:
    """Binding and compatibility-date differences between the live version(s) and the target."""
    if not target or not any(live):
        return []

    def bindings(version: Mapping[str, Any]) -> dict[str, str]:
        items = ((version.get("resources") or {}).get("bindings")) or []
        return {str(b.get("name")): str(b.get("type")) for b in items if isinstance(b, Mapping)}

    def compat(version: Mapping[str, Any]) -> str | None:
        return ((version.get("resources") or {}).get("script_runtime") or {}).get("compatibility_date")

    lines = []
    now = {}
    for version in live:
        now.update(bindings(version))
    then = bindings(target)
    gone = sorted(set(now) - set(then))
    back = sorted(set(then) - set(now))
    if gone:
        lines.append("Bindings the target version does not have: " + ", ".join(f"{n} ({now[n]})" for n in gone))
    if back:
        lines.append("Bindings only the target version has: " + ", ".join(f"{n} ({then[n]})" for n in back))
    dates = {compat(v) for v in live if v}
    if compat(target) and dates and dates != {compat(target)}:
        lines.append(f"Compatibility date: {', '.join(sorted(d for d in dates if d))} -> {compat(target)}")
    return lines


def _plan_pages(client: Any, target: Target, to: str | None) -> RollbackPlan:
    deployments = pages_deployments(client, target)
    if not deployments:
        raise OperationFailed(f"{target.label} has no production deployments: there is nothing to roll back")
    live = deployments[0]
    if to:
        chosen = next((d for d in deployments if d.get("id") == to or d.get("short_id") == to), None)
        if chosen is None:
            raise OperationFailed(f"{target.label} has no production deployment {to}")
        if chosen.get("id") == live.get("id"):
            raise OperationFailed(f"deployment {to} is already the live production deployment of {target.label}")
        if _pages_status(chosen) != "success":
            raise OperationFailed(f"deployment {to} of {target.label} did not succeed: Pages rolls back only to "
                                  "successful deployments")
    else:
        chosen = next(
            (d for d in deployments[1:] if _pages_status(d) == "success" and not d.get("is_skipped")), None
        )
        if chosen is None:
            raise OperationFailed(
                f"no earlier successful production deployment of {target.label} to roll back to",
                hint="name one with --to DEPLOYMENT_ID",
            )
    live_label = _pages_label(live)
    target_label = _pages_label(chosen)
    return RollbackPlan(
        target=target,
        live_deployment_id=live.get("id"),
        live=(Split(id=str(live.get("id")), percentage=100, label=live_label),),
        target_id=str(chosen.get("id")),
        target_label=target_label,
        changes=(f"Production: {live_label} -> {target_label}",),
        not_restored=PAGES_NOT_RESTORED,
        explicit=bool(to),
    )


def _pages_status(deployment: Mapping[str, Any]) -> str | None:
    return (deployment.get("latest_stage") or {}).get("status")


def _pages_label(deployment: Mapping[str, Any]) -> str:
    created = str(deployment.get("created_on") or "")[:19].replace("T", " ")
    url = deployment.get("url")
    extra = ", ".join(p for p in (f"created {created} UTC" if created else "", str(url) if url else "") if p)
    return f"deployment {deployment.get('id')}" + (f" ({extra})" if extra else "")


# ------------------------------------------------------------------------------------ state


def scrubber_for(settings: "Settings", config: WranglerFile | None = None) -> Any:
    """The capture scrubber for this environment, plus the config's secret-looking ``vars`` values."""
    from faultbook.capture.scrub import Scrubber

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
            session, failure, kind="state_preserved", actor=actor,
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


def _relative(path: Any, settings: "Settings") -> str:
    try:
        return str(path.relative_to(settings.project_root))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------------ executing


def execute_rollback(
    *,
    client: Any,
    plan: RollbackPlan,
    message: str = "Rollback by faultbook",
    confirm_force: ConfirmForce = lambda question: False,
) -> Execution:
    """Make the change; never raises for API trouble — the Execution says what happened."""
    if plan.target.kind == "pages":
        return _execute_pages(client, plan)
    try:
        deployment = _create_deployment(client, plan, message, force=False)
        return _done(plan, deployment)
    except ApiError as exc:
        if exc.code == CHANGED_SECRETS_CODE:
            secrets = changed_secrets(exc.reason)
            question = (
                f"The following secrets have changed since version {plan.target_id} was deployed: "
                f"{', '.join(secrets) or '(not named)'}. The old code will run with today's secret values. "
                "Roll back anyway (force)?"
            )
            if not confirm_force(question):
                return _failed(
                    plan, exc,
                    "Cloudflare refused because secrets changed since the target version "
                    f"({', '.join(secrets)}) and forcing was not confirmed",
                    changed=secrets,
                )
            try:
                deployment = _create_deployment(client, plan, message, force=True)
                return replace(_done(plan, deployment), forced=True, changed_secrets=tuple(secrets))
            except ApiError as forced_exc:
                return replace(_after_error(client, plan, forced_exc), forced=True, changed_secrets=tuple(secrets))
        return _after_error(client, plan, exc)


def changed_secrets(message: str) -> list[str]:
    """The secret names in a 10220 message (wrangler parses the same sentence)."""
    if CHANGED_SECRETS_MARK not in message:
        return []
    tail = message.split(CHANGED_SECRETS_MARK, 1)[1]
    tail = re.sub(r"\s*\[code: \d+\]\s*$", "", tail)
    return [name.strip() for name in tail.split(",") if name.strip()]


def _create_deployment(client: Any, plan: RollbackPlan, message: str, *, force: bool) -> Any:
    target = plan.target
    kwargs: dict[str, Any] = {
        "account_id": target.account_id,
        "strategy": "percentage",
        "versions": [{"version_id": plan.target_id, "percentage": 100}],
        "annotations": {"workers_message": message[:MESSAGE_LIMIT]},
    }
    if force:
        kwargs["force"] = True
    # No retries: a POST whose answer was lost must not be sent twice.
    return call(
        client.with_options(max_retries=0).workers.scripts.deployments.create, target.name,
        action=f"deploying version {plan.target_id} of {target.label}", **kwargs,
    )


def _done(plan: RollbackPlan, deployment: Any) -> Execution:
    new_id = getattr(deployment, "id", None)
    return Execution(
        outcome=Outcome.ROLLED_BACK,
        new_deployment_id=new_id,
        explanation=f"Cloudflare accepted the rollback: deployment {new_id} serves {plan.target_label}",
    )


def _failed(plan: RollbackPlan, exc: ApiError, why: str, *, changed: Sequence[str] = ()) -> Execution:
    return Execution(
        outcome=Outcome.NOT_ROLLED_BACK,
        explanation=f"{why}. Nothing was changed: {plan.from_text} still serves traffic.",
        changed_secrets=tuple(changed),
        error_code=exc.code,
        error_status=exc.status,
        error_message=str(exc),
    )


def _after_error(client: Any, plan: RollbackPlan, exc: ApiError) -> Execution:
    """An API error: if it was a lost connection, read the deployments again to learn what happened."""
    if not exc.connection_error:
        why = "Cloudflare refused the token" if exc.refused_token else "Cloudflare refused the rollback"
        return _failed(plan, exc, f"{why}: {exc.reason}" + (f" [code: {exc.code}]" if exc.code else ""))
    lost = f"The connection was lost while the rollback request was in flight ({exc.reason})"
    try:
        landed, live_id = _landed(client, plan)
    except ApiError as reread:
        return Execution(
            outcome=Outcome.UNKNOWN,
            explanation=(
                f"{lost}, and reading the deployments again failed too ({reread}). The rollback MAY OR MAY "
                f"NOT have happened: check the live deployment of {plan.target.label} before doing anything else."
            ),
            error_status=None,
            error_message=str(exc),
        )
    if landed:
        return Execution(
            outcome=Outcome.ROLLED_BACK,
            new_deployment_id=live_id,
            explanation=(
                f"{lost}, but reading the deployments again shows it landed: deployment {live_id} "
                f"serves {plan.target_label}"
            ),
            error_message=str(exc),
        )
    return Execution(
        outcome=Outcome.NOT_ROLLED_BACK,
        explanation=(
            f"{lost}; reading the deployments again shows it did not land. Nothing was changed: "
            f"{plan.from_text} still serves traffic."
        ),
        error_message=str(exc),
    )


def _landed(client: Any, plan: RollbackPlan) -> tuple[bool, str | None]:
    if plan.target.kind == "pages":
        items = pages_deployments(client, plan.target)
        newest = items[0] if items else {}
        return bool(newest) and newest.get("id") != plan.live_deployment_id, newest.get("id")
    items = worker_deployments(client, plan.target)
    newest = items[0] if items else {}
    serves = [
        v for v in newest.get("versions") or []
        if v.get("version_id") == plan.target_id and float(v.get("percentage", 0)) == 100
    ]
    return bool(newest) and newest.get("id") != plan.live_deployment_id and bool(serves), newest.get("id")


def _execute_pages(client: Any, plan: RollbackPlan) -> Execution:
    target = plan.target
    try:
        deployment = call(
            client.with_options(max_retries=0).pages.projects.deployments.rollback,
            plan.target_id, account_id=target.account_id, project_name=target.name,
            action=f"rolling back {target.label}",
        )
    except ApiError as exc:
        return _after_error(client, plan, exc)
    new_id = getattr(deployment, "id", None)
    return Execution(
        outcome=Outcome.ROLLED_BACK,
        new_deployment_id=new_id,
        explanation=f"Cloudflare accepted the rollback: production now serves {plan.target_label} "
        f"(new deployment {new_id})",
    )


# ------------------------------------------------------------------------------------ verifying


def verify(settings: "Settings", *, transport: Any = None) -> Verification:
    """Run the project's health and smoke checks (step 5)."""
    if not load_health_checks(settings):
        return Verification(note="no [checks.health] or [[smoke]] checks in faultbook.toml")
    results = tuple(run_health_checks(settings, transport=transport))
    return Verification(results=results, ok=all(r.ok for r in results))


# ------------------------------------------------------------------------------------ recording


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
            session, failure, kind="rollback", actor=actor, at=at, description=summary,
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
        repo.add_event(session, failure, kind="rollback", actor=actor, at=at, description=summary,
                       details={"outcome": "not_rolled_back"})
    session.flush()
    return summary


# ------------------------------------------------------------------------------------ flows


def rollback(
    *,
    database: "Database",
    settings: "Settings",
    project: ProjectRef,
    component: Component = Component.BACKEND,
    to: str | None = None,
    env: str | None = None,
    failure_number: int | None = None,
    confirm: ConfirmPlan = lambda plan: True,
    confirm_force: ConfirmForce = lambda question: False,
    actor: str | None = None,
    client: Any = None,
    source: str = "rollback",
    transport: Any = None,
) -> RollbackReport | None:
    """Plan, ask, preserve, execute, verify, record.  None when ``confirm`` declined (nothing done).

    Raises OperationFailed (after recording it) when the rollback stopped
    before changing anything; a failed or uncertain change is *returned*
    (``report.outcome``) because it has been recorded with its details.
    """
    target: Target | None = None
    if failure_number is not None:
        with database.session(write=True) as session:
            repo.get_failure_row(session, project_id=_project_row(session, project).id, number=failure_number)
    try:
        target = resolve_target(settings, component=component, env=env)
        client = client or make_client(settings)
        plan = plan_rollback(client=client, target=target, to=to)
    except OperationFailed as exc:
        with database.session(write=True) as session:
            record_not_attempted(session, project=project, target=target, error=exc,
                                 failure_number=failure_number, actor=actor, source=source)
        raise OperationFailed(f"{exc}. Nothing was changed.", hint=exc.hint) from None
    if not confirm(plan):
        return None
    with database.session(write=True) as session:
        snapshot_id = preserve_state(session, settings=settings, project=project, plan=plan,
                                     failure_number=failure_number, actor=actor)
    message = "Rollback by faultbook" + (f" (failure #{failure_number})" if failure_number else "")
    execution = execute_rollback(client=client, plan=plan, message=message, confirm_force=confirm_force)
    if execution.outcome is Outcome.ROLLED_BACK:
        verification = verify(settings, transport=transport)
    else:
        verification = Verification(note="nothing was rolled back")
    with database.session(write=True) as session:
        return record_outcome(session, project=project, snapshot_id=snapshot_id, plan=plan, execution=execution,
                              verification=verification, actor=actor, source=source)


@dataclass(frozen=True)
class AutoRollback:
    """What ``run --rollback-on-failure`` did after a failed deploy."""

    #: The live service's checks before deciding (None: none configured).
    live_ok: bool | None
    reason: str
    live_checks: tuple[HealthResult, ...] = ()
    report: RollbackReport | None = None

    @property
    def rolled_back(self) -> bool:
        return self.report is not None and self.report.rolled_back


def rollback_on_failure(
    *,
    database: "Database",
    settings: "Settings",
    project: ProjectRef,
    failure_number: int | None = None,
    component: str | None = None,
    env: str | None = None,
    actor: str | None = None,
    client: Any = None,
    transport: Any = None,
) -> AutoRollback:
    """After a failed deploy: verify the live service; roll back only if it fails its checks.

    The plan is confirmed automatically; forcing past changed secrets (10220)
    happens only when ``[rollback] force_on_changed_secrets = true``.  Errors
    are recorded and returned, never raised: the deploy's own exit code stands.
    """
    if not load_health_checks(settings):
        return AutoRollback(
            live_ok=None,
            reason="no [checks.health] or [[smoke]] checks in faultbook.toml: faultbook cannot tell whether "
            "the live service is broken, so it did not roll back",
        )
    live = tuple(run_health_checks(settings, transport=transport))
    if all(r.ok for r in live):
        return AutoRollback(live_ok=True, live_checks=live,
                            reason="the live service passes its checks: no rollback needed")
    allow_force = bool(settings.section("rollback").get("force_on_changed_secrets", False))
    try:
        report = rollback(
            database=database, settings=settings, project=project, component=Component.parse(component), env=env,
            failure_number=failure_number, confirm=lambda plan: True, confirm_force=lambda question: allow_force,
            actor=actor, client=client, source="rollback-on-failure", transport=transport,
        )
    except FaultbookError as exc:
        return AutoRollback(live_ok=False, live_checks=live, reason=f"the live service fails its checks, but {exc}")
    assert report is not None
    return AutoRollback(live_ok=False, live_checks=live, report=report,
                        reason="the live service fails its checks: " + report.summary)


def list_snapshots(session: Session, *, project: ProjectRef, failure_number: int | None = None) -> list[RecoverySnapshotRow]:
    """Recovery records of the project (of one failure), oldest first."""
    row_project = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if row_project is None:
        return []
    stmt = select(RecoverySnapshotRow).where(RecoverySnapshotRow.project_id == row_project.id)
    if failure_number is not None:
        failure = repo.get_failure_row(session, project_id=row_project.id, number=failure_number)
        stmt = stmt.where(RecoverySnapshotRow.failure_id == failure.id)
    return list(session.scalars(stmt.order_by(RecoverySnapshotRow.id)))
