"""Triage over the API: bulk status, undo, not-a-deployment mark, delete (admin only), the audit trail;
and the deployment JSON twin."""

from __future__ import annotations

from webfixtures import bearer


def _failures(client, headers, n):  # type: ignore[no-untyped-def]
    for i in range(n):
        body = {"title": f"failure {i}", "component": "Backend", "error_message": f"boom {i}"}
        assert client.post("/api/v1/failures", json=body, headers=headers).status_code == 201


def test_bulk_resolve_undo_mark_delete_and_audit(client, token):
    w, a = bearer(token("writer")), bearer(token("admin"))
    _failures(client, w, 3)
    done = client.post("/api/v1/failures/bulk-status", json={"numbers": [1, 2], "status": "resolved"}, headers=w)
    assert done.status_code == 200 and [f["status"] for f in done.json()] == ["resolved", "resolved"]
    assert client.post("/api/v1/failures/bulk-status", json={"numbers": [1, 99], "status": "open"},
                       headers=w).status_code == 404
    assert client.get("/api/v1/failures/1", headers=w).json()["status"] == "resolved"  # all or nothing
    undone = client.post("/api/v1/failures/2/undo", headers=w)
    assert undone.status_code == 200 and undone.json()["status"] == "open"
    assert client.post("/api/v1/failures/2/undo", headers=w).status_code == 409  # nothing left to undo
    assert client.post("/api/v1/failures/3/triage", json={"not_deployment": True}, headers=w).status_code == 200
    assert client.delete("/api/v1/failures/3", headers=w).status_code == 403  # writers cannot delete
    assert client.delete("/api/v1/failures/3", headers=a).status_code == 200
    assert client.get("/api/v1/failures/3", headers=w).status_code == 404
    audit = client.get("/api/v1/audit", headers=w).json()
    assert [e["action"] for e in audit] == ["delete", "mark_not_deployment", "undo_status", "bulk_status"]
    assert audit[0]["details"]["failure"]["title"] == "failure 2"


def test_deployment_json_twin_has_kind_output_and_failures(client, token):
    w = bearer(token("writer"))
    report = {
        "deployment": {"key": "d-1", "started_at": "2026-11-30T10:00:00Z", "finished_at": "2026-11-30T10:00:30Z",
                       "command": "npx wrangler deploy", "outcome": "failed", "exit_code": 1, "component": "Backend"},
        "failure": {"title": "KV missing", "component": "Backend",
                    "error_message": "KV namespace 'CACHE' not found [code: 10041]"},
        "output_tail": "\x1b[31m✘ [ERROR]\x1b[0m KV namespace 'CACHE' not found [code: 10041]\n",
    }
    made = client.post("/api/v1/reports", json=report, headers=w).json()
    number = made["deployment"]["number"]
    got = client.get(f"/api/v1/deployments/{number}", headers=w).json()
    assert got["kind"] == "deploy" and got["duration_seconds"] == 30.0 and got["exit_code"] == 1
    assert got["output"] == "✘ [ERROR] KV namespace 'CACHE' not found [code: 10041]\n"
    assert [f["number"] for f in got["failures"]] == [made["failure_number"]]
    page = client.get(f"/deployments/{number}", headers=w)
    assert page.status_code == 200 and f"Deployment #{number}" in page.text and "\x1b" not in page.text
    assert client.get("/api/v1/deployments/999", headers=w).status_code == 404
    listed = client.get("/api/v1/deployments?kind=provision", headers=w).json()
    assert listed["total"] == 0
