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
            database=state.database,
            database_url=settings.database_url,
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
        if rollback_on_failure:
            _rollback_if_broken(state, settings, outcome, env=env)
        _report_to_server(settings, outcome.reports, url=server, token=token)
        state.exit_at_once = True  # all written and closed: skip interpreter teardown (see cli.app)
        raise typer.Exit(outcome.exit_code)

    @app.command("deployments")
    def deployments_(
        as_json: bool = typer.Option(False, "--json", help="Print JSON (an array) instead of a table."),
        limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="At most this many, newest first."),
    ) -> None:
        """List recorded deployments, newest first."""
        from faultbook.services import deployments

        with state.database().session() as session:
            items = deployments.list_deployments(session, project=state.project_ref(), limit=limit)
        if as_json:
            output.emit_json([d.to_json() for d in items])
            return
        output.deployment_table(items)


def _rollback_if_broken(state: Any, settings: Any, outcome: Any, *, env: str | None) -> None:
    """After a failed Worker or Pages deploy: verify the live service, roll back if it is broken."""
    final = outcome.final
    if final.outcome.value != "failed":
        return
    component = (final.deployment.component or "").lower()
    if component not in ("backend", "frontend"):
        output.info(f"faultbook: no automatic rollback for a {final.deployment.component} step")
        return
    from faultbook.services.recovery import rollback_on_failure

    auto = rollback_on_failure(
        database=state.database(),
        settings=settings,
        project=state.project_ref(),
        failure_number=final.failure.number if final.failure else None,
        component=component,
        env=env,
        actor=output.actor(),
    )
    output.info(f"faultbook: {'ROLLED BACK: ' if auto.rolled_back else ''}{auto.reason}")


def _report_to_server(settings: Any, reports: Any, *, url: str | None, token: str | None) -> None:
    """Send the run's reports to the team server, if one is configured; never changes the exit code."""
    if not (url or settings.environ.get("FAULTBOOK_SERVER_URL") or settings.section("server").get("url")):
        return
    from faultbook.errors import FaultbookError
    from faultbook.services.remote import report_run

    result = None
    try:
        for payload in reports:
            result = report_run(settings, payload, url=url, token=token)
    except FaultbookError as exc:
        output.warn(f"not reported to the team server: {exc}")
        return
    except OSError as exc:
        output.warn(f"not reported to the team server: {exc.strerror or exc}")
        return
    if result is not None and result.problem:
        output.warn(f"team server: {result.problem}; {result.queued} report(s) queued in .faultbook/outbox")
    elif result is not None:
        output.info(f"faultbook: reported to the team server ({result.sent} sent)")
