"""The values of a rollback: what is rolled back, the plan, what the change did, the verification, the report.

Domain values only (no ORM rows, no API objects): the CLI, the web app and ``faultbook run`` read these.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from faultbook.cloudflare.deployments import Target
from faultbook.errors import InputError
from faultbook.knowledge.codes import ApiCode
from faultbook.services.health import HealthResult

__all__ = [
    "AutoRollback", "Component", "ConfirmForce", "ConfirmPlan", "Execution", "Outcome", "RollbackPlan",
    "RollbackReport", "Snapshot", "Split", "Target", "Verification",
]

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
CHANGED_SECRETS_CODE = ApiCode.ROLLBACK_SECRETS_CHANGED
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


@dataclass(frozen=True)
class Snapshot:
    """One recovery record: the state preserved before a rollback and what then happened (``list_snapshots``)."""

    id: int
    created_at: datetime
    actor: str | None
    kind: str
    target_name: str
    environment: str | None
    account_id: str | None
    live_deployment_id: str | None
    #: The live traffic split before the rollback: [{"version_id", "percentage"}].
    live_versions: list[dict[str, Any]]
    target_id: str | None
    config_path: str | None
    #: The wrangler config's text, scrubbed.
    config_text: str | None
    #: The faultbook deployment whose output was preserved (its id), and that output (scrubbed).
    deployment_id: int | None
    output_tail: str | None
    #: ``planned`` until it ends; then ``rolled_back``, ``not_rolled_back`` or ``unknown``.
    outcome: str
    new_deployment_id: str | None
    finished_at: datetime | None
    #: None = no checks ran (none configured, or nothing was rolled back).
    verified: bool | None
    summary: str
    details: dict[str, Any]
    #: The failure it was recorded on (its number; None when there was none).
    failure_number: int | None = None
    #: Its database id (None when there was none): for joining, not for showing.
    failure_id: int | None = None
