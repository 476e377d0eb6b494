"""Executing a rollback: the one POST that changes what serves traffic, and finding out whether it landed.

``execute_rollback`` POSTs the deployment and, on 10220 (secrets changed since that version), asks the
injected ``confirm_force`` before retrying with ``?force=true``.  It never raises for API trouble: when the
connection drops while the POST is in flight the deployments are read again to find out, and if even that
fails the ``Execution`` says that nobody knows.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Sequence

from faultbook.cloudflare.api import ApiError, call
from faultbook.cloudflare.deployments import pages_deployments, worker_deployments
from faultbook.services.recovery.types import (
    CHANGED_SECRETS_CODE,
    CHANGED_SECRETS_MARK,
    MESSAGE_LIMIT,
    ConfirmForce,
    Execution,
    Outcome,
    RollbackPlan,
)


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
