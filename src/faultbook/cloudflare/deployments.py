"""Reading a Worker's or a Pages project's deployments and versions through the API client.

What ``rollback`` plans from (``services.recovery.planning``) and re-reads when a POST's answer was lost
(``services.recovery.execution``).  Each read is one GET of the v4 API through the SDK (its errors and auth),
returning the envelope's ``result``: the SDK's typed list methods page through results, and faultbook needs
only the first page (the newest deployments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from faultbook.cloudflare.api import ApiError, call
from faultbook.cloudflare.project import WranglerFile


@dataclass(frozen=True)
class Target:
    """A Worker (``kind="worker"``) or a Pages project (``kind="pages"``) on an account."""

    kind: str
    name: str
    account_id: str
    environment: str | None = None
    config: WranglerFile | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"Worker {self.name}" if self.kind == "worker" else f"Pages project {self.name}"


def _get(client: Any, path: str, *, params: Mapping[str, str] | None = None, action: str) -> Any:
    options = {"params": dict(params)} if params else {}
    body = call(client.with_options(max_retries=2).get, path, cast_to=object, options=options, action=action)
    return body.get("result") if isinstance(body, dict) else None


def worker_deployments(client: Any, target: Target) -> list[dict[str, Any]]:
    """The Worker's deployments, newest first (the first one is live)."""
    result = _get(
        client, f"/accounts/{target.account_id}/workers/scripts/{target.name}/deployments",
        action=f"listing the deployments of {target.label}",
    )
    items = list((result or {}).get("deployments") or [])
    items.sort(key=lambda d: str(d.get("created_on") or ""), reverse=True)
    return items


def worker_versions(client: Any, target: Target) -> list[dict[str, Any]]:
    result = _get(
        client, f"/accounts/{target.account_id}/workers/scripts/{target.name}/versions",
        params={"deployable": "true"}, action=f"listing the versions of {target.label}",
    )
    if isinstance(result, dict):
        return list(result.get("items") or [])
    return list(result or [])


def worker_version(client: Any, target: Target, version_id: str) -> dict[str, Any]:
    try:
        return _get(
            client, f"/accounts/{target.account_id}/workers/scripts/{target.name}/versions/{version_id}",
            action=f"reading version {version_id} of {target.label}",
        ) or {}
    except ApiError as exc:
        if exc.not_found:
            raise ApiError(exc.status, exc.code, f"{target.label} has no version {version_id}",
                           action="choosing the rollback target") from None
        raise


def pages_deployments(client: Any, target: Target) -> list[dict[str, Any]]:
    """Production deployments of the Pages project, newest first."""
    result = _get(
        client, f"/accounts/{target.account_id}/pages/projects/{target.name}/deployments",
        params={"env": "production"}, action=f"listing the deployments of {target.label}",
    )
    items = [d for d in (result or []) if d.get("environment", "production") == "production"]
    items.sort(key=lambda d: str(d.get("created_on") or ""), reverse=True)
    return items
