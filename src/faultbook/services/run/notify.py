"""What a run tells others: the ``--notify`` webhook's summary and the team server's report body."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from faultbook.capture import extract as extract_mod
from faultbook.capture.runner import CommandResult
from faultbook.capture.scrub import Scrubber
from faultbook.domain import DeploymentOutcome
from faultbook.services.run.values import Attempt

if TYPE_CHECKING:
    from faultbook.services.ledger import ProjectRef

NOTIFY_TIMEOUT_SECONDS = 5.0
STORED_TAIL_CHARS = 32 * 1024


def stored_tail(result: CommandResult, scrubber: Scrubber) -> str:
    """The output kept on the deployment (the last 32 KiB of each stream, scrubbed)."""
    parts = []
    for name, text in (("stdout", result.stdout_tail), ("stderr", result.stderr_tail)):
        text = extract_mod.normalise(text)[-STORED_TAIL_CHARS:]
        if text.strip():
            parts.append(f"--- {name} ---\n{text.rstrip()}")
    return scrubber.scrub("\n".join(parts))


def server_report(attempt: Attempt, *, scrubber: Scrubber) -> dict[str, Any]:
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
    return {"deployment": deployment, "failure": failure, "output_tail": stored_tail(attempt.result, scrubber)}


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
            kind = "regression of " if outcome.is_regression else ""
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
        "regression": outcome.is_regression,
    }


def notify(
    url: str,
    *,
    project: "ProjectRef",
    outcome: Attempt,
    command: str,
    scrubber: Scrubber,
    say: Callable[[str], None],
) -> bool:
    """POST the summary; a notification that fails is a warning, never a changed exit code."""
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
