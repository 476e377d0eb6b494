"""Schemathesis against /openapi.json: no input makes the server fail, responses match the schema."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")


def test_openapi_document_lists_the_api(client):
    doc = client.get("/openapi.json").json()
    paths = set(doc["paths"])
    assert {"/api/v1/failures", "/api/v1/failures/{number}", "/api/v1/reports", "/api/v1/deployments",
            "/api/v1/potential-failures", "/api/v1/metrics", "/api/v1/export", "/api/v1/tokens",
            "/api/v1/import", "/api/v1/explain", "/api/v1/failures/{number}/merge", "/api/v1/catalog",
            "/api/v1/rules", "/api/v1/rules/{rule}", "/api/v1/followups/{followup_id}/done"} <= paths


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_schemathesis_fuzz(app, token):
    from hypothesis import HealthCheck, Phase, settings as hsettings
    from schemathesis.checks import not_a_server_error, response_schema_conformance
    admin = token("admin")
    try:
        import faultbook.markdown  # noqa: F401

        markdown_available = True
    except ImportError:  # arrives on another branch; /api/v1/export answers 501 until then
        markdown_available = False
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for operation in schema.get_all_operations():
        op = operation.ok()
        strategy = op.as_strategy()
        from hypothesis import given

        @given(case=strategy)
        @hsettings(max_examples=15, deadline=None, phases=[Phase.generate],
                   suppress_health_check=list(HealthCheck), database=None)
        def run(case):  # type: ignore[no-untyped-def]
            if case.method == "DELETE":  # do not revoke the token under test
                return
            if case.path == "/api/v1/export" and not markdown_available:
                return
            response = case.call(headers={"Authorization": f"Bearer {admin}"})
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        run()
