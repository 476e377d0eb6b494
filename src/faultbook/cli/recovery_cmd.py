"""CLI for recovery: ``rollback``, ``bundle`` and ``followups``.

Thin translators over ``services.recovery``, ``services.bundle`` and
``services.followups``.  The plan and the outcome go to stderr, ``--json``
reports to stdout.  Exit codes: 0 done (rolled back and not failing its
checks), 3 when the rollback was refused, failed, its outcome is unknown or
the checks still fail after it, 2 for bad usage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from faultbook.cli import output
from faultbook.domain.limits import MAX_NUMBER


def register(app: Any, state: Any) -> None:
    @app.command()
    def rollback(
        component: str = typer.Argument("backend", help="backend (the Worker) or frontend (the Pages project)."),
        to: Optional[str] = typer.Option(None, "--to", help="Version ID (Worker) or deployment ID (Pages) to roll back to."),
        env: Optional[str] = typer.Option(None, "--env", "-e", help="wrangler environment ([env.NAME]) of the Worker."),
        failure: Optional[int] = typer.Option(
            None, "--failure", min=1, max=MAX_NUMBER, help="Record on this failure (default: the open failure of the last failed deploy)."
        ),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before rolling back."),
        force: bool = typer.Option(
            False, "--force", help="Roll back even when secrets changed since the target version (10220) without asking."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON on stdout."),
    ) -> None:
        """Roll the Worker or the Pages project back: preserve state, deploy the previous version, verify, record."""
        from faultbook.errors import ExitCode, InputError
        from faultbook.services import recovery

        def confirm(plan: Any) -> bool:
            output.info(f"Rollback plan for {plan.target.label} (account {plan.target.account_id}):")
            output.info(f"  live now:  {plan.from_text}" + (f" [deployment {plan.live_deployment_id}]" if plan.live_deployment_id else ""))
            output.info(f"  roll back to: {plan.target_label}")
            for change in plan.changes:
                output.info(f"  - {change}")
            output.warn(plan.not_restored)
            if yes:
                return True
            if not output.stdin_is_tty():
                raise InputError("a rollback needs confirmation and stdin is not a terminal: pass --yes")
            if not typer.confirm("Roll back now?", default=False, err=True):
                raise typer.Abort()
            return True

        def confirm_force(question: str) -> bool:
            if force:
                return True
            if output.stdin_is_tty():
                return typer.confirm(question, default=False, err=True)
            output.warn(question + " Not forcing: pass --force to allow it.")
            return False

        report = recovery.rollback(
            database=state.database(),
            settings=state.settings(),
            project=state.project_ref(),
            component=recovery.Component.parse(component),
            to=to,
            env=env,
            failure_number=failure,
            confirm=confirm,
            confirm_force=confirm_force,
            actor=output.actor(),
        )
        assert report is not None
        if as_json:
            output.emit_json(report.to_json())
        output.info(report.summary)
        for result in report.verification.results:
            output.info(f"  check {result.line}")
        if report.followup_id is not None:
            output.info(f"Opened follow-up #{report.followup_id}: Schedule redeployment after issue resolution")
        if report.failure_number is None:
            output.info("Not linked to a failure (use --failure N to put it on a failure's timeline).")
        if not report.rolled_back or report.verification.ok is False:
            raise typer.Exit(int(ExitCode.OPERATION_FAILED))

    @app.command()
    def bundle(
        number: int = typer.Argument(..., min=1, max=MAX_NUMBER, help="The failure number."),
        out: Optional[Path] = typer.Option(None, "-o", "--output", help="The zip to write (default: support-N.zip)."),
    ) -> None:
        """Write a support bundle for a failure: SUPPORT.md, raw output and config, secrets scrubbed."""
        from faultbook.services.bundle import build_bundle

        target = out or Path(f"support-{number}.zip")
        with state.database().session() as session:
            path = build_bundle(session, settings=state.settings(), project=state.project_ref(), number=number,
                                out=target)
        output.info(f"Wrote {path}")

    followups_app = typer.Typer(help="Follow-up items left by recoveries (e.g. schedule redeployment).")
    app.add_typer(followups_app, name="followups")

    @followups_app.callback(invoke_without_command=True)
    def followups_list(
        ctx: typer.Context,
        all_: bool = typer.Option(False, "--all", help="Include the ones already done."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON (an array)."),
    ) -> None:
        """List open follow-ups (with --all, done ones too)."""
        if ctx.invoked_subcommand is not None:
            return
        from faultbook.services import followups

        with state.database().session() as session:
            items = followups.list_followups(session, project=state.project_ref(), include_done=all_)
        if as_json:
            output.emit_json([f.to_json() for f in items])
            return
        if not items:
            output.info("No open follow-ups." if not all_ else "No follow-ups.")
            return
        for f in items:
            failure = f"failure #{f.failure_number}" if f.failure_number else "-"
            output.emit_text(f"{f.id}\t{f.status}\t{f.created_at.strftime('%Y-%m-%d %H:%M')}\t{failure}\t{f.title}")

    @followups_app.command("done")
    def followups_done(number: int = typer.Argument(..., min=1, max=MAX_NUMBER, help="The follow-up number.")) -> None:
        """Mark a follow-up done."""
        from faultbook.services import followups

        with state.database().session(write=True) as session:
            item = followups.mark_done(session, project=state.project_ref(), followup_id=number, actor=output.actor())
        output.info(f"Follow-up #{item.id} done: {item.title}")
