"""API tokens (admin only): list, create (the secret is in the reply, once), revoke."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from faultbook.services import tokens as token_service
from faultbook.web.rendering import render
from faultbook.web.auth import Principal, require
from faultbook.web.schemas import TokenCreatedOut, TokenIn, TokenOut
from faultbook.web.auth import forget_tokens
from fastapi import HTTPException
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

api = APIRouter(tags=["tokens"])
pages = APIRouter(include_in_schema=False)


@api.get("/tokens", response_model=list[TokenOut], summary="API tokens (never their secrets)")
def list_tokens(request: Request, _: Principal = Depends(require("admin"))) -> list[TokenOut]:
    with request.app.state.ctx.database.session() as session:
        return [TokenOut.model_validate(t.to_json()) for t in token_service.list_tokens(session)]


@api.post("/tokens", response_model=TokenCreatedOut, status_code=201, summary="Create a token")
def create_token(request: Request, body: TokenIn, who: Principal = Depends(require("admin"))) -> TokenCreatedOut:
    project = _scope(request, body, who)
    with request.app.state.ctx.database.session(write=True) as session:
        created = token_service.create_token(session, role=body.role, name=body.name, project=project)
    return TokenCreatedOut.model_validate({**created.token.to_json(), "token": created.secret})


@api.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke a token")
def revoke_token(
    request: Request, token_id: int = Path(ge=1, le=2**31 - 1), _: Principal = Depends(require("admin"))
) -> TokenOut:

    with request.app.state.ctx.database.session(write=True) as session:
        revoked = token_service.revoke_token(session, token_id=token_id)
    forget_tokens()
    return TokenOut.model_validate(revoked.to_json())


def _scope(request: Request, body: TokenIn, who: Principal) -> str | None:
    """This server's project, or every project when asked by an admin who holds every project."""
    from fastapi import HTTPException

    if not body.all_projects:
        return request.app.state.ctx.project.key
    if not who.all_projects:
        raise HTTPException(403, "only an all-projects admin may create an all-projects token")
    return None


def _page(request: Request, created=None, status: int = 200) -> HTMLResponse:
    with request.app.state.ctx.database.session() as session:
        items = token_service.list_tokens(session)
    response = render(request, "tokens.html", {"items": items, "created": created, "roles": token_service.ROLES,
                                               "json_url": "/api/v1/tokens"}, status=status)
    response.headers["Cache-Control"] = "no-store"  # a new secret is on this page once: keep it out of caches
    return response


@pages.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, _: Principal = Depends(require("admin"))) -> HTMLResponse:
    return _page(request)


@pages.post("/tokens", response_class=HTMLResponse)
async def create_token_form(request: Request, who: Principal = Depends(require("admin"))) -> HTMLResponse:
    """Create a token from the page; its secret is shown on the answer, once."""

    form = await request.form()
    name = str(form.get("name") or "").strip() or None
    try:
        body = TokenIn.model_validate({"role": str(form.get("role") or ""), "name": name})
    except ValidationError as exc:
        raise HTTPException(422, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None

    project = _scope(request, body, who)

    def create():
        with request.app.state.ctx.database.session(write=True) as session:
            return token_service.create_token(session, role=body.role, name=body.name, project=project)

    created = await run_in_threadpool(create)
    return await run_in_threadpool(_page, request, created, 201)


@pages.post("/tokens/{token_id}/revoke")
def revoke_token_form(
    request: Request, token_id: int = Path(ge=1, le=2**31 - 1), _: Principal = Depends(require("admin"))
) -> RedirectResponse:

    with request.app.state.ctx.database.session(write=True) as session:
        token_service.revoke_token(session, token_id=token_id)
    forget_tokens()
    return RedirectResponse("/tokens", status_code=303)
