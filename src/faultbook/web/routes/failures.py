"""Failures: list/search, one failure, record, edit (HTML pages and their JSON twins)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import Field, ValidationError
from fastapi.responses import HTMLResponse, RedirectResponse

from faultbook.domain import Failure, STANDARD_COMPONENTS, Status
from faultbook.services import dashboard, ingest, ledger, search, triage
from faultbook.web.rendering import render
from faultbook.web.auth import Principal, require
from faultbook.web.routes.common import FailureFilters, json_twin
from faultbook.web.schemas import Strict
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


def _page_extras(request: Request, numbers: list[int]) -> tuple[set[int], dict[int, str]]:
    ctx = _ctx(request)
    with ctx.database.session() as session:
        return (dashboard.regression_numbers(session, project=ctx.project, numbers=numbers),
                triage.triage_of(session, project=ctx.project, numbers=numbers))


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


# ---------------------------------------------------------------- triage (JSON)


class BulkStatusIn(Strict):
    numbers: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=500)
    status: Literal["open", "resolved", "workaround"]


class TriageIn(Strict):
    not_deployment: bool = Field(description="True: not a failure of the project's deploy (leaves the metrics).")


@api.post("/failures/bulk-status", response_model=list[FailureOut], summary="Give several failures one status")
def bulk_status(request: Request, body: BulkStatusIn, who: Principal = Depends(require("writer"))) -> list[FailureOut]:
    ctx = _ctx(request)
    with ctx.database.session(write=True) as session:
        changed = triage.set_status_many(session, project=ctx.project, numbers=body.numbers,
                                         status=Status.parse(body.status), actor=who.name)
    return [FailureOut.of(f) for f in changed]


@api.delete("/failures/{number}", response_model=FailureOut, summary="Delete a failure (admin; kept in the audit trail)")
def delete_failure(request: Request, number: int = Number, who: Principal = Depends(require("admin"))) -> FailureOut:
    ctx = _ctx(request)
    with ctx.database.session(write=True) as session:
        return FailureOut.of(triage.delete_failure(session, project=ctx.project, number=number, actor=who.name))


@api.post("/failures/{number}/undo", response_model=FailureOut, summary="Undo the latest status change")
def undo_status(request: Request, number: int = Number, who: Principal = Depends(require("writer"))) -> FailureOut:
    ctx = _ctx(request)
    with ctx.database.session(write=True) as session:
        return FailureOut.of(triage.undo_status(session, project=ctx.project, number=number, actor=who.name))


@api.post("/failures/{number}/triage", response_model=FailureOut, summary="Mark as (not) a deployment failure")
def set_triage(request: Request, body: TriageIn, number: int = Number,
               who: Principal = Depends(require("writer"))) -> FailureOut:
    ctx = _ctx(request)
    with ctx.database.session(write=True) as session:
        return FailureOut.of(triage.mark_not_deployment(session, project=ctx.project, number=number,
                                                        actor=who.name, on=body.not_deployment))


@api.get("/audit", summary="The audit trail: deletions, merges, undos, triage marks, bulk changes")
def audit_json(request: Request, _: Principal = Depends(require("reader"))) -> list[dict[str, Any]]:
    ctx = _ctx(request)
    with ctx.database.session() as session:
        return [e.to_json() for e in triage.list_audit(session, project=ctx.project)]


# ---------------------------------------------------------------- HTML



async def _form_action(request: Request, work) -> None:  # type: ignore[no-untyped-def]
    from starlette.concurrency import run_in_threadpool

    ctx = _ctx(request)

    def run() -> None:
        with ctx.database.session(write=True) as session:
            work(session, ctx.project)

    await run_in_threadpool(run)


@pages.post("/failures/bulk")
async def bulk_form(request: Request, who: Principal = Depends(require("writer"))) -> RedirectResponse:
    form = await request.form()
    try:
        numbers = [int(n) for n in form.getlist("number")]
        status = Status.parse(str(form.get("status") or ""))
    except ValueError:
        raise HTTPException(422, "choose failures and a status") from None
    if not numbers or not all(1 <= n < 2**31 for n in numbers):
        raise HTTPException(422, "choose at least one failure")
    await _form_action(request, lambda s, p: triage.set_status_many(s, project=p, numbers=numbers, status=status,
                                                                     actor=who.name))
    back = str(form.get("back") or "/failures")
    return RedirectResponse(back if back.startswith("/failures") else "/failures", status_code=303)


@pages.post("/failures/{number}/undo")
async def undo_form(request: Request, number: int = Number, who: Principal = Depends(require("writer"))) -> RedirectResponse:
    await _form_action(request, lambda s, p: triage.undo_status(s, project=p, number=number, actor=who.name))
    return RedirectResponse(f"/failures/{number}?saved=1", status_code=303)


@pages.post("/failures/{number}/triage")
async def triage_form(request: Request, number: int = Number, who: Principal = Depends(require("writer"))) -> RedirectResponse:
    form = await request.form()
    on = str(form.get("not_deployment") or "") == "1"
    await _form_action(request, lambda s, p: triage.mark_not_deployment(s, project=p, number=number, actor=who.name,
                                                                         on=on))
    return RedirectResponse(f"/failures/{number}?saved=1", status_code=303)


@pages.post("/failures/{number}/merge")
async def merge_form(request: Request, number: int = Number, who: Principal = Depends(require("writer"))) -> RedirectResponse:
    form = await request.form()
    try:
        into = int(str(form.get("into") or "").lstrip("#"))
    except ValueError:
        raise HTTPException(422, "into: give the number of the failure to merge into") from None
    if not 1 <= into < 2**31:
        raise HTTPException(422, "into: give the number of the failure to merge into")
    await _form_action(request, lambda s, p: triage.merge(s, project=p, into=into, other=number, actor=who.name))
    return RedirectResponse(f"/failures/{into}?saved=1", status_code=303)


@pages.get("/failures/{number}/delete", response_class=HTMLResponse)
def delete_confirm(request: Request, number: int = Number, _: Principal = Depends(require("admin"))) -> HTMLResponse:
    failure, occurrences = _detail(request, number)
    return render(request, "delete.html", {"failure": failure, "occurrences": len(occurrences)})


@pages.post("/failures/{number}/delete")
async def delete_form(request: Request, number: int = Number, who: Principal = Depends(require("admin"))) -> RedirectResponse:
    form = await request.form()
    if str(form.get("confirm") or "") != str(number):
        raise HTTPException(422, f"type the failure's number ({number}) to confirm the deletion")
    await _form_action(request, lambda s, p: triage.delete_failure(s, project=p, number=number, actor=who.name))
    return RedirectResponse(f"/audit?deleted={number}", status_code=303)


@pages.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, _: Principal = Depends(require("reader"))) -> HTMLResponse:
    ctx = _ctx(request)
    with ctx.database.session() as session:
        items = triage.list_audit(session, project=ctx.project)
    return render(request, "audit.html", {"items": items, "deleted": request.query_params.get("deleted"),
                                          "json_url": "/api/v1/audit"})




@pages.get("/failures", response_class=HTMLResponse)
def failures_page(
    request: Request, filters: FailureFilters = Depends(), who: Principal = Depends(require("reader"))
) -> HTMLResponse:
    page = _search(request, filters)
    regressions, marks = _page_extras(request, [f.number for f in page.items])
    return render(
        request,
        "failures.html",
        {
            "page": page,
            "regressions": regressions,
            "marks": marks,
            "can_edit": who.can("writer"),
            "filters": filters,
            "statuses": list(Status),
            "components": STANDARD_COMPONENTS,
            "json_url": json_twin(request, "/failures"),
        },
    )


@pages.get("/failures/{number}", response_class=HTMLResponse)
def failure_page(request: Request, number: int = Number, who: Principal = Depends(require("reader"))) -> HTMLResponse:
    ctx = _ctx(request)
    with ctx.database.session() as session:
        failure = ledger.get_failure(session, project=ctx.project, number=number)
        occurrences, occurrence_total = dashboard.recent_occurrences(session, project=ctx.project, number=number)
        undoable = triage.last_status_change(session, project=ctx.project, number=number)
        mark = triage.triage_of(session, project=ctx.project, numbers=[number]).get(number)
        regression = bool(dashboard.regression_numbers(session, project=ctx.project, numbers=[number]))
    return render(
        request,
        "failure.html",
        {
            "failure": failure,
            "occurrences": occurrences,
            "occurrence_total": occurrence_total,
            "undo": undoable.details if undoable is not None else None,
            "mark": mark,
            "regression": regression,
            "can_admin": who.can("admin"),
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
