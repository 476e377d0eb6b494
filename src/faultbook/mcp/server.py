"""The MCP server: the ledger's memory for coding agents, over the official ``mcp`` SDK.

Agents now run ``wrangler deploy`` themselves.  When it fails they can ask
faultbook what the team already knows, through the same service functions the
CLI calls (no twins):

- ``lookup_fix(error_text)`` is ``faultbook explain`` (``recognise.explain``);
- ``recent_failures`` / ``get_failure`` are ``list`` / ``show --json``
  (``ledger.list_failures`` / ``ledger.get_failure``);
- ``check_config(path)`` is ``faultbook check --offline --format json``
  (``services.check.run_check`` and ``reports.json.to_data``);
- ``record_failure(...)`` is ``faultbook record`` (``ledger.record_failure``)
  and exists only when ``faultbook.toml`` says ``[mcp] allow_writes = true``:
  an agent that may read the ledger may not, by default, write to it;
- the resource ``faultbook://ledger.md`` is ``faultbook export``.

This module is an edge like ``cli`` and ``web``: it translates, the services
decide.  Each tool call opens one short session (one transaction) on the
project's database, so a long-lived agent connection holds no lock.  Anything
printed would corrupt the stdio transport, so nothing here prints: errors a
user can act on become ``ToolError`` (the agent sees the message, the call is
``isError``), anything else is the SDK's "Error executing tool".

``check_config`` runs offline only: an agent asking about a config should not
make faultbook call the Cloudflare API with the user's token behind their back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from faultbook.errors import FaultbookError

if TYPE_CHECKING:
    from faultbook.config import Settings

LEDGER_URI = "faultbook://ledger.md"
MAX_LIMIT = 200
_T = TypeVar("_T")

INSTRUCTIONS = (
    "faultbook is this team's deployment failure ledger for Cloudflare (Workers, Pages, R2, D1, KV ...). "
    "When a deploy (e.g. `wrangler deploy`) fails, call lookup_fix with the exact error text first: it returns "
    "the team's own earlier failures with their cause and fix, and known Cloudflare errors. Use check_config "
    "before deploying, and get_failure for a failure's whole record and timeline."
)


def writes_allowed(settings: "Settings") -> bool:
    """``[mcp] allow_writes = true`` in faultbook.toml (default false)."""
    return settings.mcp.allow_writes


def build_server(settings: "Settings", *, database: Any = None, project: Any = None) -> MCPServer:
    """The MCP server for one project (``settings``'); ``database`` defaults to the project's."""
    from faultbook.services.project import ProjectRef

    project = project or ProjectRef(key=settings.project_key, name=settings.project_name)
    holder: dict[str, Any] = {"db": database}

    def db() -> Any:
        if holder["db"] is None:
            from faultbook.store.db import Database

            holder["db"] = Database(settings.database_url)
        return holder["db"]

    def call(fn: Callable[..., _T], *, write: bool = False) -> _T:
        try:
            with db().session(write=write) as session:
                return fn(session)
        except FaultbookError as exc:
            raise ToolError(str(exc) + (f" ({exc.hint})" if exc.hint else "")) from None

    server = MCPServer(
        name="faultbook",
        title="faultbook: the deployment failure ledger",
        instructions=INSTRUCTIONS,
        version=_version(),
    )

    @server.tool()
    def lookup_fix(error_text: str, component: str | None = None, limit: int = 5) -> dict[str, Any]:
        """What the team's ledger and the built-in Cloudflare catalog know about a deploy error.

        Pass the exact error text (a whole wrangler `[ERROR]` block is fine). Each match has its source
        (ledger = a failure this team had before, with its number; catalog = a known Cloudflare error;
        potential = anticipated in the team's document), root cause, resolution and a score in [0, 1].
        """
        from faultbook.services.recognition import explain

        if not error_text or not error_text.strip():
            raise ToolError("error_text is empty: pass the exact error message")
        matches = call(
            lambda s: explain(s, project=project, text=error_text, component=component, limit=_clamp(limit, 20))
        )
        return {"matches": [m.to_json() for m in matches]}

    @server.tool()
    def recent_failures(status: str | None = None, component: str | None = None, limit: int = 20) -> dict[str, Any]:
        """The project's most recent failures, newest first (status: open, resolved or workaround)."""
        from faultbook.domain import Status
        from faultbook.services import ledger

        statuses = ()
        if status:
            try:
                statuses = (Status.parse(status),)
            except ValueError as exc:
                raise ToolError(str(exc)) from None
        failures = call(
            lambda s: ledger.list_failures(
                s, project=project, status=statuses, component=component, order="-occurred_at", limit=_clamp(limit)
            )
        )
        return {"failures": [f.to_json() for f in failures]}

    @server.tool()
    def get_failure(number: int) -> dict[str, Any]:
        """One failure with everything known: fields, occurrences, timeline and the suspect changes."""
        from faultbook.services import ledger

        def fetch(session: Any) -> dict[str, Any]:
            data = ledger.get_failure(session, project=project, number=number).to_json(extended=True)
            data.update(_extras(session, project, number, settings.project_root))
            return data

        return call(fetch)

    @server.tool()
    def check_config(path: str | None = None, env: str | None = None) -> dict[str, Any]:
        """The findings of `faultbook check` (offline rules) for a wrangler config or the folder holding it.

        `path` defaults to the project folder; relative paths are taken from it.
        """
        from faultbook.reports.json import to_data
        from faultbook.services.check import run_check

        target = Path(path) if path else settings.project_root
        if not target.is_absolute():
            target = settings.project_root / target
        try:
            result = run_check(path=target, env=env, offline=True, settings=settings)
        except FaultbookError as exc:
            raise ToolError(str(exc)) from None
        return {"exit_code": result.exit_code, "messages": list(result.messages), **to_data(result.report)}

    if writes_allowed(settings):

        @server.tool()
        def record_failure(
            title: str,
            component: str,
            error_message: str = "",
            step: str = "",
            root_cause: str = "",
            resolution: str = "",
            status: str = "open",
            lessons_learned: str = "",
            component_detail: str | None = None,
        ) -> dict[str, Any]:
            """Record a new failure in the ledger (allowed by `[mcp] allow_writes = true` in faultbook.toml)."""
            from faultbook.domain import Failure, Status
            from faultbook.services import ledger

            try:
                parsed = Status.parse(status)
            except ValueError as exc:
                raise ToolError(str(exc)) from None
            failure = Failure(
                number=None, title=title, occurred_at=None, component=component, component_detail=component_detail,
                step=step, error_message=error_message, root_cause=root_cause, resolution=resolution,
                status=parsed, lessons_learned=lessons_learned,
            )
            stored = call(
                lambda s: ledger.record_failure(s, project=project, failure=failure, actor="mcp"), write=True
            )
            return stored.to_json()

    @server.resource(LEDGER_URI, name="ledger", title="The failure ledger (Markdown)", mime_type="text/markdown")
    def ledger_markdown() -> str:
        """The whole ledger as the team's failure-tracking Markdown document (`faultbook export`)."""
        from faultbook.services import ledger

        return call(lambda s: ledger.export_document(s, project=project))

    return server


def _extras(session: Any, project: Any, number: int, root: Path) -> dict[str, Any]:
    """What ``show --json`` adds to a failure: the suspect changes (commits too, where ``root`` is a git checkout)."""
    from faultbook.services.suspect import suspect_changes_for_failure

    changes = suspect_changes_for_failure(session, project=project, number=number, root=root)
    return {"suspect_changes": [c.to_json() for c in changes]}


def _clamp(value: int, high: int = MAX_LIMIT) -> int:
    return max(1, min(int(value), high))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("faultbook")
    except PackageNotFoundError:  # pragma: no cover
        return "0"


def run_stdio(settings: "Settings") -> None:
    """Serve ``settings``' project on stdin/stdout until the client closes the stream."""
    build_server(settings).run("stdio")

