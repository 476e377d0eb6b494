"""The REST API's request and response models (what /openapi.json documents).

Limits mirror the columns (a 200-character component; a NUL character,
which PostgreSQL refuses in text, is kept as ``\\x00``; numbers within
``domain.limits``) so that bad input is a 422 naming the field, never a
database error.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from faultbook.capture.scrub import storable
from faultbook.domain import Deployment, DeploymentOutcome, Failure, Status, ensure_aware
from faultbook.domain.limits import MAX_NUMBER, in_time_range


def _no_nul(value: str) -> str:
    """Text a database can store: valid Unicode (JSON's "\\ud800" escape decodes to a lone surrogate,
    which no UTF-8 encoder accepts), and NUL kept as ``\\x00`` like everywhere else (``storable``)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"is not valid Unicode: a lone surrogate at character {exc.start + 1}") from None
    return storable(value)


def _aware(value: datetime) -> datetime:
    value = ensure_aware(value)
    if not in_time_range(value):
        raise ValueError("is out of range: faultbook keeps times from 1900-01-01 to 9000-01-01 (UTC)")
    return value


Text = Annotated[str, AfterValidator(_no_nul), Field(max_length=100_000)]
Short = Annotated[str, AfterValidator(_no_nul), Field(max_length=200)]
Line = Annotated[str, AfterValidator(_no_nul), Field(min_length=1, max_length=2000, pattern=r"^[^\r\n]*\S[^\r\n]*$")]
Name = Annotated[str, AfterValidator(_no_nul), Field(min_length=1, max_length=200, pattern=r"\S")]
When = Annotated[datetime, AfterValidator(_aware)]
StatusWord = Literal["open", "resolved", "workaround"]
OutcomeWord = Literal["running", "succeeded", "failed", "interrupted"]
Key = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimelineEventOut(BaseModel):
    at: datetime
    kind: str
    description: str
    actor: Optional[str] = None
    details: dict[str, Any] = {}


class FailureOut(BaseModel):
    number: int
    title: str
    occurred_at: Optional[datetime] = None
    component: str
    component_detail: Optional[str] = None
    step: str
    error_message: str
    root_cause: str
    resolution: str
    status: StatusWord
    lessons_learned: str
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    resolved_at: Optional[datetime] = None
    occurrence_count: int
    first_seen: Optional[datetime] = None
    last_seen: Optional[datetime] = None
    fingerprint: Optional[str] = None
    error_code: Optional[int] = None
    suggested_fields: list[str] = []
    timeline: list[TimelineEventOut] = []

    @classmethod
    def of(cls, failure: Failure) -> "FailureOut":
        return cls.model_validate(failure.to_json(extended=True))


class OccurrenceOut(BaseModel):
    occurred_at: datetime
    error_message: str
    fingerprint: Optional[str] = None
    deployment_key: Optional[str] = None
    deployment_number: Optional[int] = Field(default=None, description="/deployments/{number}")
    git_commit: Optional[str] = None
    version_id: Optional[str] = None


class SuspectChangeOut(BaseModel):
    """One thing that changed since the last successful deployment (``services.suspect``)."""

    model_config = ConfigDict(extra="allow")  # commits add hash, author, subject; lockfile items add file
    kind: str = Field(description="binding, compatibility, config, var, secret, lockfile or commit")
    summary: str
    key: str = ""
    before: Any = None
    after: Any = None
    named_in_error: bool = Field(False, description="The error text names what this change touches.")


class FailureDetailOut(FailureOut):
    occurrences: list[OccurrenceOut] = []
    suspect_changes: list[SuspectChangeOut] = []


class FailurePageOut(BaseModel):
    items: list[FailureOut]
    total: int
    limit: int
    offset: int
    sort: str = Field(description="The order of the items: 'relevance' (best match first) or a column, '-' descending. "
                      "A search matching more than 5,000 failures comes newest first.")


class FailureIn(Strict):
    title: Line = Field(max_length=2000)
    component: Name
    occurred_at: Optional[When] = None
    component_detail: Optional[Annotated[str, AfterValidator(_no_nul), Field(max_length=500)]] = None
    step: Text = ""
    error_message: Text = ""
    root_cause: Text = ""
    resolution: Text = ""
    status: StatusWord = "open"
    lessons_learned: Text = ""
    fingerprint: Optional[Short] = Field(default=None, max_length=100)
    error_code: Optional[int] = Field(default=None, ge=0, le=MAX_NUMBER)

    def to_domain(self) -> Failure:
        data = self.model_dump()
        data["status"] = Status(data["status"])
        return Failure(number=None, **data)


class FailurePatch(Strict):
    title: Optional[Line] = None
    component: Optional[Name] = None
    occurred_at: Optional[When] = None
    component_detail: Optional[Annotated[str, AfterValidator(_no_nul), Field(max_length=500)]] = None
    step: Optional[Text] = None
    error_message: Optional[Text] = None
    root_cause: Optional[Text] = None
    resolution: Optional[Text] = None
    status: Optional[StatusWord] = None
    lessons_learned: Optional[Text] = None

    def changes(self) -> dict[str, Any]:
        # Only fields the client sent; explicit nulls mean "leave" except for the nullable two.
        sent = self.model_dump(exclude_unset=True)
        return {k: v for k, v in sent.items() if v is not None or k in ("component_detail", "occurred_at")}


class PotentialFailureOut(BaseModel):
    number: int
    title: str
    component: str
    step: str
    possible_error_messages: list[str]
    likely_root_causes: list[str]
    planned_resolution: list[str]
    prevention: list[str]


class DeploymentIn(Strict):
    key: Key
    started_at: When
    command: Annotated[str, AfterValidator(_no_nul), Field(max_length=10_000)]
    outcome: OutcomeWord = "succeeded"
    finished_at: Optional[When] = None
    component: Optional[Short] = None
    step: Optional[Text] = None
    environment: Optional[Short] = None
    cwd: Optional[Text] = None
    exit_code: Optional[int] = Field(default=None, ge=-(2**31), le=MAX_NUMBER)
    git_commit: Optional[Annotated[str, AfterValidator(_no_nul), Field(max_length=64)]] = None
    git_branch: Optional[Annotated[str, AfterValidator(_no_nul), Field(max_length=300)]] = None
    git_dirty: Optional[bool] = None
    config_hash: Optional[Annotated[str, AfterValidator(_no_nul), Field(max_length=100)]] = None
    version_id: Optional[Annotated[str, AfterValidator(_no_nul), Field(max_length=100)]] = None
    url: Optional[Text] = None
    kind: Optional[Literal["deploy", "provision", "other"]] = Field(
        default=None, description="deploy, provision or other; omitted = classified from the command."
    )

    def to_domain(self) -> Deployment:
        data = self.model_dump()
        data["outcome"] = DeploymentOutcome(data["outcome"])
        return Deployment(id=None, **data)


class DeploymentOut(BaseModel):
    id: Optional[int] = None
    number: Optional[int] = Field(default=None, description="The deployment's number (/deployments/{number}).")
    kind: Optional[str] = Field(default=None, description="deploy, provision or other.")
    key: Optional[str] = None
    started_at: datetime
    finished_at: Optional[datetime] = None
    command: str
    outcome: OutcomeWord
    component: Optional[str] = None
    step: Optional[str] = None
    environment: Optional[str] = None
    cwd: Optional[str] = None
    exit_code: Optional[int] = None
    git_commit: Optional[str] = None
    git_branch: Optional[str] = None
    git_dirty: Optional[bool] = None
    config_hash: Optional[str] = None
    version_id: Optional[str] = None
    url: Optional[str] = None
    failure_number: Optional[int] = None


class DeploymentPageOut(BaseModel):
    items: list[DeploymentOut]
    total: int
    limit: int
    offset: int


def _storable_json(value: Any) -> Any:
    """Every string in a JSON value (keys too) through ``_no_nul``: NUL kept as ``\\x00``, no lone surrogate."""
    if isinstance(value, str):
        return _no_nul(value)
    if isinstance(value, dict):
        return {_no_nul(str(k)): _storable_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable_json(v) for v in value]
    return value


#: A snapshot is about 1 KB (services.snapshot); anything near this is not one.
MAX_SNAPSHOT_CHARS = 200_000


class ReportIn(Strict):
    deployment: DeploymentIn
    failure: Optional[FailureIn] = None
    output_tail: Optional[Annotated[str, AfterValidator(_no_nul), Field(max_length=200_000)]] = None
    host: Optional[Short] = None
    endpoint: Optional[Annotated[str, AfterValidator(_no_nul), Field(max_length=2000)]] = Field(
        default=None, description="The Cloudflare API path the failure's request went to (fingerprint v2 keys by "
        "its API family); omitted by older clients.")
    snapshot: Optional[dict[str, Any]] = Field(
        default=None, description="What the deployment deployed, scrubbed (faultbook's services.snapshot): "
        "bindings, compatibility settings, var and secret names, dependency versions. Feeds the suspect change.")

    @field_validator("snapshot")
    @classmethod
    def _small_snapshot(cls, value: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False)
        if len(text) > MAX_SNAPSHOT_CHARS:
            raise ValueError(f"a snapshot may be at most {MAX_SNAPSHOT_CHARS} characters of JSON")
        return _storable_json(value)


class ReportOut(BaseModel):
    created: bool
    deployment: DeploymentOut
    failure_number: Optional[int] = None
    recurrence: bool = False
    regression: bool = False


class RateOut(BaseModel):
    failed_deployments: int
    deployments: int
    rate: Optional[float] = None
    bucket: Optional[str] = None


class RestoreOut(BaseModel):
    seconds: Optional[float] = None
    restored_failures: int
    bucket: Optional[str] = None


class MetricsOut(BaseModel):
    since: datetime
    until: datetime
    weeks: list[str]
    deployments_per_week: list[int]
    deployment_frequency_bucket: Optional[str] = None
    change_failure_rate: RateOut
    median_time_to_restore: RestoreOut
    failures_per_component: dict[str, list[int]]
    filters: dict[str, Optional[str]] = Field(default_factory=dict)
    deployments: list[dict[str, Any]] = Field(default_factory=list, description="The deployments counted.")
    restores: list[dict[str, Any]] = Field(default_factory=list, description="The restored failures timed.")
    unmeasured_restores: int = Field(0, description="Resolved, but with no trustworthy start: not in the median.")


class TokenIn(Strict):
    role: Literal["reader", "writer", "admin"]
    name: Optional[Name] = None
    all_projects: bool = Field(
        default=False, description="Valid for every project on this database (only an all-projects admin may grant it); "
        "otherwise the token works for this server's project only.")


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime
    last_used_at: Optional[datetime] = None
    revoked_at: Optional[datetime] = None
    project: Optional[str] = Field(default=None, description="The project it works for; null = every project.")


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret: shown once, store it now.")


class HealthOut(BaseModel):
    status: Literal["ok"]


# ---------------------------------------------------------------- knowledge, import, follow-ups


class ExplainIn(Strict):
    text: Text = Field(min_length=1, description="The error text; a whole wrangler [ERROR] block is fine.")
    code: Optional[int] = Field(None, ge=0, le=MAX_NUMBER, description="The API error code, if the text lacks it.")
    component: Optional[Short] = None
    endpoint: Optional[Short] = Field(None, description="The API path that returned the error, or an API name.")
    limit: int = Field(3, ge=1, le=20)


class MatchOut(BaseModel):
    source: Literal["ledger", "catalog", "potential"]
    title: str
    root_cause: str
    resolution: str
    lessons: str
    failure_number: Optional[int] = None
    status: Optional[StatusWord] = None
    score: float
    known_error_id: Optional[str] = None
    transient: bool
    code: Optional[int] = None
    docs: Optional[str] = None
    reason: str = ""


class KnownErrorOut(BaseModel):
    id: str
    code: Optional[int] = None
    endpoint: str
    message: str
    title: str
    component: str
    step: str
    cause: str
    fix: str
    lessons: str = ""
    transient: bool = False
    docs: Optional[str] = None


class RuleOut(BaseModel):
    id: str
    name: str
    severity: str
    online: bool
    summary: str
    explanation: str


class MergeIn(Strict):
    other: int = Field(ge=1, le=MAX_NUMBER, description="The failure merged into this one (B into A).")


class ImportOut(BaseModel):
    created: list[int]
    updated: list[int]
    potential_created: list[int]
    potential_updated: list[int]
    warnings: list[str]


class FollowupOut(BaseModel):
    id: int
    title: str
    status: str
    created_at: datetime
    done_at: Optional[datetime] = None
    failure: Optional[int] = None
    source: str
