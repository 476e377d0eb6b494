"""``faultbook run -- CMD ...`` and ``faultbook deployments``: thin wrappers over the run flow (services.run) and services.deployments.

``run`` stops reading its own options at the first word of the command (or at
``--``), so ``faultbook run wrangler deploy --env staging`` passes ``--env``
to wrangler; faultbook's ``--env`` goes before the command.  It exits with
the command's own exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional

import typer

from faultbook.cli import output

if TYPE_CHECKING:
    from faultbook.services.run import RunResult


def register(app: Any, state: Any) -> None:
    @app.command(
        "run",
        context_settings={
            "allow_extra_args": True,
            "ignore_unknown_options": True,
            "allow_interspersed_args": False,
        },
    )
    def run(
        command: Optional[List[str]] = typer.Argument(None, help="The deploy command and its arguments (after --)."),
        component: Optional[str] = typer.Option(
            None, "--component", help="Backend, Frontend, Assets, DNS ... (default: inferred from the command)."
        ),
        step: Optional[str] = typer.Option(None, "--step", help='Deployment step (default: inferred, e.g. "Worker deployment").'),
        env: Optional[str] = typer.Option(None, "--env", help="The environment deployed to (recorded on the deployment)."),
        kind: Optional[str] = typer.Option(
            None, "--kind", help="deploy, provision or other (default: classified from the command; only deploys "
            "count as deployments in the metrics)."
        ),
        retry: int = typer.Option(0, "--retry", min=0, max=10, help="Retry transient failures up to N times."),
        notify: Optional[str] = typer.Option(
            None, "--notify", help="POST the outcome to this webhook (Slack, Discord or any JSON receiver)."
        ),
        notify_format: Optional[str] = typer.Option(
            None, "--notify-format", help="slack, discord or json (default: detected from the URL's host)."
        ),
        strict: bool = typer.Option(
            False, "--strict", help="Exit 1 when the command exits 0 but printed an error."
        ),
        server: Optional[str] = typer.Option(
            None, "--server", help="Team server to report to (or FAULTBOOK_SERVER_URL); queued locally while down."
        ),
        token: Optional[str] = typer.Option(
            None, "--token", help="The server's writer token (better: FAULTBOOK_SERVER_TOKEN, kept out of ps)."
        ),
        rollback_on_failure: bool = typer.Option(
            False,
            "--rollback-on-failure",
            help="When the deploy fails and the live service fails its health/smoke checks, roll back at once.",
        ),
    ) -> None:
        """Run a deploy command transparently, record the deployment and recognise a failure at once."""
        from faultbook.config import uses_embedded_database
        from faultbook.domain.classify import parse_kind
        from faultbook.errors import FaultbookError, InputError
        from faultbook.services import run as run_flow

        chosen_kind = parse_kind(kind)
        argv = list(command or [])
        if argv and argv[0] == "--":
            argv = argv[1:]
        if not argv:
            raise InputError("no command to run: faultbook run [OPTIONS] -- COMMAND [ARGS]...")
        try:
            settings = state.settings()
            project = state.project_ref()
        except FaultbookError as exc:  # a broken faultbook.toml: the deploy still runs, with its exit code
            _run_unrecorded(argv, f"faultbook cannot read its settings ({exc}): running the command without "
                                  "recording it")
        if not settings.in_project and uses_embedded_database(settings):
            _run_unrecorded(argv, f"{settings.project_root} is not in a faultbook project (no faultbook.toml or "
                                  ".git here or above): running the command without recording it; `faultbook init` "
                                  "in your project's folder records deploys")
        request = run_flow.RunRequest(
            argv=argv, component=component, step=step, env=env, kind=chosen_kind, retry=retry, notify=notify,
            notify_format=notify_format, strict=strict,
            rollback_on_failure=rollback_on_failure, server_url=server, server_token=token, actor=output.actor(),
        )
        result = run_flow.run(
            request, settings=settings, database=state.database, database_url=settings.database_url,
            project=project, report=output.info,
        )
        _print_after(result)
        _offer_to_resolve(state, result)
        state.exit_at_once = True  # all written and closed: skip interpreter teardown (see cli.app)
        raise typer.Exit(result.exit_code)

    @app.command("deployments")
    def deployments_(
        as_json: bool = typer.Option(False, "--json", help="Print JSON (an array) instead of a table."),
        limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="At most this many, newest first."),
        kind: Optional[str] = typer.Option(None, "--kind", help="Only deploy, provision or other commands."),
    ) -> None:
        """List recorded deployments, newest first, each with its kind (deploy, provision, other)."""
        from faultbook.domain.classify import parse_kind
        from faultbook.services import deployments

        only = parse_kind(kind)
        with state.database().session() as session:
            items = deployments.list_deployments(session, project=state.project_ref(), limit=limit, kind=only)
        if as_json:
            output.emit_json([d.to_json() for d in items])
            return
        output.deployment_table(items)


def _offer_to_resolve(state: Any, result: "RunResult") -> None:
    """After a successful deploy: name the open failures it may have fixed; on a terminal, offer to resolve them."""
    if not result.possibly_fixed:
        return
    from faultbook.services.triage import fixed_hint

    for line in fixed_hint(result.possibly_fixed):
        output.info(line)
    if not (output.stdin_is_tty() and output.stdout_is_tty()):
        return
    chosen = [n for n, title in result.possibly_fixed
              if typer.confirm(f"Resolve #{n} ({title[:60]}) now?", default=False, err=True)]
    if not chosen:
        return
    from faultbook.domain import Status
    from faultbook.services import ledger

    with state.database().session(write=True) as session:
        for number in chosen:
            ledger.update_failure(session, project=state.project_ref(), number=number,
                                  changes={"status": Status.RESOLVED}, actor=output.actor())
    output.info("faultbook: resolved " + ", ".join(f"#{n}" for n in chosen))


def _run_unrecorded(argv: list[str], why: str) -> None:
    """No ledger to write to (outside a project, or settings that cannot be read): run the command as it is
    and keep its exit code.

    The process becomes the command (``exec``), so its streams, signals and exit code are exactly its own.
    """
    import os
    import sys

    output.warn(why)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        output.error(f"{argv[0]}: command not found")
        os._exit(127)
    except PermissionError:
        output.error(f"{argv[0]}: permission denied")
        os._exit(126)


def _print_after(result: "RunResult") -> None:
    """What the flow decided after the command: the rollback, the team server's delivery."""
    if result.rollback_skipped:
        output.info(f"faultbook: {result.rollback_skipped}")
    elif result.rollback is not None:
        output.info(f"faultbook: {'ROLLED BACK: ' if result.rolled_back else ''}{result.rollback.reason}")
    delivery = result.delivery
    if delivery is None:
        return
    if delivery.failed:
        output.warn(f"not reported to the team server: {delivery.problem}")
    elif delivery.problem:
        output.warn(f"team server: {delivery.problem}; {delivery.queued} report(s) queued in .faultbook/outbox")
    else:
        output.info(f"faultbook: reported to the team server ({delivery.sent} sent)")
