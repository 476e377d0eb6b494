"""Rollback that preserves state first, verifies after, and never claims what did not happen.

This is the seed's "Immediate Rollback" procedure made software:

3. *Preserve current state* — ``persistence.preserve_state`` saves the live ids, the config (scrubbed) and the
   last captured output, and is committed before anything is changed;
4. *Execute rollback* — ``planning.plan_rollback`` picks the target, ``execution.execute_rollback`` makes the
   change (the Cloudflare reads live beside the API client, in ``cloudflare.deployments``);
5. *Verify* — the configured health/smoke checks run (``services.health``);
6. *Schedule redeployment* — a follow-up is opened.

Everything lands on the failure's timeline.  The outcome is one of ``rolled_back``, ``not_rolled_back`` or
``unknown``.  ``flows.rollback`` is what the CLI calls; ``flows.rollback_on_failure`` is what ``faultbook run
--rollback-on-failure`` calls.  The modules: ``types`` (values), ``planning``, ``execution``,
``persistence``, ``flows``.
"""

from faultbook.services.recovery.execution import changed_secrets, execute_rollback
from faultbook.services.recovery.flows import rollback, rollback_on_failure, verify
from faultbook.services.recovery.persistence import (
    config_secret_values,
    list_snapshots,
    preserve_state,
    record_not_attempted,
    record_outcome,
    scrubber_for,
)
from faultbook.services.recovery.planning import plan_rollback, resolve_target
from faultbook.services.recovery.types import (
    AutoRollback,
    Component,
    ConfirmForce,
    ConfirmPlan,
    Execution,
    Outcome,
    RollbackPlan,
    RollbackReport,
    Snapshot,
    Split,
    Target,
    Verification,
)

__all__ = [
    "AutoRollback", "Component", "ConfirmForce", "ConfirmPlan", "Execution", "Outcome", "RollbackPlan",
    "RollbackReport", "Snapshot", "Split", "Target", "Verification", "changed_secrets", "config_secret_values",
    "execute_rollback", "list_snapshots", "plan_rollback", "preserve_state", "record_not_attempted",
    "record_outcome", "resolve_target", "rollback", "rollback_on_failure", "scrubber_for", "verify",
]
