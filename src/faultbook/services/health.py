"""Health and smoke checks of the live service: is it answering as it should?

Rollback verification (the seed's step 5, "Verify system functionality after
rollback") and ``run --rollback-on-failure`` call ``run_health_checks``.  Why
this is only a thin layer: ``faultbook check --network`` (FB506) reads the same
``[[smoke]]`` table, and a user must get one meaning from both.  So the table is
parsed by ``faultbook.netprobe.targets`` (one parser, errors with file and
line) and every endpoint is called by ``faultbook.netprobe.http.probe`` (one
probe, one wording of problems, the same ``[network]`` resolver, connect_to,
cafile and timeout).  What this module adds is ``[checks.health]`` — the main
health endpoint, same keys as a ``[[smoke]]`` entry — in front of the smoke
entries, and a result shape rollback records::

    [checks.health]                      # one main health endpoint (optional)
    url = "https://api.quoteviral.com/health"
    expect_status = 200                  # or a list; default: any status below 400
    expect_body = '"ok":true'            # substring (or expect_body_regex)

    [[smoke]]                            # any number of further endpoints
    url = "https://quoteviral.com/"
    method = "GET"
    headers = { Accept = "text/html" }

Redirects are not followed (a 3xx is the answer, as in FB506).  A check never
raises: an unreachable URL is a failed ``HealthResult`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faultbook.config import Settings
    from faultbook.netprobe.targets import NetworkSettings, SmokeCheck


@dataclass(frozen=True)
class HealthCheck:
    url: str
    name: str
    method: str = "GET"
    expect_status: tuple[int, ...] = ()
    expect_body: str | None = None
    expect_body_regex: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_smoke(cls, smoke: "SmokeCheck", *, name: str) -> "HealthCheck":
        return cls(url=smoke.url, name=name, method=smoke.method, expect_status=smoke.expect_status,
                   expect_body=smoke.expect_body, expect_body_regex=smoke.expect_body_regex, headers=smoke.headers)

    def to_smoke(self) -> "SmokeCheck":
        from faultbook.netprobe.targets import SmokeCheck

        return SmokeCheck(url=self.url, method=self.method, expect_status=self.expect_status,
                          expect_body=self.expect_body, expect_body_regex=self.expect_body_regex, headers=self.headers)


@dataclass(frozen=True)
class HealthResult:
    check: HealthCheck
    ok: bool
    status: int | None = None
    #: Why it failed (None when ok), in netprobe's wording (the same as FB506's).
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
    """``[checks.health]`` then every ``[[smoke]]`` entry, in file order; bad settings raise ``InputError``."""
    return _checks(_network(settings))


def run_health_checks(settings: "Settings", *, transport: Any = None) -> list[HealthResult]:
    """Run every configured check (none configured: an empty list).  ``transport``: an httpx transport (tests)."""
    network = _network(settings)
    return [run_check(check, network, transport=transport) for check in _checks(network)]


def run_check(check: HealthCheck, network: "NetworkSettings | None" = None, *, transport: Any = None) -> HealthResult:
    """Probe one endpoint with ``netprobe.targets.run_smoke`` (``[network]`` settings from ``network``)."""
    from faultbook.netprobe.targets import run_smoke

    result = run_smoke(check.to_smoke(), network, transport=transport)
    return HealthResult(check=check, ok=result.ok, status=result.status, problem=result.problem)


def _network(settings: "Settings") -> "NetworkSettings":
    from faultbook.netprobe.targets import network_settings_from_settings

    return network_settings_from_settings(settings)


def _checks(network: "NetworkSettings") -> list[HealthCheck]:
    checks = [HealthCheck.from_smoke(network.health, name="checks.health")] if network.health else []
    checks += [HealthCheck.from_smoke(smoke, name=f"smoke[{i}]") for i, smoke in enumerate(network.smoke)]
    return checks
