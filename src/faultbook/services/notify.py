"""What a team hears about a deploy: one notice, rendered for Slack, Discord, a GitHub job summary or JSON.

A deploy's outcome reaches people in several places — ``run --notify URL``
(Slack or Discord webhooks, or any JSON receiver), the GitHub Action's job
summary and pull-request comment.  They all say the same things: the outcome,
the failure with its number, whether it is a regression, the exact error, the
known fix, and a link.  So there is one value, :class:`DeployNotice`, built
from what the ledger holds about the deployment (after the run has committed
it), and one renderer per destination.  Nothing here prints or reads the
environment; sending is one function with a short timeout whose failure the
caller turns into a warning (a notification never changes a deploy's exit
code).

Formats are detected from the webhook's host when not given: Slack's
``hooks.slack.com`` takes Block Kit (``blocks`` plus a ``text`` fallback),
Discord's ``/api/webhooks/`` takes ``embeds``; anything else gets faultbook's
JSON, which keeps the Slack-compatible ``text`` field that many chat bridges
display.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from faultbook.domain import TimelineKind
from faultbook.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from faultbook.domain import Deployment, Failure
    from faultbook.knowledge.match import Match
    from faultbook.services.project import ProjectRef

Format = Literal["slack", "discord", "json"]
FORMATS: tuple[Format, ...] = ("slack", "discord", "json")
NOTIFY_TIMEOUT_SECONDS = 5.0
#: Slack refuses a section text over 3,000 characters; Discord an embed description over 4,096.
SLACK_TEXT_LIMIT = 2900
DISCORD_DESCRIPTION_LIMIT = 4000
ERROR_EXCERPT_LINES = 12


@dataclass(frozen=True)
class KnownFix:
    """One thing known about the error: where it comes from and what to do."""

    source: str  # "ledger", "catalog" or "potential"
    title: str
    fix: str
    failure_number: int | None = None
    docs: str | None = None

    @property
    def headline(self) -> str:
        if self.source == "ledger":
            return f"Seen before as Failure #{self.failure_number}: {self.title}"
        if self.source == "catalog":
            return f"Known Cloudflare error: {self.title}"
        return f"Anticipated as a potential failure: {self.title}"


@dataclass(frozen=True)
class DeployNotice:
    project: str
    outcome: str  # "succeeded", "failed", "interrupted", "running"
    command: str
    exit_code: int | None = None
    deployment_id: int | None = None
    component: str | None = None
    environment: str | None = None
    version_id: str | None = None
    url: str | None = None
    failure_number: int | None = None
    failure_title: str | None = None
    regression: bool = False
    occurrences: int | None = None
    error_message: str | None = None
    error_code: int | None = None
    fixes: tuple[KnownFix, ...] = ()
    #: The dashboard page of the failure (or of the deployment), when a server URL is known.
    link: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    @property
    def headline(self) -> str:
        if self.outcome == "succeeded":
            version = f" (version {self.version_id})" if self.version_id else ""
            return f"{self.project}: deployment succeeded{version}"
        if self.outcome == "interrupted":
            return f"{self.project}: deployment interrupted"
        text = f"{self.project}: deployment failed" + (f" (exit {self.exit_code})" if self.exit_code is not None else "")
        if self.failure_number is not None:
            kind = "REGRESSION of " if self.regression else ""
            text += f" — {kind}Failure #{self.failure_number}: {self.failure_title}"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.headline,
            "project": self.project,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "command": self.command,
            "deployment_id": self.deployment_id,
            "component": self.component,
            "environment": self.environment,
            "version_id": self.version_id,
            "url": self.url,
            "failure_number": self.failure_number,
            "failure_title": self.failure_title,
            "regression": self.regression,
            "occurrences": self.occurrences,
            "error_message": self.error_message,
            "error_code": self.error_code,
            "known_fixes": [
                {"source": f.source, "title": f.title, "fix": f.fix, "failure_number": f.failure_number,
                 "docs": f.docs}
                for f in self.fixes
            ],
            "link": self.link,
        }


def fixes_from_matches(matches: "list[Match]") -> tuple[KnownFix, ...]:
    """The matches the recogniser found, as fixes to show (the failure's own entry first)."""
    return tuple(
        KnownFix(source=m.source, title=m.title, fix=(m.resolution or m.root_cause or "").strip(),
                 failure_number=m.failure_number, docs=m.docs)
        for m in matches
    )


def notice_for(
    *,
    project: "ProjectRef",
    deployment: "Deployment",
    failure: "Failure | None",
    fixes: tuple[KnownFix, ...] = (),
    dashboard_url: str | None = None,
) -> DeployNotice:
    """The notice for a finished deployment, from what the ledger holds about it."""
    regression = False
    if failure is not None:
        regression = any(
            event.kind == TimelineKind.REGRESSION and _not_before(event.at, deployment.started_at) for event in failure.timeline
        )
    link = None
    if dashboard_url:
        base = dashboard_url.rstrip("/")
        link = f"{base}/failures/{failure.number}" if failure is not None else f"{base}/deployments"
    own = [f for f in fixes if not (f.source == "ledger" and failure is not None and f.failure_number == failure.number)]
    if failure is not None and (failure.resolution or "").strip():
        own.insert(0, KnownFix(source="ledger", title=failure.title, fix=failure.resolution.strip(),
                               failure_number=failure.number))
    return DeployNotice(
        project=project.name,
        outcome=deployment.outcome.value,
        command=deployment.command,
        exit_code=deployment.exit_code,
        deployment_id=deployment.id,
        component=deployment.component,
        environment=deployment.environment,
        version_id=deployment.version_id,
        url=deployment.url,
        failure_number=failure.number if failure is not None else None,
        failure_title=failure.title if failure is not None else None,
        regression=regression,
        occurrences=failure.occurrence_count if failure is not None else None,
        error_message=(failure.error_message or None) if failure is not None else None,
        error_code=failure.error_code if failure is not None else None,
        fixes=tuple(own),
        link=link,
    )


def latest_notice(
    session: "Session",
    *,
    project: "ProjectRef",
    deployment_id: int | None = None,
    fixes_for: "Any" = None,
    dashboard_url: str | None = None,
) -> DeployNotice | None:
    """The notice for ``deployment_id`` (default: the project's newest deployment); None when there is none.

    ``fixes_for(session, failure) -> tuple[KnownFix, ...]`` supplies what the knowledge base knows.
    """
    from faultbook.services import deployments, ledger

    if deployment_id is None:
        newest = deployments.list_deployments(session, project=project, limit=1)
        if not newest:
            return None
        deployment = newest[0]
    else:
        deployment = deployments.get_deployment(session, project=project, deployment_id=deployment_id)
    failure = None
    if deployment.failure_number is not None:
        failure = ledger.get_failure(session, project=project, number=deployment.failure_number)
    fixes = tuple(fixes_for(session, failure)) if (fixes_for is not None and failure is not None) else ()
    return notice_for(project=project, deployment=deployment, failure=failure, fixes=fixes,
                      dashboard_url=dashboard_url)


def _not_before(when: datetime, start: datetime) -> bool:
    try:
        return when >= start
    except TypeError:  # naive vs aware: compare as UTC wall times
        return when.replace(tzinfo=None) >= start.replace(tzinfo=None)


# ---------------------------------------------------------------- formats


def detect_format(url: str) -> Format:
    """slack for Slack's webhook host, discord for Discord's webhook path, else json."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "hooks.slack.com" or host.endswith(".slack.com"):
        return "slack"
    if (host in ("discord.com", "discordapp.com") or host.endswith((".discord.com", ".discordapp.com"))) and \
            parts.path.startswith("/api/webhooks/"):
        return "discord"
    return "json"


def parse_format(text: str | None, url: str) -> Format:
    if text is None or text == "auto":
        return detect_format(url)
    if text not in FORMATS:
        raise InputError(f"--notify-format must be one of {', '.join(FORMATS)} (or auto), not {text!r}")
    return text


def payload(notice: DeployNotice, fmt: Format) -> dict[str, Any]:
    if fmt == "slack":
        return slack_payload(notice)
    if fmt == "discord":
        return discord_payload(notice)
    return notice.to_json()


def _excerpt(text: str | None, limit: int) -> str:
    lines = (text or "").splitlines()
    shown = "\n".join(lines[:ERROR_EXCERPT_LINES])
    if len(lines) > ERROR_EXCERPT_LINES:
        shown += "\n…"
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _emoji(notice: DeployNotice) -> str:
    return {"succeeded": "✅", "interrupted": "⏹"}.get(notice.outcome, "🔴")


def slack_payload(notice: DeployNotice) -> dict[str, Any]:
    """Slack Block Kit: a header, the error as code, the known fix, a link button; ``text`` is the fallback."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{_emoji(notice)} *{_slack_escape(notice.headline)}*"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(_context_line(notice))}]},
    ]
    if notice.failed and notice.error_message:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": "```" + _excerpt(notice.error_message, SLACK_TEXT_LIMIT) + "```"}})
    for fix in notice.fixes[:2]:
        text = f"*{_slack_escape(fix.headline)}*\n{_slack_escape(fix.fix)}"
        if fix.docs:
            text += f"\n<{fix.docs}|docs>"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SLACK_TEXT_LIMIT]}})
    if notice.link:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open in faultbook"}, "url": notice.link}]})
    return {"text": f"{_emoji(notice)} {notice.headline}", "blocks": blocks}


def discord_payload(notice: DeployNotice) -> dict[str, Any]:
    """Discord: one embed, red for a failure (orange for a regression), green for a success."""
    color = {"succeeded": 0x2EA043, "interrupted": 0x8B949E}.get(notice.outcome, 0xCF222E)
    if notice.regression:
        color = 0xBF8700
    description = ""
    if notice.failed and notice.error_message:
        description = "```\n" + _excerpt(notice.error_message, DISCORD_DESCRIPTION_LIMIT - 200) + "\n```"
    fields = [{"name": fix.headline[:256], "value": (fix.fix or "—")[:1024]} for fix in notice.fixes[:3]]
    embed: dict[str, Any] = {
        "title": notice.headline[:256],
        "description": description[:DISCORD_DESCRIPTION_LIMIT],
        "color": color,
        "fields": fields,
        "footer": {"text": _context_line(notice)[:2048]},
    }
    if notice.link:
        embed["url"] = notice.link
    return {"content": f"{_emoji(notice)} {notice.headline}"[:2000], "embeds": [embed]}


def markdown_summary(notice: DeployNotice) -> str:
    """GitHub-flavoured Markdown: the job summary and the pull-request comment."""
    lines = [f"### {_emoji(notice)} {notice.headline}", "", _context_line(notice), ""]
    if notice.failed and notice.error_message:
        fence = "````" if "```" in notice.error_message else "```"
        lines += ["**The exact error**", "", fence, notice.error_message, fence, ""]
    if notice.fixes:
        lines.append("**Known fix**")
        lines.append("")
        for fix in notice.fixes[:3]:
            lines.append(f"- **{fix.headline}**")
            for fix_line in fix.fix.splitlines() or ["(no fix written down yet)"]:
                lines.append(f"  {fix_line}" if fix_line.strip() else "")
            if fix.docs:
                lines.append(f"  [Cloudflare docs]({fix.docs})")
        lines.append("")
    elif notice.failed:
        lines += ["No known fix yet: once you have found it, `faultbook update "
                  f"{notice.failure_number if notice.failure_number is not None else 'N'} --resolution ...` "
                  "and it is shown here the next time.", ""]
    if notice.link:
        lines += [f"[Open in faultbook]({notice.link})", ""]
    return "\n".join(lines)


def _context_line(notice: DeployNotice) -> str:
    parts = [f"`{notice.command}`"]
    if notice.component:
        parts.append(notice.component)
    if notice.environment:
        parts.append(f"env {notice.environment}")
    if notice.deployment_id is not None:
        parts.append(f"deployment {notice.deployment_id}")
    if notice.occurrences and notice.occurrences > 1:
        parts.append(f"seen {notice.occurrences} times")
    if notice.url:
        parts.append(notice.url)
    return " · ".join(parts)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send(url: str, notice: DeployNotice, *, fmt: Format, timeout: float = NOTIFY_TIMEOUT_SECONDS) -> str | None:
    """POST the notice; returns None when it was accepted, else why not (the caller warns)."""
    import httpx

    body = json.dumps(payload(notice, fmt), ensure_ascii=False).encode("utf-8")
    try:
        response = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=timeout)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if response.status_code >= 400:
        return f"HTTP {response.status_code}"
    return None
