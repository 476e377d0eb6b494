"""Each way text enters the ledger goes through the scrubber: by hand (record, update) and from a team-server report.

The end-to-end search is ``test_no_leak``; these name the service that forgot, when one does.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from faultbook.capture.scrub import REDACTED, Scrubber
from faultbook.domain import Deployment, DeploymentOutcome, Failure
from faultbook.store.tables import DeploymentRow

TOKEN = "ghp_" + "Zq8Wx3Kp2Lm7Nb4Vc6Xz1As5Df9Gh0Jk2Lp4Qr"
PASSWORD_LINE = "DB_PASSWORD=correct horse battery staple"


def test_a_failure_recorded_by_hand_keeps_no_pasted_token(database, project):
    from faultbook.services import ledger

    failure = Failure(number=None, title=f"deploy failed with {TOKEN}", occurred_at=None, component="Backend",
                      error_message=f"Permission denied\n{PASSWORD_LINE}", resolution=f"rotated {TOKEN}")
    with database.session(write=True) as session:
        stored = ledger.record_failure(session, project=project, failure=failure)
    assert TOKEN not in stored.title + stored.resolution
    assert stored.error_message == f"Permission denied\nDB_PASSWORD={REDACTED}"


def test_an_edit_by_hand_keeps_no_pasted_secret_and_the_environment_s_values_are_known(database, project):
    from faultbook.services import ledger

    with database.session(write=True) as session:
        number = ledger.record_failure(
            session, project=project, failure=Failure(number=None, title="t", occurred_at=None, component="Backend")
        ).number
    scrubber = Scrubber.from_environ({"ACME_SIGNING_SECRET": "only-the-environment-knows-this"})
    with database.session(write=True) as session:
        stored = ledger.update_failure(
            session, project=project, number=number, scrubber=scrubber,
            changes={"root_cause": "we logged only-the-environment-knows-this", "lessons_learned": TOKEN},
        )
    assert stored.root_cause == f"we logged {REDACTED}"
    assert stored.lessons_learned == REDACTED


def test_a_report_from_a_client_that_scrubbed_nothing_is_stored_scrubbed(database, project):
    from faultbook.services import ingest, ledger

    deployment = Deployment(
        id=None, key=str(uuid.uuid4()), started_at=datetime(2026, 12, 1, 10, tzinfo=timezone.utc),
        command=f"npx wrangler deploy --var DB_PASS:hunter2-acme -H 'Authorization: token {TOKEN}'",
        outcome=DeploymentOutcome.FAILED, url="https://deploy:s3cr3t-pw@api.acme.example",
    )
    failure = Failure(number=None, title="Queue 'jobs' not found", occurred_at=None, component="Backend",
                      error_message=f"Queue 'jobs' not found [code: 11000]\n{PASSWORD_LINE}")
    with database.session(write=True) as session:
        result = ingest.ingest_report(session, project=project, deployment=deployment, failure=failure,
                                      output_tail=f"using {TOKEN}\n{PASSWORD_LINE}")
    with database.session() as session:
        row = session.execute(
            select(DeploymentRow.command, DeploymentRow.url, DeploymentRow.output_tail)
            .where(DeploymentRow.key == deployment.key)
        ).one()
        kept = ledger.get_failure(session, project=project, number=result.failure_number)
    text = "\n".join([*(value or "" for value in row), kept.error_message])
    for secret in (TOKEN, "hunter2-acme", "s3cr3t-pw", "horse battery"):
        assert secret not in text
    assert "Queue 'jobs' not found [code: 11000]" in kept.error_message
