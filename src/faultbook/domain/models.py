"""The ledger's vocabulary as plain values: no I/O, no ORM, no printing.

These dataclasses are what the Markdown parser produces, what the renderer
consumes, what services return and what the JSON output is made of.  The
store maps them to and from tables; nothing here knows that tables exist.

Field names are the public JSON keys (see ``Failure.to_json``): they are API.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any


class Status(str, enum.Enum):
    """A failure's state, as the seed's "Status" field spells it."""

    OPEN = "open"
    RESOLVED = "resolved"
    WORKAROUND = "workaround"

    @property
    def label(self) -> str:
        """The seed's rendering: emoji plus capitalised word."""
        return STATUS_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> "Status":
        """Accept ``✅ Resolved``, ``resolved``, ``RESOLVED``, ``🔴 open`` ...

        Raises ValueError with the accepted words when the text is none of them.
        """
        word = text.strip()
        # Drop any leading emoji / symbols (and variation selectors) before the word.
        while word and not word[0].isalnum():
            word = word[1:]
        word = word.strip().lower()
        for status in cls:
            if word == status.value:
                return status
        raise ValueError(
            f"unknown status {text.strip()!r}: expected one of Open, Resolved, Workaround"
        )


STATUS_LABELS = {
    Status.OPEN: "🔴 Open",
    Status.RESOLVED: "✅ Resolved",
    Status.WORKAROUND: "⚠️ Workaround",
}

#: The components the seed names; a project may use any other string too.
STANDARD_COMPONENTS = ("Backend", "Frontend", "Assets", "DNS")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def ensure_aware(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC (the seed writes every time in UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class TimelineKind(enum.StrEnum):
    """What a timeline event records.  The values are what the database stores and the API shows: they
    keep the spellings of the events already stored (hence the mixed ``-`` and ``_``), and a ``StrEnum``
    compares equal to its stored string, so rows read back need no conversion."""

    CREATED = "created"
    STATUS = "status"
    EDITED = "edited"
    IMPORTED = "imported"
    OCCURRENCE = "occurrence"
    REGRESSION = "regression"
    SUGGESTED = "suggested"
    MERGED = "merged"
    MERGED_INTO = "merged-into"
    STATE_PRESERVED = "state_preserved"
    ROLLBACK = "rollback"
    FOLLOWUP_DONE = "followup_done"
    #: Marked (or unmarked) "not a deployment failure" on the dashboard (services.triage).
    TRIAGE = "triage"


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened to a failure: created, status change, occurrence, rollback ..."""

    at: datetime
    #: A ``TimelineKind`` when written by faultbook; read back as the stored string (equal to it).
    kind: str
    description: str
    actor: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "description": self.description,
            "actor": self.actor,
            "details": self.details,
        }


@dataclass(frozen=True)
class Failure:
    """A deployment failure, exactly the seed's fields plus bookkeeping.

    ``number`` is unique within a project and stays as written (the seed's #2
    happened before #1).  ``error_message`` is exact and may span lines;
    ``resolution`` is Markdown and may hold fenced code.  ``occurred_at`` is
    timezone-aware.
    """

    number: int | None
    title: str
    occurred_at: datetime | None
    component: str
    component_detail: str | None = None
    step: str = ""
    error_message: str = ""
    root_cause: str = ""
    resolution: str = ""
    status: Status = Status.OPEN
    lessons_learned: str = ""
    # Bookkeeping (not part of the seed's Markdown block).
    created_at: datetime | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    occurrence_count: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    fingerprint: str | None = None
    error_code: int | None = None
    #: Field names whose current text was suggested by the knowledge base and not yet confirmed.
    suggested_fields: tuple[str, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()

    #: The JSON keys of ``faultbook list/show --json`` (the issue's contract), in order.
    JSON_KEYS = (
        "number",
        "title",
        "occurred_at",
        "component",
        "component_detail",
        "step",
        "error_message",
        "root_cause",
        "resolution",
        "status",
        "lessons_learned",
    )
    #: Fields a user may set with ``record``/``update``.
    EDITABLE = JSON_KEYS[1:]

    def with_changes(self, **changes: Any) -> "Failure":
        return replace(self, **changes)

    def to_json(self, *, extended: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "title": self.title,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "component": self.component,
            "component_detail": self.component_detail,
            "step": self.step,
            "error_message": self.error_message,
            "root_cause": self.root_cause,
            "resolution": self.resolution,
            "status": self.status.value,
            "lessons_learned": self.lessons_learned,
        }
        if extended:
            data.update(
                {
                    "created_at": _iso(self.created_at),
                    "updated_at": _iso(self.updated_at),
                    "resolved_at": _iso(self.resolved_at),
                    "occurrence_count": self.occurrence_count,
                    "first_seen": _iso(self.first_seen),
                    "last_seen": _iso(self.last_seen),
                    "fingerprint": self.fingerprint,
                    "error_code": self.error_code,
                    "suggested_fields": list(self.suggested_fields),
                    "timeline": [e.to_json() for e in self.timeline],
                }
            )
        return data


@dataclass(frozen=True)
class PotentialFailure:
    """An entry of the seed's "Potential Future Failures" catalog."""

    number: int | None
    title: str
    component: str
    step: str
    possible_error_messages: tuple[str, ...] = ()
    likely_root_causes: tuple[str, ...] = ()
    planned_resolution: tuple[str, ...] = ()
    prevention: tuple[str, ...] = ()

    JSON_KEYS = (
        "number",
        "title",
        "component",
        "step",
        "possible_error_messages",
        "likely_root_causes",
        "planned_resolution",
        "prevention",
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "component": self.component,
            "step": self.step,
            "possible_error_messages": list(self.possible_error_messages),
            "likely_root_causes": list(self.likely_root_causes),
            "planned_resolution": list(self.planned_resolution),
            "prevention": list(self.prevention),
        }


class DeploymentOutcome(str, enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Deployment:
    """One wrapped deploy command (written by capture, read by metrics and recovery)."""

    id: int | None
    started_at: datetime
    command: str
    outcome: DeploymentOutcome = DeploymentOutcome.RUNNING
    finished_at: datetime | None = None
    component: str | None = None
    step: str | None = None
    environment: str | None = None
    cwd: str | None = None
    exit_code: int | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    config_hash: str | None = None
    version_id: str | None = None
    url: str | None = None
    failure_number: int | None = None
    key: str | None = None
    #: ``deploy`` / ``provision`` / ``other`` (domain/classify.py); None = classify ``command``.
    kind: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.id,
            "key": self.key,
            "kind": self.kind,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "command": self.command,
            "outcome": self.outcome.value,
            "component": self.component,
            "step": self.step,
            "environment": self.environment,
            "cwd": self.cwd,
            "exit_code": self.exit_code,
            "git_commit": self.git_commit,
            "git_branch": self.git_branch,
            "git_dirty": self.git_dirty,
            "config_hash": self.config_hash,
            "version_id": self.version_id,
            "url": self.url,
            "failure_number": self.failure_number,
        }


@dataclass(frozen=True)
class Section:
    """A verbatim run of the document that faultbook does not model (prose).

    ``text`` is exact, newlines included, so that rendering concatenates
    sections and generated blocks back into the original bytes.
    """

    text: str


@dataclass(frozen=True)
class FailuresSlot:
    """Where the failure blocks go in the document (inside "Current Failures").

    ``verbatim`` pairs a block's rendering with its bytes as imported, for the
    blocks where the two differ (a trailing space, say): the renderer writes
    the imported bytes while the data still renders the same, so an unchanged
    ledger exports byte for byte.
    """

    verbatim: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PotentialFailuresSlot:
    """Where the potential-failure blocks go (inside "Potential Future Failures"); ``verbatim`` as above."""

    verbatim: tuple[tuple[str, str], ...] = ()


DocumentPart = Section | FailuresSlot | PotentialFailuresSlot


@dataclass(frozen=True)
class LedgerDocument:
    """A parsed failure-tracking document.

    ``layout`` is the document with the modelled blocks cut out: prose sections
    kept verbatim and one slot each where the failures and potential failures
    stand.  Rendering walks the layout and fills the slots from the database, so
    prose survives byte for byte while records are re-rendered.
    """

    layout: tuple[DocumentPart, ...]
    failures: tuple[Failure, ...] = ()
    potential_failures: tuple[PotentialFailure, ...] = ()
    #: 1-based line where each failure / potential failure block starts (for messages).
    failure_lines: tuple[int, ...] = ()
    potential_failure_lines: tuple[int, ...] = ()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
