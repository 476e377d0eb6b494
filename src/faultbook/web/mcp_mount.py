"""The MCP server on the team server: the streamable HTTP transport at ``/mcp``, behind API tokens.

The same server ``faultbook mcp`` runs over stdio (``faultbook.mcp.server``),
mounted in stateless JSON mode: each POST is one MCP request answered by one
JSON body, so it runs under every uvicorn worker without sessions to share.

It is opt-in, ``[mcp] http = true`` in faultbook.toml: the SDK takes about a
second to import, which every worker and every test would otherwise pay.
The endpoint is ``/mcp/`` (the trailing slash: ``/mcp`` answers with a
redirect to it).

Only Bearer tokens get in (``Authorization: Bearer <token>``): reader for the
read tools, writer when ``[mcp] allow_writes = true`` offers
``record_failure``.  Cookies are not accepted, so a web page a signed-in
user visits cannot drive the agent API.  The SDK's own Host/Origin check is
off because ``faultbook serve`` checks the Host header itself on loopback.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any


def mount_mcp(app: Any, ctx: Any, *, path: str = "/mcp") -> None:
    """Mount the MCP endpoint on ``app`` and run its session manager with the app's lifespan."""
    from mcp.server.transport_security import TransportSecuritySettings

    from faultbook.mcp.server import build_server, writes_allowed

    server = build_server(ctx.settings, database=ctx.database, project=ctx.project)
    asgi = server.streamable_http_app(
        streamable_http_path="/", stateless_http=True, json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    role = "writer" if writes_allowed(ctx.settings) else "reader"
    app.mount(path, _TokenGuard(asgi, role=role))

    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(instance: Any) -> Any:
        async with server.session_manager.run():
            async with previous(instance) as state:
                yield state

    app.router.lifespan_context = lifespan


class _TokenGuard:
    """An ASGI wrapper: a valid Bearer token with ``role`` or a 401/403 JSON answer."""

    def __init__(self, app: Any, *, role: str) -> None:
        self.app = app
        self.role = role

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from fastapi import HTTPException
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import Request
        from starlette.responses import JSONResponse

        from faultbook.web.auth import principal

        request = Request(scope)
        status, message = 0, ""
        if not request.headers.get("authorization"):
            status, message = 401, "the MCP endpoint needs an API token (Authorization: Bearer <token>)"
        else:
            try:
                who = await run_in_threadpool(principal, request)
            except HTTPException as exc:
                status, message = exc.status_code, str(exc.detail)
            else:
                if not who.can(self.role):
                    status, message = 403, f"the MCP endpoint needs the {self.role} role"
        if status:
            response = JSONResponse({"detail": message}, status_code=status,
                                    headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
