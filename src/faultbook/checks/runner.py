"""Run the selected rules over one loaded config and return a ``Report``.

The runner decides *which* rules run (selection, ignore list, online/network
availability), runs each, removes duplicates (an inherited key is seen by every
environment but reported once), applies inline suppressions and sorts.  It
never prints and never writes.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from faultbook.checks.base import Context, Finding, Report, Rule
from faultbook.checks.registry import all_rules, get_rule
from faultbook.checks.suppress import apply_suppressions
from faultbook.cloudflare.config import WranglerConfig
from faultbook.errors import InputError


def resolve_ids(keys: Iterable[str]) -> set[str]:
    """Rule IDs for IDs/names/prefixes (``FB1`` selects FB1xx); unknown keys are a usage error."""
    ids: set[str] = set()
    for key in keys:
        key = key.strip()
        if not key:
            continue
        rule = get_rule(key)
        if rule:
            ids.add(rule.id)
            continue
        matches = {r.id for r in all_rules() if r.id.startswith(key.upper())}
        if not matches:
            raise InputError(f"unknown rule {key!r} (see `faultbook rules`)")
        ids |= matches
    return ids


def select_rules(*, selected: Iterable[str] = (), ignored: Iterable[str] = ()) -> list[type[Rule]]:
    chosen = resolve_ids(selected)
    skipped = resolve_ids(ignored)
    return [r for r in all_rules() if (not chosen or r.id in chosen) and r.id not in skipped]


def run(
    config: WranglerConfig,
    *,
    env: str | None = None,
    selected: Iterable[str] = (),
    ignored: Iterable[str] = (),
    online_client: Any = None,
    network: bool = False,
    today: date | None = None,
    settings: dict[str, Any] | None = None,
    network_settings: Any = None,
) -> Report:
    """Check ``config``.  ``online_client`` is an ``OnlineContext`` (None = offline); ``network_settings`` is a
    ``faultbook.netprobe.targets.NetworkSettings`` for the network rules (run only when ``network``)."""
    if env is not None:
        envs = config.data.get("env")
        if not isinstance(envs, dict) or env not in envs:
            raise InputError(f'no environment named "{env}" in the config', path=str(config.path))
    ctx = Context(
        config=config, env=env, today=today or date.today(), online=online_client, network=network,
        settings=dict(settings or {}), network_settings=network_settings,
    )
    rules = select_rules(selected=selected, ignored=ignored)
    ran: list[str] = []
    findings: list[Finding] = []
    seen: set[tuple] = set()
    for rule_cls in rules:
        if rule_cls.online and online_client is None:
            continue
        if rule_cls.network and not network:
            continue
        rule = rule_cls()
        if not rule.applies(ctx):
            continue
        ran.append(rule_cls.id)
        for finding in rule.check(ctx):
            key = (finding.rule_id, finding.path, finding.line, finding.column, finding.summary)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    kept, suppressed, reasonless = apply_suppressions(config, findings)
    if "FB001" in {r.id for r in rules}:
        kept.extend(reasonless)
    kept.sort(key=lambda f: f.sort_key)
    return Report(
        findings=tuple(kept),
        # Network findings may point at faultbook.toml.
        files=(str(config.path),) + tuple(sorted({f.path for f in kept} - {str(config.path)})),
        suppressed=tuple(sorted(suppressed, key=lambda f: f.sort_key)),
        rules_run=tuple(ran),
        env=env,
        online=online_client is not None,
        notes=(f"checked {config.path}", *dict.fromkeys(ctx.notes)),
    )
