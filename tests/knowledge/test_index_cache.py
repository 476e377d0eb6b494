"""The knowledge index a long-running server keeps in memory follows the ledger's changes."""

from __future__ import annotations

from faultbook.domain import Failure, Status
from faultbook.services import ledger, recognise


def record(database, project, message: str):  # type: ignore[no-untyped-def]
    draft = Failure(number=None, title=message[:40], occurred_at=None, component="Backend", error_message=message)
    with database.session(write=True) as session:
        return recognise.record_occurrence(session, project=project, draft=draft, deployment_id=None)


def test_a_failure_resolved_after_the_index_was_built_is_suggested(database, project) -> None:  # type: ignore[no-untyped-def]
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


def test_a_reopened_failure_is_no_longer_suggested(database, project) -> None:  # type: ignore[no-untyped-def]
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
