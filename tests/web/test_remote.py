"""The CI client and its outbox: server down -> queued; server up -> flushed; resends never duplicate."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from faultbook.services import remote


def _payload(key: str | None = None) -> dict:
    return {
        "deployment": {"key": key or str(uuid.uuid4()), "started_at": "2025-08-20T14:10:00Z",
                       "command": "npx wrangler deploy", "outcome": "failed", "component": "Backend"},
        "failure": {"title": "Deploy failed", "component": "Backend", "error_message": "boom", "fingerprint": "fp"},
    }


class Switchable:
    """An HTTP client that is 'down' (connection refused) until switched on, then talks to the app."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        from fastapi.testclient import TestClient

        self.up = False
        self.lose_reply = False
        self.client = TestClient(app)

    def post(self, url: str, **kwargs):  # type: ignore[no-untyped-def]
        if not self.up:
            raise httpx.ConnectError("connection refused")
        response = self.client.post(url.replace("http://team", ""), **kwargs)
        if self.lose_reply:  # the server stored it but the reply never arrived
            self.lose_reply = False
            raise httpx.ReadTimeout("timed out")
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def server(make_app, token):  # type: ignore[no-untyped-def]
    return Switchable(make_app(host="0.0.0.0")), token("writer")


def _counts(client, secret):  # type: ignore[no-untyped-def]
    h = {"Authorization": f"Bearer {secret}"}
    return (
        client.get("/api/v1/deployments", headers=h).json()["total"],
        client.get("/api/v1/failures", headers=h).json()["total"],
    )


def test_down_then_up_then_flushed_without_duplicates(server, settings):
    http, secret = server
    first, second = _payload(), _payload()
    result = remote.report_run(settings, first, url="http://team", token=secret, http=http)
    assert (result.sent, result.queued) == (0, 1) and "cannot reach" in result.problem
    result = remote.report_run(settings, second, url="http://team", token=secret, http=http)
    assert (result.sent, result.queued) == (0, 2)
    assert len(remote.pending(remote.outbox_dir(settings))) == 2

    http.up = True
    http.lose_reply = True  # first send: stored, but the client never hears back -> stays queued
    result = remote.flush_outbox(remote.outbox_dir(settings), remote.ServerClient("http://team", secret, http=http))
    assert result.queued == 2
    result = remote.flush_outbox(remote.outbox_dir(settings), remote.ServerClient("http://team", secret, http=http))
    assert (result.sent, result.queued, result.problem) == (2, 0, None)
    # Two deployments, one failure (same fingerprint: the second is an occurrence), nothing doubled.
    assert _counts(http.client, secret) == (2, 1)
    # Sending the same report again later changes nothing.
    remote.report_run(settings, first, url="http://team", token=secret, http=http)
    assert _counts(http.client, secret) == (2, 1)


def test_rejected_report_is_set_aside_not_lost(server, settings):
    http, secret = server
    http.up = True
    bad = _payload()
    bad["deployment"]["outcome"] = "exploded"
    result = remote.report_run(settings, bad, url="http://team", token=secret, http=http)
    assert (result.sent, result.rejected, result.queued) == (0, 1, 0)
    kept = remote.outbox_dir(settings) / "rejected" / f"{bad['deployment']['key']}.json"
    assert json.loads(kept.read_text())["deployment"]["outcome"] == "exploded"


def test_wrong_token_keeps_the_report_queued(server, settings):
    http, _ = server
    http.up = True
    result = remote.report_run(settings, _payload(), url="http://team", token="fbk_wrong", http=http)
    assert result.queued == 1 and "401" in result.problem


def test_configuration_from_environment_and_file(tmp_path):
    from faultbook.config import Settings

    s = Settings(project_root=tmp_path, project_key="p", project_name="p", database_url="sqlite://",
                 environ={"FAULTBOOK_SERVER_URL": "https://team.example", "FAULTBOOK_SERVER_TOKEN": "t"})
    assert remote.server_config(s) == remote.ServerConfig("https://team.example", "t")
    assert remote.server_config(s, url="http://other", token="u") == remote.ServerConfig("http://other", "u")
    none = Settings(project_root=tmp_path, project_key="p", project_name="p", database_url="sqlite://")
    assert remote.server_config(none) is None
    assert remote.report_run(none, _payload()) is None
    from faultbook.errors import InputError

    with pytest.raises(InputError):
        remote.server_config(none, url="ftp://x")
