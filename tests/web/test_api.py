"""The REST API on both backends: record, list/search/filter/sort, patch, reports, deployments, roles."""

from __future__ import annotations

import uuid

from webfixtures import bearer

FAILURE = {
    "title": "Worker deployment failed: KV namespace binding",
    "component": "Backend",
    "component_detail": "Cloudflare Worker",
    "step": "Worker deployment",
    "error_message": "KV namespace 'abc' is not valid. [code: 10041]",
    "root_cause": "Placeholder KV id in wrangler.toml",
    "resolution": "Create the namespace and paste its id",
    "status": "open",
    "lessons_learned": "Never deploy placeholder ids",
    "occurred_at": "2025-08-20T14:15:00Z",
}


def _report(key: str, *, outcome: str = "failed", failure: dict | None = None, fingerprint: str | None = None) -> dict:
    body: dict = {
        "deployment": {
            "key": key,
            "started_at": "2025-08-20T14:10:00Z",
            "finished_at": "2025-08-20T14:11:30Z",
            "command": "npx wrangler deploy",
            "outcome": outcome,
            "component": "Backend",
            "git_commit": "0123456789abcdef",
            "version_id": "v-1",
        }
    }
    if failure is not None:
        body["failure"] = {**failure, "fingerprint": fingerprint}
    return body


def test_record_then_get_every_seed_field(client, token):
    w = bearer(token("writer"))
    created = client.post("/api/v1/failures", json=FAILURE, headers=w)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    got = client.get(f"/api/v1/failures/{number}", headers=w).json()
    for key, value in FAILURE.items():
        if key == "occurred_at":
            assert got[key].startswith("2025-08-20T14:15:00")
        else:
            assert got[key] == value, key
    assert [e["kind"] for e in got["timeline"]] == ["created"]


def test_list_filters_search_sort_and_pages(client, token):
    w = bearer(token("writer"))
    titles = ["Pages build failed", "DNS record missing", "Worker route conflict", "Assets upload timeout"]
    components = ["Frontend", "DNS", "Backend", "Assets"]
    for i, (title, comp) in enumerate(zip(titles, components)):
        body = {**FAILURE, "title": title, "component": comp, "occurred_at": f"2025-08-{10 + i:02d}T10:00:00Z",
                "error_message": f"error {comp.lower()} zebra{i}", "status": "resolved" if i % 2 else "open"}
        assert client.post("/api/v1/failures", json=body, headers=w).status_code == 201
    get = lambda q: client.get("/api/v1/failures" + q, headers=w).json()  # noqa: E731
    assert get("")["total"] == 4
    assert [f["title"] for f in get("?sort=occurred_at")["items"]] == titles
    assert [f["title"] for f in get("?sort=-occurred_at")["items"]] == titles[::-1]
    assert {f["title"] for f in get("?status=resolved")["items"]} == {"DNS record missing", "Assets upload timeout"}
    assert [f["title"] for f in get("?component=dns")["items"]] == ["DNS record missing"]
    assert [f["title"] for f in get("?since=2025-08-11&until=2025-08-12&sort=number")["items"]] == titles[1:3]
    # Full text: every word, prefix match, across title and error message.
    assert [f["title"] for f in get("?q=worker+route")["items"]] == ["Worker route conflict"]
    assert [f["title"] for f in get("?q=zebra2")["items"]] == ["Worker route conflict"]
    assert [f["title"] for f in get("?q=uploa")["items"]] == ["Assets upload timeout"]
    assert get("?q=nothing-like-this")["total"] == 0
    assert get('?q="OR" AND (*')["total"] == 0  # query syntax is not passed through
    page = get("?sort=number&limit=3&offset=3")
    assert (page["total"], [f["number"] for f in page["items"]]) == (4, [4])
    bogus = client.get("/api/v1/failures?sort=bogus", headers=w)
    assert bogus.status_code == 422 and "relevance" in bogus.json()["detail"][0]["msg"]


def test_search_puts_the_best_match_first_unless_a_sort_is_asked_for(client, token):
    w = bearer(token("writer"))
    records = [  # oldest first; "quota" in the title only of the oldest
        {"title": "R2 bucket quota exceeded", "error_message": "quota reached for bucket assets [code: 10006]"},
        {"title": "Pages build failed", "error_message": "build step exited 1",
         "lessons_learned": "Watch the quota page too"},
        {"title": "Worker upload failed", "error_message": "upload rejected",
         "root_cause": "An account quota, probably"},
    ]
    for i, fields in enumerate(records):
        body = {**FAILURE, "root_cause": "", "lessons_learned": "", **fields,
                "occurred_at": f"2025-08-{10 + i:02d}T10:00:00Z"}
        assert client.post("/api/v1/failures", json=body, headers=w).status_code == 201
    get = lambda q: [f["title"] for f in client.get("/api/v1/failures" + q, headers=w).json()["items"]]  # noqa: E731
    best = get("?q=quota")
    assert best[0] == "R2 bucket quota exceeded" and len(best) == 3
    assert get("?q=quota&sort=relevance") == best
    assert get("?q=quota&sort=-occurred_at") == ["Worker upload failed", "Pages build failed", "R2 bucket quota exceeded"]
    assert get("?sort=relevance")[0] == "Worker upload failed"  # no words: newest first
    assert client.get("/api/v1/failures?q=quota", headers=w).json()["sort"] == "relevance"


def test_a_search_too_broad_to_rank_comes_newest_first_and_says_so(client, token, monkeypatch):
    from faultbook.services import search

    w = bearer(token("writer"))
    for i, title in enumerate(["quota quota quota", "quota once", "nothing here"]):
        body = {**FAILURE, "title": title, "occurred_at": f"2025-08-{10 + i:02d}T10:00:00Z"}
        assert client.post("/api/v1/failures", json=body, headers=w).status_code == 201
    monkeypatch.setattr(search, "RANK_LIMIT", 1)
    page = client.get("/api/v1/failures?q=quota", headers=w).json()
    assert page["sort"] == "-occurred_at" and [f["title"] for f in page["items"]] == ["quota once", "quota quota quota"]
    assert "Too many matches to rank" in client.get("/failures?q=quota", headers=w).text


def test_patch_status_goes_on_the_timeline(client, token):
    w = bearer(token("writer"))
    number = client.post("/api/v1/failures", json=FAILURE, headers=w).json()["number"]
    patched = client.patch(f"/api/v1/failures/{number}", json={"status": "resolved", "root_cause": "new"}, headers=w)
    assert patched.status_code == 200, patched.text
    data = client.get(f"/api/v1/failures/{number}", headers=w).json()
    assert (data["status"], data["root_cause"]) == ("resolved", "new")
    assert data["resolved_at"] is not None
    assert [e["kind"] for e in data["timeline"]] == ["created", "status", "edited"]
    assert client.patch("/api/v1/failures/999", json={"status": "open"}, headers=w).status_code == 404
    assert client.patch(f"/api/v1/failures/{number}", json={"title": "two\nlines"}, headers=w).status_code == 422


def test_report_is_idempotent_by_key(client, token, database, project):
    w = bearer(token("writer"))
    key = str(uuid.uuid4())
    first = client.post("/api/v1/reports", json=_report(key, failure=FAILURE, fingerprint="fp1"), headers=w)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/reports", json=_report(key, failure=FAILURE, fingerprint="fp1"), headers=w)
    assert again.status_code == 200
    assert again.json()["deployment"]["id"] == first.json()["deployment"]["id"]
    assert again.json()["created"] is False
    failures = client.get("/api/v1/failures", headers=w).json()
    deployments = client.get("/api/v1/deployments", headers=w).json()
    assert (failures["total"], deployments["total"]) == (1, 1)
    assert deployments["items"][0]["failure_number"] == first.json()["failure_number"]
    # Same fingerprint, new deployment: an occurrence of the same failure, not a new one.
    second = client.post("/api/v1/reports", json=_report(str(uuid.uuid4()), failure=FAILURE, fingerprint="fp1"), headers=w)
    assert second.json()["recurrence"] is True
    detail = client.get(f"/api/v1/failures/{first.json()['failure_number']}", headers=w).json()
    assert detail["occurrence_count"] == 2
    assert len(detail["occurrences"]) == 2
    assert client.get("/api/v1/failures", headers=w).json()["total"] == 1


def test_report_of_a_resolved_failures_error_reopens_it_as_a_regression(client, token):
    w = bearer(token("writer"))
    # The first report carries a client fingerprint, the second none and a different volatile
    # namespace id: the server recognises the error from its message, code and component.
    first = client.post("/api/v1/reports", json=_report(str(uuid.uuid4()), failure=FAILURE, fingerprint="fp1"), headers=w)
    number = first.json()["failure_number"]
    assert client.patch(f"/api/v1/failures/{number}", json={"status": "resolved"}, headers=w).status_code == 200
    again = {**FAILURE, "error_message": "KV namespace 'def' is not valid. [code: 10041]"}
    second = client.post("/api/v1/reports", json=_report(str(uuid.uuid4()), failure=again), headers=w)
    assert second.status_code == 201, second.text
    assert (second.json()["failure_number"], second.json()["recurrence"], second.json()["regression"]) == (
        number, True, True)
    detail = client.get(f"/api/v1/failures/{number}", headers=w).json()
    assert (detail["status"], detail["resolved_at"], detail["occurrence_count"]) == ("open", None, 2)
    assert [e["kind"] for e in detail["timeline"]][-1] == "regression"
    assert detail["timeline"][-1]["details"]["previous_status"] == "resolved"
    assert client.get("/api/v1/failures", headers=w).json()["total"] == 1


def test_report_lands_on_the_failure_it_was_merged_into(client, token, database, project):
    from faultbook.services.recognition import merge_failures

    w = bearer(token("writer"))
    kv = client.post("/api/v1/reports", json=_report(str(uuid.uuid4()), failure=FAILURE), headers=w).json()
    other = {**FAILURE, "title": "Same thing, other words", "error_message": "KV binding 'CACHE' has no id"}
    dup = client.post("/api/v1/reports", json=_report(str(uuid.uuid4()), failure=other), headers=w).json()
    assert dup["failure_number"] != kv["failure_number"]
    with database.session(write=True) as s:
        merge_failures(s, project=project, into=kv["failure_number"], other=dup["failure_number"])
    again = client.post("/api/v1/reports", json=_report(str(uuid.uuid4()), failure=other), headers=w).json()
    assert (again["failure_number"], again["recurrence"]) == (kv["failure_number"], True)


def test_report_key_header_must_match(client, token):
    w = bearer(token("writer"))
    body = _report("abc-1")
    r = client.post("/api/v1/reports", json=body, headers={**w, "Idempotency-Key": "other"})
    assert r.status_code == 422


def test_deployments_post_is_idempotent(client, token):
    w = bearer(token("writer"))
    body = _report("dep-1", outcome="succeeded")["deployment"]
    assert client.post("/api/v1/deployments", json=body, headers=w).status_code == 201
    assert client.post("/api/v1/deployments", json=body, headers=w).status_code == 200
    assert client.get("/api/v1/deployments", headers=w).json()["total"] == 1


def test_roles(client, token):
    reader, writer, admin = bearer(token("reader")), bearer(token("writer")), bearer(token("admin"))
    assert client.get("/api/v1/failures").status_code == 401  # anonymous on a non-loopback server
    assert client.get("/api/v1/failures", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/failures", headers=reader).status_code == 200
    assert client.post("/api/v1/failures", json=FAILURE, headers=reader).status_code == 403
    assert client.post("/api/v1/failures", json=FAILURE, headers=writer).status_code == 201
    assert client.get("/api/v1/tokens", headers=writer).status_code == 403
    listed = client.get("/api/v1/tokens", headers=admin).json()
    assert {t["role"] for t in listed} == {"reader", "writer", "admin"}
    assert all("token" not in t and "token_hash" not in t for t in listed)
    created = client.post("/api/v1/tokens", json={"role": "reader", "name": "ci"}, headers=admin).json()
    assert client.get("/api/v1/metrics", headers=bearer(created["token"])).status_code == 200
    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=admin).status_code == 200
    assert client.get("/api/v1/metrics", headers=bearer(created["token"])).status_code == 401


def test_tokens_are_stored_hashed(database, token):
    from sqlalchemy import select

    from faultbook.store.tables import ApiTokenRow

    secret = token("admin")
    with database.session() as s:
        hashes = list(s.scalars(select(ApiTokenRow.token_hash)))
    assert secret not in hashes and all(secret not in h for h in hashes)


def test_anonymous_read_on_loopback_only_when_not_configured_otherwise(make_app):
    from fastapi.testclient import TestClient

    assert TestClient(make_app(host="127.0.0.1")).get("/api/v1/failures").status_code == 200
    assert TestClient(make_app(host="127.0.0.1")).post("/api/v1/failures", json=FAILURE).status_code in (401, 403)
    assert TestClient(make_app(host="127.0.0.1", anonymous="none")).get("/api/v1/failures").status_code == 401
    assert TestClient(make_app(host="10.0.0.5", anonymous="read")).get("/api/v1/failures").status_code == 200


def test_potential_metrics_and_health(client, token):
    r = bearer(token("reader"))
    assert client.get("/api/v1/potential-failures", headers=r).json() == []
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    m = client.get("/api/v1/metrics?weeks=4", headers=r).json()
    assert len(m["weeks"]) == 4 and m["change_failure_rate"]["deployments"] == 0


def test_fulltext_expression_matches_the_migration():
    import importlib

    from faultbook.services.search import PG_TSVECTOR

    for name in ("0002_web", "0003_pg_search_vector"):
        migration = importlib.import_module(f"faultbook.store.migrations.versions.{name}")
        assert migration.PG_TSVECTOR == PG_TSVECTOR, name


def test_search_sees_edits_and_imports(database, project):
    """The FTS index follows inserts and updates (triggers on SQLite; expression index on PostgreSQL)."""
    from faultbook.domain import Failure
    from faultbook.services import ledger, search

    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=Failure(number=None, title="alpha", occurred_at=None, component="DNS"))
    with database.session(write=True) as s:
        ledger.update_failure(s, project=project, number=1, changes={"title": "omega release"})
    with database.session() as s:
        assert search.search_failures(s, project=project, query="alpha").total == 0
        assert search.search_failures(s, project=project, query="omega").total == 1


def test_text_that_is_not_unicode_is_refused_by_field_not_a_server_error(client, token):
    # JSON's "\ud800" escape decodes to a lone surrogate, which cannot be stored (or even hashed) as UTF-8.
    w = {**bearer(token("writer")), "Content-Type": "application/json"}
    report = ('{"deployment": {"key": "lone-1", "started_at": "2025-08-20T14:10:00Z", "command": "npx wrangler deploy",'
              ' "outcome": "failed"}, "failure": {"title": "t", "component": "Backend", "error_message": "bad \\ud800"}}')
    r = client.post("/api/v1/reports", content=report, headers=w)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == "error_message" and "lone surrogate" in r.json()["detail"][0]["msg"]
    r = client.post("/api/v1/failures", content='{"title": "t \\udc00", "component": "Backend"}', headers=w)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "title"
    assert client.get("/api/v1/deployments", headers=w).json()["total"] == 0
