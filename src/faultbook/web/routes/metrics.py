"""The Four Keys metrics page and its JSON twin."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from faultbook.services import metrics as metrics_service
from faultbook.web import charts
from faultbook.web.rendering import render
from faultbook.web.auth import Principal, require
from faultbook.web.routes.common import json_twin, parse_when
from faultbook.web.schemas import MetricsOut

api = APIRouter(tags=["metrics"])
pages = APIRouter(include_in_schema=False)


def _load(request: Request, weeks: int, since: Optional[str], until: Optional[str]) -> metrics_service.Metrics:
    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        return metrics_service.load_metrics(
            session,
            project=ctx.project,
            weeks=weeks,
            since=parse_when(since, name="since"),
            until=parse_when(until, name="until", end=True),
        )


WeeksQuery = Query(12, ge=1, le=260, description="Period length in ISO weeks, ending now.")


@api.get("/metrics", response_model=MetricsOut, summary="DORA / Four Keys metrics")
def get_metrics(
    request: Request,
    weeks: int = WeeksQuery,
    since: Optional[str] = Query(None),
    until: Optional[str] = Query(None),
    _: Principal = Depends(require("reader")),
) -> MetricsOut:
    return MetricsOut.model_validate(_load(request, weeks, since, until).to_json())


@pages.get("/metrics", response_class=HTMLResponse)
def metrics_page(request: Request, weeks: int = WeeksQuery, _: Principal = Depends(require("reader"))) -> HTMLResponse:
    result = _load(request, weeks, None, None)
    labels = [w.strftime("%d %b") for w in result.weeks]
    return render(
        request,
        "metrics.html",
        {
            "m": result,
            "weeks": weeks,
            "deploy_chart": charts.bar_chart(
                labels=labels, values=result.deployments_per_week, title="Deployments per week", css_id="chart-deployments"
            ),
            "component_chart": charts.stacked_chart(
                labels=labels,
                series=result.failures_per_component,
                title="Failures per component per week",
                css_id="chart-components",
            ),
            "json_url": json_twin(request, "/metrics"),
        },
    )
