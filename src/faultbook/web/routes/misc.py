"""Health, the home redirect, sign-in/out, the Markdown export, and follow-ups when that table exists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from faultbook.web import auth
from faultbook.web.app import render
from faultbook.web.auth import Principal, require
from faultbook.web.schemas import HealthOut

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
    from faultbook.services import ledger

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
    from faultbook.services.followups import list_followups

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
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    await auth.check_csrf(request, Principal(role=None, source="anonymous"))
    secret = str(form.get("token") or "").strip()
    ctx = request.app.state.ctx
    token = await run_in_threadpool(auth._verify, ctx, secret) if secret else None
    if token is None:
        return render(request, "login.html", {"error": "Unknown or revoked token."}, status=401)
    response = RedirectResponse("/failures", status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE, secret, httponly=True, samesite="strict", secure=ctx.secure_cookies, path="/",
        max_age=30 * 86400,
    )
    return response


#: ``faultbook serve`` on loopback puts the SHA-256 of its one-time sign-in code here (workers inherit it).
SIGN_IN_ENV = "FAULTBOOK_SIGNIN_SHA256"


@pages.get("/login/once", response_class=HTMLResponse)
def login_once(request: Request, code: str = "") -> Response:
    """The one-time sign-in link ``faultbook serve`` prints on loopback (as Jupyter does).

    It signs the local owner in as admin: a new admin token named after the link becomes the session cookie,
    so the owner can edit without minting a token by hand.  The link works once; the token shows on /tokens
    and is revoked there like any other.
    """
    import hashlib
    import hmac

    from faultbook.services import tokens as token_service

    ctx = request.app.state.ctx
    expected = ctx.settings.environ.get(SIGN_IN_ENV) or ""
    given = hashlib.sha256(code.encode("utf-8", "replace")).hexdigest()
    if not expected or not code or not hmac.compare_digest(given, expected):
        raise HTTPException(403, "This sign-in link is not valid: it works once, on the server that printed it.")
    name = f"owner (sign-in link {expected[:8]})"
    with ctx.database.session(write=True) as session:
        if any(t.name == name for t in token_service.list_tokens(session)):
            raise HTTPException(403, "This sign-in link was used already: it works once. Restart faultbook serve "
                                     "for a new one, or sign in with a token.")
        created = token_service.create_token(session, role="admin", name=name)
    response = RedirectResponse("/failures", status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE, created.secret, httponly=True, samesite="strict", secure=ctx.secure_cookies, path="/",
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
