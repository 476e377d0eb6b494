"""The blameless postmortem of one failure, rendered from plain values (no I/O).

Incident tools draft a postmortem from the incident's timeline; faultbook has
a better one: every deployment it wrapped, every occurrence, the rollback and
its verification, each status change, the suspect change and the follow-ups.
``services.postmortem`` gathers them into ``PostmortemFacts``; this module
only renders, deterministically (the same facts give the same bytes, which
the golden-file tests rely on).

Blameless: people appear only as the actor of an event, never as a cause;
the Trigger section names changes, not authors' mistakes.  The sections are
the usual ones (Google's SRE book, PagerDuty's template): Summary, Impact,
Timeline, Root cause, Trigger, Resolution, Detection, Lessons learned,
Action items.  Times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from faultbook.domain import Deployment, Failure, Status, TimelineEvent

#: Timeline events that are bookkeeping, not part of the incident's story.
QUIET_EVENTS = frozenset({"edited", "suggested"})


@dataclass(frozen=True)
class ActionItem:
    title: str
    status: str  #: open or done
    done_at: datetime | None = None
    source: str = "manual"


@dataclass(frozen=True)
class PostmortemFacts:
    project: str
    failure: Failure
    #: The deployments that hit this failure, oldest first.
    failed_deployments: tuple[Deployment, ...] = ()
    #: The newest successful deployment of the same component and environment before the first failure.
    last_good: Deployment | None = None
    #: The first successful deployment of the same component and environment after the first failure.
    restoring: Deployment | None = None
    #: When service was restored by a verified rollback (if that came before ``restoring``).
    rolled_back_at: datetime | None = None
    #: Failed deployments of the same component and environment from the first failure to the restore.
    blocked_deploys: int = 0
    action_items: tuple[ActionItem, ...] = ()
    #: ``SuspectChange.to_json()`` items, ranked.
    suspect_changes: tuple[Mapping[str, Any], ...] = ()
    generated_at: datetime | None = None

    @property
    def started_at(self) -> datetime | None:
        if self.failed_deployments:
            return self.failed_deployments[0].started_at
        return self.failure.first_seen or self.failure.occurred_at

    @property
    def restored_at(self) -> datetime | None:
        candidates = [t for t in (self.rolled_back_at,
                                  (self.restoring.finished_at or self.restoring.started_at) if self.restoring else None) if t]
        return min(candidates) if candidates else None

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "failure": self.failure.to_json(extended=True),
            "started_at": _iso(self.started_at),
            "restored_at": _iso(self.restored_at),
            "duration_seconds": int((self.restored_at - self.started_at).total_seconds())
            if self.restored_at and self.started_at else None,
            "blocked_deploys": self.blocked_deploys,
            "failed_deployments": [d.to_json() for d in self.failed_deployments],
            "last_good_deployment": self.last_good.to_json() if self.last_good else None,
            "restoring_deployment": self.restoring.to_json() if self.restoring else None,
            "rolled_back_at": _iso(self.rolled_back_at),
            "action_items": [
                {"title": a.title, "status": a.status, "done_at": _iso(a.done_at), "source": a.source}
                for a in self.action_items
            ],
            "suspect_changes": [dict(c) for c in self.suspect_changes],
            "generated_at": _iso(self.generated_at),
        }


def render_postmortem(facts: PostmortemFacts) -> str:
    f = facts.failure
    lines: list[str] = [f"# Postmortem: Failure #{f.number} — {f.title}", ""]
    meta = [
        f"- **Project:** {facts.project}",
        f"- **Component:** {f.component}" + (f" ({f.component_detail})" if f.component_detail else ""),
        f"- **Deployment step:** {f.step or 'not recorded'}",
        f"- **Status:** {f.status.label}",
    ]
    if facts.generated_at:
        meta.append(f"- **Drafted:** {_utc(facts.generated_at)} by faultbook from the ledger (blameless format)")
    lines += meta + [""]

    lines += ["## Summary", ""]
    lines += [_summary(facts), ""]

    lines += ["## Impact", ""]
    lines += _impact(facts) + [""]

    lines += ["## Timeline (UTC)", ""]
    lines += _timeline(facts) + [""]

    lines += ["## Root cause", ""]
    lines += [f.root_cause.strip() or "_Not yet determined._", ""]
    if "root_cause" in f.suggested_fields:
        lines += ["_Suggested by faultbook's knowledge base; not yet confirmed by the team._", ""]

    lines += ["## Trigger", ""]
    lines += _trigger(facts) + [""]

    lines += ["## Resolution", ""]
    lines += [f.resolution.strip() or "_No resolution recorded yet._", ""]
    if facts.rolled_back_at:
        lines += [f"Service was restored by a rollback at {_utc(facts.rolled_back_at)} (see the timeline).", ""]

    lines += ["## Detection", ""]
    lines += _detection(facts) + [""]

    lines += ["## Lessons learned", ""]
    lines += [f.lessons_learned.strip() or "_To be written by the team._", ""]

    lines += ["## Action items", ""]
    if facts.action_items:
        for item in facts.action_items:
            mark = "x" if item.status == "done" else " "
            done = f" (done {_utc(item.done_at)})" if item.done_at else ""
            lines.append(f"- [{mark}] {item.title}{done}")
    else:
        lines.append("_No follow-ups recorded._ Add them with `faultbook followups` or on the dashboard.")
    lines.append("")
    return "\n".join(lines)


def _summary(facts: PostmortemFacts) -> str:
    f = facts.failure
    parts = [f"{f.component} deployment failed at the step \"{f.step or 'deployment'}\""]
    if facts.started_at:
        parts[0] += f" on {_utc(facts.started_at)}"
    first_line = (f.error_message or "").strip().splitlines()[0] if (f.error_message or "").strip() else ""
    text = parts[0] + (f" with `{first_line}`." if first_line else ".")
    if f.occurrence_count > 1:
        text += f" It was seen {f.occurrence_count} times."
    if facts.restored_at:
        text += f" Service was restored at {_utc(facts.restored_at)}."
    elif f.status is Status.OPEN:
        text += " It is still open."
    if f.status is Status.RESOLVED:
        text += " The failure is resolved."
    elif f.status is Status.WORKAROUND:
        text += " A workaround is in place."
    return text


def _impact(facts: PostmortemFacts) -> list[str]:
    lines = []
    start, end = facts.started_at, facts.restored_at
    lines.append(f"- **First failed deployment:** {_utc(start) if start else 'not recorded'}")
    if end is not None and facts.rolled_back_at == end:
        lines.append(f"- **Restored by:** a verified rollback at {_utc(facts.rolled_back_at)}")
    elif end is not None and facts.restoring:
        lines.append(f"- **Restored by:** deployment {_deployment_label(facts.restoring)} at {_utc(end)}")
    if facts.restoring and facts.rolled_back_at == end:
        lines.append(f"- **Next successful deployment:** {_deployment_label(facts.restoring)} at "
                     f"{_utc(facts.restoring.finished_at or facts.restoring.started_at)}")
    if start and end:
        lines.append(f"- **Duration:** {_duration(end - start)} (first failed deployment to restored service)")
    else:
        lines.append("- **Duration:** ongoing — no later successful deployment or verified rollback is on record")
    lines.append(f"- **Deploys blocked:** {facts.blocked_deploys} failed deployment"
                 f"{'' if facts.blocked_deploys == 1 else 's'} of {facts.failure.component}"
                 + (f" ({facts.failed_deployments[0].environment})" if facts.failed_deployments
                    and facts.failed_deployments[0].environment else ""))
    lines.append(f"- **Occurrences of this error:** {facts.failure.occurrence_count}")
    return lines


def _timeline(facts: PostmortemFacts) -> list[str]:
    entries: list[tuple[datetime, int, str]] = []
    if facts.last_good:
        entries.append((facts.last_good.started_at, 0, f"Last successful deployment: {_deployment_label(facts.last_good)}"))
    for d in facts.failed_deployments:
        entries.append((d.started_at, 1, f"Deployment failed: {_deployment_label(d)}"
                        + (f", exit code {d.exit_code}" if d.exit_code is not None else "")))
    for event in facts.failure.timeline:
        if event.kind in QUIET_EVENTS:
            continue
        entries.append((event.at, 2, _event_text(event)))
    if facts.restoring:
        entries.append((facts.restoring.finished_at or facts.restoring.started_at, 3,
                        f"Deployment succeeded: {_deployment_label(facts.restoring)}"
                        + (" — service restored" if facts.restored_at == (facts.restoring.finished_at
                                                                         or facts.restoring.started_at) else "")))
    if not entries:
        return ["_Nothing recorded._"]
    entries.sort(key=lambda e: (e[0], e[1]))
    return [f"- **{_utc(at)}** — {text}" for at, _, text in entries]


def _event_text(event: TimelineEvent) -> str:
    text = " ".join(event.description.split())
    label = {
        "created": "Recorded", "occurrence": "Occurred again", "regression": "Regression (was resolved)",
        "status": "Status changed", "rollback": "Rollback", "state_preserved": "Live state preserved",
        "followup_done": "Follow-up done", "merged": "Merged", "merged-into": "Merged", "imported": "Imported",
    }.get(event.kind, event.kind.replace("_", " ").capitalize())
    return f"{label}: {text}"


def _trigger(facts: PostmortemFacts) -> list[str]:
    if not facts.suspect_changes:
        return ["No change since the last successful deployment is on record (faultbook compares the configs, "
                "lockfiles and commits it stored with each deployment)."]
    lines = ["Changes since the last successful deployment, most likely first:", ""]
    for change in facts.suspect_changes[:10]:
        lines.append(f"- **{change.get('kind')}** {change.get('summary')}"
                     + (" — named in the error" if change.get("named_in_error") else ""))
    if len(facts.suspect_changes) > 10:
        lines.append(f"- ... and {len(facts.suspect_changes) - 10} more")
    return lines


def _detection(facts: PostmortemFacts) -> list[str]:
    f = facts.failure
    if facts.failed_deployments:
        d = facts.failed_deployments[0]
        text = (f"Detected at deploy time by `faultbook run` wrapping `{d.command}`, which captured the error "
                f"(exit code {d.exit_code if d.exit_code is not None else 'unknown'}) and recorded it.")
    else:
        text = "Recorded by hand (no wrapped deployment captured it)."
    lines = [text, "", "Error as captured:", "", *_fence(f.error_message or "(no message recorded)")]
    return lines


def _fence(text: str) -> list[str]:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return [ticks, *text.rstrip("\n").splitlines(), ticks]


def _deployment_label(d: Deployment) -> str:
    bits = [f"#{d.id}"]
    if d.environment:
        bits.append(f"env {d.environment}")
    if d.git_commit:
        bits.append(f"commit {d.git_commit[:12]}")
    if d.version_id:
        bits.append(f"version {d.version_id}")
    return " ".join(bits[:1]) + (f" ({', '.join(bits[1:])})" if len(bits) > 1 else "")


def _duration(delta: Any) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} d"] if days else []
    if hours or days:
        parts.append(f"{hours} h")
    parts.append(f"{minutes} min")
    return " ".join(parts)


def _utc(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "not recorded"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
