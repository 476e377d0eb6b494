"""Bad input to the team server: a 422 naming what is wrong (never a 500), NUL kept as ``\\x00`` like the CLI."""

from __future__ import annotations

import uuid

import pytest
from webfixtures import bearer

from faultbook.domain.limits import MAX_NUMBER

FAILURE = {"title": "Deploy failed", "component": "Backend", "step": "Worker deployment", "error_message": "boom"}


def report(**deployment) -> dict:
    return {
        "deployment": {
            "key": str(uuid.uuid4()), "started_at": "2025-08-20T14:10:00Z", "command": "npx wrangler deploy",
            "outcome": "failed", **deployment,
        },
        "failure": {**FAILURE, "error_message": "before\x00after"},
        "output_tail": "✘ [ERROR] a\x00b",
    }


def test_nul_is_escaped_in_failures_and_reports_exactly_as_the_cli_does(client, token):
    w = bearer(token("writer"))
    r = client.post("/api/v1/failures", json={**FAILURE, "title": "T\x00", "error_message": "x\x00y"}, headers=w)
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "T\\x00" and r.json()["error_message"] == "x\\x00y"
    r = client.post("/api/v1/reports", json=report(command="wrangler deploy \x00"), headers=w)
    assert r.status_code == 201, r.text
    number = r.json()["failure_number"]
    assert client.get(f"/api/v1/failures/{number}", headers=w).json()["error_message"] == "before\\x00after"
    r = client.patch(f"/api/v1/failures/{number}", json={"root_cause": "nul\x00"}, headers=w)
    assert r.status_code == 200 and r.json()["root_cause"] == "nul\\x00"
    export = client.get("/export.md", headers=w)
    assert export.status_code == 200 and "\x00" not in export.text and "before\\x00after" in export.text
    r = client.get("/api/v1/failures", params={"q": "a\x00b", "component": "B\x00"}, headers=w)
    assert r.status_code == 200


@pytest.mark.parametrize(
    "path",
    [f"/api/v1/failures/{n}" for n in (0, MAX_NUMBER + 1, 2**63, 10**30)]
    + [f"/failures/{n}" for n in (MAX_NUMBER + 1, 2**63)]
    + [f"/api/v1/followups/{n}/done" for n in (2**63,)],
)
def test_numbers_out_of_range_in_paths_are_422(client, token, path):
    w = bearer(token("admin"))
    r = client.post(path, headers=w) if path.endswith("/done") else client.get(path, headers=w)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("other", [0, MAX_NUMBER + 1, 2**63])
def test_merge_of_a_number_out_of_range_is_422(client, token, other):
    w = bearer(token("writer"))
    assert client.post("/api/v1/failures", json=FAILURE, headers=w).status_code == 201
    assert client.post("/api/v1/failures/1/merge", json={"other": other}, headers=w).status_code == 422


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "1899-12-31T00:00:00Z"])
def test_times_out_of_range_in_bodies_are_422(client, token, when):
    w = bearer(token("writer"))
    assert client.post("/api/v1/failures", json={**FAILURE, "occurred_at": when}, headers=w).status_code == 422
    assert client.post("/api/v1/reports", json=report(started_at=when), headers=w).status_code == 422


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "9999-12-31", "0001-01-01", "x"])
@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("path", ["/api/v1/failures", "/api/v1/deployments", "/api/v1/metrics", "/failures"])
def test_since_and_until_out_of_range_are_422(client, token, path, name, value):
    r = client.get(path, params={name: value}, headers=bearer(token("reader")))
    assert r.status_code == 422, (r.status_code, r.text[:200])


@pytest.mark.parametrize("field", ["component", "step", "component_detail"])
def test_one_line_fields_refuse_a_line_break(client, token, field):
    r = client.post("/api/v1/failures", json={**FAILURE, field: "two\nlines"}, headers=bearer(token("writer")))
    assert r.status_code == 422 and "one line" in r.text


def test_a_component_that_would_read_back_differently_is_422(client, token):
    r = client.post("/api/v1/failures", json={**FAILURE, "component": "Back (end)"}, headers=bearer(token("writer")))
    assert r.status_code == 422 and "component detail" in r.text


def test_a_huge_number_or_deep_nesting_in_json_is_a_client_error_not_500(client, token):
    w = {**bearer(token("writer")), "Content-Type": "application/json"}
    body = '{"title": "t", "component": "Backend", "error_code": ' + "9" * 5000 + "}"
    assert client.post("/api/v1/failures", content=body, headers=w).status_code in (400, 422)
    nested = '{"title": "t", "component": "Backend", "x": ' + "[" * 10_000 + "]" * 10_000 + "}"
    assert client.post("/api/v1/failures", content=nested, headers=w).status_code in (400, 413, 422)
