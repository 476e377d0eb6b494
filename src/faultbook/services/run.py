"""``faultbook run``: wrap a deploy command, record the deployment, recognise a failure at once.

This is the one place that coordinates several services (the "flow" of the
Dispatch layout): for each attempt it

1. records the deployment as ``running`` and commits (so a killed faultbook
   leaves it behind to be found "interrupted");
2. runs the command transparently (``capture.runner``), with
   ``WRANGLER_OUTPUT_FILE_PATH`` pointing at a file it reads afterwards
   (unless the user set it, or ``WRANGLER_OUTPUT_FILE_DIRECTORY``: then theirs
   is read);
3. pulls out the exact error (``capture.extract``), scrubs it and everything
   else it keeps (``capture.scrub``), and, when the deployment failed, hands
   a draft failure to the knowledge side (``services.recognition``) which
   counts an occurrence, reopens a resolved failure as a regression or opens
   a new one, and returns the known fixes to print straight away;
4. retries (``--retry N``) only failures classed transient, with exponential
   backoff, each attempt its own deployment;
5. posts a Slack-compatible summary (``--notify URL``); a notification that
   fails never changes the exit code.

The database is opened lazily: ``database`` is a factory.  On a SQLite
ledger that is already set up, the deployment row is written through
``store.fastpath`` (raw ``sqlite3``, no SQLAlchemy import) and the full
``Database`` is opened only when a failure has to be recorded and
recognised; see that module for when it applies and what it guarantees.

Nothing here prints: messages for the user go to the ``report`` callback the
CLI passes in, already scrubbed.  The exit code is the command's own (128+n
for a signal), or 1 under ``--strict`` when a command that exited 0 printed
an error.
"""

from __future__ import annotations

import os
import re
import shlex
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from faultbook.capture import extract as extract_mod
from faultbook.capture.extract import ExtractedError, WranglerOutput
from faultbook.capture.infer import Inference, config_hash, infer, start_git_info
from faultbook.capture.runner import CommandResult, run_command
from faultbook.capture.scrub import Scrubber, storable
from faultbook.domain import Deployment, DeploymentOutcome, Failure, Status, utcnow
from faultbook.errors import ExitCode

if TYPE_CHECKING:
    from faultbook.config import Settings
    from faultbook.services.ledger import ProjectRef
    from faultbook.store.db import Database

OUTPUT_FILE_VAR = "WRANGLER_OUTPUT_FILE_PATH"
OUTPUT_DIR_VAR = "WRANGLER_OUTPUT_FILE_DIRECTORY"
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 60.0
#: A 10085 this soon after faultbook saw the bucket being created is propagation, not a missing bucket.
BUCKET_PROPAGATION_WINDOW = timedelta(minutes=10)
STORED_TAIL_CHARS = 32 * 1024
NOTIFY_TIMEOUT_SECONDS = 5.0

#: Cloudflare codes that mean "slow down" (971: "Please wait and consider throttling your request speed").
TRANSIENT_CODES = {971}
#: Text that marks a failure as transient: network errors, 5xx, rate limits (wrangler retries these itself
#: a few times — retryOnAPIFailure: 5xx, 429 and fetch TypeErrors — so seeing one means it persisted).
#: (Patterns, compiled on first use by ``re``'s cache: only a failed command needs them.)
TRANSIENT_TEXT = (
    r"(?i)\b(?:fetch failed|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENETUNREACH|ECONNREFUSED|socket hang up|"
    r"network (?:error|timeout)|timed? ?out|rate[- ]limit(?:ed)?|too many requests|"
    r"internal server error|bad gateway|service unavailable|gateway time-?out|"
    r"status(?: code)?:? 5\d\d|\b50[0234]\b|\b429\b|Retry-After)"
)
TRANSIENT_API_TEXT = (
    r"(?i)\b(?:rate[- ]limit(?:ed)?|too many requests|internal server error|bad gateway|service unavailable|"
    r"gateway time-?out|please wait and consider throttling)"
)
#: The bucket named by a 10085 message.
R2_NOT_FOUND = r"R2 bucket '([^']+)' not found"


@dataclass(frozen=True)
class Attempt:
    """One try of the command: its deployment row, what it did, and what faultbook made of it."""

    deployment: Deployment
    result: CommandResult
    error: ExtractedError | None
    wrangler: WranglerOutput
    outcome: DeploymentOutcome
    failure: Failure | None = None
    recognition: Any = None
    transient: str | None = None
    #: The command exited 0 but printed an error (workers-sdk #14584).
    error_despite_success: bool = False


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int
    attempts: tuple[Attempt, ...]
    inference: Inference
    notified: bool | None = None
    #: One team-server report per attempt (``server_report``), sent by the caller when a server is configured.
    reports: tuple[dict[str, Any], ...] = ()

    @property
    def final(self) -> Attempt:
        return self.attempts[-1]


@dataclass(frozen=True)
class _Fallback:
    """What the run reports when the knowledge module is not installed: a plain new failure."""

    failure: Failure
    is_new: bool = True
    is_regression: bool = False
    matches: list[Any] = field(default_factory=list)


def run_deploy(
    *,
    settings: "Settings",
    database: Callable[[], "Database"],
    project: "ProjectRef",
    argv: Sequence[str],
    component: str | None = None,
    step: str | None = None,
    env: str | None = None,
    retry: int = 0,
    notify: str | None = None,
    strict: bool = False,
    report: Callable[[str], None] = lambda message: None,
    sleep: Callable[[float], None] = time.sleep,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    actor: str | None = None,
    stdout_fd: int = 1,
    stderr_fd: int = 2,
    use_pty: bool | None = None,
    database_url: str | None = None,
) -> RunOutcome:
    """Run ``argv`` as a recorded deployment (see the module docstring).

    ``database`` opens the full ledger when first called; ``database_url``
    (the same database's URL) lets a SQLite ledger take the fast path.
    """
    cwd = (cwd or Path.cwd()).resolve()
    environ = dict(settings.environ if environ is None else environ)
    scrubber = Scrubber.from_environ(environ, extra=[notify] if notify else ())
    say = lambda message: report(scrubber.scrub(message))  # noqa: E731

    capture_section = settings.section("capture")
    patterns = capture_section.get("components") if isinstance(capture_section, Mapping) else None
    inference = infer(argv, cwd=cwd, patterns=patterns if isinstance(patterns, Mapping) else None)
    component = component or inference.component
    step = step or inference.step
    detail = inference.component_detail if component == inference.component else None
    git_answer = start_git_info(cwd)  # git runs while the rest is prepared
    cfg_hash = config_hash(argv, cwd)
    command_line = scrubber.scrub(shlex.join(argv))

    ledger = _Ledger(database, url=database_url, project=project)
    git = git_answer()
    attempts: list[Attempt] = []
    total = 1 + max(retry, 0)
    try:
        for number in range(1, total + 1):
            attempt = _attempt(
                ledger=ledger,
                project=project,
                argv=argv,
                command_line=command_line,
                cwd=cwd,
                environ=environ,
                component=component,
                detail=detail,
                step=step,
                env=env,
                git=git,
                cfg_hash=cfg_hash,
                scrubber=scrubber,
                actor=actor,
                say=say,
                stdout_fd=stdout_fd,
                stderr_fd=stderr_fd,
                use_pty=use_pty,
            )
            attempts.append(attempt)
            if attempt.outcome is not DeploymentOutcome.FAILED or attempt.error_despite_success:
                break
            if number == total:
                break
            if not attempt.transient:
                if retry:
                    say("faultbook: not retrying: this failure is not transient")
                break
            delay = _backoff(number, attempt.wrangler.retry_after_ms)
            say(
                f"faultbook: transient failure ({attempt.transient}); retrying in {delay:g} s "
                f"(attempt {number + 1} of {total})"
            )
            sleep(delay)
    finally:
        ledger.close()

    final = attempts[-1]
    exit_code = final.result.exit_code
    if strict and exit_code == 0 and final.error_despite_success:
        exit_code = int(ExitCode.FINDINGS)
    notified = None
    if notify:
        notified = _notify(notify, project=project, outcome=final, command=command_line, scrubber=scrubber, say=say)
    reports = tuple(server_report(attempt, scrubber=scrubber) for attempt in attempts)
    return RunOutcome(
        exit_code=exit_code, attempts=tuple(attempts), inference=inference, notified=notified, reports=reports
    )


def server_report(attempt: "Attempt", *, scrubber: Scrubber) -> dict[str, Any]:
    """The body of the team server's ``POST /api/v1/reports`` for one attempt (already scrubbed).

    The deployment's key is its local uuid, so a report resent from the outbox is the same report.
    """
    deployment = attempt.deployment.to_json()
    for local_only in ("id", "failure_number"):
        deployment.pop(local_only, None)
    failure = None
    if attempt.failure is not None:
        failure = {k: v for k, v in attempt.failure.to_json().items() if k != "number"}
        failure["error_code"] = attempt.failure.error_code
        failure["fingerprint"] = attempt.failure.fingerprint
    return {"deployment": deployment, "failure": failure, "output_tail": _stored_tail(attempt.result, scrubber)}


class _Ledger:
    """Where attempts are recorded: the fast path while it applies, the full ``Database`` otherwise."""

    def __init__(self, factory: Callable[[], "Database"], *, url: str | None, project: "ProjectRef") -> None:
        from faultbook.store.fastpath import FastLedger

        self._factory = factory
        self._database: "Database | None" = None
        self.project = project
        self.fast = FastLedger.open(url, project_key=project.key) if url else None

    def full(self) -> "Database":
        """The full ledger (opened, schema upgraded and interrupted runs reaped on first use)."""
        if self._database is None:
            self._database = self._factory()
        return self._database

    def start(
        self,
        *,
        command: str,
        cwd: str,
        component: str,
        step: str,
        env: str | None,
        git: Any,
        config_hash: str | None,
    ) -> Deployment:
        from faultbook.store.fastpath import FastPathUnavailable

        if self.fast is not None:
            try:
                return self.fast.start_deployment(
                    command=command,
                    cwd=cwd,
                    component=component,
                    step=step,
                    env=env,
                    git_commit=git.commit,
                    git_branch=git.branch,
                    git_dirty=git.dirty,
                    config_hash=config_hash,
                )
            except FastPathUnavailable:
                self.close()
        from faultbook.services import deployments

        with self.full().session(write=True) as session:
            return deployments.start_deployment(
                session,
                project=self.project,
                command=command,
                cwd=cwd,
                component=component,
                step=step,
                env=env,
                git=deployments.GitContext(commit=git.commit, branch=git.branch, dirty=git.dirty),
                config_hash=config_hash,
            )

    def finish(
        self,
        *,
        deployment: Deployment,
        outcome: DeploymentOutcome,
        exit_code: int,
        version_id: str | None,
        url: str | None,
        output_tail: str,
    ) -> Deployment:
        """Record how a deployment that recorded no failure ended."""
        from faultbook.store.fastpath import FastPathUnavailable

        if self.fast is not None:
            try:
                return self.fast.finish_deployment(
                    deployment=deployment,
                    outcome=outcome,
                    exit_code=exit_code,
                    version_id=version_id,
                    url=url,
                    output_tail=output_tail,
                )
            except FastPathUnavailable:
                self.close()
        from faultbook.services import deployments

        assert deployment.id is not None
        with self.full().session(write=True) as session:
            return deployments.finish_deployment(
                session,
                project=self.project,
                deployment_id=deployment.id,
                outcome=outcome,
                exit_code=exit_code,
                version_id=version_id,
                url=url,
                output_tail=output_tail,
            )

    def close(self) -> None:
        """Stop using the fast path (the full ledger, if opened, belongs to the caller's factory)."""
        if self.fast is not None:
            self.fast.close()
            self.fast = None


def _attempt(
    *,
    ledger: _Ledger,
    project: "ProjectRef",
    argv: Sequence[str],
    command_line: str,
    cwd: Path,
    environ: dict[str, str],
    component: str,
    detail: str | None,
    step: str,
    env: str | None,
    git: Any,
    cfg_hash: str | None,
    scrubber: Scrubber,
    actor: str | None,
    say: Callable[[str], None],
    stdout_fd: int,
    stderr_fd: int,
    use_pty: bool | None,
) -> Attempt:
    deployment = ledger.start(
        command=command_line, cwd=storable(str(cwd)), component=component, step=step, env=env, git=git, config_hash=cfg_hash
    )
    assert deployment.id is not None

    child_env, output_paths, offsets, cleanup, dir_before = _output_file_env(environ)
    try:
        result = run_command(
            argv, env=child_env, cwd=str(cwd), stdout_fd=stdout_fd, stderr_fd=stderr_fd, use_pty=use_pty
        )
        if dir_before is not None:
            output_paths = _new_files(Path(environ[OUTPUT_DIR_VAR]), dir_before)
        wrangler = extract_mod.read_wrangler_output(output_paths, offsets=offsets)
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

    tail = _stored_tail(result, scrubber)
    recognition = None
    failure = None
    transient = None
    if outcome is DeploymentOutcome.FAILED and error is not None:
        # Recognition needs the whole ledger: this is where the full database is opened.
        from faultbook.services import deployments

        with ledger.full().session(write=True) as session:
            draft = Failure(
                number=None,
                title=error.title,
                occurred_at=deployment.started_at,
                component=component,
                component_detail=detail,
                step=step,
                error_message=error.message,
                status=Status.OPEN,
                error_code=error.code,
            )
            recognition = _record(
                session, project=project, draft=draft, deployment_id=deployment.id, endpoint=error.endpoint, actor=actor
            )
            failure = recognition.failure
            transient = _transient_reason(session, project=project, error=error, wrangler=wrangler)
            deployment = deployments.finish_deployment(
                session,
                project=project,
                deployment_id=deployment.id,
                outcome=outcome,
                exit_code=result.exit_code,
                version_id=wrangler.version_id,
                url=scrubber.scrub_optional(wrangler.url),
                output_tail=tail,
                failure_number=failure.number if failure else None,
            )
    else:
        deployment = ledger.finish(
            deployment=deployment,
            outcome=outcome,
            exit_code=result.exit_code,
            version_id=wrangler.version_id,
            url=scrubber.scrub_optional(wrangler.url),
            output_tail=tail,
        )

    attempt = Attempt(
        deployment=deployment,
        result=result,
        error=error,
        wrangler=wrangler,
        outcome=outcome,
        failure=failure,
        recognition=recognition,
        transient=transient,
        error_despite_success=error_despite_success,
    )
    for message in describe(attempt):
        say(message)
    return attempt


# ---------------------------------------------------------------- recognition


def _record(session: Any, *, project: "ProjectRef", draft: Failure, deployment_id: int, endpoint: str | None, actor: str | None) -> Any:
    try:
        from faultbook.services.recognition import record_occurrence
    except ImportError:  # the knowledge side is not installed: record a plain new failure
        from faultbook.services import ledger

        stored = ledger.record_failure(session, project=project, failure=draft, actor=actor, source="captured")
        return _Fallback(failure=stored)
    return record_occurrence(
        session, project=project, draft=draft, deployment_id=deployment_id, endpoint=endpoint, actor=actor
    )


def describe(attempt: Attempt) -> list[str]:
    """The lines ``faultbook run`` prints about an attempt (the known fix first of all)."""
    lines: list[str] = []
    deployment = attempt.deployment
    if attempt.outcome is DeploymentOutcome.INTERRUPTED:
        lines.append(f"faultbook: deployment {deployment.id} interrupted (exit {attempt.result.exit_code})")
        return lines
    if attempt.outcome is DeploymentOutcome.SUCCEEDED:
        extra = f", version {attempt.wrangler.version_id}" if attempt.wrangler.version_id else ""
        lines.append(f"faultbook: deployment {deployment.id} succeeded{extra}")
        return lines
    if attempt.error_despite_success:
        lines.append(
            "faultbook: warning: the command exited 0 but printed an error (workers-sdk #14584); "
            "recorded as a failed deployment (--strict makes faultbook exit non-zero)"
        )
    failure = attempt.failure
    recognition = attempt.recognition
    if failure is None:
        lines.append(f"faultbook: deployment {deployment.id} failed (exit {attempt.result.exit_code})")
        return lines
    if recognition is not None and getattr(recognition, "is_regression", False):
        lines.append(
            f"faultbook: REGRESSION: failure #{failure.number} was resolved and has come back "
            f"(reopened; seen {failure.occurrence_count} times): {failure.title}"
        )
    elif recognition is not None and not getattr(recognition, "is_new", True):
        lines.append(
            f"faultbook: failure #{failure.number} again (seen {failure.occurrence_count} times): {failure.title}"
        )
    else:
        lines.append(f"faultbook: recorded failure #{failure.number}: {failure.title}")
    if attempt.error is not None:
        lines.append(f"faultbook: error: {attempt.error.message}")
    matches = list(getattr(recognition, "matches", []) or [])
    if matches:
        try:
            from faultbook.services.recognition import render_match
        except ImportError:  # pragma: no cover - matches only come from that module
            render_match = str  # type: ignore[assignment]
        for match in matches[:3]:
            lines.append(render_match(match))
    return lines


# ---------------------------------------------------------------- helpers


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
        from dataclasses import replace

        return replace(error, code=wrangler.failed_code)
    return error


def _scrubbed(error: ExtractedError, scrubber: Scrubber) -> ExtractedError:
    from dataclasses import replace

    return replace(
        error,
        message=scrubber.scrub(error.message),
        title=scrubber.scrub(error.title),
        endpoint=scrubber.scrub_optional(error.endpoint),
    )


def _stored_tail(result: CommandResult, scrubber: Scrubber) -> str:
    parts = []
    for name, text in (("stdout", result.stdout_tail), ("stderr", result.stderr_tail)):
        text = extract_mod.normalise(text)[-STORED_TAIL_CHARS:]
        if text.strip():
            parts.append(f"--- {name} ---\n{text.rstrip()}")
    return scrubber.scrub("\n".join(parts))


def _transient_reason(session: Any, *, project: "ProjectRef", error: ExtractedError, wrangler: WranglerOutput) -> str | None:
    if wrangler.retry_after_ms is not None:
        return "the API asked to retry later"
    if error.code in TRANSIENT_CODES:
        return f"rate limited [code: {error.code}]"
    if error.code == 10085:
        bucket = re.search(R2_NOT_FOUND, error.message)
        if bucket and _bucket_just_created(session, project=project, bucket=bucket.group(1)):
            return f"R2 bucket '{bucket.group(1)}' was created moments ago and is still propagating"
        return None
    # An API error with a code is transient only when its text says "slow down" or "server error";
    # "Worker Startup Timed out [code: 11337]" is not a network time-out.
    pattern = TRANSIENT_TEXT if error.code is None else TRANSIENT_API_TEXT
    match = re.search(pattern, error.message)
    return match.group(0) if match else None


def _bucket_just_created(session: Any, *, project: "ProjectRef", bucket: str) -> bool:
    from faultbook.services import deployments

    since = utcnow() - BUCKET_PROPAGATION_WINDOW
    for command in deployments.recent_commands(
        session, project=project, since=since, outcome=DeploymentOutcome.SUCCEEDED
    ):
        words = command.split()
        if "r2" in words and "bucket" in words and "create" in words and bucket in words:
            return True
    return False


def _backoff(attempt: int, retry_after_ms: int | None) -> float:
    if retry_after_ms is not None:
        return min(max(retry_after_ms / 1000.0, 0.0), BACKOFF_MAX_SECONDS)
    return min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS)


def notification_payload(*, project: "ProjectRef", outcome: Attempt, command: str) -> dict[str, Any]:
    """A JSON summary whose ``text`` field Slack (and Slack-compatible hooks) display."""
    deployment = outcome.deployment
    failure = outcome.failure
    if outcome.outcome is DeploymentOutcome.SUCCEEDED:
        headline = f"✅ {project.name}: deployment succeeded: `{command}`"
        if deployment.version_id:
            headline += f" (version {deployment.version_id})"
    elif outcome.outcome is DeploymentOutcome.INTERRUPTED:
        headline = f"⏹ {project.name}: deployment interrupted: `{command}`"
    else:
        headline = f"🔴 {project.name}: deployment failed (exit {outcome.result.exit_code}): `{command}`"
        if failure is not None:
            kind = "regression of " if getattr(outcome.recognition, "is_regression", False) else ""
            headline += f"\n{kind}Failure #{failure.number}: {failure.title}"
        if outcome.error is not None:
            headline += f"\n```{outcome.error.message}```"
    return {
        "text": headline,
        "project": project.key,
        "deployment_id": deployment.id,
        "outcome": outcome.outcome.value,
        "exit_code": outcome.result.exit_code,
        "command": command,
        "component": deployment.component,
        "step": deployment.step,
        "version_id": deployment.version_id,
        "url": deployment.url,
        "failure_number": failure.number if failure else None,
        "error_message": outcome.error.message if outcome.error else None,
        "error_code": outcome.error.code if outcome.error else None,
        "regression": bool(getattr(outcome.recognition, "is_regression", False)),
    }


def _notify(
    url: str,
    *,
    project: "ProjectRef",
    outcome: Attempt,
    command: str,
    scrubber: Scrubber,
    say: Callable[[str], None],
) -> bool:
    import json

    import httpx

    payload = {
        key: scrubber.scrub(value) if isinstance(value, str) else value
        for key, value in notification_payload(project=project, outcome=outcome, command=command).items()
    }
    body = json.dumps(payload, ensure_ascii=False)
    try:
        response = httpx.post(
            url,
            content=body.encode("utf-8"),
            headers={"Content-Type": "application/json"},
            timeout=NOTIFY_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        say(f"faultbook: warning: notification failed: {type(exc).__name__}: {exc}")
        return False
    if response.status_code >= 400:
        say(f"faultbook: warning: notification failed: HTTP {response.status_code}")
        return False
    return True
