"""One try of the wrapped command: record the deployment, run it, read its error, recognise the failure.

1. the deployment is recorded as ``running`` and committed (so a killed faultbook leaves it behind to be
   found "interrupted");
2. the command runs transparently (``capture.runner``), with ``WRANGLER_OUTPUT_FILE_PATH`` pointing at a file
   read afterwards (unless the user set it, or ``WRANGLER_OUTPUT_FILE_DIRECTORY``: then theirs is read);
3. the exact error is pulled out (``capture.extract``) and scrubbed with everything else kept
   (``capture.scrub``); when the deployment failed, the draft failure goes to ``services.recognition``,
   which counts an occurrence, reopens a resolved failure as a regression or opens a new one, and returns
   the known fixes to print straight away.

The database is opened lazily: on a SQLite ledger that is already set up, the deployment row is written
through ``store.fastpath`` (raw ``sqlite3``, no SQLAlchemy import) and the full ``Database`` is opened only
when a failure has to be recorded and recognised; see that module for when it applies.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TypeVar

from faultbook.capture import extract as extract_mod
from faultbook.capture.wrangler_output import read_wrangler_output
from faultbook.capture.extract import ExtractedError
from faultbook.capture.wrangler_output import WranglerOutput
from faultbook.capture.infer import GitInfo
from faultbook.capture.runner import run_command
from faultbook.capture.scrub import Scrubber, storable
from faultbook.domain import Deployment, DeploymentOutcome, Failure, Status, utcnow
from faultbook.errors import FaultbookError
from faultbook.services.run.notify import stored_tail
from faultbook.services.run.values import Attempt

if TYPE_CHECKING:
    from faultbook.services.ledger import ProjectRef
    from faultbook.store.db import Database
    from faultbook.store.fastpath import FastLedger

T = TypeVar("T")
OUTPUT_FILE_VAR = "WRANGLER_OUTPUT_FILE_PATH"
OUTPUT_DIR_VAR = "WRANGLER_OUTPUT_FILE_DIRECTORY"


@dataclass(frozen=True)
class Target:
    """What every attempt of one run shares: where, what, and how its output is scrubbed."""

    project: "ProjectRef"
    argv: Sequence[str]
    command_line: str
    cwd: Path
    environ: dict[str, str]
    component: str
    detail: str | None
    step: str
    env: str | None
    kind: str | None
    git: GitInfo
    config_hash: str | None
    scrubber: Scrubber
    actor: str | None
    stdout_fd: int
    stderr_fd: int
    use_pty: bool | None
    #: What is deployed, scrubbed (``services.snapshot``); stored with each deployment for the suspect change.
    snapshot: dict | None = None


class Ledger:
    """Where attempts are recorded: the fast path while it applies, the full ``Database`` otherwise."""

    #: Set once a write failed (and was warned about): the rest of the run is not recorded either.
    troubled: bool = False

    def __init__(self, factory: Callable[[], "Database"], *, url: str | None, project: "ProjectRef") -> None:
        from faultbook.store.fastpath import FastLedger

        self._factory = factory
        self._database: "Database | None" = None
        self.project = project
        self.fast: "FastLedger | None" = None
        if url:
            try:
                self.fast = FastLedger.open(url, project_key=project.key)
            except Exception:  # a full disk, an unreadable file: the full path says why, or guard() warns
                self.fast = None

    def full(self) -> "Database":
        """The full ledger (opened, schema upgraded and interrupted runs reaped on first use)."""
        if self._database is None:
            self._database = self._factory()
        return self._database

    def start(self, target: Target) -> Deployment:
        from faultbook.store.fastpath import FastPathUnavailable

        cwd = storable(str(target.cwd))
        git = target.git
        if self.fast is not None:
            try:
                return self.fast.start_deployment(
                    command=target.command_line, cwd=cwd, component=target.component, step=target.step,
                    env=target.env, git_commit=git.commit, git_branch=git.branch, git_dirty=git.dirty,
                    config_hash=target.config_hash, snapshot=target.snapshot, kind=target.kind,
                )
            except FastPathUnavailable:
                self.close()
        from faultbook.services import deployments

        with self.full().session(write=True) as session:
            return deployments.start_deployment(
                session, project=self.project, command=target.command_line, cwd=cwd, component=target.component,
                step=target.step, env=target.env,
                git=deployments.GitContext(commit=git.commit, branch=git.branch, dirty=git.dirty),
                config_hash=target.config_hash, snapshot=target.snapshot, kind=target.kind,
            )

    def finish(
        self, *, deployment: Deployment, outcome: DeploymentOutcome, exit_code: int, version_id: str | None,
        url: str | None, output_tail: str,
    ) -> Deployment:
        """Record how a deployment that recorded no failure ended."""
        from faultbook.store.fastpath import FastPathUnavailable

        if self.fast is not None:
            try:
                return self.fast.finish_deployment(
                    deployment=deployment, outcome=outcome, exit_code=exit_code, version_id=version_id, url=url,
                    output_tail=output_tail,
                )
            except FastPathUnavailable:
                self.close()
        from faultbook.services import deployments

        assert deployment.id is not None
        with self.full().session(write=True) as session:
            return deployments.finish_deployment(
                session, project=self.project, deployment_id=deployment.id, outcome=outcome, exit_code=exit_code,
                version_id=version_id, url=url, output_tail=output_tail,
            )

    def possibly_fixed(self, deployment: Deployment) -> tuple[tuple[int, str], ...]:
        """After a successful deploy: the open failures of its component it may have fixed (number, title)."""
        from faultbook.domain.classify import DEPLOY

        if deployment.outcome is not DeploymentOutcome.SUCCEEDED or deployment.kind != DEPLOY:
            return ()
        from faultbook.store.fastpath import FastPathUnavailable

        if self.fast is not None:
            try:
                return tuple(self.fast.possibly_fixed(deployment=deployment))
            except FastPathUnavailable:
                self.close()
        from faultbook.services.triage import possibly_fixed

        assert deployment.id is not None
        with self.full().session() as session:
            found = possibly_fixed(session, project=self.project, deployment_id=deployment.id)
        return tuple((f.number, f.title) for f in found if f.number is not None)

    def close(self) -> None:
        """Stop using the fast path (the full ledger, if opened, belongs to the caller's factory)."""
        if self.fast is not None:
            try:
                self.fast.close()
            except Exception:
                pass
            self.fast = None

    def guard(self, what: str, action: Callable[[], T], *, say: Callable[[str], None]) -> T | None:
        """``action()``, or None after a warning when the ledger cannot do it.

        The wrapped command's exit code is sacred: a ledger on a full disk, a PostgreSQL server that went
        away, a schema it cannot upgrade, even a bug in faultbook, must not keep the command from running
        nor change how ``run`` exits.  So every write to the ledger around the command goes through here;
        what failed is said on stderr, once per run, and the run goes on unrecorded.
        """
        try:
            return action()
        except Exception as exc:  # (not KeyboardInterrupt: a user's ^C still stops faultbook)
            from faultbook.config import process_environment

            if process_environment().FAULTBOOK_DEBUG:
                raise
            self.close()
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if not isinstance(exc, FaultbookError):
                reason = f"{type(exc).__name__}: {reason}"
            if not self.troubled:
                say(f"faultbook: warning: could not {what} in the ledger ({reason}); the command's exit code is kept")
            self.troubled = True
            return None


def run_attempt(ledger: Ledger, target: Target, *, say: Callable[[str], None]) -> Attempt:
    """Record, run, read and recognise one try of the command; ``say`` what it came to."""
    started = None if ledger.troubled else ledger.guard("record the deployment", lambda: ledger.start(target), say=say)
    deployment = started if started is not None else _unrecorded(target)
    scrubber = target.scrubber

    child_env, output_paths, offsets, cleanup, dir_before = _output_file_env(target.environ)
    try:
        result = run_command(
            target.argv, env=child_env, cwd=str(target.cwd), stdout_fd=target.stdout_fd,
            stderr_fd=target.stderr_fd, use_pty=target.use_pty,
        )
        if dir_before is not None:
            output_paths = _new_files(Path(target.environ[OUTPUT_DIR_VAR]), dir_before)
        wrangler = read_wrangler_output(output_paths, offsets=offsets)
    finally:
        if cleanup:
            try:
                os.unlink(cleanup)
            except OSError:
                pass

    error = extract_mod.extract_error(
        stdout=result.stdout_tail, stderr=result.stderr_tail, blocks=result.error_blocks, exit_code=result.exit_code
    )
    if error is not None:
        error = _scrubbed(_with_output_file(error, wrangler), scrubber)
    error_despite_success = result.exit_code == 0 and error is not None
    if result.interrupted_by is not None and result.exit_code != 0:
        outcome = DeploymentOutcome.INTERRUPTED
    elif result.exit_code == 0 and error is None:
        outcome = DeploymentOutcome.SUCCEEDED
    else:
        outcome = DeploymentOutcome.FAILED

    tail = stored_tail(result, scrubber)
    recognition = None
    transient = None
    suspects: tuple = ()
    url = scrubber.scrub_optional(wrangler.url)
    ended = replace(
        deployment, outcome=outcome, exit_code=result.exit_code, version_id=wrangler.version_id, url=url,
        finished_at=utcnow(),
    )
    if deployment.id is None or ledger.troubled:
        deployment = ended  # not in the ledger: the report to a team server still carries it
    # Exit 127 is the shell's "command not found": a typo or a missing tool, not a failure of the project's
    # deploy, so nothing is filed (the deployment row says what happened).
    elif outcome is DeploymentOutcome.FAILED and error is not None and result.exit_code != 127:
        # Recognition needs the whole ledger: this is where the full database is opened.
        from faultbook.services import deployments
        from faultbook.services.recognition import record_occurrence
        from faultbook.services.run.transient import transient_reason

        recorded_id = deployment.id

        def recognise() -> tuple:
            with ledger.full().session(write=True) as session:
                draft = Failure(
                    number=None, title=error.title, occurred_at=deployment.started_at, component=target.component,
                    component_detail=target.detail, step=target.step, error_message=error.message,
                    status=Status.OPEN, error_code=error.code,
                )
                found = record_occurrence(
                    session, project=target.project, draft=draft, deployment_id=recorded_id,
                    endpoint=error.endpoint, actor=target.actor,
                )
                reason = transient_reason(session, project=target.project, error=error, wrangler=wrangler)
                finished = deployments.finish_deployment(
                    session, project=target.project, deployment_id=recorded_id, outcome=outcome,
                    exit_code=result.exit_code, version_id=wrangler.version_id, url=url, output_tail=tail,
                    failure_number=found.failure.number,
                )
                from faultbook.services.suspect import suspect_changes_for_deployment

                changes = tuple(suspect_changes_for_deployment(
                    session, project=target.project, deployment_id=recorded_id, error_text=error.message,
                    root=target.cwd,
                ))
            return found, reason, finished, changes

        recognised = ledger.guard("record the failure", recognise, say=say)
        if recognised is not None:
            recognition, transient, deployment, suspects = recognised
        else:
            deployment = ended
    else:
        finished = ledger.guard(
            "record how the deployment ended",
            lambda: ledger.finish(deployment=deployment, outcome=outcome, exit_code=result.exit_code,
                                  version_id=wrangler.version_id, url=url, output_tail=tail),
            say=say,
        )
        deployment = finished if finished is not None else ended

    attempt = Attempt(
        deployment=deployment, result=result, error=error, wrangler=wrangler, outcome=outcome,
        failure=recognition.failure if recognition is not None else None, recognition=recognition,
        transient=transient, error_despite_success=error_despite_success, suspect_changes=suspects,
    )
    for message in describe(attempt):
        say(message)
    return attempt


def _unrecorded(target: Target) -> Deployment:
    """The deployment as a value only (the ledger could not record it): a key so a team server still gets it."""
    import uuid

    return Deployment(
        id=None, started_at=utcnow(), command=target.command_line, component=target.component, step=target.step,
        environment=target.env, cwd=storable(str(target.cwd)), git_commit=target.git.commit,
        git_branch=target.git.branch, git_dirty=target.git.dirty, config_hash=target.config_hash,
        key=str(uuid.uuid4()),
    )


def describe(attempt: Attempt) -> list[str]:
    """The lines ``faultbook run`` prints about an attempt (the known fix first of all)."""
    lines: list[str] = []
    deployment = attempt.deployment
    name = f"deployment {deployment.id}" if deployment.id is not None else "deployment (not recorded)"
    if attempt.outcome is DeploymentOutcome.INTERRUPTED:
        lines.append(f"faultbook: {name} interrupted (exit {attempt.result.exit_code})")
        return lines
    if attempt.outcome is DeploymentOutcome.SUCCEEDED:
        extra = f", version {attempt.wrangler.version_id}" if attempt.wrangler.version_id else ""
        lines.append(f"faultbook: {name} succeeded{extra}")
        return lines
    if attempt.error_despite_success:
        lines.append(
            "faultbook: warning: the command exited 0 but printed an error (workers-sdk #14584); "
            "recorded as a failed deployment (--strict makes faultbook exit non-zero)"
        )
    failure = attempt.failure
    if attempt.command_not_found:
        lines.append(
            f"faultbook: deployment {deployment.id}: command not found (exit 127); that is a typo or a missing "
            "tool, not a failure of your deploy, so no failure was filed"
        )
        return lines
    if failure is None:
        lines.append(f"faultbook: {name} failed (exit {attempt.result.exit_code})")
        return lines
    if attempt.is_regression:
        lines.append(
            f"faultbook: REGRESSION: failure #{failure.number} was resolved and has come back "
            f"(reopened; seen {failure.occurrence_count} times): {failure.title}"
        )
    elif attempt.is_recurrence:
        lines.append(
            f"faultbook: failure #{failure.number} again (seen {failure.occurrence_count} times): {failure.title}"
        )
    else:
        lines.append(f"faultbook: recorded failure #{failure.number}: {failure.title}")
    if attempt.error is not None:
        lines.append(f"faultbook: error: {attempt.error.message}")
    matches = attempt.recognition.matches if attempt.recognition is not None else []
    if matches:
        from faultbook.knowledge.match import render_match

        for match in matches[:3]:
            lines.append(render_match(match))
    if attempt.suspect_changes:
        from faultbook.services.suspect import render_text

        lines.append("faultbook: changed since the last successful deployment (most likely first):")
        lines += ["  " + line for line in render_text(attempt.suspect_changes, limit=5)]
    return lines


def _output_file_env(
    environ: dict[str, str],
) -> tuple[dict[str, str], list[Path], dict[Path, int], str | None, set[str] | None]:
    """The child's environment and where wrangler's ND-JSON will be (ours, or the user's file/dir)."""
    child = dict(environ)
    user_path = environ.get(OUTPUT_FILE_VAR)
    if user_path:
        path = Path(user_path)
        try:
            offset = path.stat().st_size
        except OSError:
            offset = 0
        return child, [path], {path: offset}, None, None
    user_dir = environ.get(OUTPUT_DIR_VAR)
    if user_dir:
        try:
            before = set(os.listdir(user_dir))
        except OSError:
            before = set()
        return child, [], {}, None, before
    fd, tmp = tempfile.mkstemp(prefix="faultbook-wrangler-", suffix=".ndjson")
    os.close(fd)
    child[OUTPUT_FILE_VAR] = tmp
    return child, [Path(tmp)], {}, tmp, None


def _new_files(folder: Path, before: set[str]) -> list[Path]:
    try:
        return sorted(folder / name for name in os.listdir(folder) if name not in before)
    except OSError:
        return []


def _with_output_file(error: ExtractedError, wrangler: WranglerOutput) -> ExtractedError:
    """Fill a code the text did not show from wrangler's ``command-failed`` entry."""
    if error.code is None and wrangler.failed_code is not None:
        return replace(error, code=wrangler.failed_code)
    return error


def _scrubbed(error: ExtractedError, scrubber: Scrubber) -> ExtractedError:
    return replace(
        error,
        message=scrubber.scrub(error.message),
        title=scrubber.scrub(error.title),
        endpoint=scrubber.scrub_optional(error.endpoint),
    )
