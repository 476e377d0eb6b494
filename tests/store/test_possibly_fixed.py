"""After a successful deploy, the open failures of its component that it may have fixed (on both backends)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def _deploy(database, project, key, hours, command, outcome, component="Backend", failure=None):  # type: ignore[no-untyped-def]
    from faultbook.domain import Deployment, DeploymentOutcome
    from faultbook.services import ingest

    with database.session(write=True) as s:
        return ingest.ingest_report(s, project=project, failure=failure, deployment=Deployment(
            id=None, key=key, started_at=T0 + timedelta(hours=hours), command=command,
            outcome=DeploymentOutcome(outcome), component=component)).deployment.id


def test_a_successful_deploy_names_the_open_failures_of_its_component(database, project):
    from faultbook.domain import Failure, Status
    from faultbook.services import ledger, triage

    kv = Failure(number=None, title="KV missing", component="Backend", occurred_at=T0,
                 error_message="KV namespace 'CACHE' not found [code: 10041]")
    _deploy(database, project, "bad", 0, "npx wrangler deploy", "failed", failure=kv)
    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=Failure(
            number=None, title="DNS", component="DNS", occurred_at=T0))
        ledger.record_failure(s, project=project, failure=Failure(
            number=None, title="old and resolved", component="backend", occurred_at=T0, status=Status.RESOLVED))
    provision = _deploy(database, project, "bucket", 1, "wrangler r2 bucket create b", "succeeded")
    good = _deploy(database, project, "good", 2, "npx wrangler deploy", "succeeded")
    with database.session() as s:
        assert [f.number for f in triage.possibly_fixed(s, project=project, deployment_id=good)] == [1]
        assert triage.possibly_fixed(s, project=project, deployment_id=provision) == []
        hint = triage.fixed_hint([(f.number, f.title) for f in triage.possibly_fixed(s, project=project,
                                                                                  deployment_id=good)])
    assert hint[-1] == "faultbook: if it did, resolve it: faultbook update 1 --status resolved"
    assert "#1 KV missing" in hint[1]


def test_the_fast_path_finds_the_same_failures(tmp_path, project):
    """``FastLedger.possibly_fixed`` (no SQLAlchemy on a successful run) answers as the service does."""
    from faultbook.domain import Failure
    from faultbook.services import deployments, ledger, triage
    from faultbook.store.db import Database
    from faultbook.store.fastpath import FastLedger

    url = f"sqlite:///{tmp_path / 'fast.db'}"
    db = Database(url)
    for i, component in enumerate(["Backend", "backend", "DNS"]):
        with db.session(write=True) as s:
            ledger.record_failure(s, project=project, failure=Failure(
                number=None, title=f"f{i}", component=component, occurred_at=T0 + timedelta(minutes=i)))
    good = _deploy(db, project, "good", 2, "npx wrangler deploy", "succeeded")
    with db.session() as s:
        deployment = deployments.get_deployment(s, project=project, deployment_id=good)
        expected = [(f.number, f.title) for f in triage.possibly_fixed(s, project=project, deployment_id=good)]
    db.dispose()
    fast = FastLedger.open(url, project_key=project.key)
    assert fast is not None
    try:
        assert fast.possibly_fixed(deployment=deployment) == expected == [(2, "f1"), (1, "f0")]
    finally:
        fast.close()
