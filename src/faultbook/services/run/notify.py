"""What a run tells others: the ``--notify`` webhook's summary and the team server's report body."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

from faultbook.capture import extract as extract_mod
from faultbook.capture.runner import CommandResult
from faultbook.capture.scrub import Scrubber
from faultbook.domain import DeploymentOutcome
from faultbook.services.notify import DeployNotice, fixes_from_matches, notice_for, parse_format, send
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


def server_report(attempt: Attempt, *, scrubber: Scrubber, snapshot: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of the team server's ``POST /api/v1/reports`` for one attempt (already scrubbed).

    The deployment's key is its local uuid, so a report resent from the outbox is the same report.
    ``endpoint`` (the failure's Cloudflare API path) lets the server key the fingerprint by API family as
    a local run does; ``snapshot`` (what was deployed, scrubbed by ``services.snapshot``) lets it rank the
    suspect change.  Both are omitted when unknown, so the body is what older servers accept.
    """
    deployment = attempt.deployment.to_json()
    for local_only in ("id", "number", "failure_number"):
        deployment.pop(local_only, None)
    failure = None
    if attempt.failure is not None:
        failure = {k: v for k, v in attempt.failure.to_json().items() if k != "number"}
        failure["error_code"] = attempt.failure.error_code
        failure["fingerprint"] = attempt.failure.fingerprint
    body: dict[str, Any] = {
        "deployment": deployment, "failure": failure, "output_tail": stored_tail(attempt.result, scrubber),
    }
    endpoint = attempt.error.endpoint if attempt.error is not None and attempt.failure is not None else None
    if endpoint:
        body["endpoint"] = scrubber.scrub(endpoint)
    if snapshot is not None:
        body["snapshot"] = snapshot
    return body


def notice(*, project: "ProjectRef", outcome: Attempt, dashboard_url: str | None = None) -> DeployNotice:
    """The run's final attempt as the one notice every destination renders (services.notify)."""
    matches = list(outcome.recognition.matches) if outcome.recognition is not None else []
    found = notice_for(project=project, deployment=outcome.deployment, failure=outcome.failure,
                       fixes=fixes_from_matches(matches), dashboard_url=dashboard_url)
    if outcome.is_regression and not found.regression:
        found = replace(found, regression=True)
    if outcome.error is not None and not found.error_message:
        found = replace(found, error_message=outcome.error.message, error_code=outcome.error.code)
    return found


def notify(
    url: str,
    *,
    fmt: str | None,
    project: "ProjectRef",
    outcome: Attempt,
    scrubber: Scrubber,
    say: Callable[[str], None],
    dashboard_url: str | None = None,
) -> bool:
    """POST the notice (Slack, Discord or JSON); a notification that fails is a warning, never a changed exit code."""
    found = notice(project=project, outcome=outcome, dashboard_url=dashboard_url)
    # Every text field scrubbed; ``Any`` because mypy cannot tell which fields the keys name.
    texts: dict[str, Any] = {key: scrubber.scrub(value) for key, value in vars(found).items() if isinstance(value, str)}
    scrubbed = replace(found, **texts)
    problem = send(url, scrubbed, fmt=parse_format(fmt, url), timeout=NOTIFY_TIMEOUT_SECONDS)
    if problem is not None:
        say(f"faultbook: warning: notification failed: {scrubber.scrub(problem)}")
        return False
    return True
