"""Team-server reports carry the failure's API endpoint and the deployment's snapshot (issue 14 extras)."""

from __future__ import annotations

from sqlalchemy import select
from webfixtures import bearer

from faultbook.knowledge.fingerprint import fingerprint

UPLOAD = "/accounts/0123456789abcdef0123456789abcdef/workers/scripts/quoteviral-api"
ROUTES = "/zones/fedcba9876543210fedcba9876543210/workers/routes"
AUTH = "Authentication error [code: 10000]"
SNAPSHOT = {"compatibility_date": "2025-08-01", "bindings": [{"type": "kv_namespace", "name": "CACHE"}],
            "vars": ["API_BASE"], "secrets": ["STRIPE_KEY"]}


def _report(key: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    return {
        "deployment": {"key": key, "started_at": "2025-08-20T14:10:00Z", "command": "npx wrangler deploy",
                       "outcome": "failed", "component": "Backend"},
        "failure": {"title": "Deploy failed", "component": "Backend", "error_message": AUTH, "error_code": 10000},
        **extra,
    }


def _stored(database, project, key):  # type: ignore[no-untyped-def]
    from faultbook.store.tables import DeploymentRow, FailureRow, ProjectRow

    with database.session() as s:
        pid = s.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))
        row = s.scalar(select(DeploymentRow).where(DeploymentRow.project_id == pid, DeploymentRow.key == key))
        failure = s.get(FailureRow, row.failure_id)
        return row.snapshot, failure.number, failure.fingerprint


def test_endpoint_keys_the_fingerprint_by_api_family_and_the_snapshot_is_stored(client, token, database, project):
    w = bearer(token("writer"))
    for key, endpoint in (("d-upload", UPLOAD), ("d-routes", ROUTES)):
        r = client.post("/api/v1/reports", json=_report(key, endpoint=endpoint, snapshot=SNAPSHOT), headers=w)
        assert r.status_code == 201, r.text
    upload = _stored(database, project, "d-upload")
    routes = _stored(database, project, "d-routes")
    assert upload[0] == SNAPSHOT
    # The same code on two API families is two failures, as on a local run.
    assert upload[1] != routes[1]
    assert upload[2] == fingerprint(AUTH, code=10000, component="Backend", endpoint=UPLOAD)
    assert routes[2] == fingerprint(AUTH, code=10000, component="Backend", endpoint=ROUTES)
    # Another script on the same family: the same failure again.
    other_script = UPLOAD.replace("quoteviral-api", "other-worker")
    r = client.post("/api/v1/reports", json=_report("d-upload-2", endpoint=other_script), headers=w)
    assert r.json()["failure_number"] == upload[1] and r.json()["recurrence"] is True


def test_an_old_client_without_the_fields_still_reports(client, token, database, project):
    r = client.post("/api/v1/reports", json=_report("d-old"), headers=bearer(token("writer")))
    assert r.status_code == 201
    snapshot, _, stored = _stored(database, project, "d-old")
    assert snapshot is None and stored == fingerprint(AUTH, code=10000, component="Backend")


def test_a_snapshot_that_is_not_one_is_refused(client, token, database, project):
    w = bearer(token("writer"))
    assert client.post("/api/v1/reports", json=_report("d-bad", snapshot=["not", "an", "object"]),
                       headers=w).status_code == 422
    assert client.post("/api/v1/reports", json=_report("d-big", snapshot={"x": "y" * 300_000}),
                       headers=w).status_code == 422
    # NUL is kept as \x00, as in every other field (one policy: escape, never crash).
    assert client.post("/api/v1/reports", json=_report("d-nul", snapshot={"x": "a\u0000b"}),
                       headers=w).status_code == 201
    assert _stored(database, project, "d-nul")[0] == {"x": "a\\x00b"}


def test_the_run_sends_endpoint_and_snapshot():
    from datetime import datetime, timezone

    from faultbook.services.run import notify

    class Scrub:
        def scrub(self, text):  # type: ignore[no-untyped-def]
            return text.replace("sk_live_secret", "[REDACTED]")

    class Error:
        endpoint = UPLOAD + "?token=sk_live_secret"

    class Failure:
        error_code = 10000
        fingerprint = "v2:x"

        def to_json(self):  # type: ignore[no-untyped-def]
            return {"number": 1, "title": "t"}

    class Deployment:
        def to_json(self):  # type: ignore[no-untyped-def]
            return {"id": 1, "key": "k", "started_at": datetime(2025, 1, 1, tzinfo=timezone.utc).isoformat()}

    class Attempt:
        deployment = Deployment()
        failure = Failure()
        error = Error()
        result = None

    import faultbook.services.run.notify as module

    original = module.stored_tail
    module.stored_tail = lambda result, scrubber: None
    try:
        body = notify.server_report(Attempt(), scrubber=Scrub(), snapshot=SNAPSHOT)  # type: ignore[arg-type]
    finally:
        module.stored_tail = original
    assert body["endpoint"] == UPLOAD + "?token=[REDACTED]"
    assert body["snapshot"] == SNAPSHOT
