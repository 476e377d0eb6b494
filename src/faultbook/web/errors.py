"""Errors as HTTP answers: an HTML error page for pages, ``{"detail": ...}`` for the API.

A ``FaultbookError`` carries its HTTP status (``http_status``) beside its exit code
(``faultbook.errors``), so this mapping never inspects classes or their names.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from faultbook.errors import FaultbookError
from faultbook.web.context import ctx_of
from faultbook.web.rendering import page_context, wants_html


def install_error_handlers(app: FastAPI) -> None:
    def respond(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        if wants_html(request):
            return ctx_of(request).templates.TemplateResponse(
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
        return respond(request, exc.http_status, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401 and wants_html(request) and request.method == "GET":
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

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> Response:
        return respond(request, exc.status_code, str(exc.detail))
