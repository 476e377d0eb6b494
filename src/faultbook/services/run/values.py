"""What ``faultbook run`` is asked to do (``RunRequest``) and what it did (``RunResult``, one ``Attempt`` per try).

The CLI builds a request from its flags, calls ``flow.run`` and prints the result; every decision (retry, roll
back, report to the team server or queue in the outbox) is the flow's, and the result says what it decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from faultbook.capture.extract import ExtractedError
from faultbook.capture.wrangler_output import WranglerOutput
from faultbook.capture.infer import Inference
from faultbook.capture.runner import CommandResult
from faultbook.domain import Deployment, DeploymentOutcome, Failure

if TYPE_CHECKING:  # (imported lazily at run time: a successful deploy never needs them)
    from faultbook.services.recognition import Recognition
    from faultbook.services.recovery import AutoRollback


@dataclass(frozen=True)
class RunRequest:
    """One ``faultbook run`` invocation: the command and what faultbook should do around it."""

    argv: Sequence[str]
    component: str | None = None
    step: str | None = None
    env: str | None = None
    #: deploy / provision / other (``--kind``); None = classified from the command (domain/classify.py).
    kind: str | None = None
    #: Retry failures classed transient up to this many times.
    retry: int = 0
    #: POST the outcome here (Slack Block Kit, Discord embeds or faultbook's JSON: services.notify).
    notify: str | None = None
    #: slack, discord or json; None detects it from the URL.
    notify_format: str | None = None
    #: Exit 1 when the command exits 0 but printed an error.
    strict: bool = False
    #: After a failed Worker or Pages deploy: check the live service, roll back if it is broken.
    rollback_on_failure: bool = False
    #: The team server (else FAULTBOOK_SERVER_URL / ``[server] url``); reports are queued while it is down.
    server_url: str | None = None
    server_token: str | None = None
    actor: str | None = None
    #: Where and how the command runs (the current directory and faultbook's settings' environment by default).
    cwd: Path | None = None
    environ: Mapping[str, str] | None = None
    stdout_fd: int = 1
    stderr_fd: int = 2
    use_pty: bool | None = None


@dataclass(frozen=True)
class Attempt:
    """One try of the command: its deployment row, what it did, and what faultbook made of it."""

    deployment: Deployment
    result: CommandResult
    error: ExtractedError | None
    wrangler: WranglerOutput
    outcome: DeploymentOutcome
    failure: Failure | None = None
    recognition: "Recognition | None" = None
    transient: str | None = None
    #: The command exited 0 but printed an error (workers-sdk #14584).
    error_despite_success: bool = False
    #: On a failure: what changed since the last good deployment (``services.suspect``), ranked.
    suspect_changes: tuple[Any, ...] = ()

    @property
    def command_not_found(self) -> bool:
        """Exit 127: the shell found no such command (a typo, a missing tool): not a failure of the deploy."""
        return self.result.exit_code == 127 and self.outcome is DeploymentOutcome.FAILED

    @property
    def is_regression(self) -> bool:
        return self.recognition is not None and self.recognition.is_regression

    @property
    def is_recurrence(self) -> bool:
        """A failure seen before (a regression included)."""
        return self.recognition is not None and not self.recognition.is_new


@dataclass(frozen=True)
class Delivery:
    """What became of the run's reports to the team server."""

    sent: int = 0
    #: Reports left in ``.faultbook/outbox`` (sent later by ``faultbook report --flush`` or the next run).
    queued: int = 0
    #: Why sending stopped (server unreachable, refused ...), or why nothing could be queued.
    problem: str | None = None
    #: Nothing was queued either (the outbox could not be written, the server URL is wrong ...).
    failed: bool = False


@dataclass(frozen=True)
class RunResult:
    #: The wrapped command's exit code (128+n for a signal), or 1 under ``strict`` (see ``RunRequest``).
    exit_code: int
    attempts: tuple[Attempt, ...]
    inference: Inference
    notified: bool | None = None
    #: One team-server report per attempt (``notify.server_report``).
    reports: tuple[dict[str, Any], ...] = ()
    #: What ``rollback_on_failure`` decided (None: not asked, or the deploy did not fail).
    rollback: "AutoRollback | None" = None
    #: Why no rollback was tried although it was asked for (e.g. a DNS step cannot be rolled back).
    rollback_skipped: str | None = None
    #: The team server's delivery (None: no server configured).
    delivery: Delivery | None = None
    #: After a successful deploy: the open failures of its component it may have fixed, as (number, title).
    possibly_fixed: tuple[tuple[int, str], ...] = ()

    @property
    def final(self) -> Attempt:
        return self.attempts[-1]

    @property
    def failure_number(self) -> int | None:
        failure = self.final.failure
        return failure.number if failure is not None else None

    @property
    def rolled_back(self) -> bool:
        return self.rollback is not None and self.rollback.rolled_back
