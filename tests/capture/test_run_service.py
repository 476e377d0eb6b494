"""The run flow (``services.run.run``) end to end with a stand-in wrangler, on SQLite and PostgreSQL."""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from faultbook.config import load_settings
from faultbook.domain import DeploymentOutcome
from faultbook.services import deployments
from faultbook.services.run import RunRequest, run as run_flow
from faultbook.store.tables import DeploymentRow, FailureRow, OccurrenceRow, ProjectRow, TimelineRow

HERE = Path(__file__).parent
TOKEN = "Zq9Xw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed9Cb8Az7Y"  # 40 chars: a Cloudflare API token's shape


@pytest.fixture
def workdir(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrangler = bindir / "wrangler"
    wrangler.write_text(f"#!/bin/sh\nexec '{sys.executable}' '{HERE / 'fake_wrangler.py'}' \"$@\"\n")
    wrangler.chmod(0o755)
    project = tmp_path / "quoteviral"
    project.mkdir()
    (project / "wrangler.toml").write_text('name = "quoteviral-api"\n')
    return project, bindir


class Run:
    def __init__(self, database, project, workdir, tmp_path):
        self.database = database
        self.project = project
        self.cwd, self.bindir = workdir
        self.tmp_path = tmp_path
        self.messages: list[str] = []
        self.sleeps: list[float] = []
        #: How often the run opened the full database (the SQLite fast path avoids it on success).
        self.full_opens = 0

    def open_database(self):
        self.full_opens += 1
        return self.database

    def __call__(self, argv, *, mode="ok", extra_env=None, **kwargs):
        environ = {
            **os.environ,
            "PATH": f"{self.bindir}{os.pathsep}{os.environ['PATH']}",
            "CLOUDFLARE_API_TOKEN": TOKEN,
            "FAKE_WRANGLER_MODE": mode,
        }
        environ.pop("WRANGLER_OUTPUT_FILE_PATH", None)
        environ.update(extra_env or {})
        settings = load_settings(cwd=self.cwd, environ=environ)
        self.out = open(self.tmp_path / "stdout", "w+b")
        self.err = open(self.tmp_path / "stderr", "w+b")
        try:
            request = RunRequest(argv=argv, cwd=self.cwd, stdout_fd=self.out.fileno(), stderr_fd=self.err.fileno(),
                                 use_pty=False, **kwargs)
            return run_flow(
                request,
                settings=settings,
                database=self.open_database,
                database_url=self.database.url,
                project=self.project,
                report=self.messages.append,
                sleep=self.sleeps.append,
            )
        finally:
            self.out.close()
            self.err.close()

    def rows(self, model):
        with self.database.session() as session:
            pid = session.scalar(select(ProjectRow.id).where(ProjectRow.key == self.project.key))
            if hasattr(model, "project_id"):
                query = select(model).where(model.project_id == pid)
            else:  # occurrences and timeline events hang off a failure
                query = select(model).join(FailureRow, FailureRow.id == model.failure_id).where(FailureRow.project_id == pid)
            return session.scalars(query.order_by(model.id)).all()


@pytest.fixture
def run(database, project, workdir, tmp_path):
    return Run(database, project, workdir, tmp_path)


def test_a_failed_wrangler_deploy_becomes_a_failure_with_the_exact_message(run):
    outcome = run(["wrangler", "deploy"], mode="images")
    assert outcome.exit_code == 1
    attempt = outcome.final
    assert attempt.outcome is DeploymentOutcome.FAILED
    assert attempt.failure.error_message == "binding IMAGES has an unknown type Images [code: 10021]"
    assert attempt.failure.title == "binding IMAGES has an unknown type Images"
    (failure,) = run.rows(FailureRow)
    assert (failure.component, failure.component_detail, failure.step) == ("Backend", "Cloudflare Worker", "Worker deployment")
    assert failure.error_code == 10021
    (deployment,) = run.rows(DeploymentRow)
    assert deployment.outcome == "failed" and deployment.exit_code == 1
    assert deployment.failure_id == failure.id
    assert deployment.config_hash.startswith("sha256:")
    assert deployment.command == "wrangler deploy"
    assert "binding IMAGES" in deployment.output_tail and "\x1b[" not in deployment.output_tail
    assert any("failure #" in m and "binding IMAGES" in m for m in run.messages)


def test_a_successful_deploy_records_version_and_url(run):
    outcome = run(["wrangler", "deploy"], env="production")
    assert outcome.exit_code == 0
    with run.database.session() as session:
        (item,) = deployments.list_deployments(session, project=run.project)
    assert item.outcome is DeploymentOutcome.SUCCEEDED
    assert item.version_id == "11111111-2222-4333-8444-555555555555"
    assert item.url == "https://quoteviral-api.example.workers.dev"
    assert item.environment == "production" and item.finished_at is not None
    assert run.rows(FailureRow) == []


def test_user_output_file_is_respected_and_read(run, tmp_path):
    mine = tmp_path / "mine.ndjson"
    mine.write_text('{"version": 1, "type": "deploy", "version_id": "from-an-earlier-run"}\n')
    outcome = run(["wrangler", "deploy"], extra_env={"WRANGLER_OUTPUT_FILE_PATH": str(mine)})
    assert outcome.final.deployment.version_id == "11111111-2222-4333-8444-555555555555"
    assert len(mine.read_text().splitlines()) == 2  # wrangler appended to the user's file


def test_secrets_never_reach_the_database_or_messages(run):
    outcome = run(
        ["wrangler", "deploy", f"--api-token={TOKEN}", "--var", "DB_PASSWORD:hunter2hunter2"],
        mode="leaky",
        extra_env={"DB_PASSWORD": "hunter2hunter2"},
    )
    assert outcome.exit_code == 1
    run.err = None
    texts = list(run.messages)
    for model in (DeploymentRow, FailureRow, OccurrenceRow, TimelineRow):
        for row in run.rows(model):
            texts.extend(str(v) for v in vars(row).values())
    blob = "\n".join(texts)
    assert TOKEN not in blob and "hunter2hunter2" not in blob
    assert "[REDACTED]" in blob
    # The live stream is the command's own and stays untouched (transparency).
    assert TOKEN.encode() in (run.tmp_path / "stdout").read_bytes()


def test_exit_zero_with_an_error_block_is_a_failed_deployment_and_strict_fails(run):
    outcome = run(["wrangler", "pages", "deploy", "dist"], mode="exit0-error")
    assert outcome.exit_code == 0
    assert outcome.final.outcome is DeploymentOutcome.FAILED and outcome.final.error_despite_success
    assert outcome.final.failure.component == "Frontend"
    assert any("exited 0 but printed an error" in m for m in run.messages)
    strict = run(["wrangler", "pages", "deploy", "dist"], mode="exit0-error", strict=True)
    assert strict.exit_code == 1


def test_transient_failures_are_retried_with_backoff_each_attempt_recorded(run, tmp_path):
    counter = tmp_path / "count"
    outcome = run(
        ["wrangler", "deploy"],
        mode="unavailable",
        retry=3,
        extra_env={"FAKE_WRANGLER_COUNTER": str(counter), "FAKE_WRANGLER_FAIL_FIRST": "2"},
    )
    assert outcome.exit_code == 0
    assert [a.outcome.value for a in outcome.attempts] == ["failed", "failed", "succeeded"]
    assert run.sleeps == [2.0, 4.0]
    assert [r.outcome for r in run.rows(DeploymentRow)] == ["failed", "failed", "succeeded"]


def test_permanent_failures_are_not_retried(run):
    outcome = run(["wrangler", "deploy"], mode="images", retry=3)
    assert len(outcome.attempts) == 1 and run.sleeps == []
    assert any("not transient" in m for m in run.messages)


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_notify_posts_the_failure_with_its_known_fix(run):
    _Hook.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        outcome = run(["wrangler", "deploy"], mode="leaky", notify=url)
    finally:
        server.shutdown()
    assert outcome.notified is True and outcome.exit_code == 1
    (payload,) = _Hook.received
    assert "deployment failed" in payload["text"] and payload["failure_number"] == outcome.final.failure.number
    assert payload["error_message"] and payload["known_fixes"]  # 10000 is in the catalog
    assert TOKEN not in json.dumps(payload)


def test_a_failing_notification_never_changes_the_exit_code(run):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    outcome = run(["wrangler", "deploy"], notify=f"http://127.0.0.1:{port}/hook")
    assert outcome.exit_code == 0 and outcome.notified is False
    assert any("notification failed" in m for m in run.messages)


def test_10085_right_after_faultbook_saw_the_bucket_created_is_transient(run, database, project):
    from faultbook.capture.extract import ExtractedError
    from faultbook.capture.wrangler_output import WranglerOutput
    from faultbook.services.run.transient import transient_reason as _transient_reason

    error = ExtractedError(
        message="R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]",
        title="x",
        code=10085,
    )
    with database.session(write=True) as session:
        assert _transient_reason(session, project=project, error=error, wrangler=WranglerOutput()) is None
        created = deployments.start_deployment(
            session, project=project, command="wrangler r2 bucket create quoteviral-uploads", cwd=None,
            component="Assets", step="R2 bucket setup",
        )
        deployments.finish_deployment(
            session, project=project, deployment_id=created.id, outcome=DeploymentOutcome.SUCCEEDED, exit_code=0
        )
        assert "propagating" in _transient_reason(session, project=project, error=error, wrangler=WranglerOutput())


def test_the_full_database_is_opened_only_to_record_a_failure_or_off_sqlite(run, backend):
    run(["wrangler", "deploy"])  # the first run creates the project row (always the full path)
    run.full_opens = 0
    assert run(["wrangler", "deploy"]).exit_code == 0
    assert run.full_opens == (0 if backend == "sqlite" else 1)  # PostgreSQL: always the full path
    outcome = run(["wrangler", "deploy"], mode="images")
    assert outcome.final.failure.number == 1
    assert run.full_opens == (1 if backend == "sqlite" else 2)
    (failure,) = run.rows(FailureRow)
    assert [d.outcome for d in run.rows(DeploymentRow)] == ["succeeded", "succeeded", "failed"]
    assert run.rows(DeploymentRow)[-1].failure_id == failure.id


def test_a_command_line_with_bytes_that_are_not_utf8_is_recorded_readably(run):
    # A file name in Latin-1 reaches Python's argv as a lone surrogate (surrogateescape).
    outcome = run(["wrangler", "deploy", "--name", "caf\udce9"], mode="images")
    assert outcome.exit_code == 1
    (deployment,) = run.rows(DeploymentRow)
    assert deployment.command == "wrangler deploy --name 'caf\\xe9'"


def test_a_failed_deploy_says_what_changed_since_the_last_good_one(run):
    """The suspect change on `faultbook run`: from the snapshots stored with each deployment (no git here)."""
    config = run.cwd / "wrangler.toml"
    config.write_text('name = "quoteviral-api"\ncompatibility_date = "2025-08-15"\n\n[vars]\n'
                      'API_KEY = "planted-var-value-5a8e"\n')
    assert run(["wrangler", "deploy"]).exit_code == 0
    config.write_text(config.read_text() + '\n[[unsafe.bindings]]\nname = "IMAGES"\ntype = "Images"\n')
    outcome = run(["wrangler", "deploy"], mode="images")
    assert outcome.exit_code == 1
    first = outcome.final.suspect_changes[0]
    assert first.summary == "binding IMAGES added (unsafe.bindings: type = Images)" and first.named_in_error
    said = "\n".join(run.messages)
    assert "changed since the last successful deployment" in said and "binding IMAGES added" in said
    good, bad = run.rows(DeploymentRow)
    assert good.snapshot["config"]["vars"] == ["API_KEY"] and "unsafe" in bad.snapshot["config"]
    assert "planted-var-value-5a8e" not in json.dumps([good.snapshot, bad.snapshot])
