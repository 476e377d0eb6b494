"""`faultbook postmortem N`: the blameless postmortem drafted from the ledger (golden file, volatile fields normalised).

The story is QuoteViral's August 20: a good deploy, the Images binding fails twice, a verified rollback, the fix,
a good deploy again; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from faultbook.services.snapshot import take_snapshot

GOLDEN = Path(__file__).parent / "golden" / "postmortem.md"
ERROR = "binding IMAGES has an unknown type Images [code: 10021]"
GOOD = """name = "quoteviral-api"
main = "src/index.ts"
compatibility_date = "2025-08-15"

[vars]
FRONTEND_ORIGIN = "https://quoteviral.com"

[[r2_buckets]]
binding = "UPLOADS"
bucket_name = "quoteviral-uploads"
"""
BAD = GOOD + """
[[unsafe.bindings]]
name = "IMAGES"
type = "Images"
"""


def at(hh: int, mm: int, day: int = 20) -> datetime:
    return datetime(2025, 8, day, hh, mm, tzinfo=timezone.utc)


def deploy(database, project, *, when, snapshot, error=None, commit=None):
    from faultbook.domain import DeploymentOutcome, Failure
    from faultbook.services import deployments
    from faultbook.services.deployments import GitContext
    from faultbook.services.recognition import record_occurrence

    with database.session(write=True) as session:
        dep = deployments.start_deployment(
            session, project=project, command="wrangler deploy", cwd="/srv/quoteviral", component="Backend",
            step="Worker deployment", env="production", git=GitContext(commit=commit), started_at=when,
            snapshot=take_snapshot(tomllib.loads(snapshot), config_file="wrangler.toml"))
        number = None
        if error:
            number = record_occurrence(session, project=project, deployment_id=dep.id, draft=Failure(
                number=None, title="Worker deployment failed: unknown binding type", occurred_at=when,
                component="Backend", component_detail="Cloudflare Worker", step="Worker deployment",
                error_message=error)).failure.number
        deployments.finish_deployment(
            session, project=project, deployment_id=dep.id, exit_code=1 if error else 0,
            outcome=DeploymentOutcome.FAILED if error else DeploymentOutcome.SUCCEEDED,
            version_id=None if error else f"v-{when:%H%M}", failure_number=number,
            finished_at=when + timedelta(minutes=1))
    return number


def arrange(database, project) -> int:
    from faultbook.domain import Status
    from faultbook.services import followups, ledger
    from faultbook.store import repo
    from faultbook.store.tables import FailureRow, ProjectRow, RecoverySnapshotRow, TimelineRow

    deploy(database, project, when=at(10, 0, day=19), snapshot=GOOD, commit="1111111aaaaaaa")
    number = deploy(database, project, when=at(14, 15), snapshot=BAD, error=ERROR, commit="2222222bbbbbbb")
    deploy(database, project, when=at(14, 40), snapshot=BAD, error=ERROR, commit="2222222bbbbbbb")
    with database.session(write=True) as session:
        pid = session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))
        failure = session.scalar(select(FailureRow).where(FailureRow.project_id == pid, FailureRow.number == number))
        session.add(RecoverySnapshotRow(
            project_id=pid, failure_id=failure.id, created_at=at(14, 50), kind="worker", target_name="quoteviral-api",
            outcome="rolled_back", finished_at=at(14, 52), verified=True, summary="rolled back", details={}))
        repo.add_event(session, failure, kind="rollback", actor="ann",
                       description="Rolled back Worker quoteviral-api to the version of Aug 19; verified: health 200")
        followups.open_followup(session, project=project, title=followups.REDEPLOY_TITLE, failure_id=failure.id,
                                source="rollback")
        followups.open_followup(session, project=project, title="Add FB104 to CI", failure_id=failure.id)
    with database.session(write=True) as session:
        ledger.update_failure(session, project=project, number=number, actor="ann", changes={
            "root_cause": "The Images binding was declared under `[[unsafe.bindings]]` with type `Images`.",
            "resolution": "Declared it as `[images]` with `binding = \"IMAGES\"` and redeployed.",
            "lessons_learned": "Run `faultbook check` before deploying.",
            "status": Status.RESOLVED})
    deploy(database, project, when=at(16, 30), snapshot=GOOD + '\n[images]\nbinding = "IMAGES"\n', commit="3333333ccccccc")
    with database.session(write=True) as session:
        item = next(f for f in followups.list_followups(session, project=project) if f.title == followups.REDEPLOY_TITLE)
        followups.mark_done(session, project=project, followup_id=item.id)
    # Events are stamped "now": give them the story's times, in the order they were written.
    times = {"created": at(14, 16), "occurrence": at(14, 41), "rollback": at(14, 52), "status": at(16, 0),
             "edited": at(16, 0), "followup_done": at(16, 45), "suggested": at(14, 16)}
    with database.session(write=True) as session:
        pid = session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))
        failure = session.scalar(select(FailureRow).where(FailureRow.project_id == pid, FailureRow.number == number))
        for event in session.scalars(select(TimelineRow).where(TimelineRow.failure_id == failure.id)):
            event.at = times[event.kind]
        from faultbook.store.tables import FollowupRow

        for row in session.scalars(select(FollowupRow).where(FollowupRow.failure_id == failure.id)):
            if row.done_at:
                row.done_at = at(16, 45)
    return number


def normalise(text: str) -> str:
    text = re.sub(r"(?<=\*\*Drafted:\*\* )\d{4}-\d\d-\d\d \d\d:\d\d UTC", "<now>", text)
    text = re.sub(r"(?<=[Dd]eployment: )#\d+|(?<=failed: )#\d+|(?<=succeeded: )#\d+|(?<=deployment:\*\* )#\d+|(?<=deployment )#\d+", "#<id>", text)
    return re.sub(r"(?<=in deployment )\d+|(?<=Follow-up #)\d+", "<id>", text)


def test_the_postmortem_matches_the_golden_file(database, project):
    from faultbook.services.postmortem import gather_postmortem, render_postmortem

    number = arrange(database, project)
    with database.session() as session:
        facts = gather_postmortem(session, project=project, number=number)
    text = normalise(render_postmortem(facts))
    if os.environ.get("FAULTBOOK_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert facts.blocked_deploys == 2
    assert facts.restored_at == at(14, 52)  # the verified rollback came before the good deploy
    data = facts.to_json()
    assert data["duration_seconds"] == 37 * 60
    assert data["suspect_changes"][0]["summary"].startswith("binding IMAGES added")


def test_the_cli_writes_the_file_and_refuses_an_unknown_number(database, project, db_url, tmp_path, monkeypatch, capsys):
    from faultbook.cli.app import main, state

    number = arrange(database, project)
    (tmp_path / "faultbook.toml").write_text(f'project = "{project.key}"\ndatabase_url = "{db_url}"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(state, "_settings", None)
    monkeypatch.setattr(state, "_db", None)
    assert main(["postmortem", str(number), "-o", "pm.md"]) == 0
    written = (tmp_path / "pm.md").read_text(encoding="utf-8")
    assert normalise(written) == GOLDEN.read_text(encoding="utf-8")
    monkeypatch.setattr(state, "_settings", None)
    monkeypatch.setattr(state, "_db", None)
    assert main(["postmortem", "99"]) == 2
    assert "#99" in capsys.readouterr().err
    assert not (tmp_path / "pm-99.md").exists()


def test_the_dashboard_page_download_and_json_twin(database, project, client, token):
    from webfixtures import bearer

    number = arrange(database, project)
    reader = bearer(token("reader"))
    assert client.get(f"/failures/{number}/postmortem", follow_redirects=False).status_code in (401, 303, 302, 403)
    page = client.get(f"/failures/{number}/postmortem", headers=reader)
    assert page.status_code == 200
    assert 'id="postmortem"' in page.text and "<h2>Trigger</h2>" in page.text
    assert f'href="/failures/{number}/postmortem.md"' in page.text
    download = client.get(f"/failures/{number}/postmortem.md", headers=reader)
    assert download.headers["content-type"].startswith("text/markdown")
    assert "attachment" in download.headers["content-disposition"]
    assert normalise(download.text) == GOLDEN.read_text(encoding="utf-8")
    data = client.get(f"/api/v1/failures/{number}/postmortem", headers=reader).json()
    assert data["blocked_deploys"] == 2 and data["action_items"][0]["status"] == "done"
    detail = client.get(f"/api/v1/failures/{number}", headers=reader).json()
    assert detail["suspect_changes"][0]["summary"].startswith("binding IMAGES added")
    assert detail["suspect_changes"][0]["named_in_error"] is True
    failure_page = client.get(f"/failures/{number}", headers=reader)
    assert 'id="suspect-changes"' in failure_page.text and "binding IMAGES added" in failure_page.text
    assert f'href="/failures/{number}/postmortem"' in failure_page.text
    assert client.get("/failures/99/postmortem", headers=reader).status_code == 404
