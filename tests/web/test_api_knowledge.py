"""The CLI's explain, merge, catalog, rules, import and followups-done over the API, on both backends."""

from __future__ import annotations

import uuid
from pathlib import Path

from webfixtures import bearer

SEED = Path(__file__).resolve().parents[2] / "examples" / "quoteviral" / "FAILURES.md"
IMAGES = "binding IMAGES of type Images is not a valid binding type [code: 10021]"


def _import_seed(client, headers, **params):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/import", content=SEED.read_bytes(), params=params,
                       headers={**headers, "Content-Type": "text/markdown"})


def test_import_the_seed_then_export_it_back(client, token):
    w = bearer(token("writer"))
    r = _import_seed(client, w)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == [1, 2] and len(r.json()["potential_created"]) >= 1
    listed = client.get("/api/v1/failures", params={"sort": "number"}, headers=w).json()["items"]
    assert [f["error_message"].count("10021") + f["error_message"].count("10085") for f in listed] == [1, 1]
    exported = client.get("/api/v1/export", headers=w).text
    # The layout's promise: the same lines, trailing whitespace aside.
    assert [line.rstrip() for line in exported.split("\n")] == [line.rstrip() for line in SEED.read_text().split("\n")]


def test_import_is_all_or_nothing_and_says_where(client, token):
    w = bearer(token("writer"))
    assert _import_seed(client, w).status_code == 200
    again = _import_seed(client, w)
    assert again.status_code == 409 and "#1" in again.json()["detail"]
    assert _import_seed(client, w, update="true").json()["updated"] == [1, 2]
    broken = SEED.read_text().replace("**Status**: ✅ Resolved", "**Status**: Maybe", 1)
    r = client.post("/api/v1/import", content=broken, headers={**w, "Content-Type": "text/markdown"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"].startswith("request body:37: failure #1: unknown status 'Maybe'")
    binary = client.post("/api/v1/import", content=b"# x\n\x00", headers={**w, "Content-Type": "text/markdown"})
    assert binary.status_code == 422 and "request body:2" in binary.json()["detail"][0]["msg"]
    assert client.get("/api/v1/failures", headers=w).json()["total"] == 2


def test_import_needs_a_writer(client, token):
    assert _import_seed(client, bearer(token("reader"))).status_code == 403


def test_explain_knows_the_seed_failure_and_the_catalog(client, token):
    w = bearer(token("writer"))
    _import_seed(client, w)
    r = client.post("/api/v1/explain", json={"text": IMAGES}, headers=bearer(token("reader")))
    assert r.status_code == 200, r.text
    matches = r.json()
    assert matches[0]["source"] in {"ledger", "catalog"}
    assert any(m["source"] == "catalog" and m["code"] == 10021 for m in matches)
    assert any("images" in (m["resolution"] + m["root_cause"]).lower() for m in matches)
    assert client.post("/api/v1/explain", json={"text": ""}, headers=w).status_code == 422
    assert client.post("/api/v1/explain", json={"text": "x", "limit": 99}, headers=w).status_code == 422


def test_explain_is_a_read_open_to_anonymous_readers_without_csrf(make_app):
    # Explaining changes nothing, so it needs no CSRF token (a write from the same client does).
    from fastapi.testclient import TestClient

    client = TestClient(make_app(host="127.0.0.1"))  # loopback: anonymous may read
    r = client.post("/api/v1/explain", json={"text": "R2 bucket 'uploads' not found. Please use a different name and try again. [code: 10085]"})
    assert r.status_code == 200 and any(m["code"] == 10085 for m in r.json())
    assert client.post("/api/v1/failures/1/merge", json={"other": 2}).status_code in (401, 403)


def test_merge_moves_later_reports_to_the_kept_failure(client, token):
    w = bearer(token("writer"))

    def report(message: str) -> dict:
        body = {"deployment": {"key": str(uuid.uuid4()), "started_at": "2025-08-20T14:10:00Z",
                               "command": "npx wrangler deploy", "outcome": "failed"},
                "failure": {"title": message[:40], "component": "Backend", "error_message": message}}
        return client.post("/api/v1/reports", json=body, headers=w).json()

    a = report("KV namespace 'abc' is not valid. [code: 10041]")["failure_number"]
    b = report("KV binding 'CACHE' has no id")["failure_number"]
    merged = client.post(f"/api/v1/failures/{a}/merge", json={"other": b}, headers=w)
    assert merged.status_code == 200, merged.text
    assert merged.json()["occurrence_count"] == 2
    again = report("KV binding 'CACHE' has no id")
    assert (again["failure_number"], again["recurrence"]) == (a, True)
    assert client.get(f"/api/v1/failures/{b}", headers=w).json()["status"] == "resolved"
    assert client.post(f"/api/v1/failures/{a}/merge", json={"other": a}, headers=w).status_code == 422
    assert client.post(f"/api/v1/failures/{a}/merge", json={"other": 999}, headers=w).status_code == 404
    assert client.post(f"/api/v1/failures/{a}/merge", json={"other": b}, headers=bearer(token("reader"))).status_code == 403


def test_catalog_and_rules(client, token):
    r = bearer(token("reader"))
    catalog = client.get("/api/v1/catalog", headers=r).json()
    assert {10021, 10085} <= {e["code"] for e in catalog}
    rules = client.get("/api/v1/rules", headers=r).json()
    assert len(rules) >= 10 and all(x["id"].startswith("FB") for x in rules)
    one = client.get(f"/api/v1/rules/{rules[0]['name']}", headers=r).json()
    assert one["id"] == rules[0]["id"] and one["explanation"]
    missing = client.get("/api/v1/rules/FB999", headers=r)
    assert missing.status_code == 404 and "FB999" in missing.json()["detail"]


def test_followup_done(client, token, database, project):
    from faultbook.services import followups

    with database.session(write=True) as s:
        item = followups.open_followup(s, project=project, title="Schedule redeployment")
    w = bearer(token("writer"))
    done = client.post(f"/api/v1/followups/{item.id}/done", headers=w)
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["done_at"]
    assert client.get("/api/v1/followups", headers=w).json() == []
    assert client.post("/api/v1/followups/9999/done", headers=w).status_code == 404
