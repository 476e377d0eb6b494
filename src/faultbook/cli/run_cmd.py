"""``faultbook run -- CMD ...`` and ``faultbook deployments``: thin wrappers over services.run / deployments.

``run`` stops reading its own options at the first word of the command (or at
``--``), so ``faultbook run wrangler deploy --env staging`` passes ``--env``
to wrangler; faultbook's ``--env`` goes before the command.  It exits with
the command's own exit code.
"""

from __future__ import annotations

from typing import Any, List, Optional

import typer

from faultbook.cli import output


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
        retry: int = typer.Option(0, "--retry", min=0, max=10, help="Retry transient failures up to N times."),
        notify: Optional[str] = typer.Option(
            None, "--notify", help="POST a JSON summary (with a Slack-compatible 'text') to this URL."
        ),
        strict: bool = typer.Option(
            False, "--strict", help="Exit 1 when the command exits 0 but printed an error."
        ),
    ) -> None:
        """Run a deploy command transparently, record the deployment and recognise a failure at once."""
        from faultbook.errors import InputError
        from faultbook.services.run import run_deploy

        argv = list(command or [])
        if argv and argv[0] == "--":
            argv = argv[1:]
        if not argv:
            raise InputError("no command to run: faultbook run [OPTIONS] -- COMMAND [ARGS]...")
        settings = state.settings()
        outcome = run_deploy(
            settings=settings,
            database=state.database(),
            project=state.project_ref(),
            argv=argv,
            component=component,
            step=step,
            env=env,
            retry=retry,
            notify=notify,
            strict=strict,
            report=output.info,
            actor=output.actor(),
        )
        raise typer.Exit(outcome.exit_code)

    @app.command("deployments")
    def deployments_(
        as_json: bool = typer.Option(False, "--json", help="Print JSON (an array) instead of a table."),
        limit: int = typer.Option(50, "--limit", min=1, help="At most this many, newest first."),
    ) -> None:
        """List recorded deployments, newest first."""
        from faultbook.services import deployments

        with state.database().session() as session:
            items = deployments.list_deployments(session, project=state.project_ref(), limit=limit)
        if as_json:
            output.emit_json([d.to_json() for d in items])
            return
        _table(items)


def _table(items: list[Any]) -> None:
    if not items:
        output.info("No deployments recorded.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for name in ("Id", "Started (UTC)", "Outcome", "Exit", "Component", "Step", "Command", "Version", "Failure"):
        table.add_column(name, overflow="fold")
    for d in items:
        table.add_row(
            str(d.id),
            d.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            d.outcome.value,
            "" if d.exit_code is None else str(d.exit_code),
            d.component or "",
            d.step or "",
            _short(d.command),
            d.version_id or "",
            f"#{d.failure_number}" if d.failure_number else "",
        )
    Console(soft_wrap=False).print(table)


def _short(command: str, width: int = 60) -> str:
    first = command.split("\n", 1)[0]
    return first if len(first) <= width and "\n" not in command else first[: width - 1] + "…"
