"""The knowledge index a long-running server keeps in memory follows the ledger's changes."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from faultbook.domain import Deployment, DeploymentOutcome, Failure, Status
from faultbook.services import ingest, ledger, recognition


@pytest.fixture(params=["local", "team-server"])
def record(request):  # type: ignore[no-untyped-def]
    """Record one error the way ``faultbook run`` does (``record_occurrence``), or as a team server's batch
    (``ingest_reports``, which reads the index's changes together with its lookup before the lock), both with
    one ``KnowledgeCache`` kept across transactions as the server's app context keeps it."""
    knowledge = recognition.KnowledgeCache()

    def local(database, project, message: str):  # type: ignore[no-untyped-def]
        draft = Failure(number=None, title=message[:40], occurred_at=None, component="Backend", error_message=message)
        with database.session(write=True) as session:
            writer = recognition.ImmediateWriter(knowledge)
            return recognition.record_occurrence(session, project=project, draft=draft, deployment_id=None,
                                                 writer=writer)

    def team_server(database, project, message: str):  # type: ignore[no-untyped-def]
        draft = Failure(number=None, title=message[:40], occurred_at=None, component="Backend", error_message=message)
        deployment = Deployment(id=None, key=str(uuid.uuid4()), started_at=datetime.now(timezone.utc),
                                command="npx wrangler deploy", outcome=DeploymentOutcome.FAILED)
        with database.session(write=True) as session:
            [result] = ingest.ingest_reports(session, project=project,
                                             reports=[ingest.Report(deployment=deployment, failure=draft)],
                                             knowledge=knowledge)
        with database.session() as session:
            failure = ledger.get_failure(session, project=project, number=result.failure_number)
        return SimpleNamespace(failure=failure, is_new=not result.recurrence, is_regression=result.regression)

    return local if request.param == "local" else team_server


def test_a_failure_resolved_after_the_index_was_built_is_suggested(database, project, record) -> None:  # type: ignore[no-untyped-def]
    record(database, project, "Worker exceeded CPU time limit")  # builds and caches the index
    known = record(database, project, "Uncaught ReferenceError: quoteStore is not defined at handler")
    assert known.is_new and not known.failure.root_cause
    with database.session(write=True) as session:
        ledger.update_failure(session, project=project, number=known.failure.number, changes={
            "status": Status.RESOLVED,
            "root_cause": "The store module was renamed; one import was missed.",
            "resolution": "Import it under its new name.",
        })
    similar = record(database, project, "Uncaught ReferenceError: imageStore is not defined at handler")
    assert similar.is_new
    assert similar.failure.root_cause == "The store module was renamed; one import was missed."
    assert "root_cause" in similar.failure.suggested_fields


def test_a_reopened_failure_is_no_longer_suggested(database, project, record) -> None:  # type: ignore[no-untyped-def]
    known = record(database, project, "Uncaught ReferenceError: quoteStore is not defined at handler")
    with database.session(write=True) as session:
        ledger.update_failure(session, project=project, number=known.failure.number, changes={
            "status": Status.RESOLVED, "root_cause": "Renamed module.", "resolution": "Fix the import.",
        })
    assert record(database, project, "Uncaught ReferenceError: imageStore is not defined at handler").failure.root_cause
    again = record(database, project, "Uncaught ReferenceError: quoteStore is not defined at handler")
    assert again.is_regression  # reopened: no longer a known fix
    later = record(database, project, "Uncaught ReferenceError: userStore is not defined at handler")
    assert later.is_new and later.failure.root_cause != "Renamed module."
