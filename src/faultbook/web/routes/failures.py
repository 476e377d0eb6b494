"""Failures: list/search, one failure, record, edit (HTML pages and their JSON twins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import ValidationError
from fastapi.responses import HTMLResponse, RedirectResponse

from faultbook.domain import Failure, STANDARD_COMPONENTS, Status
from faultbook.services import ingest, ledger, search
from faultbook.web.rendering import render
from faultbook.web.auth import Principal, require
from faultbook.web.routes.common import FailureFilters, json_twin
from faultbook.web.schemas import FailureDetailOut, FailureIn, FailureOut, FailurePageOut, FailurePatch
from starlette.concurrency import run_in_threadpool

api = APIRouter(tags=["failures"])
pages = APIRouter(include_in_schema=False)
Number = Path(ge=1, le=2**31 - 1)
EDIT_FIELDS = (
    ("title", "Title"),
    ("component", "Component"),
    ("component_detail", "Component detail"),
    ("step", "Deployment step"),
    ("error_message", "Error message"),
    ("root_cause", "Root cause"),
    ("resolution", "Resolution"),
    ("lessons_learned", "Lessons learned"),
)


def _ctx(request: Request):
    return request.app.state.ctx


def _search(request: Request, filters: FailureFilters) -> search.Page[Failure]:
    ctx = _ctx(request)
    with ctx.database.session() as session:
        return search.search_failures(session, project=ctx.project, **filters.kwargs())


def _detail(request: Request, number: int) -> tuple[Failure, list[dict[str, Any]]]:
    ctx = _ctx(request)
    with ctx.database.session() as session:
        failure = ledger.get_failure(session, project=ctx.project, number=number)
        occurrences = ingest.occurrences_of(session, project=ctx.project, number=number)
    return failure, occurrences


def _suspects(request: Request, number: int) -> list[dict[str, Any]]:
    from faultbook.services.suspect import suspect_changes_for_failure

    ctx = _ctx(request)
    with ctx.database.session() as session:
        return [c.to_json() for c in suspect_changes_for_failure(session, project=ctx.project, number=number)]


# ---------------------------------------------------------------- JSON API


@api.get("/failures", response_model=FailurePageOut, summary="List and search failures")
def list_failures(
    request: Request, filters: FailureFilters = Depends(), _: Principal = Depends(require("reader"))
) -> FailurePageOut:
    page = _search(request, filters)
    return FailurePageOut(
        items=[FailureOut.of(f) for f in page.items], total=page.total, limit=page.limit, offset=page.offset,
        sort=page.sort,
    )


@api.get("/failures/{number}", response_model=FailureDetailOut, summary="One failure with timeline and occurrences")
def get_failure(request: Request, number: int = Number, _: Principal = Depends(require("reader"))) -> FailureDetailOut:
    failure, occurrences = _detail(request, number)
    return FailureDetailOut.model_validate({**failure.to_json(extended=True), "occurrences": occurrences,
                                            "suspect_changes": _suspects(request, number)})


@api.post("/failures", response_model=FailureOut, status_code=201, summary="Record a failure")
def create_failure(request: Request, body: FailureIn, who: Principal = Depends(require("writer"))) -> FailureOut:
    ctx = _ctx(request)
    with ctx.database.session(write=True) as session:
        failure = ledger.record_failure(
            session, project=ctx.project, failure=body.to_domain(), actor=who.name, pasted=True
        )
    return FailureOut.of(failure)


@api.patch("/failures/{number}", response_model=FailureOut, summary="Edit fields or the status of a failure")
def patch_failure(
    request: Request, body: FailurePatch, number: int = Number, who: Principal = Depends(require("writer"))
) -> FailureOut:
    ctx = _ctx(request)
    with ctx.database.session(write=True) as session:
        failure = ledger.update_failure(
            session, project=ctx.project, number=number, changes=body.changes(), actor=who.name
        )
    return FailureOut.of(failure)


# ---------------------------------------------------------------- HTML


@pages.get("/failures", response_class=HTMLResponse)
def failures_page(
    request: Request, filters: FailureFilters = Depends(), _: Principal = Depends(require("reader"))
) -> HTMLResponse:
    page = _search(request, filters)
    return render(
        request,
        "failures.html",
        {
            "page": page,
            "filters": filters,
            "statuses": list(Status),
            "components": STANDARD_COMPONENTS,
            "json_url": json_twin(request, "/failures"),
        },
    )


@pages.get("/failures/{number}", response_class=HTMLResponse)
def failure_page(request: Request, number: int = Number, who: Principal = Depends(require("reader"))) -> HTMLResponse:
    failure, occurrences = _detail(request, number)
    return render(
        request,
        "failure.html",
        {
            "failure": failure,
            "occurrences": occurrences,
            "statuses": list(Status),
            "fields": EDIT_FIELDS,
            "can_edit": who.can("writer"),
            "saved": request.query_params.get("saved"),
            "json_url": f"/api/v1/failures/{number}",
            "suspect_changes": _suspects(request, number),
        },
    )


@pages.post("/failures/{number}", response_class=HTMLResponse)
async def edit_failure_form(
    request: Request, number: int = Number, who: Principal = Depends(require("writer"))
) -> RedirectResponse:
    """The in-place edit form: only the fields present in the form are changed."""

    form = await request.form()
    raw = {k: v for k, v in form.items() if k in Failure.EDITABLE and isinstance(v, str)}
    data: dict[str, Any] = {k: v.replace("\r\n", "\n") for k, v in raw.items()}
    if "component_detail" in data and not data["component_detail"].strip():
        data["component_detail"] = None
    if "occurred_at" in data:
        data.pop("occurred_at")  # not edited from the page
    try:
        changes = FailurePatch.model_validate(data).changes()
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise HTTPException(422, detail) from None
    ctx = _ctx(request)

    def save() -> None:
        with ctx.database.session(write=True) as session:
            ledger.update_failure(session, project=ctx.project, number=number, changes=changes, actor=who.name)

    await run_in_threadpool(save)
    return RedirectResponse(f"/failures/{number}?saved=1", status_code=303)
