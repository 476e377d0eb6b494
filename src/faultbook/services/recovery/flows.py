"""The rollback flows: ``rollback`` (the CLI's: plan, ask, preserve, execute, verify, record) and
``rollback_on_failure`` (what ``faultbook run --rollback-on-failure`` calls after a failed deploy).

Nothing here prints; questions go through the ``confirm`` callables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faultbook.cloudflare.api import make_client
from faultbook.errors import FaultbookError, OperationFailed
from faultbook.services.health import load_health_checks, run_health_checks
from faultbook.services.ledger import ProjectRef
from faultbook.services.recovery.execution import execute_rollback
from faultbook.services.recovery.persistence import preserve_state, project_id, record_not_attempted, record_outcome
from faultbook.services.recovery.planning import plan_rollback, resolve_target
from faultbook.services.recovery.types import (
    AutoRollback,
    Component,
    ConfirmForce,
    ConfirmPlan,
    Outcome,
    RollbackReport,
    Target,
    Verification,
)
from faultbook.store import repo

if TYPE_CHECKING:
    from faultbook.config import Settings
    from faultbook.store.db import Database


def verify(settings: "Settings", *, transport: Any = None) -> Verification:
    """Run the project's health and smoke checks (step 5)."""
    if not load_health_checks(settings):
        return Verification(note="no [checks.health] or [[smoke]] checks in faultbook.toml")
    results = tuple(run_health_checks(settings, transport=transport))
    return Verification(results=results, ok=all(r.ok for r in results))


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
            repo.get_failure_row(session, project_id=project_id(session, project), number=failure_number)
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
    allow_force = settings.rollback.force_on_changed_secrets
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
