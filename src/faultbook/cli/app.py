"""The ``faultbook`` command line: parse, call one service, render, exit.

Every command body imports what it needs lazily, so ``faultbook --help``
loads Typer and nothing heavy (no SQLAlchemy, no SDK, no web framework).
Errors are turned into messages and exit codes in one place, ``main()``:
a ``FaultbookError`` prints its message (and hint) to stderr and exits with
its ``ExitCode``; nothing prints a traceback at the user.

Reports and data go to stdout; progress and summaries go to stderr, so the
output of ``list --json`` or ``export`` pipes cleanly.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional

import typer

from faultbook.cli import output, parsing
from faultbook.domain.limits import MAX_NUMBER
from faultbook.errors import ExitCode, FaultbookError, InputError

if TYPE_CHECKING:
    from faultbook.config import Settings
    from faultbook.services.ledger import ProjectRef
    from faultbook.store.db import Database

app = typer.Typer(
    name="faultbook",
    help="The deployment failure log for Cloudflare projects: record, recognise, prevent, recover.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")


class State:
    """Per-invocation state: settings and the database, opened on first use."""

    project: str | None = None
    #: Set by a command that has written and closed everything, so the process may skip interpreter teardown.
    exit_at_once: bool = False
    _settings: "Settings | None" = None
    _db: "Database | None" = None

    def settings(self) -> "Settings":
        if self._settings is None:
            from faultbook.config import load_settings

            self._settings = load_settings(project=self.project)
        return self._settings

    def database(self) -> "Database":
        if self._db is None:
            from faultbook.store.db import Database

            self._db = Database(self.require_project().database_url)
            _report_interrupted(self._db, self.project_ref())
        return self._db

    def require_project(self) -> "Settings":
        """The settings, refusing to create a ledger in a folder that is not a project.

        Outside a project (no faultbook.toml and no .git upwards) the embedded
        ledger would land in whatever folder the command was typed in; say so and
        create nothing.  A configured database (FAULTBOOK_DATABASE_URL or a team
        server's URL) needs no project folder.
        """
        from faultbook.config import uses_embedded_database

        settings = self.settings()
        if not settings.in_project and uses_embedded_database(settings):
            raise InputError(
                f"{settings.project_root} is not in a faultbook project (no faultbook.toml or .git here or above)",
                hint="run `faultbook init` in your project's folder first (or set FAULTBOOK_DATABASE_URL)",
            )
        return settings

    def project_ref(self) -> "ProjectRef":
        from faultbook.services.project import ProjectRef

        settings = self.settings()
        return ProjectRef(key=settings.project_key, name=settings.project_name)


state = State()


def _report_interrupted(db: "Database", project: "ProjectRef") -> None:
    """Say so when an earlier ``faultbook run`` was killed before it could record how its deployment ended.

    Runs whenever a command opens the database (never for ``--help``): a
    read-only check first, the write only when a deployment is still "running".
    """
    from faultbook.services import deployments

    with db.session() as session:
        if not deployments.has_running(session, project=project):
            return
    with db.session(write=True) as session:
        reaped = deployments.reap_interrupted(session, project=project)
    for item in reaped:
        output.warn(
            f"deployment {item.id} ({item.command}, started {item.started_at:%Y-%m-%d %H:%M:%S} UTC) was "
            "interrupted: faultbook stopped before the command finished, so its outcome is unknown"
        )


def _print_version(value: bool) -> None:
    if value:
        from faultbook import __version__

        output.emit_text(f"faultbook {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    project: Optional[str] = typer.Option(
        None, "--project", help="Project key (default: faultbook.toml's 'project' or the folder name)."
    ),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print faultbook's version and exit."
    ),
) -> None:
    state.project = project


# ---------------------------------------------------------------- init / db


@app.command()
def init(
    path: Path = typer.Argument(Path("."), help="The project folder."),
    name: Optional[str] = typer.Option(None, help="Project key (default: the folder name)."),
) -> None:
    """Create faultbook.toml and the embedded database; find wrangler configs and an existing failure log."""
    import shlex

    from faultbook.services.setup import init_project

    result = init_project(path=path, project=name)
    output.info(result.message)
    for config in result.configs:
        what = {"worker": "Worker", "pages": "Pages project", "unreadable": "not readable"}[config.kind]
        output.info(f"Found {config.path.relative_to(result.root)}: {what}"
                    + (f" '{config.name}'" if config.name else "")
                    + f" (check it: faultbook check {shlex.quote(str(config.path.parent.relative_to(result.root)))})")
    if not result.configs:
        output.info("No wrangler config (wrangler.toml/.json/.jsonc) found below this folder.")
    for log in result.logs:
        shown = log.path.relative_to(result.root)
        output.info(f"Found a failure log: {shown} ({log.failures} failures, {log.potential_failures} potential)")
        command = f"faultbook import {shlex.quote(str(shown))}"
        if output.stdin_is_tty() and output.stdout_is_tty():
            if typer.confirm(f"Import {shown} into the ledger now?", default=True):
                import_(file=log.path, update_existing=False)
        else:
            output.info(f"To import it: {command}")
    output.info("Next: wrap your deploy, e.g. faultbook run -- npx wrangler deploy")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to the newest version (also done on first use)."""
    from faultbook.store.db import Database

    settings = state.require_project()
    db = Database(settings.database_url, upgrade=False)
    ran = db.upgrade()
    output.info(
        f"{settings.display_database_url}: "
        + ("upgraded to the newest schema" if ran else "schema already current")
    )


# ---------------------------------------------------------------- record / update


@app.command()
def record(
    title: Optional[str] = typer.Option(None, "--title", help="Brief description (the block's heading)."),
    occurred_at: Optional[str] = typer.Option(
        None, "--occurred-at", help="When it happened, ISO 8601 (default: now, UTC)."
    ),
    component: Optional[str] = typer.Option(None, "--component", help="Backend, Frontend, Assets, DNS or your own."),
    component_detail: Optional[str] = typer.Option(
        None, "--component-detail", help='e.g. "Cloudflare Worker" (rendered in parentheses).'
    ),
    step: Optional[str] = typer.Option(None, "--step", help='Deployment step, e.g. "Worker deployment".'),
    error_message: Optional[str] = typer.Option(
        None, "--error-message", help="The exact error message; '-' reads it from stdin."
    ),
    error_message_file: Optional[Path] = typer.Option(
        None, "--error-message-file", help="Read the exact error message from a file ('-' for stdin)."
    ),
    root_cause: Optional[str] = typer.Option(None, "--root-cause", help="What caused it (Markdown)."),
    resolution: Optional[str] = typer.Option(None, "--resolution", help="Markdown; may hold fenced code."),
    status: Optional[str] = typer.Option(None, "--status", help="open, resolved or workaround (default: open)."),
    lessons_learned: Optional[str] = typer.Option(None, "--lessons-learned", help="What to do differently next time."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored failure as JSON."),
) -> None:
    """Record a failure by hand (prompts for missing fields on a terminal)."""
    from faultbook.domain import Failure, Status
    from faultbook.services import ledger

    message = parsing.read_long_text(error_message, error_message_file)
    values: dict[str, Any] = {
        "title": title,
        "component": component,
        "component_detail": component_detail,
        "step": step,
        "error_message": message,
        "root_cause": root_cause,
        "resolution": resolution,
        "lessons_learned": lessons_learned,
    }
    if output.stdin_is_tty():
        from faultbook.cli.prompts import ask_failure_fields

        values, status = ask_failure_fields(values, status=status)
    missing = [flag for flag, key in (("--title", "title"), ("--component", "component")) if not values[key]]
    if missing:
        raise InputError(f"missing {' and '.join(missing)} (stdin is not a terminal, so faultbook cannot ask)")
    failure = Failure(
        number=None,
        title=values["title"],
        occurred_at=parsing.parse_time(occurred_at, "--occurred-at") if occurred_at else None,
        component=values["component"],
        component_detail=values["component_detail"] or None,
        step=values["step"] or "",
        error_message=values["error_message"] or "",
        root_cause=values["root_cause"] or "",
        resolution=values["resolution"] or "",
        status=parsing.parse_status(status) if status else Status.OPEN,
        lessons_learned=values["lessons_learned"] or "",
    )
    with state.database().session(write=True) as session:
        stored = ledger.record_failure(
            session, project=state.project_ref(), failure=failure, actor=output.actor(), pasted=True,
            scrubber=_scrubber(),
        )
    if as_json:
        output.emit_json(stored.to_json())
    output.info(f"Recorded failure #{stored.number}: {stored.title}")


@app.command()
def update(
    number: int = typer.Argument(..., min=1, max=MAX_NUMBER, help="The failure number."),
    title: Optional[str] = typer.Option(None, "--title", help="Brief description."),
    occurred_at: Optional[str] = typer.Option(None, "--occurred-at", help="ISO 8601."),
    component: Optional[str] = typer.Option(None, "--component", help="Backend, Frontend, Assets, DNS or your own."),
    component_detail: Optional[str] = typer.Option(None, "--component-detail", help='e.g. "Cloudflare Worker".'),
    step: Optional[str] = typer.Option(None, "--step", help="Deployment step."),
    error_message: Optional[str] = typer.Option(None, "--error-message", help="'-' reads stdin."),
    error_message_file: Optional[Path] = typer.Option(None, "--error-message-file", help="Read it from a file ('-' for stdin)."),
    root_cause: Optional[str] = typer.Option(None, "--root-cause", help="What caused it (Markdown)."),
    resolution: Optional[str] = typer.Option(None, "--resolution", help="Markdown; may hold fenced code."),
    status: Optional[str] = typer.Option(None, "--status", help="open, resolved or workaround."),
    lessons_learned: Optional[str] = typer.Option(None, "--lessons-learned", help="What to do differently next time."),
    as_json: bool = typer.Option(False, "--json", help="Print the updated failure as JSON."),
) -> None:
    """Change any field of a failure; status changes go on its timeline."""
    from faultbook.services import ledger

    changes: dict[str, Any] = {
        key: value
        for key, value in {
            "title": title,
            "component": component,
            "component_detail": component_detail,
            "step": step,
            "root_cause": root_cause,
            "resolution": resolution,
            "lessons_learned": lessons_learned,
        }.items()
        if value is not None
    }
    message = parsing.read_long_text(error_message, error_message_file)
    if message is not None:
        changes["error_message"] = message
    if status is not None:
        changes["status"] = parsing.parse_status(status)
    if occurred_at is not None:
        changes["occurred_at"] = parsing.parse_time(occurred_at, "--occurred-at")
    if not changes:
        raise InputError("nothing to change: give at least one field option (see faultbook update --help)")
    with state.database().session(write=True) as session:
        stored = ledger.update_failure(
            session, project=state.project_ref(), number=number, changes=changes, actor=output.actor(),
            scrubber=_scrubber(),
        )
    if as_json:
        output.emit_json(stored.to_json())
    output.info(f"Updated failure #{stored.number}")


def _scrubber() -> Any:
    """The scrubber for text typed or pasted here: the shape rules and this environment's secret values."""
    from faultbook.capture.scrub import Scrubber

    return Scrubber.from_environ(state.settings().environ)


@app.command()
def delete(
    number: int = typer.Argument(..., help="The failure number."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a failure for good (its text is kept in the audit trail); asks first on a terminal."""
    from faultbook.services import ledger, triage

    project = state.project_ref()
    with state.database().session() as session:
        failure = ledger.get_failure(session, project=project, number=number)
    if not yes:
        if not output.stdin_is_tty():
            raise InputError(f"deleting failure #{number} needs confirmation: add --yes")
        if not typer.confirm(f"Delete failure #{number} ({failure.title}) and its occurrences?", default=False):
            output.info("Nothing deleted.")
            raise typer.Exit(1)
    with state.database().session(write=True) as session:
        triage.delete_failure(session, project=project, number=number, actor=output.actor())
    output.info(f"Deleted failure #{number}: {failure.title} (kept in the audit trail)")


# ---------------------------------------------------------------- list / show


@app.command("list")
def list_(
    status: Optional[List[str]] = typer.Option(None, "--status", help="Only this status (repeatable)."),
    component: Optional[str] = typer.Option(None, "--component", help="Only this component."),
    text: Optional[str] = typer.Option(
        None, "--text", "-t", help="Only failures matching these words, best match first (the dashboard's search)."
    ),
    potential: bool = typer.Option(False, "--potential", help="List the potential failures catalog instead."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (an array) instead of a table."),
) -> None:
    """List failures (or, with --potential, the potential failures)."""
    from faultbook.services import ledger

    with state.database().session() as session:
        if potential:
            items = ledger.list_potential_failures(session, project=state.project_ref())
            if as_json:
                output.emit_json([p.to_json() for p in items])
            else:
                output.potential_table(items)
            return
        statuses = [parsing.parse_status(s) for s in status or []]
        if text:
            from faultbook.services import search

            failures = search.matching_failures(
                session, project=state.project_ref(), query=text, status=statuses, component=component
            )
        else:
            failures = ledger.list_failures(session, project=state.project_ref(), status=statuses, component=component)
    if as_json:
        output.emit_json([f.to_json() for f in failures])
    else:
        output.failure_table(failures)


@app.command()
def show(
    number: int = typer.Argument(..., min=1, max=MAX_NUMBER, help="The failure number."),
    potential: bool = typer.Option(False, "--potential", help="Show potential failure N instead."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the failure's Markdown block."),
) -> None:
    """Show one failure with its timeline."""
    from faultbook.errors import NotFoundError
    from faultbook.services import ledger

    with state.database().session() as session:
        if potential:
            matches = [
                p for p in ledger.list_potential_failures(session, project=state.project_ref()) if p.number == number
            ]
            if not matches:
                raise NotFoundError(f"there is no potential failure #{number}")
            item = matches[0]
            if as_json:
                output.emit_json(item.to_json())
            else:
                from faultbook.markdown import render_potential_failure

                output.emit_text(render_potential_failure(item))
            return
        failure = ledger.get_failure(session, project=state.project_ref(), number=number)
        suspects = [] if markdown else _suspects(session, number)
    if as_json:
        output.emit_json({**failure.to_json(), "suspect_changes": [c.to_json() for c in suspects]})
    elif markdown:
        from faultbook.markdown import render_failure

        output.emit_text(render_failure(failure))
    else:
        output.failure_detail(failure)
        if suspects:
            from faultbook.services.suspect import render_text

            output.emit_text("Suspect changes (since the last successful deployment):\n" + "\n".join(render_text(suspects)))


def _suspects(session: Any, number: int) -> list[Any]:
    from faultbook.services.suspect import suspect_changes_for_failure

    return suspect_changes_for_failure(
        session, project=state.project_ref(), number=number, root=state.settings().project_root
    )


# ---------------------------------------------------------------- import / export


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="A failure-tracking Markdown document."),
    update_existing: bool = typer.Option(
        False, "--update", help="Overwrite failures whose numbers already exist instead of refusing."
    ),
) -> None:
    """Import a Markdown failure log (all or nothing)."""
    from faultbook.services import ledger

    text = ledger.read_document(file)
    with state.database().session(write=True) as session:
        result = ledger.import_document(
            session,
            project=state.project_ref(),
            text=text,
            path=str(file),
            update=update_existing,
            actor=output.actor(),
        )
    output.info(
        f"Imported {file}: {len(result.created)} new and {len(result.updated)} updated failures, "
        f"{len(result.potential_created)} new and {len(result.potential_updated)} updated potential failures"
    )


@app.command()
def export(
    out: Optional[Path] = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout."),
) -> None:
    """Export the ledger as the failure-tracking Markdown document."""
    from faultbook.services import ledger

    with state.database().session() as session:
        text = ledger.export_document(session, project=state.project_ref())
    if out is None:
        output.emit_text(text, end="")
        return
    from faultbook.files import write_atomic

    write_atomic(out, text.encode("utf-8"), what="export")
    output.info(f"Wrote {out}")


# Late registration of the commands that live in their own modules (kept thin, imported cheaply).
from faultbook.cli import commands as _commands  # noqa: E402

_commands.register(app, state)


def _command() -> Any:
    """The Click command Typer builds from ``app``, with Pydantic-free coercion of plain values."""
    from typer.main import get_command

    from faultbook.cli import coercion

    command = get_command(app)
    coercion.install(command)
    return command


def _check_arguments(args: list[str]) -> None:
    """faultbook's own arguments must be text: bytes that are not UTF-8 reach Python as lone surrogates,
    which nothing can store.  (What follows ``--`` is the wrapped command's, passed on untouched.)"""
    own = args[: args.index("--")] if "--" in args else args
    for arg in own:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            from faultbook.capture.scrub import storable

            shown = storable(arg)
            raise InputError(f'argument "{shown}" is not UTF-8 text') from None


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app and maps errors to exit codes (never a traceback)."""
    try:
        from typer._click.exceptions import ClickException  # typer >= 0.26 vendors click
    except ImportError:  # pragma: no cover
        from click.exceptions import ClickException  # type: ignore[assignment]

    try:
        _check_arguments(sys.argv[1:] if argv is None else argv)
        result = _command()(args=argv, prog_name="faultbook", standalone_mode=False)
    except FaultbookError as exc:
        output.error(str(exc), hint=exc.hint)
        code = int(exc.exit_code)
    except typer.Abort:
        output.error("aborted")
        code = 130
    except ClickException as exc:
        exc.show()
        code = exc.exit_code
    except KeyboardInterrupt:
        output.error("interrupted")
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as exc:  # a bug or an unforeseen environment: one line, not a traceback
        from faultbook.config import process_environment

        if process_environment().FAULTBOOK_DEBUG:
            raise
        output.error(
            f"unexpected {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
            hint="nothing was half-written (each change is one transaction); "
            "run again with FAULTBOOK_DEBUG=1 for the traceback and report it",
        )
        code = int(ExitCode.INTERNAL)
    else:
        code = result if isinstance(result, int) else 0
    finally:
        if state._db is not None:
            state._db.dispose()
    if argv is None:
        if state.exit_at_once:
            _exit_at_once(code)
        sys.exit(code)
    return code


def _exit_at_once(code: int) -> None:
    """End the process without tearing the interpreter down.

    Freeing some 400 modules at exit takes about 10 ms, and ``faultbook run``
    adds that to every deploy it wraps; by the time it returns, its database
    is committed and closed and the child has been reaped, so only our own
    streams need flushing.
    """
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
