"""Health, the home redirect, sign-in/out, the Markdown export, and follow-ups when that table exists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from faultbook.web import auth
from faultbook.web.rendering import render
from faultbook.web.auth import Principal, require
from faultbook.web.schemas import HealthOut
from faultbook.services import ledger
from faultbook.services.followups import list_followups
from starlette.concurrency import run_in_threadpool

api = APIRouter(tags=["server"])
pages = APIRouter(include_in_schema=False)


@api.get("/health", response_model=HealthOut, summary="Liveness (no database access)")
def health() -> HealthOut:
    return HealthOut(status="ok")


@pages.get("/health")
def bare_health() -> PlainTextResponse:
    return PlainTextResponse("ok")


@pages.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """The API explorer: swagger-ui-dist 5.35.0 (Apache-2.0) vendored under static/swagger/, no CDN."""
    return render(request, "apidocs.html", {"json_url": "/openapi.json"})


@pages.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/failures", status_code=302)


# ---------------------------------------------------------------- export


def _export(request: Request) -> str:

    ctx = request.app.state.ctx
    try:
        with ctx.database.session() as session:
            return ledger.export_document(session, project=ctx.project)
    except ModuleNotFoundError as exc:
        if "faultbook.markdown" not in str(exc):
            raise
        raise HTTPException(501, "the Markdown renderer is not part of this build") from None


@api.get(
    "/export",
    response_class=PlainTextResponse,
    summary="The ledger as the failure-tracking Markdown document",
    responses={200: {"content": {"text/markdown": {}}}},
)
def export_markdown(request: Request, _: Principal = Depends(require("reader"))) -> Response:
    return Response(_export(request), media_type="text/markdown; charset=utf-8")


@pages.get("/export.md")
def export_download(request: Request, _: Principal = Depends(require("reader"))) -> Response:
    filename = f"{request.app.state.ctx.project.key}-FAILURES.md"
    return Response(
        _export(request),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---------------------------------------------------------------- follow-ups


def _followups(request: Request, include_done: bool) -> list[Any]:

    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        return list_followups(session, project=ctx.project, include_done=include_done)


@api.get("/followups", summary="Follow-up actions (open ones; ?all=true for done ones too)")
def followups_json(
    request: Request, all: bool = False, _: Principal = Depends(require("reader"))
) -> list[dict[str, Any]]:
    return [f.to_json() for f in _followups(request, all)]


@pages.get("/followups", response_class=HTMLResponse)
def followups_page(request: Request, all: bool = False, _: Principal = Depends(require("reader"))) -> HTMLResponse:
    items = _followups(request, all)
    return render(
        request, "followups.html", {"items": items, "show_all": all, "json_url": "/api/v1/followups"}
    )


# ---------------------------------------------------------------- sign in / out


@pages.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", {"error": None})


@pages.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:

    form = await request.form()
    await auth.check_csrf(request, Principal(role=None, source="anonymous"))
    secret = str(form.get("token") or "").strip()
    ctx = request.app.state.ctx
    token = await run_in_threadpool(auth._verify, ctx, secret) if secret else None
    if token is None:
        return render(request, "login.html", {"error": "Unknown or revoked token."}, status=401)
    response = RedirectResponse("/failures", status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE, secret, httponly=True, samesite="strict", secure=auth.secure_cookie(request), path="/",
        max_age=30 * 86400,
    )
    return response


@pages.get("/login/once", response_class=HTMLResponse)
def login_once(request: Request, code: str = Query("", max_length=200)) -> Response:
    """The one-time sign-in link ``faultbook serve`` prints on loopback (as Jupyter does).

    It signs the local owner in as admin: the code is exchanged for a new admin token, which becomes the session
    cookie, so a solo developer can edit without minting a token by hand.  The link works once.
    """
    from faultbook.services import tokens as token_service

    ctx = request.app.state.ctx
    with ctx.database.session(write=True) as session:
        created = token_service.redeem_sign_in_code(
            session, code=code, digest=ctx.settings.environ.get(token_service.SIGN_IN_ENV), project=ctx.project.key
        )
    if created is None:
        raise HTTPException(403, "This sign-in link is not valid or was used already: it works once, on the server "
                                 "that printed it. Restart faultbook serve for a new one, or sign in with a token.")
    response = RedirectResponse("/failures", status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE, created.secret, httponly=True, samesite="strict", secure=auth.secure_cookie(request), path="/",
        max_age=30 * 86400,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.post("/logout")
async def logout(request: Request) -> Response:
    await auth.check_csrf(request, Principal(role=None, source="anonymous"))
    response = RedirectResponse("/failures", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
