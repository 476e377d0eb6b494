"""GitHub Actions: the job summary, annotations, step outputs and one pull-request comment for a deploy.

Used by the composite action in ``action.yml`` (``faultbook github report``
runs after the wrapped deploy, whatever its outcome).  Everything GitHub gives
a step arrives as environment variables and files (``GITHUB_STEP_SUMMARY``,
``GITHUB_OUTPUT``, ``GITHUB_EVENT_PATH``, ``GITHUB_API_URL``...), so the
context is a plain value built from a mapping, and a test can simulate a
runner with a temporary folder and a local HTTP server.

GitHub's limits shape the output: a step shows at most 10 error and 10 warning
annotations (50 per job), and a workflow command's data must have ``%``, CR
and LF escaped (properties also ``:`` and ``,``); a comment body is capped at
65,536 characters.  One comment per pull request: it carries a hidden marker
and is edited on later runs, so a PR that fails five times has one comment
that always shows the latest outcome (a success updates an existing comment
and never opens a new one).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from faultbook.services.notify import DeployNotice, markdown_summary

if TYPE_CHECKING:
    from faultbook.config import Environment

MAX_ANNOTATIONS = 10
MAX_ANNOTATION_CHARS = 4000
MAX_COMMENT_CHARS = 65000
COMMENT_MARKER = "<!-- faultbook:deploy -->"
API_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class GitHubContext:
    summary_path: Path | None = None
    output_path: Path | None = None
    event_path: Path | None = None
    api_url: str = "https://api.github.com"
    repository: str | None = None
    token: str | None = None
    run_url: str | None = None

    @classmethod
    def from_environment(cls, env: "Environment") -> "GitHubContext":
        def path(value: str | None) -> Path | None:
            return Path(value) if value else None

        run_url = None
        if env.GITHUB_SERVER_URL and env.GITHUB_REPOSITORY and env.GITHUB_RUN_ID:
            run_url = f"{env.GITHUB_SERVER_URL}/{env.GITHUB_REPOSITORY}/actions/runs/{env.GITHUB_RUN_ID}"
        return cls(
            summary_path=path(env.GITHUB_STEP_SUMMARY),
            output_path=path(env.GITHUB_OUTPUT),
            event_path=path(env.GITHUB_EVENT_PATH),
            api_url=env.GITHUB_API_URL or "https://api.github.com",
            repository=env.GITHUB_REPOSITORY,
            token=env.GITHUB_TOKEN or env.INPUT_GITHUB_TOKEN,
            run_url=run_url,
        )

    def pull_request_number(self) -> int | None:
        if self.event_path is None or not self.event_path.is_file():
            return None
        try:
            event = json.loads(self.event_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        pull = event.get("pull_request") if isinstance(event, dict) else None
        number = pull.get("number") if isinstance(pull, dict) else None
        return number if isinstance(number, int) else None


@dataclass
class GitHubReport:
    """What ``report`` did: the annotation lines (printed to stdout by the caller) and any warnings."""

    annotations: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    comment: str | None = None  # "created", "updated" or None
    warnings: list[str] = field(default_factory=list)


def outputs_for(notice: DeployNotice | None, *, exit_code: int) -> dict[str, str]:
    if notice is None:
        return {"outcome": "succeeded" if exit_code == 0 else "failed", "exit-code": str(exit_code),
                "failure-number": "", "version-id": "", "url": ""}
    return {
        "outcome": notice.outcome,
        "exit-code": str(exit_code),
        "failure-number": "" if notice.failure_number is None else str(notice.failure_number),
        "version-id": notice.version_id or "",
        "url": notice.url or "",
    }


def annotations_for(notice: DeployNotice | None) -> list[str]:
    """Workflow commands: an error for the failure (title: its number), a notice per known fix; at most 10."""
    if notice is None or not notice.failed:
        return []
    title = f"faultbook: Failure #{notice.failure_number}" if notice.failure_number is not None else "faultbook"
    if notice.regression:
        title += " (regression)"
    lines = [_command("error", notice.error_message or notice.headline, title=title)]
    for fix in notice.fixes:
        lines.append(_command("notice", fix.fix or fix.title, title=f"faultbook: {fix.headline}"))
    return lines[:MAX_ANNOTATIONS]


def _command(kind: str, message: str, *, title: str) -> str:
    if len(message) > MAX_ANNOTATION_CHARS:
        message = message[: MAX_ANNOTATION_CHARS - 1] + "…"
    return f"::{kind} title={_escape_property(title)}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write_outputs(path: Path, outputs: Mapping[str, str]) -> None:
    """Append ``name<<delimiter`` blocks (safe for any value, multi-line included)."""
    with path.open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            delimiter = f"faultbook_{uuid.uuid4().hex}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def comment_body(notice: DeployNotice, *, run_url: str | None) -> str:
    body = f"{COMMENT_MARKER}\n{markdown_summary(notice)}"
    if run_url:
        body += f"\n[The workflow run]({run_url})\n"
    if len(body) > MAX_COMMENT_CHARS:
        body = body[: MAX_COMMENT_CHARS - 20] + "\n\n…(cut)\n"
    return body


def report(notice: DeployNotice | None, context: GitHubContext, *, exit_code: int, comment: bool = True) -> GitHubReport:
    """Write the job summary and step outputs, build the annotations, and create or update the PR comment."""
    result = GitHubReport(annotations=annotations_for(notice), outputs=outputs_for(notice, exit_code=exit_code))
    if context.summary_path is not None:
        text = markdown_summary(notice) if notice is not None else (
            f"### faultbook\n\nThe deploy exited {exit_code}; faultbook recorded no deployment.\n")
        with context.summary_path.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    if context.output_path is not None:
        write_outputs(context.output_path, result.outputs)
    number = context.pull_request_number()
    if comment and notice is not None and number is not None:
        if not (context.token and context.repository):
            result.warnings.append("no GITHUB_TOKEN or GITHUB_REPOSITORY: the pull request was not commented on")
        else:
            try:
                result.comment = _upsert_comment(context, number, notice)
            except Exception as exc:  # noqa: BLE001 - the API's trouble is a warning, never the deploy's outcome
                result.warnings.append(f"could not comment on pull request #{number}: {type(exc).__name__}: {exc}")
    return result


def _upsert_comment(context: GitHubContext, number: int, notice: DeployNotice) -> str | None:
    import httpx

    headers = {
        "Authorization": f"Bearer {context.token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    base = context.api_url.rstrip("/")
    with httpx.Client(headers=headers, timeout=API_TIMEOUT_SECONDS) as client:
        existing = _find_comment(client, f"{base}/repos/{context.repository}/issues/{number}/comments")
        body = comment_body(notice, run_url=context.run_url)
        if existing is not None:
            response = client.patch(f"{base}/repos/{context.repository}/issues/comments/{existing}", json={"body": body})
            response.raise_for_status()
            return "updated"
        if not notice.failed:
            return None
        response = client.post(f"{base}/repos/{context.repository}/issues/{number}/comments", json={"body": body})
        response.raise_for_status()
        return "created"


def _find_comment(client: Any, url: str) -> int | None:
    for page in range(1, 11):  # 1,000 comments at most
        response = client.get(url, params={"per_page": 100, "page": page})
        response.raise_for_status()
        items = response.json()
        for item in items:
            if COMMENT_MARKER in (item.get("body") or ""):
                return int(item["id"])
        if len(items) < 100:
            return None
    return None
