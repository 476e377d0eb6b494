"""Fixtures for the recovery tests: a project folder wired to the emulated API and the test database."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from recovery.helpers import WORKER, make_project, settings_for

SEED_ERROR = "binding IMAGES has an unknown type Images [code: 10021]"


@dataclass
class Qv:
    root: Path
    cf_api: Any
    database: Any
    project: Any
    db_url: str

    def settings(self, **env: str):  # type: ignore[no-untyped-def]
        return settings_for(self.root, self.cf_api, **env)

    def write_toml(self, extra: str) -> None:
        make_project(self.root, key=self.project.key, db_url=self.db_url, extra_toml=extra)

    def record_failed_deploy(self, *, output: str = "", at: datetime | None = None, commit: str | None = None,
                             error: str = SEED_ERROR) -> int:
        """A failure #N with one failed, captured deployment (as `faultbook run` leaves it)."""
        from faultbook.domain import DeploymentOutcome, Failure, Status
        from faultbook.services import deployments, ledger
        from faultbook.store.tables import FailureRow, OccurrenceRow

        at = at or datetime(2025, 8, 20, 14, 15, tzinfo=timezone.utc)
        with self.database.session(write=True) as session:
            failure = ledger.record_failure(
                session, project=self.project, actor="ann",
                failure=Failure(number=None, title="Incorrect Images Binding Type", occurred_at=at,
                                component="Backend", component_detail="Cloudflare Worker",
                                step="Worker deployment", error_message=error, status=Status.OPEN),
            )
            started = deployments.start_deployment(
                session, project=self.project, command="npx wrangler deploy", cwd=str(self.root),
                component="Backend", step="Worker deployment", started_at=at,
                git=deployments.GitContext(commit=commit, branch="main" if commit else None, dirty=False),
            )
            deployments.finish_deployment(
                session, project=self.project, deployment_id=started.id, outcome=DeploymentOutcome.FAILED,
                exit_code=1, output_tail=output, failure_number=failure.number, finished_at=at,
            )
            from sqlalchemy import select

            from faultbook.store.tables import ProjectRow

            failure_id = session.scalar(
                select(FailureRow.id).join(ProjectRow, ProjectRow.id == FailureRow.project_id)
                .where(ProjectRow.key == self.project.key, FailureRow.number == failure.number)
            )
            session.add(OccurrenceRow(failure_id=failure_id, deployment_id=started.id, occurred_at=at,
                                      error_message=error))
            return failure.number

    def record_good_deploy(self, *, at: datetime, commit: str | None = None) -> None:
        from faultbook.domain import DeploymentOutcome
        from faultbook.services import deployments

        with self.database.session(write=True) as session:
            started = deployments.start_deployment(
                session, project=self.project, command="npx wrangler deploy", cwd=str(self.root),
                component="Backend", step="Worker deployment", started_at=at,
                git=deployments.GitContext(commit=commit, branch="main" if commit else None, dirty=False),
            )
            deployments.finish_deployment(session, project=self.project, deployment_id=started.id,
                                          outcome=DeploymentOutcome.SUCCEEDED, exit_code=0, finished_at=at)

    def timeline(self, number: int) -> list[Any]:
        from faultbook.services import ledger

        with self.database.session() as session:
            return list(ledger.get_failure(session, project=self.project, number=number).timeline)

    def followups(self, include_done: bool = False) -> list[Any]:
        from faultbook.services import followups

        with self.database.session() as session:
            return followups.list_followups(session, project=self.project, include_done=include_done)

    def snapshots(self) -> list[Any]:
        from faultbook.services import recovery

        with self.database.session() as session:
            rows = recovery.list_snapshots(session, project=self.project)
            session.expunge_all()
            return rows

    def rollback(self, settings: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        from faultbook.services import recovery

        kwargs.setdefault("actor", "ann")
        return recovery.rollback(database=self.database, settings=settings or self.settings(),
                                 project=self.project, **kwargs)


@pytest.fixture
def qv(tmp_path, cf_api, database, project, db_url) -> Qv:
    root = make_project(tmp_path / "quoteviral", key=project.key, db_url=db_url)
    return Qv(root=root, cf_api=cf_api, database=database, project=project, db_url=db_url)


@pytest.fixture
def worker_history(cf_api):
    """v1 100 %, v2 100 %, a 50/50 split of v2 and v3, then v3 100 % (live): the default target is v2."""
    state = cf_api.state
    v1 = state.add_version(WORKER)
    v2 = state.add_version(WORKER)
    v3 = state.add_version(WORKER, deploy=False)
    state.add_deployment(WORKER, versions=[{"version_id": v2.id, "percentage": 50},
                                           {"version_id": v3.id, "percentage": 50}])
    state.add_deployment(WORKER, versions=[{"version_id": v3.id, "percentage": 100}])
    return v1, v2, v3


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        status, body = self.server.answers.get(self.path, (404, b"not found"))  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def health_server() -> Iterator[Any]:
    """A local HTTP server on 127.0.0.1: set ``.answers[path] = (status, body)``; ``.url(path)``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    server.answers = {}  # type: ignore[attr-defined]
    server.url = lambda path: f"http://127.0.0.1:{server.server_address[1]}{path}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
