"""``faultbook check``: load the config, run the rules, optionally fix, return a value.

This is the one function the CLI (and later the dashboard) calls.  It never
prints: chatter for stderr is returned in ``CheckResult.messages``.  Settings
come in from the caller (``faultbook.config.Settings``; without one, ``load_settings`` reads the
nearest faultbook.toml and no environment); this module never reads ``os.environ``.

Online rules run only when not ``offline`` and both an API token and an account
id are known (``CLOUDFLARE_API_TOKEN``, ``CLOUDFLARE_ACCOUNT_ID`` or the
config's ``account_id``); the API base URL is wrangler's
``CLOUDFLARE_API_BASE_URL`` when set, passed explicitly to the SDK.

Network rules (FB5xx) run only with ``network=True``; their targets are the
config's routes plus faultbook.toml's ``[network]`` / ``[[smoke]]`` tables, read
with positions so findings point at faultbook.toml's lines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from faultbook.config import CheckSection, Environment

from faultbook.checks.base import Finding, Report, Severity
from faultbook.errors import ExitCode, InputError

if TYPE_CHECKING:
    from faultbook.config import Settings

FAIL_ON = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}


@dataclass(frozen=True)
class CheckResult:
    report: Report
    exit_code: int
    fixed: tuple[Finding, ...] = ()
    created: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    config_path: str | None = None


@dataclass(frozen=True)
class _CheckSettings:
    section: CheckSection = field(default_factory=CheckSection)
    env: Environment = field(default_factory=Environment)


def _settings_for(settings: "Settings | None", config_dir: Path) -> _CheckSettings:
    if settings is None:
        # Library use, tests: the nearest faultbook.toml through the one reader, and no environment.
        from faultbook.config import load_settings

        settings = load_settings(cwd=config_dir, environ={})
    return _CheckSettings(settings.check, settings.env)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in value.replace(" ", ",").split(",") if part]
    return [str(v) for v in value]


def run_check(
    *,
    path: str | Path,
    env: str | None = None,
    offline: bool = True,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    fail_on: str = "error",
    fix: bool = False,
    create_missing: bool = False,
    confirm: Callable[[str], bool] | None = None,
    network: bool = False,
    settings: "Settings | None" = None,
    today: date | None = None,
    http_client: Any = None,
    config_path: str | Path | None = None,
) -> CheckResult:
    """Check the config wrangler would use for ``path`` (``config_path`` = its ``-c/--config``).
    Raises InputError for a config that cannot be read or does not parse."""
    from faultbook.checks import fixes, runner
    from faultbook.cloudflare.config import find_config, load_config

    if fail_on not in FAIL_ON:
        raise InputError(f"--fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    config_file = find_config(Path(path), config_path)
    check_settings = _settings_for(settings, config_file.parent)
    selected = [s for x in select for s in _as_list(x)] or list(check_settings.section.select)
    ignored = list(check_settings.section.ignore) + [s for x in ignore for s in _as_list(x)]
    runner.select_rules(selected=selected, ignored=ignored)  # unknown IDs fail before any work

    config = load_config(config_file)
    messages: list[str] = []
    online = None
    if not offline:
        online = _online_context(config, check_settings.env, http_client, messages)

    network_settings = None
    if network:
        network_settings = _network_settings(settings, config_file.parent)

    def check_once(cfg):
        return runner.run(
            cfg, env=env, selected=selected, ignored=ignored, online_client=online, network=network,
            today=today, settings=asdict(check_settings.section), network_settings=network_settings,
        )

    report = check_once(config)
    if network and not _has_network_targets(config, env, network_settings):
        messages.append(
            "network checks: nothing to probe (no routes in the config, no [network] or [[smoke]] in faultbook.toml)"
        )
    fixed: tuple[Finding, ...] = ()
    created: list[str] = []
    if fix:
        result = fixes.fix_text(config, report.findings)
        if result.applied:
            fixes.write_fixed(config, result)
            fixed = result.applied
            messages.append(f"fixed {len(fixed)} finding{'s' if len(fixed) != 1 else ''} in {config.path}")
        if create_missing:
            created = _create_missing(report, online, confirm, messages)
        if fixed or created:
            config = load_config(config_file)
            report = check_once(config)
    messages[:0] = list(report.notes)
    failing = report.at_or_above(FAIL_ON[fail_on])
    return CheckResult(
        report=report,
        exit_code=int(ExitCode.FINDINGS if failing else ExitCode.OK),
        fixed=fixed,
        created=tuple(created),
        messages=tuple(messages),
        config_path=str(config.path),
    )


def _network_settings(settings: Any, config_dir: Path) -> Any:
    from faultbook.netprobe.targets import load_network_settings, network_settings_from_settings

    if settings is not None:
        return network_settings_from_settings(settings)
    for folder in (config_dir.resolve(), *config_dir.resolve().parents):
        if (folder / "faultbook.toml").is_file():
            return load_network_settings(folder / "faultbook.toml")
    return load_network_settings(None)


def _has_network_targets(config: Any, env: str | None, network_settings: Any) -> bool:
    from faultbook.checks.base import Context
    from faultbook.checks.rules.network import route_hosts

    ns = network_settings
    return bool(ns.dns or ns.cors or ns.smoke or route_hosts(Context(config=config, env=env)))


def _online_context(config: Any, environ: Environment, http_client: Any, messages: list[str]) -> Any:
    from faultbook.cloudflare.api import DEFAULT_BASE_URL, OnlineContext, make_client

    token = environ.CLOUDFLARE_API_TOKEN
    account = environ.CLOUDFLARE_ACCOUNT_ID or config.data.get("account_id")
    if not token or not isinstance(account, str) or not account:
        messages.append(
            "online checks skipped: set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID (or account_id in the config)"
        )
        return None
    base_url = environ.CLOUDFLARE_API_BASE_URL or DEFAULT_BASE_URL
    client = make_client(api_token=token, base_url=base_url, http_client=http_client)
    return OnlineContext(client=client, account_id=account, base_url=base_url)


def _create_missing(report: Report, online: Any, confirm: Callable[[str], bool] | None, messages: list[str]) -> list[str]:
    from faultbook.cloudflare.api import ApiError, call

    if online is None:
        messages.append("--create-missing needs the API: run without --offline, with a token and account id")
        return []
    created: list[str] = []
    done: set[tuple] = set()
    for finding in report.findings:
        action = finding.fix.action if finding.fix else None
        if not action or action[0] != "create_r2_bucket":
            continue
        args = finding.fix.action_args
        key = (args["name"], args.get("jurisdiction"))
        if key in done:
            continue
        done.add(key)
        prompt = f"Create R2 bucket '{args['name']}'" + (f" in jurisdiction {args['jurisdiction']}" if args.get("jurisdiction") else "") \
            + f" in account {online.account_id}?"
        if confirm is None or not confirm(prompt):
            messages.append(f"not created: R2 bucket '{args['name']}'")
            continue
        extra = {"cf_r2_jurisdiction": args["jurisdiction"]} if args.get("jurisdiction") else {}
        try:
            call(online.client.r2.buckets.create, account_id=online.account_id, name=args["name"], **extra)
        except ApiError as error:
            messages.append(f"could not create R2 bucket '{args['name']}': {error}")
            continue
        created.append(args["name"])
        messages.append(f"created R2 bucket '{args['name']}'")
    return created
