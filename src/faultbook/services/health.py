"""Health and smoke checks of the live service: is it answering as it should?

Rollback verification (the seed's step 5, "Verify system functionality after
rollback") and ``run --rollback-on-failure`` call ``run_health_checks``;
preflight's network rules can reuse ``run_check`` for one endpoint.  The
checks are configured in faultbook.toml, in the same shape as the network
rules' ``[[smoke]]`` entries::

    [checks.health]                      # one main health endpoint (optional)
    url = "https://api.quoteviral.com/health"
    expect_status = 200                  # or a list; default: any status below 400
    expect_body = '"ok":true'            # substring (or expect_body_regex)

    [[smoke]]                            # any number of further endpoints
    url = "https://quoteviral.com/"
    method = "GET"
    headers = { Accept = "text/html" }

``[network] timeout`` (seconds, default 5) bounds each request.  A check
never raises: an unreachable URL is a failed ``HealthResult`` with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from faultbook.errors import InputError

if TYPE_CHECKING:
    from faultbook.config import Settings

DEFAULT_TIMEOUT = 5.0
#: Read at most this much of a body when matching (health endpoints are small).
BODY_LIMIT = 1 << 20


@dataclass(frozen=True)
class HealthCheck:
    url: str
    name: str
    method: str = "GET"
    expect_status: tuple[int, ...] = ()
    expect_body: str | None = None
    expect_body_regex: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HealthResult:
    check: HealthCheck
    ok: bool
    status: int | None = None
    #: Why it failed (None when ok).
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.check.name,
            "url": self.check.url,
            "method": self.check.method,
            "ok": self.ok,
            "status": self.status,
            "problem": self.problem,
        }

    @property
    def line(self) -> str:
        verdict = "ok" if self.ok else f"FAILED ({self.problem})"
        return f"{self.check.method} {self.check.url}: {verdict}"


def load_health_checks(settings: "Settings") -> list[HealthCheck]:
    """``[checks.health]`` then every ``[[smoke]]`` entry, in file order."""
    where = str(settings.config_path) if settings.config_path else "faultbook.toml"
    checks: list[HealthCheck] = []
    health = (settings.section("checks") or {}).get("health")
    if health is not None:
        if not isinstance(health, Mapping):
            raise InputError("[checks.health] must be a table", path=where)
        checks.append(_check(health, "checks.health", where))
    smoke = settings.file.get("smoke", [])
    if not isinstance(smoke, list):
        raise InputError("[[smoke]] must be an array of tables", path=where)
    for index, entry in enumerate(smoke):
        if not isinstance(entry, Mapping):
            raise InputError("each [[smoke]] entry must be a table", path=where)
        checks.append(_check(entry, f"smoke[{index}]", where))
    return checks


def run_health_checks(settings: "Settings", *, transport: Any = None) -> list[HealthResult]:
    """Run every configured check (none configured: an empty list)."""
    checks = load_health_checks(settings)
    if not checks:
        return []
    timeout = (settings.section("network") or {}).get("timeout", DEFAULT_TIMEOUT)
    import httpx

    with httpx.Client(timeout=float(timeout), follow_redirects=True, transport=transport) as client:
        return [run_check(client, check) for check in checks]


def run_check(client: Any, check: HealthCheck) -> HealthResult:
    import httpx

    try:
        with client.stream(check.method, check.url, headers=dict(check.headers)) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= BODY_LIMIT:
                    break
            status = response.status_code
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        return HealthResult(check=check, ok=False, problem=f"no response: {reason}")
    text = body.decode("utf-8", "replace")
    if check.expect_status and status not in check.expect_status:
        expected = " or ".join(map(str, check.expect_status))
        return HealthResult(check=check, ok=False, status=status, problem=f"status {status}, expected {expected}")
    if not check.expect_status and status >= 400:
        return HealthResult(check=check, ok=False, status=status, problem=f"status {status}")
    if check.expect_body is not None and check.expect_body not in text:
        return HealthResult(
            check=check, ok=False, status=status, problem=f"the body does not contain {check.expect_body!r}"
        )
    if check.expect_body_regex is not None and not re.search(check.expect_body_regex, text):
        return HealthResult(
            check=check, ok=False, status=status, problem=f"the body does not match {check.expect_body_regex!r}"
        )
    return HealthResult(check=check, ok=True, status=status)


def _check(entry: Mapping[str, Any], name: str, where: str) -> HealthCheck:
    url = entry.get("url")
    if not isinstance(url, str) or not re.match(r"https?://", url):
        raise InputError(f"[{name}] needs url = \"http(s)://...\"", path=where)
    status = entry.get("expect_status")
    statuses = (status,) if isinstance(status, int) and not isinstance(status, bool) else status
    if statuses is not None and (
        not isinstance(statuses, (list, tuple))
        or not all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in statuses)
    ):
        raise InputError(f"[{name}] expect_status must be an HTTP status or a list of them", path=where)
    body, regex = entry.get("expect_body"), entry.get("expect_body_regex")
    if body is not None and regex is not None:
        raise InputError(f"[{name}] takes expect_body or expect_body_regex, not both", path=where)
    if regex is not None:
        try:
            re.compile(str(regex))
        except re.error as exc:
            raise InputError(f"[{name}] expect_body_regex is not a valid regex: {exc}", path=where) from None
    headers = entry.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(isinstance(v, str) for v in headers.values()):
        raise InputError(f"[{name}] headers must be a table of strings", path=where)
    return HealthCheck(
        url=url,
        name=name,
        method=str(entry.get("method") or "GET").upper(),
        expect_status=tuple(statuses or ()),
        expect_body=None if body is None else str(body),
        expect_body_regex=None if regex is None else str(regex),
        headers=tuple((str(k), v) for k, v in headers.items()),
    )
