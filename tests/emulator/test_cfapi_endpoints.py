"""The emulator's endpoints over HTTP with httpx: envelopes, error codes, state changes.

Fast (no wrangler): these pin the behaviours that faultbook's rollback,
preflight and capture code will rely on.
"""

from __future__ import annotations

import json

import httpx
import pytest


@pytest.fixture
def client(cf_api):
    with httpx.Client(base_url=cf_api.base_url, headers={"Authorization": f"Bearer {cf_api.token}"},
                      timeout=10) as c:
        yield c


def acct(cf_api, rest: str) -> str:
    return f"/accounts/{cf_api.account_id}{rest}"


def error_of(response: httpx.Response) -> tuple[int, int, str]:
    body = response.json()
    assert body["success"] is False and body["result"] is None
    [error] = body["errors"]
    return response.status_code, error["code"], error["message"]


def upload(client, cf_api, name: str, metadata: dict, *, method: str = "PUT") -> httpx.Response:
    files = {
        "metadata": (None, json.dumps(metadata), "application/json"),
        "index.js": ("index.js", b"export default {fetch(){return new Response('ok')}}", "application/javascript+module"),
    }
    path = acct(cf_api, f"/workers/scripts/{name}") + ("/versions" if method == "POST" else "")
    return client.request(method, path, files=files)


META = {"main_module": "index.js", "compatibility_date": "2025-08-15", "bindings": []}


# -- tokens -------------------------------------------------------------------------------

def test_token_verify_valid(client, cf_api):
    body = client.get("/user/tokens/verify").json()
    assert body["success"] is True
    assert body["result"]["status"] == "active"
    assert body["messages"][0]["message"] == "This API Token is valid and active"
    assert client.get(acct(cf_api, "/tokens/verify")).json()["success"] is True


def test_token_verify_invalid(client, cf_api):
    response = client.get("/user/tokens/verify", headers={"Authorization": "Bearer nope"})
    assert error_of(response) == (401, 1000, "Invalid API Token")
    response = client.get(acct(cf_api, "/tokens/verify"), headers={"Authorization": "Bearer nope"})
    assert error_of(response) == (401, 1000, "Invalid API Token")


def test_token_without_scope_gets_authentication_error(client, cf_api):
    cf_api.state.add_token("dns-only", scopes={"dns", "zone"})
    response = client.get(acct(cf_api, "/r2/buckets"), headers={"Authorization": "Bearer dns-only"})
    assert error_of(response) == (403, 10000, "Authentication error")


def test_unknown_account_is_7003(client):
    status, code, message = error_of(client.get("/accounts/ffffffffffffffffffffffffffffffff/r2/buckets"))
    assert (status, code) == (404, 7003)
    assert message.startswith("Could not route to /client/v4/accounts/ffffffffffffffffffffffffffffffff")


def test_unknown_path_is_7000_and_logged_as_unrouted(client, cf_api):
    assert error_of(client.get(acct(cf_api, "/no/such/thing"))) == (400, 7000, "No route for that URI")
    assert [r.line for r in cf_api.emulator.unrouted] == [f"GET {acct(cf_api, '/no/such/thing')}"]


# -- R2 -----------------------------------------------------------------------------------

def test_r2_jurisdiction_separates_buckets(client, cf_api):
    cf_api.state.create_r2_bucket("uploads", jurisdiction="eu")
    path = acct(cf_api, "/r2/buckets/uploads")

    assert error_of(client.get(path)) == (404, 10006, "The specified bucket does not exist.")
    body = client.get(path, headers={"cf-r2-jurisdiction": "eu"}).json()
    assert body["result"]["jurisdiction"] == "eu"
    assert client.get(acct(cf_api, "/r2/buckets")).json()["result"] == {"buckets": []}
    listed = client.get(acct(cf_api, "/r2/buckets"), headers={"cf-r2-jurisdiction": "eu"}).json()
    assert [b["name"] for b in listed["result"]["buckets"]] == ["uploads"]


def test_r2_create_then_conflict_and_bad_name(client, cf_api):
    path = acct(cf_api, "/r2/buckets")
    created = client.post(path, json={"name": "quoteviral-uploads"}, headers={"cf-r2-jurisdiction": "fedramp"})
    assert created.json()["result"]["jurisdiction"] == "fedramp"
    assert cf_api.state.find_r2_bucket("quoteviral-uploads", jurisdiction="fedramp") is not None
    again = client.post(path, json={"name": "quoteviral-uploads"}, headers={"cf-r2-jurisdiction": "fedramp"})
    assert error_of(again)[:2] == (409, 10004)
    assert error_of(client.post(path, json={"name": "Bad_Name"}))[:2] == (400, 10005)


# -- KV, D1, queues -----------------------------------------------------------------------

def test_kv_d1_queues_lookups(client, cf_api):
    ns = cf_api.state.create_kv_namespace("cache")
    db = cf_api.state.create_d1_database("quotes")
    cf_api.state.create_queue("renders")
    assert client.get(acct(cf_api, f"/storage/kv/namespaces/{ns.id}")).json()["result"]["title"] == "cache"
    assert error_of(client.get(acct(cf_api, "/storage/kv/namespaces/" + "0" * 32)))[:2] == (404, 10013)
    kv_list = client.get(acct(cf_api, "/storage/kv/namespaces")).json()
    assert kv_list["result_info"]["total_count"] == 1
    assert client.get(acct(cf_api, "/d1/database/quotes")).json()["result"]["uuid"] == db.uuid
    assert error_of(client.get(acct(cf_api, "/d1/database/missing")))[:2] == (404, 7404)
    queues = client.get(acct(cf_api, "/queues"), params={"name": "renders"}).json()["result"]
    assert [q["queue_name"] for q in queues] == ["renders"]


# -- script upload validation --------------------------------------------------------------

@pytest.mark.parametrize(
    ("binding", "code", "message"),
    [
        ({"name": "IMAGES", "type": "Images"}, 10021, "binding IMAGES has an unknown type Images"),
        ({"name": "UPLOADS", "type": "r2_bucket", "bucket_name": "quoteviral-uploads"}, 10085,
         "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again."),
        ({"name": "CACHE", "type": "kv_namespace", "namespace_id": "a" * 32}, 10041,
         f"KV namespace '{'a' * 32}' not found."),
        ({"name": "CACHE", "type": "kv_namespace", "namespace_id": "YOUR_KV_ID"}, 10042,
         "KV namespace 'YOUR_KV_ID' is not valid."),
        ({"name": "DB", "type": "d1", "id": "1b9c2f0e-0000-4000-8000-000000000000"}, 10181,
         "D1 binding 'DB' references database '1b9c2f0e-0000-4000-8000-000000000000' which was not found."),
    ],
)
def test_upload_rejects_bad_bindings(client, cf_api, binding, code, message):
    response = upload(client, cf_api, "quoteviral-api", {**META, "bindings": [binding]})
    assert error_of(response) == (400, code, message)
    assert cf_api.state.scripts == {}


def test_upload_r2_binding_respects_jurisdiction(client, cf_api):
    cf_api.state.create_r2_bucket("quoteviral-uploads", jurisdiction="eu")
    binding = {"name": "UPLOADS", "type": "r2_bucket", "bucket_name": "quoteviral-uploads"}
    assert error_of(upload(client, cf_api, "w", {**META, "bindings": [binding]}))[1] == 10085
    ok = upload(client, cf_api, "w", {**META, "bindings": [{**binding, "jurisdiction": "eu"}]})
    assert ok.json()["success"] is True


def test_upload_future_compatibility_date(client, cf_api):
    cf_api.state.today = "2025-08-14"
    response = upload(client, cf_api, "w", META)
    assert error_of(response) == (400, 10021, "Can't set compatibility date in the future: 2025-08-15")


def test_good_upload_creates_version_deployed_at_100(client, cf_api):
    body = upload(client, cf_api, "quoteviral-api", META).json()
    script = cf_api.state.scripts["quoteviral-api"]
    [version] = script.versions
    assert body["result"]["deployment_id"] == version.id
    assert script.active_deployment.versions == [{"version_id": version.id, "percentage": 100}]
    [put] = cf_api.calls("PUT", "/workers/scripts/quoteviral-api")
    assert put.body_summary["multipart"]["metadata"] == META


# -- versions, deployments, rollback ------------------------------------------------------

def test_versions_list_and_rollback(client, cf_api):
    v1 = cf_api.state.add_version("quoteviral-api")
    v2 = cf_api.state.add_version("quoteviral-api")
    base = acct(cf_api, "/workers/scripts/quoteviral-api")

    items = client.get(base + "/versions", params={"deployable": "true"}).json()["result"]["items"]
    assert [i["id"] for i in items] == [v2.id, v1.id]
    assert items[0]["number"] == 2

    rollback = {"strategy": "percentage", "versions": [{"version_id": v1.id, "percentage": 100}],
                "annotations": {"workers/message": "Rollback after bad deploy"}}
    created = client.post(base + "/deployments", json=rollback).json()["result"]
    assert created["versions"] == [{"version_id": v1.id, "percentage": 100}]
    assert created["annotations"] == {"workers/message": "Rollback after bad deploy"}

    listed = client.get(base + "/deployments").json()["result"]["deployments"]
    assert [d["versions"][0]["version_id"] for d in listed] == [v1.id, v2.id, v1.id]
    assert cf_api.state.scripts["quoteviral-api"].active_deployment.id == created["id"]


def test_rollback_refused_with_10220_when_secrets_changed_unless_forced(client, cf_api):
    v1 = cf_api.state.add_version("quoteviral-api")
    cf_api.state.set_secret("quoteviral-api", "API_KEY", "new")
    cf_api.state.add_version("quoteviral-api")
    path = acct(cf_api, "/workers/scripts/quoteviral-api/deployments")
    body = {"strategy": "percentage", "versions": [{"version_id": v1.id, "percentage": 100}], "annotations": {}}

    status, code, message = error_of(client.post(path, json=body))
    assert (status, code) == (400, 10220)
    assert message.endswith("The following secrets have changed: API_KEY")
    assert "?force=true" in message

    forced = client.post(path, params={"force": "true"}, json=body).json()
    assert forced["success"] is True
    assert cf_api.state.scripts["quoteviral-api"].active_deployment.versions[0]["version_id"] == v1.id


def test_deployment_to_unknown_version_or_worker(client, cf_api):
    cf_api.state.add_version("quoteviral-api")
    body = {"strategy": "percentage", "versions": [{"version_id": "nope", "percentage": 100}]}
    assert error_of(client.post(acct(cf_api, "/workers/scripts/quoteviral-api/deployments"), json=body))[1] == 100146
    assert error_of(client.get(acct(cf_api, "/workers/services/other")))[:2] == (404, 10007)


# -- Pages, zones, DNS, domains -----------------------------------------------------------

def test_pages_deployments_and_rollback(client, cf_api):
    project = cf_api.state.create_pages_project("quoteviral-web", deployments=2)
    older = project.deployments[1]
    base = acct(cf_api, "/pages/projects/quoteviral-web/deployments")
    listed = client.get(base).json()
    assert [d["id"] for d in listed["result"]] == [d.id for d in project.deployments]
    assert listed["result_info"]["total_count"] == 2

    rolled = client.post(f"{base}/{older.id}/rollback").json()["result"]
    assert project.deployments[0].rollback_from == older.id
    assert rolled["url"] == older.url
    missing = client.get(acct(cf_api, "/pages/projects/nope/deployments"))
    assert error_of(missing)[:2] == (404, 8000007)


def test_zones_dns_and_worker_domains(client, cf_api):
    zone = cf_api.state.add_zone("quoteviral.com")
    cf_api.state.add_dns_record(zone, type="CNAME", name="api.quoteviral.com", content="example.net")
    cf_api.state.add_worker_domain("app.quoteviral.com", service="quoteviral-api", zone=zone)

    zones = client.get("/zones", params={"name": "quoteviral.com"}).json()["result"]
    assert [z["id"] for z in zones] == [zone.id]
    records = client.get(f"/zones/{zone.id}/dns_records", params={"name": "api.quoteviral.com"}).json()["result"]
    assert [(r["type"], r["content"]) for r in records] == [("CNAME", "example.net")]
    domains = client.get(acct(cf_api, "/workers/domains")).json()["result"]
    assert [(d["hostname"], d["service"]) for d in domains] == [("app.quoteviral.com", "quoteviral-api")]


# -- faults and the request log -----------------------------------------------------------

def test_fault_injection_status_codes_then_recovery(client, cf_api):
    cf_api.state.inject_fault("/r2/buckets", times=2, status=429, retry_after=3)
    path = acct(cf_api, "/r2/buckets")
    first = client.get(path)
    assert error_of(first)[:2] == (429, 971)
    assert first.headers["retry-after"] == "3"
    assert error_of(client.get(path))[:2] == (429, 971)
    assert client.get(path).json()["success"] is True

    cf_api.state.inject_fault("/r2/buckets", status=500, code=10001, message="Service unavailable")
    assert error_of(client.get(path)) == (500, 10001, "Service unavailable")


def test_fault_injection_closed_connection(client, cf_api):
    cf_api.state.inject_fault("/tokens/verify", close_connection=True)
    with pytest.raises(httpx.TransportError):
        client.get("/user/tokens/verify")
    assert client.get("/user/tokens/verify").json()["success"] is True


def test_fault_after_apply_lands_the_change_and_loses_the_answer(client, cf_api):
    version = cf_api.state.add_version("late-answer")
    cf_api.state.add_version("late-answer")
    cf_api.state.inject_fault("/deployments", method="POST", after_apply=True)
    body = {"strategy": "percentage", "versions": [{"version_id": version.id, "percentage": 100}]}
    with pytest.raises(httpx.TransportError):
        client.post(acct(cf_api, "/workers/scripts/late-answer/deployments"), json=body)
    live = cf_api.state.scripts["late-answer"].active_deployment
    assert live.versions == [{"version_id": version.id, "percentage": 100}]
    assert client.get(acct(cf_api, "/workers/scripts/late-answer/deployments")).json()["success"] is True


def test_request_log_keeps_no_credentials(client, cf_api):
    client.post(acct(cf_api, "/r2/buckets"), json={"name": "logged-bucket"})
    [entry] = cf_api.calls("POST", "/r2/buckets")
    assert entry.body_summary == {"name": "logged-bucket"}
    assert entry.status == 200 and entry.error_codes == ()
    assert "authorization" not in entry.headers
    assert cf_api.token not in repr(cf_api.requests)
