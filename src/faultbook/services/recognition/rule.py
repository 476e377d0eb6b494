"""The recognition rule, as a pure function: what one failed deployment's error comes to.

- the error's fingerprint is owned by a failure: one more occurrence on it (count, first/last seen);
- that failure was Resolved: it is reopened and the occurrence is a ``regression``, carrying the resolution
  that did not hold;
- nobody owns it: a new failure, with root cause and resolution pre-filled from the best knowledge-base match
  and listed in ``suggested_fields`` until a person confirms them.

``decide`` reads nothing and writes nothing: the caller looks the owner up, consults the knowledge base, and
hands the decision to a writer (``writers``).  That keeps the rule testable without a database and the speed
work (batching, prefetching, early reads on PostgreSQL) out of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from faultbook.domain import Failure, Status, TimelineEvent, TimelineKind
from faultbook.knowledge.match import Match

#: The fields a match may pre-fill on a new failure (marked suggested, not confirmed).
SUGGESTED = ("root_cause", "resolution")


@dataclass(frozen=True)
class Recur:
    """Count the error on the failure that owns it (``regression``: it was Resolved, and is reopened)."""

    failure: Failure
    #: The owner's columns after counting (what a writer stores, and what a later recurrence continues from).
    counted: dict[str, Any]
    event: TimelineEvent
    regression: bool


@dataclass(frozen=True)
class New:
    """Record a new failure (numbered by the writer) with what the knowledge base suggested."""

    failure: Failure
    #: The match the suggestion came from, and the fields it filled.
    suggestion: Match | None
    filled: tuple[str, ...]


Decision = Recur | New


def decide(
    *,
    owner: Failure | None,
    draft: Failure,
    fingerprint: str,
    code: int | None,
    matches: Sequence[Match],
    at: datetime,
    now: datetime,
    deployment_id: int | None,
    actor: str | None,
) -> Decision:
    """The rule.  ``owner``: the failure owning the draft's fingerprint, as counted so far; ``at``: when the
    error happened; ``now``: the clock, for ``updated_at`` and the event."""
    if owner is not None:
        return _recur(owner, draft=draft, code=code, at=at, now=now, deployment_id=deployment_id, actor=actor)
    best = next((m for m in matches if m.root_cause or m.resolution), None)
    filled: dict[str, str] = {}
    if best is not None:
        for name, value in (("root_cause", best.root_cause), ("resolution", best.resolution)):
            if not getattr(draft, name) and value:
                filled[name] = value
    new = draft.with_changes(
        number=None,
        fingerprint=fingerprint,
        error_code=code,
        occurrence_count=1,
        first_seen=at,
        last_seen=at,
        occurred_at=at,
        suggested_fields=tuple(name for name in SUGGESTED if name in filled),
        **filled,
    )
    return New(failure=new, suggestion=best if filled else None, filled=tuple(filled))


def _recur(
    previous: Failure,
    *,
    draft: Failure,
    code: int | None,
    at: datetime,
    now: datetime,
    deployment_id: int | None,
    actor: str | None,
) -> Recur:
    regression = previous.status is Status.RESOLVED
    count = (previous.occurrence_count or 1) + 1
    error_code = previous.error_code if previous.error_code is not None or code is None else code
    where = f" in deployment {deployment_id}" if deployment_id is not None else ""
    details: dict[str, Any] = {"deployment_id": deployment_id, "occurrence": count, "error_message": draft.error_message}
    if regression:
        event = TimelineEvent(
            at=now,
            kind=TimelineKind.REGRESSION,
            actor=actor,
            description=f"REGRESSION: resolved failure #{previous.number} happened again{where}; reopened",
            details={
                **details,
                "previous_status": previous.status.value,
                "previous_resolved_at": previous.resolved_at.isoformat() if previous.resolved_at else None,
                "previous_resolution": previous.resolution,
            },
        )
    else:
        event = TimelineEvent(
            at=now, kind=TimelineKind.OCCURRENCE, actor=actor, description=f"Seen again (occurrence {count}){where}",
            details=details,
        )
    status = Status.OPEN if regression else previous.status
    counted: dict[str, Any] = {
        "occurrence_count": count,
        "first_seen": earliest(previous.first_seen, at),
        "last_seen": latest(previous.last_seen, at),
        "updated_at": now,
        "error_code": error_code,
        "status": status.value,
        "resolved_at": None if regression else previous.resolved_at,
    }
    failure = previous.with_changes(**{**counted, "status": status})
    return Recur(failure=failure, counted=counted, event=event, regression=regression)


def new_failure_events(decision: New, *, number: int, source: str, actor: str | None, now: datetime) -> list[TimelineEvent]:
    """A new failure's first events: "created", and "suggested" when the knowledge base filled fields."""
    events = [
        TimelineEvent(
            at=now, kind=TimelineKind.CREATED, actor=actor, description=f"Failure #{number} {source}: {decision.failure.title}",
            details={"status": decision.failure.status.value},
        )
    ]
    best = decision.suggestion
    if decision.filled and best is not None:
        events.append(
            TimelineEvent(
                at=now,
                kind=TimelineKind.SUGGESTED,
                actor="faultbook",
                description=f"Suggested {' and '.join(n.replace('_', ' ') for n in decision.filled)} from "
                f"{describe(best)} (not confirmed)",
                details={"fields": list(decision.filled), "source": best.source, "known_error_id": best.known_error_id,
                         "failure_number": best.failure_number, "score": round(best.score, 3)},
            )
        )
    return events


def describe(match: Match) -> str:
    if match.source == "ledger":
        return f"Failure #{match.failure_number}"
    if match.source == "catalog":
        code = f" {match.code}" if match.code is not None else ""
        return f"known Cloudflare error{code} ({match.title})"
    return f"Potential Failure #{match.failure_number} ({match.title})"


def earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)
