"""The run flow: every try of the command, then what follows a failure — roll back, notify, report.

``run`` takes a ``RunRequest`` and returns a ``RunResult`` saying what happened: the attempts (each a recorded
deployment, with the failure recorded, recognised or reopened as a regression), whether the live service was
rolled back, whether the webhook was notified, and whether the reports reached the team server or wait in the
outbox.  Nothing here prints: messages the user should see while the command runs (the known fix, first of
all) go to the ``report`` callback, already scrubbed; the CLI prints the rest from the result.  The exit code
is the command's own (128+n for a signal), or 1 under ``strict`` when a command that exited 0 printed an error;
nothing after the command (notification, rollback, team server) ever changes it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from faultbook.capture.infer import config_hash, infer, start_git_info
from faultbook.capture.scrub import Scrubber
from faultbook.domain import DeploymentOutcome
from faultbook.errors import ExitCode
from faultbook.services.run.attempt import Ledger, Target, run_attempt
from faultbook.services.run.notify import notify as send_notification
from faultbook.services.run.notify import server_report
from faultbook.services.run.transient import backoff
from faultbook.services.run.values import Attempt, Delivery, RunRequest, RunResult

if TYPE_CHECKING:
    from faultbook.config import Settings
    from faultbook.services.ledger import ProjectRef
    from faultbook.services.recovery import AutoRollback
    from faultbook.store.db import Database

#: The components ``rollback_on_failure`` can roll back (a Worker, a Pages project).
ROLLBACK_COMPONENTS = ("backend", "frontend")


def run(
    request: RunRequest,
    *,
    settings: "Settings",
    database: Callable[[], "Database"],
    project: "ProjectRef",
    database_url: str | None = None,
    report: Callable[[str], None] = lambda message: None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Run ``request.argv`` as a recorded deployment (see the module docstring).

    ``database`` opens the full ledger when first called; ``database_url`` (the same database's URL) lets a
    SQLite ledger take the fast path.
    """
    cwd = (request.cwd or Path.cwd()).resolve()
    environ = dict(settings.environ if request.environ is None else request.environ)
    scrubber = Scrubber.from_environ(environ, extra=[request.notify] if request.notify else ())

    def say(message: str) -> None:
        report(scrubber.scrub(message))

    inference = infer(request.argv, cwd=cwd, patterns=settings.capture.components)
    component = request.component or inference.component
    git_answer = start_git_info(cwd)  # git runs while the rest is prepared
    cfg_hash = config_hash(request.argv, cwd)
    command_line = scrubber.scrub_command(request.argv)
    from faultbook.services.snapshot import deploy_snapshot

    snapshot = deploy_snapshot(request.argv, cwd, env=request.env, scrub=scrubber.scrub)
    ledger = Ledger(database, url=database_url, project=project)
    target = Target(
        project=project, argv=request.argv, command_line=command_line, cwd=cwd, environ=environ,
        component=component, detail=inference.component_detail if component == inference.component else None,
        step=request.step or inference.step, env=request.env, kind=request.kind, git=git_answer(),
        config_hash=cfg_hash,
        scrubber=scrubber, actor=request.actor, stdout_fd=request.stdout_fd, stderr_fd=request.stderr_fd,
        use_pty=request.use_pty, snapshot=snapshot,
    )
    attempts: list[Attempt] = []
    total = 1 + max(request.retry, 0)
    try:
        for number in range(1, total + 1):
            attempt = run_attempt(ledger, target, say=say)
            attempts.append(attempt)
            if attempt.outcome is not DeploymentOutcome.FAILED or attempt.error_despite_success or number == total:
                break
            if not attempt.transient:
                if request.retry:
                    say("faultbook: not retrying: this failure is not transient")
                break
            delay = backoff(number, attempt.wrangler.retry_after_ms)
            say(
                f"faultbook: transient failure ({attempt.transient}); retrying in {delay:g} s "
                f"(attempt {number + 1} of {total})"
            )
            sleep(delay)
        try:
            fixed = ledger.possibly_fixed(attempts[-1].deployment)
        except Exception:  # a hint must never change what the run did or its exit code
            fixed = ()
    finally:
        ledger.close()

    final = attempts[-1]
    exit_code = final.result.exit_code
    if request.strict and exit_code == 0 and final.error_despite_success:
        exit_code = int(ExitCode.FINDINGS)
    notified = None
    if request.notify:
        notified = send_notification(
            request.notify, fmt=request.notify_format, project=project, outcome=final, scrubber=scrubber, say=say,
            dashboard_url=_dashboard_url(settings, request.server_url),
        )
    reports = tuple(server_report(attempt, scrubber=scrubber, snapshot=snapshot) for attempt in attempts)
    rollback, skipped = None, None
    if request.rollback_on_failure and final.outcome is DeploymentOutcome.FAILED:
        try:
            rollback, skipped = _rollback_if_broken(final, request=request, settings=settings, database=ledger.full,
                                                    project=project)
        except Exception as exc:  # the exit code is the command's, whatever the rollback ran into
            skipped = f"no automatic rollback: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    return RunResult(
        exit_code=exit_code, attempts=tuple(attempts), inference=inference, notified=notified, reports=reports,
        rollback=rollback, rollback_skipped=skipped,
        delivery=_deliver(settings, reports, url=request.server_url, token=request.server_token),
        possibly_fixed=fixed,
    )


def _rollback_if_broken(
    final: Attempt,
    *,
    request: RunRequest,
    settings: "Settings",
    database: Callable[[], "Database"],
    project: "ProjectRef",
) -> tuple["AutoRollback | None", str | None]:
    """After a failed Worker or Pages deploy: verify the live service, roll back if it is broken."""
    component = (final.deployment.component or "").lower()
    if component not in ROLLBACK_COMPONENTS:
        return None, f"no automatic rollback for a {final.deployment.component} step"
    from faultbook.services.recovery import rollback_on_failure

    auto = rollback_on_failure(
        database=database(), settings=settings, project=project,
        failure_number=final.failure.number if final.failure else None, component=component, env=request.env,
        actor=request.actor,
    )
    return auto, None


def _deliver(settings: "Settings", reports: tuple[dict[str, object], ...], *, url: str | None, token: str | None) -> Delivery | None:
    """Send the run's reports to the team server, if one is configured (queued in the outbox while it is
    down); never raises."""
    if not (url or settings.env.FAULTBOOK_SERVER_URL or settings.server.url):
        return None
    from faultbook.errors import FaultbookError
    from faultbook.services.remote import report_run

    result = None
    try:
        for payload in reports:
            result = report_run(settings, payload, url=url, token=token)
    except FaultbookError as exc:
        return Delivery(problem=str(exc), failed=True)
    except OSError as exc:
        return Delivery(problem=str(exc.strerror or exc), failed=True)
    except Exception as exc:  # never let the team server change the command's exit code
        return Delivery(problem=f"{type(exc).__name__}: {exc}", failed=True)
    if result is None:
        return None
    return Delivery(sent=result.sent, queued=result.queued, problem=result.problem)


def _dashboard_url(settings: "Settings", url: str | None) -> str | None:
    """The team server's address, for links in notifications (None when there is none)."""
    found = url or settings.env.FAULTBOOK_SERVER_URL or settings.server.url
    return str(found) if found else None
