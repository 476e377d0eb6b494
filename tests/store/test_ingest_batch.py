"""A batch of CI reports written by ``ingest_reports`` leaves the ledger exactly as the same reports one by one.

The team server writes whatever reports are waiting in one transaction, with new failures, counts,
occurrences, events and deployment links deferred to one multi-row statement each.  These tests send the
same sequence both ways, on SQLite and PostgreSQL, into two projects of one database, and compare what a
user can see: the answers, the failures with their counts and suggestions, the timelines, the occurrences
and which deployment hit which failure.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from faultbook.domain import Deployment, DeploymentOutcome, Failure, Status
from faultbook.services import ingest, ledger
from faultbook.services.ledger import ProjectRef
from faultbook.store.tables import DeploymentRow, FailureRow, OccurrenceRow, ProjectRow, TimelineRow

T0 = datetime(2025, 8, 20, 14, 10, tzinfo=timezone.utc)


def report(key: str, message: str | None, minutes: int, component: str = "Backend") -> ingest.Report:
    deployment = Deployment(
        id=None, key=key, started_at=T0 + timedelta(minutes=minutes), command="npx wrangler deploy",
        outcome=DeploymentOutcome.FAILED if message else DeploymentOutcome.SUCCEEDED,
    )
    failure = None
    if message:
        failure = Failure(number=None, title=message[:40], occurred_at=None, component=component, error_message=message)
    return ingest.Report(deployment=deployment, failure=failure, actor="ci")


IMAGES = 'binding IMAGES of type Images is not a valid binding type [code: 10021]'
BUCKET = "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]"
OTHER = "Uncaught ReferenceError: quoteStore is not defined"


def sequence(prefix: str) -> tuple[list[ingest.Report], list[ingest.Report]]:
    """Reports before the batch (stored one by one in both projects) and the batch itself."""
    before = [report(f"{prefix}-a", IMAGES, 0), report(f"{prefix}-b", OTHER, 1)]
    batch = [
        report(f"{prefix}-c", BUCKET, 10),                    # new (a catalog code: suggestions)
        report(f"{prefix}-d", IMAGES, 11),                    # recurs on #1, resolved before: a regression
        report(f"{prefix}-e", BUCKET, 12),                    # recurs on the failure created 2 reports ago
        report(f"{prefix}-c", BUCKET, 10),                    # the same key again: a resend
        report(f"{prefix}-a", IMAGES, 0),                     # a key stored before the batch: a resend
        report(f"{prefix}-f", None, 13),                      # a success: no failure
        report(f"{prefix}-g", "Worker exceeded CPU time limit", 14, component="Frontend"),  # new
        report(f"{prefix}-h", IMAGES, 15),                    # #1 again, now open: a plain recurrence
        report(f"{prefix}-i", OTHER, 16),                     # recurs on #2
    ]
    return before, batch


def seen(session, project: ProjectRef) -> dict:  # type: ignore[no-untyped-def]
    """Everything about the project a user could notice, with keys and ids made comparable."""
    pid = session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))
    failures = session.scalars(select(FailureRow).where(FailureRow.project_id == pid).order_by(FailureRow.number)).all()
    number_of = {f.id: f.number for f in failures}
    out = {
        "failures": [
            (f.number, f.title, f.status, f.occurrence_count, f.fingerprint, f.error_code, f.root_cause, f.resolution,
             tuple(f.suggested_fields or ()), f.first_seen, f.last_seen, f.position)
            for f in failures
        ],
        "timelines": {
            f.number: [
                (e.kind, e.actor, e.description.split(" in deployment ")[0])
                for e in session.scalars(select(TimelineRow).where(TimelineRow.failure_id == f.id).order_by(TimelineRow.id))
            ]
            for f in failures
        },
        "occurrences": sorted(
            (number_of[o.failure_id], o.occurred_at, o.error_message, o.fingerprint)
            for o in session.scalars(select(OccurrenceRow).where(OccurrenceRow.failure_id.in_(list(number_of))))
        ),
        "deployments": sorted(
            (d.key.split("-", 1)[1], d.outcome, number_of.get(d.failure_id))
            for d in session.scalars(select(DeploymentRow).where(DeploymentRow.project_id == pid))
        ),
    }
    return out


def answers(results: list[ingest.IngestResult]) -> list[tuple]:
    return [(r.created, r.failure_number, r.recurrence, r.regression, r.deployment.key.split("-", 1)[1]) for r in results]


def test_a_batch_is_the_same_as_its_reports_one_by_one(database) -> None:  # type: ignore[no-untyped-def]
    one, many = ProjectRef(key="one-" + uuid.uuid4().hex[:8], name="one"), ProjectRef(key="many-" + uuid.uuid4().hex[:8], name="many")
    results: dict[str, list[ingest.IngestResult]] = {}
    for project, prefix in ((one, "1"), (many, "2")):
        before, batch = sequence(prefix)
        for r in before:
            with database.session(write=True) as session:
                ingest.ingest_report(session, project=project, deployment=r.deployment, failure=r.failure, actor=r.actor)
        with database.session(write=True) as session:
            ledger.update_failure(session, project=project, number=1,
                                  changes={"status": Status.RESOLVED, "resolution": "Use type = \"images\"."})
        if project is one:
            results["one"] = []
            for r in batch:
                with database.session(write=True) as session:
                    results["one"].append(ingest.ingest_report(
                        session, project=project, deployment=r.deployment, failure=r.failure, actor=r.actor
                    ))
        else:
            with database.session(write=True) as session:
                results["many"] = ingest.ingest_reports(session, project=project, reports=batch)

    assert answers(results["one"]) == answers(results["many"])
    # What the answers say, spelled out: the regression, the resend of a key from this batch and of an
    # earlier one, and the failure first seen in this batch recognised later in it.
    assert answers(results["many"]) == [
        (True, 3, False, False, "c"),
        (True, 1, True, True, "d"),
        (True, 3, True, False, "e"),
        (False, 3, False, False, "c"),
        (False, 1, False, False, "a"),
        (True, None, False, False, "f"),
        (True, 4, False, False, "g"),
        (True, 1, True, False, "h"),
        (True, 2, True, False, "i"),
    ]
    with database.session() as session:
        a, b = seen(session, one), seen(session, many)
    # Times stamped by the clock (created_at, event times) differ; what the reports said does not.
    assert a["failures"] == b["failures"]
    assert a["timelines"] == b["timelines"]
    assert a["occurrences"] == b["occurrences"]
    assert a["deployments"] == b["deployments"]
    by_number = {f[0]: f for f in b["failures"]}
    assert by_number[1][2] == "open" and by_number[1][3] == 3  # reopened; seen before, in d and in h
    assert by_number[3][3] == 2 and "resolution" in by_number[3][8]  # 10085: counted twice, fix suggested
    assert [kind for kind, _, _ in b["timelines"][1]][-2:] == ["regression", "occurrence"]


def test_a_batch_that_fails_stores_nothing(database, project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, batch = sequence("x")
    from faultbook.services.recognition import BatchWriter

    def broken(self, session):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(BatchWriter, "flush", broken)
    with pytest.raises(RuntimeError):
        with database.session(write=True) as session:
            ingest.ingest_reports(session, project=project, reports=batch)
    with database.session() as session:
        pid = session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))
        if pid is not None:
            assert session.scalars(select(DeploymentRow).where(DeploymentRow.project_id == pid)).all() == []
            assert session.scalars(select(FailureRow).where(FailureRow.project_id == pid)).all() == []
