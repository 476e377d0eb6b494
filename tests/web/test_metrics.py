"""Four Keys arithmetic with exact numbers, and the loader on both backends."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from faultbook.services.metrics import (
    DeploymentFact,
    IncidentFact,
    cfr_bucket,
    change_failure_rate,
    compute_metrics,
    frequency_bucket,
    median_time_to_restore,
    restore_bucket,
    week_range,
)

T0 = datetime(2025, 8, 4, 9, 0, tzinfo=timezone.utc)  # a Monday


def dep(i: int, days: float, outcome: str = "succeeded", failures: tuple[int, ...] = ()) -> DeploymentFact:
    return DeploymentFact(id=i, started_at=T0 + timedelta(days=days), outcome=outcome, failure_ids=frozenset(failures))


def test_change_failure_rate_counts_distinct_deployments():
    deployments = [
        dep(1, 0),
        dep(2, 1, "failed"),
        dep(3, 2, failures=(7, 8)),  # linked to two failures: counted once
        dep(3, 2, failures=(7,)),  # the same deployment seen twice: still one
        dep(4, 3),
    ]
    rate = change_failure_rate(deployments)
    assert (rate.failed, rate.total, rate.value) == (2, 4, 0.5)
    assert change_failure_rate([]).value is None


def test_time_to_restore_starts_at_the_earlier_of_failure_and_causing_deployment():
    incidents = [
        # Failure noticed 2 h after the deploy that caused it, resolved 1 h later: 3 h.
        IncidentFact(1, "Backend", T0 + timedelta(hours=2), T0 + timedelta(hours=3), (T0,)),
        # No linked deployment: 10 h from the failure.
        IncidentFact(2, "DNS", T0, T0 + timedelta(hours=10)),
        # 2 days.
        IncidentFact(3, "DNS", T0, T0 + timedelta(days=2)),
        # Unresolved: ignored.
        IncidentFact(4, "DNS", T0),
    ]
    median, count = median_time_to_restore(incidents)
    assert (median, count) == (timedelta(hours=10), 3)
    median, count = median_time_to_restore(incidents[:2])
    assert median == timedelta(hours=6, minutes=30)  # mean of the middle pair (3 h, 10 h)


@pytest.mark.parametrize(
    ("hours", "bucket"),
    [(0.5, "elite"), (23.99, "elite"), (24, "high"), (24 * 6.9, "high"), (24 * 7, "medium"), (24 * 29, "medium"), (24 * 30, "low")],
)
def test_restore_buckets(hours, bucket):
    assert restore_bucket(timedelta(hours=hours)) == bucket


@pytest.mark.parametrize(("rate", "bucket"), [(0.0, "elite"), (0.15, "elite"), (0.16, "medium"), (0.45, "medium"), (0.46, "low"), (1.0, "low"), (None, None)])
def test_cfr_buckets(rate, bucket):
    assert cfr_bucket(rate) == bucket


@pytest.mark.parametrize(("weeks", "bucket"), [([7, 7], "elite"), ([1, 1], "high"), ([1, 0, 0, 0], "medium"), ([0, 0, 0, 0, 0], "low")])
def test_frequency_buckets(weeks, bucket):
    assert frequency_bucket(weeks) == bucket


def test_compute_metrics_per_week_and_component():
    since, until = T0 - timedelta(hours=9), T0 + timedelta(days=14)  # Monday 4 Aug 00:00 .. Monday 18 Aug 09:00
    assert week_range(since, until) == [date(2025, 8, 4), date(2025, 8, 11), date(2025, 8, 18)]
    deployments = [dep(1, 0), dep(2, 1, "failed"), dep(3, 8), dep(4, 30)]  # the last is outside
    incidents = [
        IncidentFact(1, "Backend", T0 + timedelta(days=1), T0 + timedelta(days=1, hours=4), (T0 + timedelta(days=1),)),
        IncidentFact(2, "DNS", T0 + timedelta(days=9)),
        IncidentFact(3, "DNS", T0 + timedelta(days=10), T0 + timedelta(days=12)),
    ]
    m = compute_metrics(deployments=deployments, incidents=incidents, since=since, until=until)
    assert m.deployments_per_week == (2, 1, 0)
    assert (m.change_failure_rate.failed, m.change_failure_rate.total) == (1, 3)
    assert m.cfr_bucket == "medium"
    assert m.median_time_to_restore == timedelta(hours=26)  # median of 4 h and 48 h
    assert m.restore_bucket == "high"
    assert m.failures_per_component == {"Backend": (1, 0, 0), "DNS": (0, 2, 0)}
    assert m.to_json()["change_failure_rate"]["rate"] == pytest.approx(1 / 3)


def test_loader_links_deployments_through_failure_id_and_outcome(database, project):
    from faultbook.domain import Deployment, DeploymentOutcome, Failure, Status
    from faultbook.services import ingest, ledger
    from faultbook.services.metrics import load_metrics

    def report(key: str, days: float, outcome: DeploymentOutcome, failure: Failure | None = None) -> None:
        with database.session(write=True) as s:
            ingest.ingest_report(
                s, project=project, failure=failure,
                deployment=Deployment(id=None, key=key, started_at=T0 + timedelta(days=days), command="deploy", outcome=outcome),
            )

    broken = Failure(number=None, title="boom", occurred_at=T0 + timedelta(days=1, hours=1), component="Backend")
    report("a", 0, DeploymentOutcome.SUCCEEDED)
    report("b", 1, DeploymentOutcome.SUCCEEDED, broken)  # succeeded but linked to a failure
    report("c", 2, DeploymentOutcome.FAILED)
    report("d", 3, DeploymentOutcome.SUCCEEDED)
    with database.session(write=True) as s:
        ledger.update_failure(s, project=project, number=1, changes={"status": Status.RESOLVED})
    with database.session() as s:
        m = load_metrics(s, project=project, since=T0 - timedelta(days=1), until=T0 + timedelta(days=7))
    assert (m.change_failure_rate.failed, m.change_failure_rate.total) == (2, 4)
    assert m.failures_per_component == {"Backend": (0, 1, 0)}  # weeks of 28 Jul, 4 Aug, 11 Aug
    # Resolved now, far outside the period: not in this period's time to restore.
    assert m.restored == 0


def test_a_regression_restarts_the_restore_clock(database, project):
    """A failure resolved long ago that comes back and is fixed in 2 hours took 2 hours to restore, not months."""
    from datetime import datetime, timezone

    from faultbook.domain import Failure, Status
    from faultbook.services import ledger, recognition
    from faultbook.services.metrics import load_metrics

    message = "binding IMAGES has an unknown type Images [code: 10021]"
    long_ago = datetime(2025, 8, 20, 14, 15, tzinfo=timezone.utc)
    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=Failure(
            number=None, title="Images", occurred_at=long_ago, component="Backend", error_message=message,
            status=Status.RESOLVED))
    with database.session(write=True) as s:
        result = recognition.record_occurrence(s, project=project, draft=Failure(
            number=None, title="Images", occurred_at=None, component="Backend", error_message=message),
            deployment_id=None)
    assert result.is_regression
    with database.session(write=True) as s:
        ledger.update_failure(s, project=project, number=1, changes={"status": Status.RESOLVED})
    with database.session() as s:
        m = load_metrics(s, project=project)
    assert m.restored == 1
    assert m.median_time_to_restore.total_seconds() < 60  # resolved moments after it came back


def _report(database, project, key, started, command, outcome, *, failure=None, component="Backend",
            environment="production", finished=None):  # type: ignore[no-untyped-def]
    from faultbook.domain import Deployment, DeploymentOutcome
    from faultbook.services import ingest

    with database.session(write=True) as s:
        ingest.ingest_report(s, project=project, failure=failure, deployment=Deployment(
            id=None, key=key, started_at=started, command=command, outcome=DeploymentOutcome(outcome),
            finished_at=finished or started + timedelta(minutes=1), component=component, environment=environment))


def test_only_deploy_commands_are_deployments(database, project):
    from faultbook.services.metrics import load_metrics

    for i, command in enumerate(["npx wrangler deploy", "pwd", "wrangler r2 bucket create b", "npm run deploy",
                                 "wrangelr deploy"]):
        _report(database, project, f"k{i}", T0 + timedelta(days=i), command, "succeeded" if i != 4 else "failed")
    with database.session() as s:
        m = load_metrics(s, project=project, since=T0, until=T0 + timedelta(days=7))
    assert sum(m.deployments_per_week) == 2
    assert (m.change_failure_rate.failed, m.change_failure_rate.total) == (0, 2)
    from faultbook.services import deployments

    with database.session() as s:
        commands = {d.id: d.command for d in deployments.list_deployments(s, project=project)}
    assert sorted(commands[d["number"]] for d in m.to_json()["deployments"]) == ["npm run deploy",
                                                                                 "npx wrangler deploy"]


def test_restore_runs_from_the_causing_to_the_restoring_deployment_and_skips_imported_history(database, project):
    from datetime import datetime

    from faultbook.domain import Failure, Status
    from faultbook.services import ledger
    from faultbook.services.metrics import load_metrics

    now = datetime.now(timezone.utc).replace(microsecond=0)
    broken = Failure(number=None, title="boom", occurred_at=now - timedelta(hours=5), component="Backend",
                     error_message="KV namespace 'CACHE' not found [code: 10041]")
    _report(database, project, "bad", now - timedelta(hours=5), "npx wrangler deploy", "failed", failure=broken)
    _report(database, project, "fix", now - timedelta(hours=2), "npx wrangler deploy", "succeeded",
            finished=now - timedelta(hours=2) + timedelta(minutes=1))
    with database.session(write=True) as s:
        # An imported failure from 2025, resolved today: no trustworthy start.
        ledger.record_failure(s, project=project, failure=Failure(
            number=None, title="old", occurred_at=datetime(2025, 3, 1, tzinfo=timezone.utc), component="DNS"))
        for n in (1, 2):
            ledger.update_failure(s, project=project, number=n, changes={"status": Status.RESOLVED})
    with database.session() as s:
        m = load_metrics(s, project=project, weeks=2)
    assert m.restored == 1 and m.unmeasured == 1
    # From the failed deployment's start to the fixing deployment's end: 3 h 1 min, not until "now".
    assert m.median_time_to_restore == timedelta(hours=3, minutes=1)
    (row,) = m.to_json()["restores"]
    from faultbook.services import deployments

    with database.session() as s:
        ids = {d.key: d.id for d in deployments.list_deployments(s, project=project)}
    assert (row["failure_number"], row["caused_by_deployment"], row["restored_by_deployment"]) == (
        1, ids["bad"], ids["fix"])
    with database.session() as s:
        dns = load_metrics(s, project=project, weeks=2, component="dns")
        staging = load_metrics(s, project=project, weeks=2, environment="staging")
    assert dns.restored == 0 and sum(dns.deployments_per_week) == 0
    assert sum(staging.deployments_per_week) == 0


def test_an_empty_ledger_gets_no_bucket(database, project):
    from faultbook.services.metrics import load_metrics

    with database.session() as s:
        m = load_metrics(s, project=project)
    assert (m.frequency_bucket, m.cfr_bucket, m.restore_bucket) == (None, None, None)


def test_week_labels_carry_the_year_when_the_range_spans_two():
    from faultbook.web.routes.metrics import week_labels

    assert week_labels([date(2025, 12, 22), date(2025, 12, 29)]) == ["22 Dec", "29 Dec"]
    assert week_labels([date(2025, 12, 29), date(2026, 1, 5)]) == ["29 Dec 2025", "05 Jan 2026"]
