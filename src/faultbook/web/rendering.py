"""Pages: the Jinja2 environment, what every template gets, and ``render`` for the routes.

Autoescape everything (captured error messages are untrusted text); no template marks user data ``|safe``;
Markdown fields go through ``render_markdown`` (raw HTML off).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from markupsafe import Markup

from faultbook.services.metrics import format_duration
from faultbook.web import auth
from faultbook.web.context import ctx_of

TEMPLATES = Path(__file__).parent / "templates"


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.Undefined)
    templates = Jinja2Templates(env=env)
    _template_helpers(templates)
    return templates


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and not request.url.path.endswith(".json")


def page_context(request: Request) -> dict[str, Any]:
    """What every template needs: the project, who is signed in, the CSRF token."""
    ctx = ctx_of(request)
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
    ctx = ctx_of(request)
    return ctx.templates.TemplateResponse(request, template, {**page_context(request), **context}, status_code=status)


def _template_helpers(templates: Jinja2Templates) -> None:
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
        query = urlencode(multi)
        return request.url.path + ("?" + query if query else "")

    templates.env.filters["markdown"] = render_markdown
    templates.env.filters["when"] = when
    templates.env.filters["duration"] = format_duration
    templates.env.filters["elapsed"] = elapsed
    from faultbook import __version__

    templates.env.globals["faultbook_version"] = __version__
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
    global _MARKDOWN
    if _MARKDOWN is None:
        _MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})
    return Markup(_MARKDOWN.render(text or ""))


_MARKDOWN: Any = None
