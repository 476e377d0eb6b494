"""The ledger's tables (SQLAlchemy 2 declarative).

One database holds several projects (a team server shares one), so every row
hangs off ``projects``.  Failure and potential-failure numbers are unique per
project and stay as the user wrote them; ``position`` keeps document order for
the Markdown export.  Times are stored as UTC and come back timezone-aware on
SQLite and PostgreSQL alike (``UTCDateTime``).

The schema itself is owned by the Alembic migrations in ``migrations/``: a
test compares these classes with a database migrated from empty, so the two
cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, whatever the backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The imported document's layout (prose sections and slots) as JSON; null = default layout.
    document_layout: Mapped[list | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FailureRow(Base):
    __tablename__ = "failures"
    __table_args__ = (
        UniqueConstraint("project_id", "number", name="uq_failures_project_number"),
        CheckConstraint("status IN ('open', 'resolved', 'workaround')", name="ck_failures_status"),
        Index("ix_failures_project_status", "project_id", "status"),
        Index("ix_failures_project_fingerprint", "project_id", "fingerprint"),
        Index("ix_failures_project_occurred", "project_id", "occurred_at"),
        Index("ix_failures_project_position", "project_id", "position"),
        Index("ix_failures_project_updated", "project_id", "updated_at"),
        Index("ix_failures_project_last_seen", "project_id", "last_seen"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    component: Mapped[str] = mapped_column(String(200))
    component_detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    step: Mapped[str] = mapped_column(Text, default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    lessons_learned: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Recognition (capture): the normalised fingerprint, the API code, and counts.
    fingerprint: Mapped[str | None] = mapped_column(String(100), nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    occurrence_count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    suggested_fields: Mapped[list] = mapped_column(JSON, default=list)
    #: Triage: ``not_deployment`` = not a failure of the project's deploy (kept, but out of the metrics).
    triage: Mapped[str | None] = mapped_column(String(30), nullable=True)
    #: The number of the failure this one was merged into (migration 0009_merge_state); None: not merged.
    merged_into: Mapped[int | None] = mapped_column(Integer, nullable=True)

    events: Mapped[list["TimelineRow"]] = relationship(
        back_populates="failure", order_by="TimelineRow.id", cascade="all, delete-orphan"
    )


class PotentialFailureRow(Base):
    __tablename__ = "potential_failures"
    __table_args__ = (UniqueConstraint("project_id", "number", name="uq_potential_project_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    component: Mapped[str] = mapped_column(String(200))
    step: Mapped[str] = mapped_column(Text, default="")
    possible_error_messages: Mapped[list] = mapped_column(JSON, default=list)
    likely_root_causes: Mapped[list] = mapped_column(JSON, default=list)
    planned_resolution: Mapped[list] = mapped_column(JSON, default=list)
    prevention: Mapped[list] = mapped_column(JSON, default=list)


class TimelineRow(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_failure", "failure_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    failure_id: Mapped[int] = mapped_column(ForeignKey("failures.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    failure: Mapped[FailureRow] = relationship(back_populates="events")


class DeploymentRow(Base):
    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("project_id", "key", name="uq_deployments_project_key"),
        CheckConstraint(
            "outcome IN ('running', 'succeeded', 'failed', 'interrupted')", name="ck_deployments_outcome"
        ),
        Index("ix_deployments_project_started", "project_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    #: A client-chosen unique key (uuid): the idempotency key when CI reports to a server.
    key: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    component: Mapped[str | None] = mapped_column(String(200), nullable=True)
    step: Mapped[str | None] = mapped_column(Text, nullable=True)
    environment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    command: Mapped[str] = mapped_column(Text)
    cwd: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str] = mapped_column(String(20))
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    git_commit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    git_branch: Mapped[str | None] = mapped_column(String(300), nullable=True)
    git_dirty: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    config_hash: Mapped[str | None] = mapped_column(String(100), nullable=True)
    version_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    host: Mapped[str | None] = mapped_column(String(300), nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The bounded, scrubbed tail of the command's output (for bundles and post-mortems).
    output_tail: Mapped[str | None] = mapped_column(Text, nullable=True)
    failure_id: Mapped[int | None] = mapped_column(
        ForeignKey("failures.id", ondelete="SET NULL"), nullable=True
    )
    #: What was deployed, scrubbed (``services.snapshot``): the suspect change compares two of these.
    snapshot: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    #: ``deploy`` / ``provision`` / ``other`` (domain/classify.py); null = classify ``command`` when read.
    kind: Mapped[str | None] = mapped_column(String(20), nullable=True)


class AuditEventRow(Base):
    """Triage that leaves no failure behind to carry a timeline: deletions, merges, undos, marks."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_project_at", "project_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: ``delete``, ``merge``, ``mark_not_deployment``, ``undo_status``, ``bulk_status``.
    action: Mapped[str] = mapped_column(String(50))
    #: What it was done to, e.g. ``failure #12``.
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class OccurrenceRow(Base):
    __tablename__ = "occurrences"
    __table_args__ = (Index("ix_occurrences_failure", "failure_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    failure_id: Mapped[int] = mapped_column(ForeignKey("failures.id", ondelete="CASCADE"))
    deployment_id: Mapped[int | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), nullable=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    error_message: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str | None] = mapped_column(String(100), nullable=True)


class FingerprintAliasRow(Base):
    """A fingerprint that belongs to another failure (a merge made permanent)."""

    __tablename__ = "fingerprint_aliases"
    __table_args__ = (UniqueConstraint("project_id", "fingerprint", name="uq_alias_project_fp"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(100))
    failure_id: Mapped[int] = mapped_column(ForeignKey("failures.id", ondelete="CASCADE"))


class ApiTokenRow(Base):
    """A team-server API token: only its SHA-256 is stored; the token is shown once at creation."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_api_tokens_hash"),
        CheckConstraint("role IN ('reader', 'writer', 'admin')", name="ck_api_tokens_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The project key this token works for; null = every project (``--all-projects``); "" = none (a token
    #: from before scopes in a database with several projects: see migration 0011_token_scope).
    project_key: Mapped[str | None] = mapped_column(String(200), nullable=True)


class RecoverySnapshotRow(Base):
    """One rollback: the state preserved before it (seed step 3) and what then happened.

    Written and committed *before* anything is changed, so the record exists
    even when faultbook dies mid-rollback; ``outcome`` starts as ``planned``
    and is set afterwards to ``rolled_back``, ``not_rolled_back`` or
    ``unknown`` (the API could not be asked whether the change landed).
    """

    __tablename__ = "recovery_snapshots"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('planned', 'rolled_back', 'not_rolled_back', 'unknown')", name="ck_recovery_outcome"
        ),
        Index("ix_recovery_project_created", "project_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    failure_id: Mapped[int | None] = mapped_column(ForeignKey("failures.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: "worker" or "pages".
    kind: Mapped[str] = mapped_column(String(20))
    #: The Worker's or the Pages project's name.
    target_name: Mapped[str] = mapped_column(String(300))
    environment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    account_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    live_deployment_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: The live traffic split before the rollback: [{"version_id", "percentage"}].
    live_versions: Mapped[list] = mapped_column(JSON, default=list)
    target_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    config_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The wrangler config's text, scrubbed.
    config_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The faultbook deployment whose output was preserved, and that output (scrubbed).
    deployment_id: Mapped[int | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), nullable=True
    )
    output_tail: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str] = mapped_column(String(20), default="planned")
    new_deployment_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: None = no checks ran (none configured, or nothing was rolled back).
    verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    #: The plain-words account of what did and did not happen.
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class FollowupRow(Base):
    """Something to do later, e.g. the seed's step 6 "Schedule redeployment after issue resolution"."""

    __tablename__ = "followups"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'done')", name="ck_followups_status"),
        Index("ix_followups_project_status", "project_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    failure_id: Mapped[int | None] = mapped_column(ForeignKey("failures.id", ondelete="SET NULL"), nullable=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: What opened it: "rollback", "rollback-on-failure", "manual".
    source: Mapped[str] = mapped_column(String(50), default="manual")
