"""The MCP endpoint on the team server (`[mcp] http = true`): the SDK's client over streamable HTTP, tokens only."""

from __future__ import annotations

import anyio
import pytest

pytest.importorskip("mcp")
import httpx2  # noqa: E402  (the SDK's HTTP client)
from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

ERROR = "binding IMAGES has an unknown type Images [code: 10021]"


def _app(database, project, tmp_path, *, writes: bool = False):
    from faultbook.config import Settings
    from faultbook.web.app import create_app

    section = {"http": True, "allow_writes": writes}
    settings = Settings(project_root=tmp_path, project_key=project.key, project_name=project.name,
                        database_url=database.url, file={"mcp": section}, environ={})
    return create_app(database=database, settings=settings, project=project, host="0.0.0.0")


async def _talk(app, headers, body):
    async with app.router.lifespan_context(app):
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver",
                                  headers=headers)
        async with http:
            async with Client(streamable_http_client("http://testserver/mcp/", http_client=http)) as client:
                return await body(client)


def test_an_agent_reads_the_ledger_over_http_with_a_reader_token(database, project, tmp_path, token):
    from faultbook.domain import Failure, Status
    from faultbook.services import ledger

    with database.session(write=True) as session:
        ledger.record_failure(session, project=project, failure=Failure(
            number=None, title="Unknown binding type", occurred_at=None, component="Backend", error_message=ERROR,
            resolution="Use `[images]`.", status=Status.RESOLVED))
    app = _app(database, project, tmp_path)

    async def body(client):
        tools = {t.name for t in (await client.list_tools()).tools}
        fix = await client.call_tool("lookup_fix", {"error_text": ERROR})
        return tools, fix

    tools, fix = anyio.run(_talk, app, {"Authorization": f"Bearer {token('reader')}"}, body)
    assert tools == {"lookup_fix", "recent_failures", "get_failure", "check_config"}
    assert fix.structured_content["matches"][0]["failure_number"] == 1


@pytest.mark.parametrize("writes, role, status", [(False, None, 401), (True, "reader", 403)])
def test_no_token_or_too_small_a_role_is_refused(database, project, tmp_path, token, writes, role, status):
    app = _app(database, project, tmp_path, writes=writes)
    headers = {"Authorization": f"Bearer {token(role)}"} if role else {}

    async def post():
        async with app.router.lifespan_context(app):
            async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver",
                                          headers=headers) as http:
                return await http.post("/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                       headers={"accept": "application/json, text/event-stream"})

    response = anyio.run(post)
    assert response.status_code == status


def test_the_endpoint_is_off_unless_configured(client):
    assert client.post("/mcp/", json={}).status_code in (404, 405)
