"""The application factory: one FastAPI app around one Database and Settings.

``create_app`` is called once per process (``faultbook serve`` for one
worker, ``asgi.app_from_environment`` for each uvicorn worker), so every
process owns its engine and connection pool.  The app serves one project (the
settings' ``project_key``); a team runs one server per project or points CI at
the project it deploys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from faultbook.config import Settings
from faultbook.errors import ConflictError, FaultbookError, InputError, NotFoundError
from faultbook.services.ledger import ProjectRef
from faultbook.services.recognition import KnowledgeCache
from faultbook.store.db import Database
from faultbook.web import auth

HERE = Path(__file__).parent


@dataclass(frozen=True)
class AppContext:
    database: Database
    settings: Settings
    project: ProjectRef
    anonymous_role: str | None
    templates: Jinja2Templates
    secure_cookies: bool = False
    #: ``[server] trusted_proxy``: believe ``X-Forwarded-Proto`` (the server runs behind a TLS proxy).
    trusted_proxy: bool = False
    #: Writes CI reports in batches (web/writer.py); made by ``create_app``.
    reports: Any = None
    #: The warm knowledge index recognition and ``explain`` use (built once, then updated from what changed).
    knowledge: KnowledgeCache = field(default_factory=KnowledgeCache)


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
    from faultbook.web.routes import deployments, failures, knowledge, metrics, misc, postmortem, potential, tokens

    server = settings.section("server")
    setting = anonymous if anonymous is not None else server.get("anonymous", server.get("anonymous_read"))
    import jinja2

    # Autoescape everything (captured error messages are untrusted text); no template marks user data |safe.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True, undefined=jinja2.Undefined
    )
    templates = Jinja2Templates(env=env)
    _template_helpers(templates)
    from faultbook.web.writer import ReportFastPath, ReportWriter

    the_project = project or ProjectRef(key=settings.project_key, name=settings.project_name)
    knowledge_cache = KnowledgeCache()
    ctx = AppContext(
        database=database,
        settings=settings,
        project=the_project,
        anonymous_role=auth.anonymous_role(setting, host=host),
        templates=templates,
        secure_cookies=secure_cookies,
        trusted_proxy=server.get("trusted_proxy") is True,
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
    _error_handlers(app)
    if settings.section("mcp").get("http") is True:
        from faultbook.web.mcp_mount import mount_mcp

        mount_mcp(app, ctx)

    from faultbook.web.limits import BodyLimit

    app.add_middleware(ReportFastPath, ctx=ctx)  # innermost: the security headers and Host check still apply
    app.add_middleware(BodyLimit)  # outside every reader of a body, so before authentication
    app.add_middleware(SecurityHeaders, ctx=ctx)

    if allowed_hosts:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    return app


#: Only our own scripts and styles run: a script smuggled into any text cannot execute.
SECURITY_HEADERS = (
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
)


class SecurityHeaders:
    """Adds the security headers (unless a route set its own) and the new CSRF cookie to every response.

    A plain ASGI middleware: Starlette's ``@app.middleware("http")`` (BaseHTTPMiddleware) runs each request
    through an extra task and memory stream, which cost about a fifth of a CI report's time on the server.
    """

    def __init__(self, app: Any, ctx: AppContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                from starlette.datastructures import MutableHeaders

                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name not in headers:
                        headers[name] = value
                new = (scope.get("state") or {}).get("new_csrf")
                if new:
                    cookie = Response()
                    cookie.set_cookie(
                        auth.CSRF_COOKIE, new, samesite="strict", secure=auth.secure_cookie(Request(scope)),
                        httponly=True, path="/",
                    )
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            nonlocal started
            started = True
            await send(message)

        started = False
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's own 500 is sent from outside every middleware, without these headers: answer here.
            if not started:
                body = b'{"detail":"internal server error"}'
                await send_with_headers({
                    "type": "http.response.start", "status": 500,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                })
                await send({"type": "http.response.body", "body": body})
            raise  # (logged by the server; nothing more is sent)


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and not request.url.path.endswith(".json")


def _error_handlers(app: FastAPI) -> None:
    def respond(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        if wants_html(request):
            ctx: AppContext = request.app.state.ctx
            return ctx.templates.TemplateResponse(
                request,
                "error.html",
                {"status": status, "message": message, **page_context(request)},
                status_code=status,
                headers=headers,
            )
        if status == 422:
            # Same shape as FastAPI's own validation errors, as /openapi.json documents for 422.
            detail: Any = [{"loc": ["request"], "msg": message, "type": "value_error"}]
        else:
            detail = message
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)

    @app.exception_handler(FaultbookError)
    async def faultbook_error(request: Request, exc: FaultbookError) -> Response:
        status = 404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, ConflictError) else 422
        if not isinstance(exc, (NotFoundError, ConflictError, InputError)):
            status = 503 if exc.__class__.__name__ == "DatabaseError" else 422
        return respond(request, status, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401 and wants_html(request) and request.method == "GET":
            from fastapi.responses import RedirectResponse

            return RedirectResponse("/login", status_code=303)
        return respond(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if wants_html(request):
            parts = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()]
            return respond(request, 422, "; ".join(parts) or "invalid request")
        # Where, what and why; not the input echoed back (it may be what cannot be encoded, or a secret).
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> Response:
        return respond(request, exc.status_code, str(exc.detail))


def page_context(request: Request) -> dict[str, Any]:
    """What every template needs: the project, who is signed in, the CSRF token."""
    ctx: AppContext = request.app.state.ctx
    try:
        who = auth.principal(request)
    except HTTPException:
        who = auth.Principal(role=None, source="anonymous")
    return {
        "project": ctx.project,
        "who": who,
        "csrf_token": auth.csrf_token(request),
        "path": request.url.path,
    }


def render(request: Request, template: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    ctx: AppContext = request.app.state.ctx
    return ctx.templates.TemplateResponse(request, template, {**page_context(request), **context}, status_code=status)


def _template_helpers(templates: Jinja2Templates) -> None:
    from faultbook.services.metrics import format_duration

    def when(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            return value
        return value.strftime(fmt)

    def with_query(request: Request, **changes: Any) -> str:
        params = dict(request.query_params.multi_items())
        multi = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
        for key, value in changes.items():
            if value is not None and value != "":
                multi.append((key, str(value)))
        del params
        from urllib.parse import urlencode

        query = urlencode(multi)
        return request.url.path + ("?" + query if query else "")

    templates.env.filters["markdown"] = render_markdown
    templates.env.filters["when"] = when
    templates.env.filters["duration"] = format_duration
    templates.env.filters["elapsed"] = elapsed
    templates.env.globals["with_query"] = with_query


def elapsed(seconds: float | None) -> str:
    """A deployment's duration as people say it: ``42.1 s``, ``3 min 5 s``, ``1 h 2 min``."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def render_markdown(text: str | None) -> Any:
    """Root cause, resolution and lessons are Markdown (fenced code in the seed): render them safely.

    CommonMark with raw HTML disabled, so a ``<script>`` in captured text comes out escaped; markdown-it
    also refuses ``javascript:`` links.
    """
    from markupsafe import Markup
    from markdown_it import MarkdownIt

    global _MARKDOWN
    if _MARKDOWN is None:
        _MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})
    return Markup(_MARKDOWN.render(text or ""))


_MARKDOWN: Any = None
