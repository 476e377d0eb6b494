"""Every real deploy output in tests/corpus/errors gives its message, the same way wherever it arrives.

``run`` reads a command's stderr and stdout (``extract_error``); ``explain`` reads a pasted text
(``extract_text``); ``record``, a team report and ``import`` store ``ledger.with_clean_message``.
Each case goes through all of them, on stdout and on stderr, bare and under every CI/runner prefix.
"""

from __future__ import annotations

import pytest
from corpus_cases import PREFIXES, load_cases, with_prefix

from faultbook.capture.extract import clean_message, extract_error, extract_text, looks_like_output
from faultbook.domain import Failure
from faultbook.services.ledger import with_clean_message

CASES = load_cases()


def test_the_corpus_is_big_and_varied():
    assert len(CASES) >= 90
    assert len({c["source"] for c in CASES}) >= 80
    assert sum(1 for c in CASES if c["cause"]) >= 60
    assert {c["wrangler"] for c in CASES} >= {1, 2, 3, 4}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_run_and_explain_store_the_message(case):
    raw, want = case["raw"], case["message"]
    seen = {}
    for kind in (None, *PREFIXES):
        text = raw if kind is None else with_prefix(raw, kind)
        seen[f"run stderr {kind}"] = extract_error(stdout="", stderr=text, exit_code=1)
        seen[f"explain {kind}"] = extract_text(text)
    seen["run stdout"] = extract_error(stdout=raw, stderr="", exit_code=1)
    wrong = {where: found.message for where, found in seen.items() if found.message != want}
    assert not wrong, f"{case['id']}: expected {want!r}"
    assert {found.code for found in seen.values()} == {case["code"]}
    assert len({found.title for found in seen.values()}) == 1


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_report_or_an_import_stores_the_same_message(case):
    failure = Failure(number=None, title="t", occurred_at=None, component="Backend", error_message=case["raw"])
    stored = with_clean_message(failure).error_message
    # Raw output is extracted; what is already a message (a one-line paste, an old ledger) stays as written.
    assert stored == case["message"] if looks_like_output(case["raw"]) else stored == case["raw"]
    assert clean_message(case["message"]) == case["message"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_stored_message_reads_back_as_itself(case):
    """``explain`` on a stored message, or ``record`` of one, keys the same failure."""
    assert extract_text(case["message"]).message == case["message"]


def test_a_failure_run_recorded_is_recognised_when_its_output_is_pasted_into_explain(database, project):
    """The service paths end to end, on SQLite and PostgreSQL: what run stores, explain finds again."""
    from faultbook.services.recognition import explain, record_occurrence

    sample = CASES[::6]  # a slice keeps the test fast; test_run_and_explain_store_the_message covers every case
    for case in sample:
        found = extract_error(stdout="", stderr=case["raw"], exit_code=1)
        draft = Failure(number=None, title=found.title, occurred_at=None, component="Backend",
                        step="Worker deployment", error_message=found.message, error_code=found.code)
        with database.session(write=True) as s:
            record_occurrence(s, project=project, draft=draft, deployment_id=None, endpoint=found.endpoint, actor="ci")
    for case in sample:
        with database.session() as s:
            matches = explain(s, project=project, text=case["raw"], component="Backend")
        assert matches and matches[0].source == "ledger" and matches[0].score == 1.0, case["id"]
