"""The application factory: one FastAPI app around one Database and Settings.

``create_app`` is called once per process (``asgi.build`` in each server worker, tests directly), so every
process owns its engine and connection pool.  The app serves one project (the settings' ``project_key``);
a team runs one server per project or points CI at the project it deploys.

Assembly only: the shared context is ``context.py``, pages ``rendering.py``, middleware ``middleware.py``,
error mapping ``errors.py``; the routes import those, never this module, so there is no import cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from faultbook.config import Settings
from faultbook.services.ledger import ProjectRef
from faultbook.services.recognition import KnowledgeCache
from faultbook.store.db import Database
from faultbook.web import auth
from faultbook.web.context import AppContext
from faultbook.web.errors import install_error_handlers
from faultbook.web.middleware import SecurityHeaders
from faultbook.web.rendering import make_templates
from faultbook.web.routes import deployments, failures, knowledge, metrics, misc, postmortem, potential, tokens
from faultbook.web.writer import ReportFastPath, ReportWriter

HERE = Path(__file__).parent


def create_app(
    *,
    database: Database,
    settings: Settings,
    project: ProjectRef | None = None,
    host: str | None = "127.0.0.1",
    anonymous: Any = None,
    allowed_hosts: Sequence[str] | None = None,
    secure_cookies: bool = False,
) -> FastAPI:
    """Build the dashboard + REST API.

    ``anonymous`` overrides ``[server] anonymous`` ("none" | "read" | "write");
    when both are unset the default depends on ``host`` (read on loopback).
    ``allowed_hosts`` turns on Host-header checking (``faultbook serve`` sets it
    on loopback so a DNS-rebinding page cannot talk to the local server).
    """
    setting = anonymous if anonymous is not None else settings.server.anonymous_setting
    the_project = project or ProjectRef(key=settings.project_key, name=settings.project_name)
    knowledge_cache = KnowledgeCache()
    ctx = AppContext(
        database=database,
        settings=settings,
        project=the_project,
        anonymous_role=auth.anonymous_role(setting, host=host),
        templates=make_templates(),
        secure_cookies=secure_cookies,
        trusted_proxy=settings.server.trusted_proxy is True,
        reports=ReportWriter(database, the_project, knowledge=knowledge_cache),
        knowledge=knowledge_cache,
    )
    app = FastAPI(
        title="faultbook",
        version="1",
        description="The deployment-failure ledger's team server: failures, deployments, reports, metrics.",
        docs_url=None,  # served by routes/misc.py from our own swagger-ui copy: the CSP allows no CDN
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (misc, failures, postmortem, knowledge, potential, deployments, metrics, tokens):
        app.include_router(module.api, prefix="/api/v1")
        app.include_router(module.pages)
    install_error_handlers(app)
    if settings.mcp.http:
        # Opt-in and imported only then: the MCP SDK takes about a second to import per worker.
        from faultbook.web.mcp_mount import mount_mcp

        mount_mcp(app, ctx)

    from faultbook.web.limits import BodyLimit

    app.add_middleware(ReportFastPath, ctx=ctx)  # innermost: the security headers and Host check still apply
    app.add_middleware(BodyLimit)  # outside every reader of a body, so before authentication
    app.add_middleware(SecurityHeaders, ctx=ctx)

    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    return app
