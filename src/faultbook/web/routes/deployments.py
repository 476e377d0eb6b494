"""Deployments (list, record) and CI reports (a deployment plus the failure it hit), idempotent by key."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Optional, TypedDict

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from pydantic import Field
from fastapi.responses import HTMLResponse

from faultbook.domain import Deployment, DeploymentOutcome
from faultbook.services import dashboard, deployments, ingest
from faultbook.web.rendering import render
from faultbook.web.auth import Principal, require
from faultbook.web.routes.common import json_twin, parse_when
from faultbook.web.schemas import DeploymentIn, DeploymentOut, DeploymentPageOut, ReportIn, ReportOut

api = APIRouter(tags=["deployments"])
pages = APIRouter(include_in_schema=False)


class _Which(TypedDict):
    outcome: DeploymentOutcome | None
    since: datetime | None
    until: datetime | None
    kind: str | None


def _list(request: Request, outcome: Optional[str], since: Optional[str], until: Optional[str], limit: int, offset: int,
          kind: Optional[str] = None) -> tuple[list[Deployment], int]:
    ctx = request.app.state.ctx
    which: _Which = {
        "outcome": DeploymentOutcome(outcome) if outcome else None,
        "since": parse_when(since, name="since"),
        "until": parse_when(until, name="until", end=True),
        "kind": kind,
    }
    with ctx.database.session() as session:
        items = deployments.list_deployments(session, project=ctx.project, limit=limit, offset=offset, **which)
        return items, deployments.count_deployments(session, project=ctx.project, **which)


OutcomeQuery = Query(None, description="running, succeeded, failed or interrupted")


@api.get("/deployments", response_model=DeploymentPageOut, summary="Deployments, newest first")
def list_deployments(
    request: Request,
    outcome: Optional[Literal["running", "succeeded", "failed", "interrupted"]] = OutcomeQuery,
    since: Optional[str] = Query(None),
    until: Optional[str] = Query(None),
    kind: Optional[Literal["deploy", "provision", "other"]] = Query(None, description="deploy, provision or other"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    _: Principal = Depends(require("reader")),
) -> DeploymentPageOut:
    items, total = _list(request, outcome, since, until, limit, offset, kind)
    return DeploymentPageOut(
        items=[DeploymentOut.model_validate(d.to_json()) for d in items], total=total, limit=limit, offset=offset
    )


async def _ingest(request: Request, body: ReportIn, who: Principal, key_header: Optional[str]) -> ingest.IngestResult:
    if key_header is not None and key_header != body.deployment.key:
        raise HTTPException(422, "the Idempotency-Key header must equal deployment.key")
    from faultbook.web.writer import RevokedToken

    # Written by the process's report writer, batched with whatever else is waiting (web/writer.py).
    try:
        return await request.app.state.ctx.reports.write(
            deployment=body.deployment.to_domain(),
            failure=body.failure.to_domain() if body.failure else None,
            host=body.host,
            output_tail=body.output_tail,
            actor=who.name,
            token_id=who.token_id,
            endpoint=body.endpoint,
            snapshot=body.snapshot,
        )
    except RevokedToken:
        raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"}) from None


@api.post(
    "/deployments",
    response_model=ReportOut,
    status_code=201,
    summary="Record a deployment (a repeated key returns the stored one with 200)",
)
async def create_deployment(
    request: Request, response: Response, body: DeploymentIn, who: Principal = Depends(require("writer"))
) -> ReportOut:
    result = await _ingest(request, ReportIn(deployment=body), who, None)
    if not result.created:
        response.status_code = 200
    return ReportOut.model_validate(result.to_json())


@api.post(
    "/reports",
    response_model=ReportOut,
    status_code=201,
    summary="Report a run from CI: the deployment and, if it failed, the failure (idempotent by deployment.key)",
)
async def create_report(
    request: Request,
    body: ReportIn,
    idempotency_key: Optional[str] = Header(None, max_length=100),
    who: Principal = Depends(require("writer")),
) -> Response:
    result = await _ingest(request, body, who, idempotency_key)
    # Serialised here, once: returning the model would have FastAPI validate and encode it a second time,
    # a noticeable share of a CI report's cost on a busy server.
    return Response(
        ReportOut.model_validate(result.to_json()).model_dump_json(),
        status_code=201 if result.created else 200,
        media_type="application/json",
    )


class DeploymentDetailOut(DeploymentOut):
    host: Optional[str] = None
    duration_seconds: Optional[float] = None
    output: str = Field("", description="The captured output's tail, scrubbed, ANSI colours stripped.")
    failures: list[dict] = Field(default_factory=list, description="The failures this deployment produced.")
    rollbacks: list[dict] = Field(default_factory=list, description="Rollbacks that preserved this deployment.")


def _detail(request: Request, number: int) -> dashboard.DeploymentDetail:
    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        return dashboard.deployment_detail(session, project=ctx.project, number=number)


@api.get("/deployments/{number}", response_model=DeploymentDetailOut,
         summary="One deployment: command, kind, commit, output, the failures it produced, rollbacks")
def get_deployment(
    request: Request, number: int = Path(ge=1, le=2**31 - 1), _: Principal = Depends(require("reader"))
) -> DeploymentDetailOut:
    return DeploymentDetailOut.model_validate(_detail(request, number).to_json())


@pages.get("/deployments/{number}", response_class=HTMLResponse)
def deployment_page(
    request: Request, number: int = Path(ge=1, le=2**31 - 1), _: Principal = Depends(require("reader"))
) -> HTMLResponse:
    detail = _detail(request, number)
    return render(request, "deployment.html", {"d": detail.deployment, "detail": detail,
                                               "json_url": f"/api/v1/deployments/{number}"})


@pages.get("/deployments", response_class=HTMLResponse)
def deployments_page(
    request: Request,
    outcome: Optional[str] = Query(None, max_length=20),
    kind: Optional[str] = Query(None, max_length=20),
    offset: int = Query(0, ge=0, le=10_000_000),
    _: Principal = Depends(require("reader")),
) -> HTMLResponse:
    from faultbook.domain.classify import KINDS

    outcome = outcome if outcome in {o.value for o in DeploymentOutcome} else None
    kind = kind if kind in KINDS else None
    items, total = _list(request, outcome, None, None, 100, offset, kind)
    return render(
        request,
        "deployments.html",
        {
            "items": items,
            "total": total,
            "offset": offset,
            "limit": 100,
            "outcome": outcome or "",
            "outcomes": [o.value for o in DeploymentOutcome],
            "kind": kind or "",
            "kinds": KINDS,
            "json_url": json_twin(request, "/deployments"),
        },
    )
