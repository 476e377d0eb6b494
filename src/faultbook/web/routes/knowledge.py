"""What the CLI's knowledge and maintenance commands do, over the API.

``faultbook explain``, ``merge``, ``catalog``, ``rules``, ``import`` and ``followups done`` each have their
JSON twin here, calling the same service functions.  (``check``, ``rollback`` and ``bundle`` stay on the
machine that holds the project's files and the Cloudflare credentials: a team server has neither.)
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from faultbook.web.auth import Principal, require
from faultbook.web.schemas import (
    ExplainIn,
    FailureDetailOut,
    FollowupOut,
    ImportOut,
    KnownErrorOut,
    MatchOut,
    MergeIn,
    RuleOut,
)
from faultbook.services.recognition import explain as explain_error
from faultbook.knowledge.catalog import load_catalog
from faultbook.checks.registry import all_rules
from faultbook.checks.registry import get_rule
from faultbook.services import ingest
from faultbook.services.recognition import merge_failures
from starlette.concurrency import run_in_threadpool
from faultbook.services import ledger
from faultbook.services import followups

api = APIRouter(tags=["knowledge"])
pages = APIRouter(include_in_schema=False)
Number = Path(ge=1, le=2**31 - 1)


def _ctx(request: Request):
    return request.app.state.ctx


@api.post("/explain", response_model=list[MatchOut], summary="What is known about an error (faultbook explain)")
def explain(
    request: Request, body: ExplainIn, _: Principal = Depends(require("reader", changes_nothing=True))
) -> list[MatchOut]:

    ctx = _ctx(request)
    with ctx.database.session() as session:
        matches = explain_error(
            session, project=ctx.project, text=body.text, code=body.code, component=body.component,
            endpoint=body.endpoint, limit=body.limit, knowledge=ctx.knowledge,
        )
    return [MatchOut.model_validate(m.to_json()) for m in matches]


@api.get("/catalog", response_model=list[KnownErrorOut], summary="The built-in catalog of Cloudflare deploy errors")
def catalog(_: Principal = Depends(require("reader"))) -> list[KnownErrorOut]:

    return [KnownErrorOut.model_validate(e.to_json()) for e in load_catalog()]


def _rule_out(rule) -> RuleOut:
    return RuleOut(id=rule.id, name=rule.name, severity=rule.severity.value, online=rule.online,
                   summary=rule.summary(), explanation=rule.explanation())


@api.get("/rules", response_model=list[RuleOut], summary="The preflight rules (faultbook rules)")
def rules(_: Principal = Depends(require("reader"))) -> list[RuleOut]:

    return [_rule_out(r) for r in all_rules()]


@api.get("/rules/{rule}", response_model=RuleOut, summary="One preflight rule, by ID (FB101), alias or name")
def rule(rule: str = Path(max_length=100), _: Principal = Depends(require("reader"))) -> RuleOut:

    found = get_rule(rule)
    if found is None:
        raise HTTPException(404, f"unknown rule {rule!r} (see /api/v1/rules)")
    return _rule_out(found)


@api.post(
    "/failures/{number}/merge",
    response_model=FailureDetailOut,
    summary="Merge failure `other` (B) into this one (A), permanently (faultbook merge)",
)
def merge(
    request: Request, body: MergeIn, number: int = Number, who: Principal = Depends(require("writer"))
) -> FailureDetailOut:
    from faultbook.services import ingest, triage

    ctx = _ctx(request)
    with ctx.database.session(write=True) as session:
        failure = triage.merge(session, project=ctx.project, into=number, other=body.other, actor=who.name)
    with ctx.database.session() as session:
        occurrences = ingest.occurrences_of(session, project=ctx.project, number=number)
    return FailureDetailOut.model_validate({**failure.to_json(extended=True), "occurrences": occurrences})


@api.post(
    "/import",
    response_model=ImportOut,
    summary="Import a failure-tracking Markdown document, all or nothing (faultbook import)",
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/markdown": {"schema": {"type": "string"}}}},
    },
)
async def import_document(
    request: Request,
    update: bool = Query(False, description="Overwrite failures whose numbers exist instead of refusing (409)."),
    who: Principal = Depends(require("writer")),
) -> ImportOut:


    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > ledger.MAX_DOCUMENT_BYTES:
            raise HTTPException(413, f"a failure log may be at most {ledger.MAX_DOCUMENT_BYTES // 1024 // 1024} MB")
    name = "request body"
    text = ledger.decode_document(bytes(data), path=name)

    def write() -> ledger.ImportResult:
        ctx = _ctx(request)
        with ctx.database.session(write=True) as session:
            return ledger.import_document(session, project=ctx.project, text=text, path=name, update=update,
                                          actor=who.name)

    result = await run_in_threadpool(write)
    return ImportOut(created=list(result.created), updated=list(result.updated),
                     potential_created=list(result.potential_created),
                     potential_updated=list(result.potential_updated), warnings=list(result.warnings))


@api.post("/followups/{followup_id}/done", response_model=FollowupOut, summary="Mark a follow-up done")
def followup_done(
    request: Request, followup_id: int = Path(ge=1, le=2**31 - 1), who: Principal = Depends(require("writer"))
) -> FollowupOut:

    ctx = _ctx(request)
    with ctx.database.session(write=True) as session:
        item = followups.mark_done(session, project=ctx.project, followup_id=followup_id, actor=who.name)
    return FollowupOut.model_validate(item.to_json())
