"""The support bundle: everything Cloudflare support asks for, in one zip, with no secret in it.

The seed's "Contact Support" section lists what to gather: steps to
reproduce, expected vs actual behaviour, time of occurrence, affected
components, account ID, zone ID, Worker name, the error messages with their
timestamps, and the recent changes.  ``build_bundle`` writes them as
SUPPORT.md, next to the raw captured output of every deployment that hit the
failure, the current wrangler config, the config preserved by a rollback,
and ``failure.json`` (the record with its timeline).

Secrets: every byte written goes through one scrubber — capture's
``Scrubber`` built from the environment (CLOUDFLARE_API_TOKEN and every
secret-looking variable), plus the values of the config's secret-looking
``[vars]`` — right before it enters the zip, so nothing can bypass it.

Recent changes come from git when the project is a repository: the commits
between the last successful deployment's commit and the failing one, and
``git diff`` of the config since that commit; the config preserved by a
rollback is diffed against today's as well.
"""

from __future__ import annotations

from faultbook import __version__

import difflib
import json
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from faultbook.cloudflare.project import WranglerFile, load_project_wrangler
from faultbook.domain import utcnow
from faultbook.errors import InputError
from faultbook.files import write_atomic
from faultbook.services.ledger import ProjectRef
from faultbook.store import repo
from faultbook.store.tables import DeploymentRow, OccurrenceRow, ProjectRow

if TYPE_CHECKING:
    from faultbook.config import Settings
    from faultbook.services.recovery import Snapshot

GIT_TIMEOUT = 10
MAX_COMMITS = 50


@dataclass(frozen=True)
class _Context:
    settings: "Settings"
    config: WranglerFile | None
    scrub: Any


def build_bundle(session: Session, *, settings: "Settings", project: ProjectRef, number: int, out: Path) -> Path:
    """Write the support zip for failure ``number`` to ``out``; returns the path written."""
    from faultbook.services.recovery import list_snapshots, scrubber_for

    row_project = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if row_project is None:
        raise InputError(f"there is no failure #{number} (the project {project.key} has no records yet)")
    failure_row = repo.get_failure_row(session, project_id=row_project.id, number=number)
    failure = repo.row_to_failure(failure_row, with_timeline=True)
    try:
        config = load_project_wrangler(settings.project_root, {"wrangler_config": settings.rollback.wrangler_config})
    except InputError:
        config = None
    scrubber = scrubber_for(settings, config)
    ctx = _Context(settings=settings, config=config, scrub=scrubber.scrub)

    occurrences = list(
        session.scalars(
            select(OccurrenceRow).where(OccurrenceRow.failure_id == failure_row.id).order_by(OccurrenceRow.occurred_at)
        )
    )
    deployment_ids = {o.deployment_id for o in occurrences if o.deployment_id}
    deployments = list(
        session.scalars(
            select(DeploymentRow)
            .where(DeploymentRow.project_id == row_project.id,
                   (DeploymentRow.failure_id == failure_row.id) | DeploymentRow.id.in_(deployment_ids or {-1}))
            .order_by(DeploymentRow.started_at, DeploymentRow.id)
        )
    )
    first_failed = deployments[0] if deployments else None
    last_failed = deployments[-1] if deployments else None
    before = first_failed.started_at if first_failed else failure.occurred_at
    last_good = None
    if before is not None:
        last_good = session.scalar(
            select(DeploymentRow)
            .where(DeploymentRow.project_id == row_project.id, DeploymentRow.outcome == "succeeded",
                   DeploymentRow.started_at < before,
                   # Only a deploy is a deployment: not `wrangler r2 bucket create`, not `pwd`.
                   or_(DeploymentRow.kind == "deploy", DeploymentRow.kind.is_(None)))
            .order_by(DeploymentRow.started_at.desc(), DeploymentRow.id.desc())
            .limit(1)
        )
    snapshots = list_snapshots(session, project=project, failure_number=number)

    files: dict[str, str] = {}
    for deployment in deployments:
        if deployment.output_tail:
            files[f"output/deployment-{deployment.id}.txt"] = deployment.output_tail
    if config is not None:
        files[f"config/{config.path.name}"] = config.text
    for snapshot in snapshots:
        if snapshot.config_text:
            name = Path(snapshot.config_path or "wrangler-config").name
            files[f"config/preserved-{snapshot.id}-{name}"] = snapshot.config_text
        if snapshot.output_tail and not any(d.id == snapshot.deployment_id for d in deployments):
            files[f"output/preserved-{snapshot.id}.txt"] = snapshot.output_tail
    files["failure.json"] = json.dumps(failure.to_json(), indent=2, ensure_ascii=False) + "\n"
    from faultbook.services.suspect import suspect_changes_for_failure

    suspects = suspect_changes_for_failure(session, project=project, number=number, root=settings.project_root)
    if suspects:
        files["suspect_changes.json"] = json.dumps([c.to_json() for c in suspects], indent=2, ensure_ascii=False) + "\n"

    support = render_support(
        ctx, project=project, failure=failure, occurrences=occurrences, deployments=deployments,
        last_good=last_good, last_failed=last_failed, snapshots=snapshots, attached=sorted(files),
        suspects=suspects,
    )
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write the bundle: {exc.strerror}", path=str(out)) from None

    def write_zip(handle: BinaryIO) -> None:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in [("SUPPORT.md", support), *sorted(files.items())]:
                archive.writestr(name, ctx.scrub(text))

    write_atomic(out, write_zip, what="bundle")
    return out


def render_support(
    ctx: _Context,
    *,
    project: ProjectRef,
    failure: Any,
    occurrences: list[OccurrenceRow],
    deployments: list[DeploymentRow],
    last_good: DeploymentRow | None,
    last_failed: DeploymentRow | None,
    snapshots: list["Snapshot"],
    attached: Iterable[str],
    suspects: Iterable[Any] = (),
) -> str:
    settings = ctx.settings
    data = ctx.config.data if ctx.config else {}
    env = last_failed.environment if last_failed else None
    worker = _first(snapshots, "worker") or (ctx.config.worker_name(env) if ctx.config and not ctx.config.is_pages else None)
    pages = settings.pages.project or (data.get("name") if ctx.config and ctx.config.is_pages else None)
    account = settings.env.CLOUDFLARE_ACCOUNT_ID or data.get("account_id") or _snapshot_account(snapshots)
    zone = settings.support.zone_id or _zone_id(data)
    component = failure.component + (f" ({failure.component_detail})" if failure.component_detail else "")
    components = [component] + sorted({d.component for d in deployments if d.component and d.component != failure.component})

    lines = [f"# Support request: {failure.title}", ""]
    lines += [f"Project: {project.name} - faultbook failure #{failure.number} - bundle made {_utc(utcnow())} "
              f"by faultbook {__version__}", ""]
    lines += ["## Summary", ""]
    lines += [
        f"- Time of occurrence (UTC): {_utc(failure.occurred_at)}",
        f"- First seen / last seen (UTC): {_utc(failure.first_seen)} / {_utc(failure.last_seen)} "
        f"({failure.occurrence_count} occurrence{'s' if failure.occurrence_count != 1 else ''})",
        f"- Affected components: {', '.join(components)}",
        f"- Deployment step: {failure.step or 'not recorded'}",
        f"- Status: {failure.status.value}",
        "",
        "## Cloudflare identifiers",
        "",
        f"- Account ID: {account or 'not known (set CLOUDFLARE_ACCOUNT_ID or account_id in the wrangler config)'}",
        f"- Zone ID: {zone or 'not known (set [support] zone_id in faultbook.toml)'}",
        f"- Worker name: {worker or 'none'}",
    ]
    if pages:
        lines.append(f"- Pages project: {pages}")
    lines += ["", "## Steps to reproduce", ""]
    if last_failed is not None:
        where = f" in `{last_failed.cwd}`" if last_failed.cwd else ""
        commit = f" at commit {last_failed.git_commit}" if last_failed.git_commit else ""
        if last_failed.git_branch:
            commit += f" (branch {last_failed.git_branch}{', uncommitted changes' if last_failed.git_dirty else ''})"
        lines += [
            f"1. Check out the project{commit}.",
            f"2. Run{where}:",
            "",
            "   ```",
            f"   {last_failed.command}",
            "   ```",
            "",
            f"3. The deployment step \"{last_failed.step or failure.step or 'deploy'}\" fails "
            f"(exit code {last_failed.exit_code}) with the error below.",
        ]
    else:
        lines.append(
            f"No captured command: the failure was recorded by hand. Deployment step: {failure.step or 'not recorded'}."
        )
    lines += ["", "## Expected vs actual behaviour", ""]
    target = worker or pages or "the project"
    lines += [
        f"- Expected: the deployment of {target} completes and the new version serves traffic.",
        "- Actual: it failed with:",
        "",
        *_fence(failure.error_message or "(no error message recorded)"),
        "",
    ]
    if failure.root_cause:
        lines += [f"Our analysis so far: {failure.root_cause}", ""]
    lines += ["## Error messages and timestamps", ""]
    if occurrences:
        for index, occurrence in enumerate(occurrences, 1):
            lines += [f"{index}. {_utc(occurrence.occurred_at)}" +
                      (f" (deployment {occurrence.deployment_id})" if occurrence.deployment_id else ""), ""]
            lines += ["   " + line if line else "" for line in _fence(occurrence.error_message)]
            lines.append("")
    else:
        lines += [f"1. {_utc(failure.occurred_at)}", ""]
        lines += ["   " + line if line else "" for line in _fence(failure.error_message or "(none recorded)")]
        lines.append("")
    lines += ["## Recent changes", ""]
    suspects = list(suspects)
    if suspects:
        from faultbook.services.suspect import render_text

        lines += ["### Suspect changes (most likely first)", "", *render_text(suspects, limit=15), ""]
    lines += _recent_changes(ctx, last_good=last_good, last_failed=last_failed, snapshots=snapshots)
    if snapshots:
        lines += ["## Recovery so far", ""]
        lines += [f"- {s.summary}" for s in snapshots if s.summary]
        lines.append("")
    lines += ["## Attached files", ""]
    lines += [f"- `{name}`" for name in attached]
    lines += ["", "Secrets (API tokens, secret-looking variables and config values) have been replaced by [REDACTED].", ""]
    return "\n".join(lines)


def _recent_changes(
    ctx: _Context, *, last_good: DeploymentRow | None, last_failed: DeploymentRow | None,
    snapshots: list["Snapshot"],
) -> list[str]:
    root = ctx.settings.project_root
    lines: list[str] = []
    if last_good is None:
        lines += ["No successful deployment is on record before this failure.", ""]
    else:
        lines += [f"Last successful deployment: {_utc(last_good.started_at)} (deployment {last_good.id})"
                  + (f", commit {last_good.git_commit}" if last_good.git_commit else "") + ".", ""]
    base = last_good.git_commit if last_good else None
    head = (last_failed.git_commit if last_failed and last_failed.git_commit else "HEAD")
    if base:
        log = _git(root, "log", "--format=%h %ad %an: %s", "--date=iso-strict", f"-{MAX_COMMITS}", f"{base}..{head}")
        lines += ["### Commits since then", ""]
        lines += (_fence(log) if log else ["No commits (or git history not available)."]) + [""]
        if ctx.config is not None:
            rel = _rel(ctx.config.path, root)
            diff = _git(root, "diff", base, "--", rel)
            lines += [f"### Changes to {rel} since then", ""]
            lines += (_fence(diff, "diff") if diff else ["No changes (or git history not available)."]) + [""]
    preserved = next((s for s in reversed(snapshots) if s.config_text), None)
    if preserved is not None and ctx.config is not None:
        diff = "".join(difflib.unified_diff(
            ctx.scrub(preserved.config_text or "").splitlines(keepends=True),
            ctx.scrub(ctx.config.text).splitlines(keepends=True),
            fromfile=f"preserved before rollback ({_utc(preserved.created_at)})", tofile="current",
        ))
        lines += ["### Config now vs the config preserved before the rollback", ""]
        lines += (_fence(diff, "diff") if diff else ["Identical."]) + [""]
    if not base and preserved is None:
        lines += ["No earlier configuration on record to compare with.", ""]
    return lines


def _git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                                timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def _fence(text: str, lang: str = "") -> list[str]:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return [ticks + lang, *text.rstrip("\n").splitlines(), ticks]


def _utc(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "not recorded"


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _first(snapshots: list["Snapshot"], kind: str) -> str | None:
    return next((s.target_name for s in snapshots if s.kind == kind and s.target_name), None)


def _snapshot_account(snapshots: list["Snapshot"]) -> str | None:
    return next((s.account_id for s in snapshots if s.account_id), None)


def _zone_id(data: Any) -> str | None:
    """A ``zone_id`` from the config's routes (``{pattern, zone_id}``), if any names one."""
    routes = data.get("routes") or ([data["route"]] if data.get("route") else [])
    for route in routes if isinstance(routes, list) else []:
        if isinstance(route, dict) and route.get("zone_id"):
            return str(route["zone_id"])
    return None
