"""The Four Keys metrics page and its JSON twin (definitions in services/metrics.py, shown on the page)."""

from __future__ import annotations

from typing import Optional, Sequence

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from faultbook.services import metrics as metrics_service
from faultbook.web import charts
from faultbook.web.rendering import render
from faultbook.web.auth import Principal, require
from faultbook.web.routes.common import clean, json_twin, parse_when
from faultbook.web.schemas import MetricsOut

api = APIRouter(tags=["metrics"])
pages = APIRouter(include_in_schema=False)


def _load(request: Request, weeks: int, since: Optional[str], until: Optional[str], component: Optional[str] = None,
          environment: Optional[str] = None) -> metrics_service.Metrics:
    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        return metrics_service.load_metrics(
            session,
            project=ctx.project,
            weeks=weeks,
            since=parse_when(since, name="since"),
            until=parse_when(until, name="until", end=True),
            component=clean(component),
            environment=clean(environment),
        )


def _choices(request: Request) -> tuple[list[str], list[str]]:
    """The components and environments the project's deployments and failures name (for the filter)."""
    from sqlalchemy import select

    from faultbook.store.tables import DeploymentRow, FailureRow, ProjectRow

    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        project_id = session.scalar(select(ProjectRow.id).where(ProjectRow.key == ctx.project.key))
        if project_id is None:
            return [], []
        components = set(session.scalars(select(FailureRow.component).where(FailureRow.project_id == project_id)
                                         .distinct()))
        components |= set(session.scalars(select(DeploymentRow.component).where(
            DeploymentRow.project_id == project_id, DeploymentRow.component.is_not(None)).distinct()))
        environments = set(session.scalars(select(DeploymentRow.environment).where(
            DeploymentRow.project_id == project_id, DeploymentRow.environment.is_not(None)).distinct()))
    return sorted(components, key=str.lower), sorted(environments, key=str.lower)


def week_labels(weeks: Sequence) -> list[str]:  # type: ignore[type-arg]
    """``04 Aug``; with the year (``04 Aug 2025``) when the weeks span two years, so no axis is ambiguous."""
    if weeks and weeks[0].year != weeks[-1].year:
        return [w.strftime("%d %b %Y") for w in weeks]
    return [w.strftime("%d %b") for w in weeks]


WeeksQuery = Query(12, ge=1, le=260, description="Period length in ISO weeks, ending now.")
ComponentQuery = Query(None, max_length=200, description="Only this component (case-insensitive).")
EnvironmentQuery = Query(None, max_length=200, description="Only deployments to this environment.")


@api.get("/metrics", response_model=MetricsOut, summary="DORA / Four Keys metrics, with the rows behind them")
def get_metrics(
    request: Request,
    weeks: int = WeeksQuery,
    since: Optional[str] = Query(None),
    until: Optional[str] = Query(None),
    component: Optional[str] = ComponentQuery,
    environment: Optional[str] = EnvironmentQuery,
    _: Principal = Depends(require("reader")),
) -> MetricsOut:
    return MetricsOut.model_validate(_load(request, weeks, since, until, component, environment).to_json())


@pages.get("/metrics", response_class=HTMLResponse)
def metrics_page(
    request: Request,
    weeks: int = WeeksQuery,
    component: Optional[str] = ComponentQuery,
    environment: Optional[str] = EnvironmentQuery,
    _: Principal = Depends(require("reader")),
) -> HTMLResponse:
    result = _load(request, weeks, None, None, component, environment)
    labels = week_labels(result.weeks)
    components, environments = _choices(request)
    return render(
        request,
        "metrics.html",
        {
            "m": result,
            "weeks": weeks,
            "components": components,
            "environments": environments,
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
