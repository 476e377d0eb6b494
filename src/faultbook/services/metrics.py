"""Delivery metrics as Google's Four Keys defines them, over the ledger.

Pure arithmetic over plain values (``DeploymentFact``, ``IncidentFact``) so
the numbers are unit-tested exactly, plus one thin loader, ``load_metrics``,
that reads those values from the database.

Definitions (Four Keys, ``METRICS.md`` / ``queries/*.sql``), with one change:
Four Keys links incidents to deployments by scraping ``root cause: <sha>``
text; faultbook links explicitly (``deployments.failure_id``, an occurrence's
``deployment_id``, or the deployment's own ``failed`` outcome).

* Only *deploy* commands are deployments (``deployments.kind``, domain/classify.py): creating a bucket,
  ``pwd`` or a typo is not a deployment and is not counted anywhere here.  Failures marked "not a deployment
  failure" (triage) are left out too.
* Deployment frequency: deployments per ISO week (weeks start Monday, UTC).
* Change failure rate: distinct deployments linked to at least one failure
  ÷ distinct deployments, over the period.
* Time to restore: median over restored failures, from the deployment that introduced the failure (or, after
  a regression, the one that reopened it) to the deployment that restored service: the first successful deploy
  of the same component after the failure was last seen, if it came before the failure was marked resolved;
  else the moment it was marked resolved (a change outside faultbook).  A failure with no causing deployment
  counts from when it happened only if it was recorded as it happened (within ``LIVE_RECORDING`` of it);
  one imported or typed in later has no trustworthy start, and is left out rather than counted from a
  historic date to today's click (an imported 2025 failure resolved today read 452 days).

DORA buckets (Four Keys' dashboard thresholds):

* time to restore: < 1 day elite, < 1 week high, < 1 month medium, else low;
* change failure rate: ≤ 15 % elite, < 46 % medium ("16–45 %"), else low
  ("46–60 %") — Four Keys has no separate "high" band for this key;
* deployment frequency: daily (≥ 7 a week on average) elite, weekly (≥ 1)
  high, monthly (≥ 1 per 4 weeks) medium, else low.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from faultbook.domain import TimelineKind, utcnow

DAY = timedelta(days=1)


@dataclass(frozen=True)
class DeploymentFact:
    id: int
    started_at: datetime
    outcome: str
    #: Ids of failures this deployment is linked to (failure_id and occurrences).
    failure_ids: frozenset[int] = frozenset()
    component: str | None = None
    environment: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == "failed" or bool(self.failure_ids)


@dataclass(frozen=True)
class IncidentFact:
    failure_id: int
    component: str
    started_at: datetime  # occurred_at, else created_at
    resolved_at: datetime | None = None
    #: Start times of the deployments that caused it (linked explicitly).
    deployment_times: tuple[datetime, ...] = ()
    #: False when nothing says when it began (imported or typed in later, no causing deployment).
    measurable: bool = True
    #: When the deployment that restored service finished (None: restored by the status change).
    restored_by_at: datetime | None = None
    number: int | None = None
    restored_by: int | None = None
    caused_by: int | None = None

    @property
    def restored_at(self) -> datetime | None:
        if self.resolved_at is None:
            return None
        if self.restored_by_at is not None and self.restored_by_at <= self.resolved_at:
            return self.restored_by_at
        return self.resolved_at

    @property
    def restore_start(self) -> datetime:
        return min((self.started_at, *self.deployment_times))

    @property
    def restore_time(self) -> timedelta | None:
        end = self.restored_at
        if end is None or not self.measurable:
            return None
        return max(end - self.restore_start, timedelta(0))

    def to_json(self) -> dict[str, Any]:
        value = self.restore_time
        return {
            "failure_number": self.number,
            "component": self.component,
            "started_at": self.restore_start.isoformat(),
            "caused_by_deployment": self.caused_by,
            "restored_at": self.restored_at.isoformat() if self.restored_at else None,
            "restored_by_deployment": self.restored_by if self.restored_at == self.restored_by_at else None,
            "seconds": value.total_seconds() if value is not None else None,
            "measurable": self.measurable,
        }


@dataclass(frozen=True)
class Rate:
    failed: int
    total: int

    @property
    def value(self) -> float | None:
        return self.failed / self.total if self.total else None


@dataclass(frozen=True)
class Metrics:
    since: datetime
    until: datetime
    weeks: tuple[date, ...]
    deployments_per_week: tuple[int, ...]
    change_failure_rate: Rate
    median_time_to_restore: timedelta | None
    restored: int
    failures_per_component: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: The rows behind the figures: the deployments counted, and the restored failures.
    deployment_rows: tuple[DeploymentFact, ...] = ()
    restore_rows: tuple[IncidentFact, ...] = ()
    #: Resolved in the period, but with no trustworthy start (left out of the median).
    unmeasured: int = 0
    component: str | None = None
    environment: str | None = None

    @property
    def cfr_bucket(self) -> str | None:
        return cfr_bucket(self.change_failure_rate.value)

    @property
    def restore_bucket(self) -> str | None:
        return restore_bucket(self.median_time_to_restore)

    @property
    def frequency_bucket(self) -> str | None:
        # No deployments at all is an empty ledger (or a filter that matches nothing), not a "low" team.
        if not sum(self.deployments_per_week):
            return None
        return frequency_bucket(self.deployments_per_week)

    def to_json(self) -> dict[str, Any]:
        mttr = self.median_time_to_restore
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "weeks": [w.isoformat() for w in self.weeks],
            "deployments_per_week": list(self.deployments_per_week),
            "deployment_frequency_bucket": self.frequency_bucket,
            "change_failure_rate": {
                "failed_deployments": self.change_failure_rate.failed,
                "deployments": self.change_failure_rate.total,
                "rate": self.change_failure_rate.value,
                "bucket": self.cfr_bucket,
            },
            "median_time_to_restore": {
                "seconds": mttr.total_seconds() if mttr is not None else None,
                "restored_failures": self.restored,
                "bucket": self.restore_bucket,
            },
            "failures_per_component": {k: list(v) for k, v in self.failures_per_component.items()},
            "filters": {"component": self.component, "environment": self.environment},
            "deployments": [
                {"number": d.id, "started_at": d.started_at.isoformat(), "outcome": d.outcome,
                 "failed": d.failed, "component": d.component, "environment": d.environment}
                for d in self.deployment_rows
            ],
            "restores": [i.to_json() for i in self.restore_rows],
            "unmeasured_restores": self.unmeasured,
        }


# ---------------------------------------------------------------- pure arithmetic


def week_start(moment: datetime) -> date:
    day = moment.astimezone(timezone.utc).date()
    return day - timedelta(days=day.weekday())


def week_range(since: datetime, until: datetime) -> list[date]:
    """Every Monday from the week holding ``since`` to the week holding ``until`` (exclusive end moment)."""
    first = week_start(since)
    last = week_start(until - timedelta(microseconds=1)) if until > since else first
    weeks = []
    current = first
    while current <= last:
        weeks.append(current)
        current += timedelta(days=7)
    return weeks


def per_week(times: Iterable[datetime], weeks: Sequence[date]) -> tuple[int, ...]:
    index = {w: i for i, w in enumerate(weeks)}
    counts = [0] * len(weeks)
    for moment in times:
        i = index.get(week_start(moment))
        if i is not None:
            counts[i] += 1
    return tuple(counts)


def change_failure_rate(deployments: Iterable[DeploymentFact]) -> Rate:
    seen: dict[int, bool] = {}
    for d in deployments:
        seen[d.id] = seen.get(d.id, False) or d.failed
    return Rate(failed=sum(seen.values()), total=len(seen))


def median_time_to_restore(incidents: Iterable[IncidentFact]) -> tuple[timedelta | None, int]:
    times = [i.restore_time for i in incidents if i.restore_time is not None]
    if not times:
        return None, 0
    seconds = statistics.median(t.total_seconds() for t in times)
    return timedelta(seconds=seconds), len(times)


def restore_bucket(value: timedelta | None) -> str | None:
    if value is None:
        return None
    if value < DAY:
        return "elite"
    if value < 7 * DAY:
        return "high"
    if value < 30 * DAY:
        return "medium"
    return "low"


def cfr_bucket(rate: float | None) -> str | None:
    if rate is None:
        return None
    if rate <= 0.15:
        return "elite"
    if rate < 0.46:
        return "medium"
    return "low"


def frequency_bucket(per_week_counts: Sequence[int]) -> str | None:
    if not per_week_counts:
        return None
    average = sum(per_week_counts) / len(per_week_counts)
    if average >= 7:
        return "elite"
    if average >= 1:
        return "high"
    if average >= 0.25:
        return "medium"
    return "low"


def compute_metrics(
    *,
    deployments: Sequence[DeploymentFact],
    incidents: Sequence[IncidentFact],
    since: datetime,
    until: datetime,
) -> Metrics:
    """All four-keys numbers for [since, until): deployments by start, incidents by start / resolution."""
    weeks = week_range(since, until)
    in_period = [d for d in deployments if since <= d.started_at < until]
    resolved = [i for i in incidents if i.restored_at is not None and since <= i.restored_at < until]
    restored = [i for i in resolved if i.measurable]
    mttr, count = median_time_to_restore(restored)
    components = sorted({i.component for i in incidents if since <= i.started_at < until}, key=str.lower)
    per_component = {
        c: per_week((i.started_at for i in incidents if i.component == c and since <= i.started_at < until), weeks)
        for c in components
    }
    return Metrics(
        since=since,
        until=until,
        weeks=tuple(weeks),
        deployments_per_week=per_week((d.started_at for d in in_period), weeks),
        change_failure_rate=change_failure_rate(in_period),
        median_time_to_restore=mttr,
        restored=count,
        failures_per_component=per_component,
        deployment_rows=tuple(sorted(in_period, key=lambda d: d.started_at, reverse=True)),
        restore_rows=tuple(sorted(restored, key=lambda i: i.restored_at or since, reverse=True)),
        unmeasured=len(resolved) - len(restored),
    )


# ---------------------------------------------------------------- loader


#: How long before a regression was recorded its causing deployment may have started.
REGRESSION_CAUSE_WINDOW = timedelta(hours=1)
#: A failure recorded within this long of when it happened was recorded live: its date is trustworthy.
LIVE_RECORDING = timedelta(days=1)


def load_metrics(
    session: Any,
    *,
    project: Any,
    since: datetime | None = None,
    until: datetime | None = None,
    weeks: int = 12,
    component: str | None = None,
    environment: str | None = None,
) -> Metrics:
    """Read the facts for a project and compute; default period: the last ``weeks`` ISO weeks to now.

    ``component`` / ``environment`` keep the deployments of that component / environment and the failures of
    that component / linked to a deployment in that environment (case-insensitive).
    """
    from sqlalchemy import func, or_, select

    from faultbook.domain.classify import DEPLOY, classify_command
    from faultbook.store.tables import DeploymentRow, FailureRow, OccurrenceRow, ProjectRow, TimelineRow

    until = until or utcnow()
    if since is None:
        since = datetime.combine(week_start(until) - timedelta(weeks=weeks - 1), datetime.min.time(), timezone.utc)
    project_id = session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))

    def empty() -> Metrics:
        m = compute_metrics(deployments=[], incidents=[], since=since, until=until)
        return replace(m, component=component, environment=environment)

    if project_id is None:
        return empty()

    def same(a: str | None, b: str | None) -> bool:
        return b is None or (a or "").lower() == b.lower()

    links: dict[int, set[int]] = {}
    dep_rows = [
        r for r in session.execute(
            select(DeploymentRow.id, DeploymentRow.started_at, DeploymentRow.finished_at, DeploymentRow.outcome,
                   DeploymentRow.failure_id, DeploymentRow.kind, DeploymentRow.command, DeploymentRow.component,
                   DeploymentRow.environment)
            .where(DeploymentRow.project_id == project_id, or_(DeploymentRow.kind == DEPLOY,
                                                               DeploymentRow.kind.is_(None)))
        ).all()
        if (r.kind or classify_command(r.command)) == DEPLOY
    ]
    dep_by_id = {r.id: r for r in dep_rows}
    for r in dep_rows:
        if r.failure_id is not None:
            links.setdefault(r.id, set()).add(r.failure_id)
    occ = session.execute(
        select(OccurrenceRow.deployment_id, OccurrenceRow.failure_id)
        .join(FailureRow, FailureRow.id == OccurrenceRow.failure_id)
        .where(FailureRow.project_id == project_id, OccurrenceRow.deployment_id.is_not(None))
    ).all()
    for dep_id, failure_id in occ:
        if dep_id in dep_by_id:
            links.setdefault(dep_id, set()).add(failure_id)
    fail_rows = session.execute(
        select(
            FailureRow.id, FailureRow.number, FailureRow.component, FailureRow.occurred_at, FailureRow.created_at,
            FailureRow.resolved_at, FailureRow.last_seen, FailureRow.triage,
        ).where(FailureRow.project_id == project_id)
    ).all()
    ignored = {r.id for r in fail_rows if r.triage == "not_deployment"}
    causes: dict[int, list[Any]] = {}
    for dep_id, failure_ids in links.items():
        for failure_id in failure_ids - ignored:
            causes.setdefault(failure_id, []).append(dep_by_id[dep_id])
    kept = [r for r in dep_rows if same(r.component, component) and same(r.environment, environment)]
    deployments = [
        DeploymentFact(id=r.id, started_at=r.started_at, outcome=r.outcome,
                       failure_ids=frozenset(links.get(r.id, set()) - ignored), component=r.component,
                       environment=r.environment)
        for r in kept
    ]
    # Successful deploys per component, in time order: the first one after a failure was last seen restored it.
    fixes: dict[str, list[Any]] = {}
    for r in sorted(dep_rows, key=lambda r: r.started_at):
        if r.outcome == "succeeded" and r.component:
            fixes.setdefault(r.component.lower(), []).append(r)
    # A regression restarts the clock: the incident being restored is the latest one, which began when the
    # failure came back (its causing deployment started moments before), not when it first happened.
    reopened = dict(
        session.execute(
            select(TimelineRow.failure_id, func.max(TimelineRow.at))
            .join(FailureRow, FailureRow.id == TimelineRow.failure_id)
            .where(FailureRow.project_id == project_id, TimelineRow.kind == TimelineKind.REGRESSION)
            .group_by(TimelineRow.failure_id)
        ).all()
    )
    incidents = []
    for r in fail_rows:
        if r.id in ignored or not same(r.component, component):
            continue
        linked = causes.get(r.id, [])
        if environment is not None and not any(same(d.environment, environment) for d in linked):
            continue
        started = r.occurred_at or r.created_at
        again = reopened.get(r.id)
        if again is not None:
            again = again if again.tzinfo else again.replace(tzinfo=timezone.utc)
            started = again
            linked = [d for d in linked if d.started_at >= again - REGRESSION_CAUSE_WINDOW]
        live = again is not None or (r.created_at - started) <= LIVE_RECORDING
        first = min(linked, key=lambda d: d.started_at) if linked else None
        restored_by = None
        if r.resolved_at is not None:
            after = r.last_seen or started
            restored_by = next((d for d in fixes.get((r.component or "").lower(), [])
                                if d.started_at > after and d.id not in {c.id for c in linked}), None)
        incidents.append(
            IncidentFact(
                failure_id=r.id,
                component=r.component,
                started_at=started,
                resolved_at=r.resolved_at,
                deployment_times=tuple(d.started_at for d in linked),
                measurable=bool(linked) or live,
                restored_by_at=(restored_by.finished_at or restored_by.started_at) if restored_by else None,
                number=r.number,
                restored_by=restored_by.id if restored_by else None,
                caused_by=first.id if first else None,
            )
        )
    m = compute_metrics(deployments=deployments, incidents=incidents, since=since, until=until)
    return replace(m, component=component, environment=environment)


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
