"""Plain values of the ledger (see models.py)."""

from faultbook.domain.models import (
    STANDARD_COMPONENTS,
    Deployment,
    DeploymentOutcome,
    DocumentPart,
    Failure,
    FailuresSlot,
    LedgerDocument,
    PotentialFailure,
    PotentialFailuresSlot,
    Section,
    Status,
    TimelineEvent,
    TimelineKind,
    ensure_aware,
    utcnow,
)

__all__ = [
    "STANDARD_COMPONENTS",
    "Deployment",
    "DeploymentOutcome",
    "DocumentPart",
    "Failure",
    "FailuresSlot",
    "LedgerDocument",
    "PotentialFailure",
    "PotentialFailuresSlot",
    "Section",
    "Status",
    "TimelineEvent",
    "TimelineKind",
    "ensure_aware",
    "utcnow",
]
