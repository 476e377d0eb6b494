"""Recognition against a real ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from conftest import ROOT
from faultbook.domain import Failure, PotentialFailure, Status
from faultbook.errors import ConflictError, InputError, NotFoundError
from faultbook.services import deployments, ledger
from faultbook.services.recognition import explain, merge_failures, record_occurrence
from faultbook.store import repo
from faultbook.store.tables import DeploymentRow, FingerprintAliasRow, OccurrenceRow

SEED_10021 = "binding IMAGES has an unknown type Images [code: 10021]"
SEED_10085 = "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]"
UPLOAD = "/accounts/0123456789abcdef0123456789abcdef/workers/scripts/quoteviral-api"
T0 = datetime(2025, 8, 20, 14, 5, tzinfo=timezone.utc)


def draft(message: str, *, at: datetime = T0, component: str = "Backend", code: int | None = None) -> Failure:
    return Failure(number=None, title=message[:60], occurred_at=at, component=component,
                   step="Worker deployment", error_message=message, error_code=code)


def deploy(database, project) -> int:
    with database.session(write=True) as s:
        return deployments.start_deployment(s, project=project, command="wrangler deploy", cwd=None,
                                            component="Backend", step="Worker deployment").id


def record(database, project, message, **kwargs):
    deployment_id = kwargs.pop("deployment_id", None)
    endpoint = kwargs.pop("endpoint", UPLOAD)
    with database.session(write=True) as s:
        return record_occurrence(s, project=project, draft=draft(message, **kwargs), deployment_id=deployment_id,
                                 endpoint=endpoint, actor="ci")


def occurrences(database, project, number):
    with database.session() as s:
        row = repo.get_failure_row(s, project_id=repo.get_or_create_project(s, key=project.key).id, number=number)
        return list(s.scalars(select(OccurrenceRow).where(OccurrenceRow.failure_id == row.id).order_by(OccurrenceRow.id)))


def test_a_new_failure_is_prefilled_from_the_catalog_as_suggested(database, project):
    d1 = deploy(database, project)
    first = record(database, project, SEED_10085, deployment_id=d1)
    failure = first.failure
    assert first.is_new and not first.is_regression and failure.number == 1
    assert first.matches[0].known_error_id == "workers-r2-bucket-missing"
    assert failure.root_cause.startswith("An `r2_buckets` binding names a bucket")
    assert "wrangler r2 bucket create" in failure.resolution
    assert failure.suggested_fields == ("root_cause", "resolution")
    assert failure.error_code == 10085 and failure.fingerprint.startswith("v2:")
    assert failure.error_message == SEED_10085  # the raw message is kept
    assert [e.kind for e in failure.timeline] == ["created", "suggested"]
    with database.session() as s:
        assert s.get(DeploymentRow, d1).failure_id is not None


def test_the_same_failure_twice_is_one_number_with_two_occurrences(database, project):
    d1, d2 = deploy(database, project), deploy(database, project)
    first = record(database, project, SEED_10085, deployment_id=d1)
    later = T0 + timedelta(hours=2)
    # Another bucket name, same mistake: same fingerprint.
    again = record(database, project, SEED_10085.replace("quoteviral-uploads", "quoteviral-templates"),
                   deployment_id=d2, at=later)
    assert not again.is_new and not again.is_regression
    assert again.failure.number == first.failure.number == 1
    assert again.failure.occurrence_count == 2
    assert (again.failure.first_seen, again.failure.last_seen) == (T0, later)
    assert again.failure.timeline[-1].kind == "occurrence"
    assert again.matches[0].source == "ledger" and again.matches[0].failure_number == 1
    rows = occurrences(database, project, 1)
    assert [r.deployment_id for r in rows] == [d1, d2]
    assert "quoteviral-templates" in rows[1].error_message
    with database.session() as s:
        assert len(ledger.list_failures(s, project=project)) == 1


def test_different_codes_stay_different_failures(database, project):
    a = record(database, project, "request failed [code: 10021]")
    b = record(database, project, "request failed [code: 10085]")
    assert (a.failure.number, b.failure.number) == (1, 2) and b.is_new


def test_a_resolved_failure_that_recurs_is_reopened_as_a_regression(database, project):
    first = record(database, project, SEED_10021)
    with database.session(write=True) as s:
        ledger.update_failure(s, project=project, number=first.failure.number,
                              changes={"status": Status.RESOLVED, "resolution": "Use type images"})
    d2 = deploy(database, project)
    again = record(database, project, SEED_10021, deployment_id=d2, at=T0 + timedelta(days=3))
    assert again.is_regression and not again.is_new
    assert again.failure.status is Status.OPEN and again.failure.resolved_at is None
    event = again.failure.timeline[-1]
    assert event.kind == "regression" and "REGRESSION" in event.description
    assert event.details["previous_resolution"] == "Use type images"
    assert event.details["deployment_id"] == d2
    assert again.matches[0].status is Status.RESOLVED and again.matches[0].resolution == "Use type images"


def test_an_imported_failure_without_fingerprint_is_recognised(database, project):
    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=Failure(
            number=1, title="Incorrect Images Binding Type", occurred_at=T0, component="Backend",
            step="Worker deployment", error_message=SEED_10021, root_cause="Images instead of images",
            resolution="Changed the binding type", status=Status.RESOLVED, lessons_learned="case-sensitive"))
    again = record(database, project, SEED_10021)
    assert again.failure.number == 1 and again.is_regression and again.failure.occurrence_count == 2
    assert again.failure.fingerprint is not None


def test_resolved_failures_and_potential_failures_are_consulted(database, project):
    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=Failure(
            number=None, title="Media binding", occurred_at=T0, component="Backend", step="Worker deployment",
            error_message="binding MEDIA has an unknown type Media [code: 10021]", root_cause="Media not media",
            resolution="lowercase it", status=Status.RESOLVED))
        row_project = repo.get_or_create_project(s, key=project.key)
        s.add(repo.PotentialFailureRow(project_id=row_project.id, number=2, position=1, **repo.potential_values(
            PotentialFailure(number=2, title="Asset Upload Failures", component="Assets", step="upload",
                             possible_error_messages=("Failed to upload to R2",),
                             likely_root_causes=("Incorrect R2 bucket permissions",),
                             planned_resolution=("Check bucket permissions",)))))
    upload = record(database, project, "Error: Failed to upload to R2: hero.png", component="Assets", endpoint=None)
    assert upload.matches[0].source == "potential" and upload.matches[0].failure_number == 2
    assert upload.failure.root_cause == "Incorrect R2 bucket permissions"
    assert upload.failure.resolution == "- Check bucket permissions"
    with database.session() as s:
        found = explain(s, project=project, text="binding MEDIA has an unknown type Media [code: 10021]")
    assert found[0].source == "ledger" and found[0].failure_number == 1 and found[0].score == 1.0


def test_merge_is_permanent(database, project):
    a = record(database, project, SEED_10021).failure
    b = record(database, project, "binding IMAGES has an unknown type image [code: 10021]").failure
    assert (a.number, b.number) == (1, 2)
    with database.session(write=True) as s:
        merged = merge_failures(s, project=project, into=1, other=2, actor="dev")
    assert merged.occurrence_count == 2 and merged.timeline[-1].kind == "merged"
    with database.session() as s:
        b_now = ledger.get_failure(s, project=project, number=2)
    assert b_now.status is Status.RESOLVED and b_now.fingerprint is None
    assert b_now.timeline[-1].kind == "merged-into" and b_now.resolution == "Merged into Failure #1."
    assert len(occurrences(database, project, 1)) == 2 and occurrences(database, project, 2) == []

    later = record(database, project, "binding IMAGES has an unknown type image [code: 10021]")
    assert later.failure.number == 1 and later.failure.occurrence_count == 3 and not later.is_new
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(FingerprintAliasRow)
                        .where(FingerprintAliasRow.fingerprint == b.fingerprint)) == 1
        assert len(ledger.list_failures(s, project=project)) == 2


def test_merge_refuses_nonsense(database, project):
    record(database, project, "request failed [code: 10021]")
    record(database, project, "request failed [code: 10085]")
    record(database, project, "request failed [code: 10041]")
    with database.session(write=True) as s:
        with pytest.raises(InputError):
            merge_failures(s, project=project, into=1, other=1)
        with pytest.raises(NotFoundError):
            merge_failures(s, project=project, into=1, other=9)
        merge_failures(s, project=project, into=1, other=2)
    with database.session(write=True) as s:
        with pytest.raises(ConflictError, match="already merged into failure #1"):
            merge_failures(s, project=project, into=3, other=2)
        with pytest.raises(ConflictError, match="failure #2 was already merged") as info:
            merge_failures(s, project=project, into=2, other=3)
        assert info.value.hint == "merge into #1 instead"


def test_explain_reads_a_whole_wrangler_block(database, project):
    block = (
        "✘ [ERROR] A request to the Cloudflare API (/accounts/abc/r2/buckets/uploads) failed.\n\n"
        "  The specified bucket does not exist. [code: 10006]\n\n"
        "  If you think this is a bug, please open an issue at:\n"
        "  https://github.com/cloudflare/workers-sdk/issues/new/choose\n"
    )
    with database.session() as s:
        matches = explain(s, project=project, text=block)
    assert matches[0].known_error_id == "r2-no-such-bucket"


CHILD = """
import json, os, sys, time
from faultbook.domain import Failure
from faultbook.services.ledger import ProjectRef
from faultbook.services.recognition import record_occurrence
from faultbook.store.db import Database
url, key, barrier = sys.argv[1:4]
db = Database(url)
while not os.path.exists(barrier):
    time.sleep(0.005)
with db.session(write=True) as s:
    r = record_occurrence(s, project=ProjectRef(key=key, name="race"), deployment_id=None, draft=Failure(
        number=None, title="bucket missing", occurred_at=None, component="Backend",
        error_message=sys.argv[4]))
print(json.dumps({"number": r.failure.number, "new": r.is_new}))
"""


def test_ten_processes_recording_the_same_new_error_make_one_failure(database, project, db_url, tmp_path):
    with database.session(write=True) as s:
        repo.get_or_create_project(s, key=project.key, name=project.name)
    barrier = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, db_url, project.key, str(barrier), SEED_10085],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(10)
    ]
    barrier.touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 10, [err for _, err in results]
    outcomes = [json.loads(out) for out, _ in results]
    assert {o["number"] for o in outcomes} == {1}
    assert sorted(o["new"] for o in outcomes) == [False] * 9 + [True]
    with database.session() as s:
        (failure,) = ledger.list_failures(s, project=project)
    assert failure.occurrence_count == 10
    assert len(occurrences(database, project, 1)) == 10
