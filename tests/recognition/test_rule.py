"""The recognition rule on its own (``recognition.decide``): no database, every branch a user would notice."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from faultbook.domain import Failure, Status
from faultbook.knowledge.match import Match
from faultbook.services.recognition import New, Recur, decide

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
LATER = T0 + timedelta(hours=1)


def draft(**changes: object) -> Failure:
    base = Failure(number=None, title="Upload failed", occurred_at=None, component="Backend",
                   error_message="Uncaught ReferenceError: quoteStore is not defined [code: 10021]")
    return base.with_changes(**changes) if changes else base


def known(status: Status, **changes: object) -> Failure:
    return draft(number=7, status=status, occurrence_count=3, first_seen=T0, last_seen=T0, fingerprint="fp",
                 resolution="Import it under its new name.", resolved_at=T0 if status is Status.RESOLVED else None,
                 **changes)


def match(root_cause: str = "", resolution: str = "") -> Match:
    return Match(source="catalog", title="Script upload", root_cause=root_cause, resolution=resolution, lessons="",
                 failure_number=None, status=None, score=0.8, known_error_id="cf-10021", transient=False, code=10021)


def run(owner: Failure | None, *, matches: list[Match] = (), the_draft: Failure | None = None):  # type: ignore[no-untyped-def,assignment]
    return decide(owner=owner, draft=the_draft or draft(), fingerprint="fp", code=10021, matches=matches, at=LATER,
                  now=LATER, deployment_id=42, actor="ci")


@pytest.mark.parametrize(
    "status, regression, kind, after",
    [
        (Status.OPEN, False, "occurrence", Status.OPEN),
        (Status.WORKAROUND, False, "occurrence", Status.WORKAROUND),
        (Status.RESOLVED, True, "regression", Status.OPEN),
    ],
)
def test_a_known_fingerprint_is_one_more_occurrence(status, regression, kind, after) -> None:  # type: ignore[no-untyped-def]
    decision = run(known(status))
    assert isinstance(decision, Recur)
    assert decision.regression is regression
    assert decision.event.kind == kind
    assert decision.failure.number == 7 and decision.failure.occurrence_count == 4
    assert decision.failure.status is after and decision.counted["status"] == after.value
    assert (decision.failure.first_seen, decision.failure.last_seen) == (T0, LATER)
    assert "deployment 42" in decision.event.description


def test_a_regression_keeps_the_resolution_that_did_not_hold() -> None:
    decision = run(known(Status.RESOLVED))
    assert isinstance(decision, Recur)
    assert decision.failure.resolved_at is None
    assert decision.event.details["previous_resolution"] == "Import it under its new name."
    assert decision.event.details["previous_status"] == "resolved"


def test_a_new_error_is_a_new_failure_with_suggested_fields() -> None:
    decision = run(None, matches=[match(), match(root_cause="A binding type the API does not know.",
                                                  resolution="Fix the binding type.")])
    assert isinstance(decision, New)
    assert decision.failure.number is None and decision.failure.fingerprint == "fp"
    assert decision.failure.root_cause == "A binding type the API does not know."
    assert decision.failure.suggested_fields == ("root_cause", "resolution")
    assert decision.filled == ("root_cause", "resolution")


def test_what_the_draft_says_is_never_overwritten_by_a_suggestion() -> None:
    decision = run(None, matches=[match(root_cause="suggested", resolution="suggested fix")],
                   the_draft=draft(root_cause="written by a person"))
    assert isinstance(decision, New)
    assert decision.failure.root_cause == "written by a person"
    assert decision.failure.suggested_fields == ("resolution",)


def test_without_a_useful_match_nothing_is_suggested() -> None:
    decision = run(None, matches=[match()])
    assert isinstance(decision, New)
    assert decision.suggestion is None and decision.failure.suggested_fields == ()
