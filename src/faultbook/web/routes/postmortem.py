"""The postmortem page (``/failures/{n}/postmortem``), its Markdown download and its JSON twin.

One code path with ``faultbook postmortem N``: ``services.postmortem`` gathers,
``markdown.postmortem`` renders; the page shows the rendered Markdown (raw
HTML disabled, like every Markdown field on the dashboard).  The server has no
git checkout of the project, so the trigger comes from the stored snapshots.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from faultbook.web.rendering import render
from faultbook.web.auth import Principal, require

api = APIRouter(tags=["failures"])
pages = APIRouter(include_in_schema=False)
Number = Path(ge=1, le=2**31 - 1)


def _facts(request: Request, number: int) -> Any:
    from faultbook.services.postmortem import gather_postmortem

    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        return gather_postmortem(session, project=ctx.project, number=number)


@api.get("/failures/{number}/postmortem", summary="The facts of a failure's postmortem (impact, timeline, trigger ...)")
def postmortem_json(request: Request, number: int = Number, _: Principal = Depends(require("reader"))) -> Any:
    return _facts(request, number).to_json()


@pages.get("/failures/{number}/postmortem.md")
def postmortem_download(request: Request, number: int = Number, _: Principal = Depends(require("reader"))) -> Response:
    from faultbook.markdown.postmortem import render_postmortem

    text = render_postmortem(_facts(request, number))
    return Response(text, media_type="text/markdown; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="postmortem-failure-{number}.md"'})


@pages.get("/failures/{number}/postmortem", response_class=HTMLResponse)
def postmortem_page(request: Request, number: int = Number, _: Principal = Depends(require("reader"))) -> HTMLResponse:
    from faultbook.markdown.postmortem import render_postmortem

    facts = _facts(request, number)
    return render(request, "postmortem.html", {
        "failure": facts.failure, "markdown_text": render_postmortem(facts),
        "json_url": f"/api/v1/failures/{number}/postmortem",
    })
