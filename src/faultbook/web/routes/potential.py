"""The potential-failures catalog (read-only here; it is written by import)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from faultbook.services import ledger
from faultbook.web.rendering import render
from faultbook.web.auth import Principal, require
from faultbook.web.schemas import PotentialFailureOut

api = APIRouter(tags=["potential failures"])
pages = APIRouter(include_in_schema=False)


def _load(request: Request):
    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        return ledger.list_potential_failures(session, project=ctx.project)


@api.get("/potential-failures", response_model=list[PotentialFailureOut], summary="The potential-failures catalog")
def list_potential(request: Request, _: Principal = Depends(require("reader"))) -> list[PotentialFailureOut]:
    return [PotentialFailureOut.model_validate(p.to_json()) for p in _load(request)]


@pages.get("/potential", response_class=HTMLResponse)
def potential_page(request: Request, _: Principal = Depends(require("reader"))) -> HTMLResponse:
    return render(request, "potential.html", {"items": _load(request), "json_url": "/api/v1/potential-failures"})
