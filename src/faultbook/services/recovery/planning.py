"""Planning a rollback: which Worker or Pages project, and which version or deployment to go back to.

``plan_rollback`` picks the target the way ``wrangler rollback`` does (the newest earlier deployment that
served one version at 100 %; wrangler: ``versions/rollback/index.ts`` ``fetchDefaultRollbackVersionId``) or
takes ``--to``.  One difference from wrangler: a version that is already live is never chosen (a "rollback"
to the running code changes nothing).  Pages projects go back to the previous successful production
deployment.  Reading only: nothing here changes anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from faultbook.cloudflare.api import account_id_for
from faultbook.cloudflare.deployments import (
    Target,
    pages_deployments,
    worker_deployments,
    worker_version,
    worker_versions,
)
from faultbook.cloudflare.project import load_project_wrangler
from faultbook.errors import InputError, OperationFailed
from faultbook.services.recovery.types import (
    PAGES_NOT_RESTORED,
    WORKER_NOT_RESTORED,
    Component,
    RollbackPlan,
    Split,
)

if TYPE_CHECKING:
    from faultbook.config import Settings


def resolve_target(
    settings: "Settings", *, component: Component, env: str | None = None
) -> Target:
    """The Worker (wrangler config ``name``, per ``[env.X]``) or the Pages project to roll back."""
    section = settings.rollback
    wrangler = load_project_wrangler(settings.project_root, {"wrangler_config": section.wrangler_config})
    data = wrangler.data if wrangler else {}
    if component is Component.FRONTEND:
        if env not in (None, "production"):
            raise InputError("Pages rollbacks apply to production deployments only (drop --env)")
        name = settings.pages.project
        if not name and wrangler is not None and wrangler.is_pages:
            name = data.get("name")
        if not name:
            raise InputError(
                "no Pages project to roll back: set [pages] project = \"NAME\" in faultbook.toml",
                path=str(settings.config_path) if settings.config_path else None,
            )
        return Target(kind="pages", name=name, account_id=account_id_for(settings, data), config=wrangler)
    name = section.worker
    if name is None and wrangler is not None:
        name = wrangler.worker_name(env)
    if not name:
        raise InputError(
            "no Worker to roll back: no wrangler config with a name in the project root "
            "(or set [rollback] worker = \"NAME\" in faultbook.toml)"
        )
    return Target(kind="worker", name=name, account_id=account_id_for(settings, data), environment=env,
                  config=wrangler)


# ------------------------------------------------------------------------------------ planning


def plan_rollback(*, client: Any, target: Target, to: str | None = None) -> RollbackPlan:
    """Read the live state and choose the target; raises OperationFailed when there is none."""
    if target.kind == "pages":
        return _plan_pages(client, target, to)
    return _plan_worker(client, target, to)


def _plan_worker(client: Any, target: Target, to: str | None) -> RollbackPlan:
    deployments = worker_deployments(client, target)
    if not deployments:
        raise OperationFailed(f"{target.label} has no deployments: there is nothing to roll back")
    versions = {v.get("id"): v for v in worker_versions(client, target)}
    live_deployment = deployments[0]
    live = tuple(
        Split(id=str(v["version_id"]), percentage=float(v.get("percentage", 0)),
              label=_version_label(str(v["version_id"]), versions))
        for v in live_deployment.get("versions") or []
    )
    live_ids = {s.id for s in live}
    if to:
        if to not in versions:
            versions[to] = worker_version(client, target, to)
        if live_ids == {to}:
            raise OperationFailed(f"{target.label} already serves version {to} to 100 % of traffic")
        target_id = to
    else:
        target_id = ""
        for deployment in deployments[1:]:
            stable = next(
                (v for v in deployment.get("versions") or [] if float(v.get("percentage", 0)) == 100), None
            )
            if stable and str(stable["version_id"]) not in live_ids:
                target_id = str(stable["version_id"])
                break
        if not target_id:
            raise OperationFailed(
                f"no earlier version of {target.label} to roll back to: no earlier deployment served a "
                "different version to 100 % of traffic",
                hint="name one with --to VERSION_ID (see `wrangler versions list`)",
            )
    target_label = _version_label(target_id, versions)
    changes = [
        f"Traffic: {', '.join(s.describe() for s in live)} -> {target_label} (100 %)",
        f"Target: {_version_label(target_id, versions, when=True)}",
    ]
    changes.extend(_version_differences([versions.get(s.id) or {} for s in live], versions.get(target_id) or {}))
    return RollbackPlan(
        target=target,
        live_deployment_id=live_deployment.get("id"),
        live=live,
        target_id=target_id,
        target_label=target_label,
        changes=tuple(changes),
        not_restored=WORKER_NOT_RESTORED,
        explicit=bool(to),
    )


def _version_label(version_id: str, versions: Mapping[Any, Mapping[str, Any]], *, when: bool = False) -> str:
    """``version <id> (#3)``; with ``when``, also the upload time."""
    version = versions.get(version_id) or {}
    number = version.get("number")
    created = ((version.get("metadata") or {}).get("created_on") or "")[:19].replace("T", " ")
    extra = [f"#{number:g}"] if isinstance(number, (int, float)) else []
    if when and created:
        extra.append(f"uploaded {created} UTC")
    return f"version {version_id}" + (f" ({', '.join(extra)})" if extra else "")


def _version_differences(live: Sequence[Mapping[str, Any]], target: Mapping[str, Any]) -> list[str]:
    """Binding and compatibility-date differences between the live version(s) and the target."""
    if not target or not any(live):
        return []

    def bindings(version: Mapping[str, Any]) -> dict[str, str]:
        items = ((version.get("resources") or {}).get("bindings")) or []
        return {str(b.get("name")): str(b.get("type")) for b in items if isinstance(b, Mapping)}

    def compat(version: Mapping[str, Any]) -> str | None:
        return ((version.get("resources") or {}).get("script_runtime") or {}).get("compatibility_date")

    lines = []
    now = {}
    for version in live:
        now.update(bindings(version))
    then = bindings(target)
    gone = sorted(set(now) - set(then))
    back = sorted(set(then) - set(now))
    if gone:
        lines.append("Bindings the target version does not have: " + ", ".join(f"{n} ({now[n]})" for n in gone))
    if back:
        lines.append("Bindings only the target version has: " + ", ".join(f"{n} ({then[n]})" for n in back))
    dates = {compat(v) for v in live if v}
    if compat(target) and dates and dates != {compat(target)}:
        lines.append(f"Compatibility date: {', '.join(sorted(d for d in dates if d))} -> {compat(target)}")
    return lines


def _plan_pages(client: Any, target: Target, to: str | None) -> RollbackPlan:
    deployments = pages_deployments(client, target)
    if not deployments:
        raise OperationFailed(f"{target.label} has no production deployments: there is nothing to roll back")
    live = deployments[0]
    if to:
        chosen = next((d for d in deployments if d.get("id") == to or d.get("short_id") == to), None)
        if chosen is None:
            raise OperationFailed(f"{target.label} has no production deployment {to}")
        if chosen.get("id") == live.get("id"):
            raise OperationFailed(f"deployment {to} is already the live production deployment of {target.label}")
        if _pages_status(chosen) != "success":
            raise OperationFailed(f"deployment {to} of {target.label} did not succeed: Pages rolls back only to "
                                  "successful deployments")
    else:
        chosen = next(
            (d for d in deployments[1:] if _pages_status(d) == "success" and not d.get("is_skipped")), None
        )
        if chosen is None:
            raise OperationFailed(
                f"no earlier successful production deployment of {target.label} to roll back to",
                hint="name one with --to DEPLOYMENT_ID",
            )
    live_label = _pages_label(live)
    target_label = _pages_label(chosen)
    return RollbackPlan(
        target=target,
        live_deployment_id=live.get("id"),
        live=(Split(id=str(live.get("id")), percentage=100, label=live_label),),
        target_id=str(chosen.get("id")),
        target_label=target_label,
        changes=(f"Production: {live_label} -> {target_label}",),
        not_restored=PAGES_NOT_RESTORED,
        explicit=bool(to),
    )


def _pages_status(deployment: Mapping[str, Any]) -> str | None:
    return (deployment.get("latest_stage") or {}).get("status")


def _pages_label(deployment: Mapping[str, Any]) -> str:
    created = str(deployment.get("created_on") or "")[:19].replace("T", " ")
    url = deployment.get("url")
    extra = ", ".join(p for p in (f"created {created} UTC" if created else "", str(url) if url else "") if p)
    return f"deployment {deployment.get('id')}" + (f" ({extra})" if extra else "")
