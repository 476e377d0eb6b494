"""``faultbook check`` and ``faultbook rules``: argument translation only.

Each function takes already-parsed arguments and returns (stdout, stderr,
exit_code); the lead wires them into Typer.  Reports go to stdout, chatter to
stderr.  A config that does not parse is rendered as one finding (FB000) in the
requested format, with exit code 2 and no traceback.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterable, List, Optional

FORMATS = ("text", "json", "sarif", "github")


def _formatter(name: str) -> Callable[[Any], str]:
    if name == "json":
        from faultbook.reports import json as module
    elif name == "sarif":
        from faultbook.reports import sarif as module
    elif name == "github":
        from faultbook.reports import github as module
    else:
        from faultbook.reports import text as module
    return module.format


def _parse_error_report(error: Any) -> Any:
    from faultbook.checks.base import Finding, Report, Severity

    line, column = error.line or 1, error.column or 1
    finding = Finding(
        rule_id="FB000", severity=Severity.ERROR, summary=error.reason, detail="The config must parse before it can be checked.",
        path=error.path, line=line, column=column, end_line=line, end_column=column + 1, rule_name="config-parse-error",
    )
    return Report(findings=(finding,), files=(error.path,), rules_run=("FB000",))


def _parse_error_text(error: Any) -> str:
    from pathlib import Path

    out = f"{error.path}:{error.line}:{error.column or 1}: error FB000 config-parse-error: {error.reason}\n"
    try:
        source = Path(error.path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        source = []
    if error.line and 1 <= error.line <= len(source):
        from faultbook.reports.text import snippet

        out += "\n".join(snippet(error.line, source[error.line - 1], error.column or 1, (error.column or 1) + 1)) + "\n"
    return out


def check_command(
    path: str = ".",
    *,
    env: str | None = None,
    offline: bool = False,
    output_format: str = "text",
    fix: bool = False,
    create_missing: bool = False,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    fail_on: str = "error",
    checklist: bool = False,
    network: bool = False,
    confirm: Callable[[str], bool] | None = None,
    settings: Any = None,
    today: Any = None,
    http_client: Any = None,
    config_path: str | None = None,
) -> tuple[str, str, int]:
    from faultbook.errors import ExitCode, InputError
    from faultbook.services.check import run_check

    if output_format not in FORMATS:
        return "", f"error: --format must be one of {', '.join(FORMATS)}\n", int(ExitCode.USAGE)
    if create_missing and not fix:
        return "", "error: --create-missing only works together with --fix\n", int(ExitCode.USAGE)
    try:
        result = run_check(
            path=path, env=env, offline=offline, select=select, ignore=ignore, fail_on=fail_on, fix=fix,
            create_missing=create_missing, confirm=confirm, network=network, settings=settings, today=today,
            http_client=http_client, config_path=config_path,
        )
    except InputError as error:
        if error.path and error.line is not None:
            if output_format != "text":
                return _formatter(output_format)(_parse_error_report(error)), f"{error}\n", int(ExitCode.USAGE)
            return "", _parse_error_text(error), int(ExitCode.USAGE)
        return "", f"error: {error}\n", int(ExitCode.USAGE)
    stderr = "".join(f"{m}\n" for m in result.messages)
    stdout = _formatter(output_format)(result.report)
    if checklist:
        from faultbook.checks.checklist import checklist as build, format_checklist

        text = format_checklist(build(result.report))
        if output_format == "text":
            stdout += "\n" + text
        else:
            stderr += text
    return stdout, stderr, result.exit_code


def rules_command(rule_id: str | None = None) -> tuple[str, str, int]:
    from faultbook.checks.registry import all_rules, get_rule

    if rule_id is None:
        lines = [f"{r.id}  {r.name:<36} {r.severity.value:<8} {'(online) ' if r.online else ''}{r.summary()}" for r in all_rules()]
        return "\n".join(lines) + "\n", "", 0
    rule = get_rule(rule_id)
    if rule is None:
        return "", f"error: unknown rule {rule_id!r} (see `faultbook rules`)\n", 2
    header = f"{rule.id} {rule.name} ({rule.severity.value}{', online' if rule.online else ''})"
    return f"{header}\n\n{rule.explanation()}\n", "", 0


def register(app: Any, state: Any) -> None:
    """Typer wiring for ``check`` and ``rules`` (kept apart from the logic above, which tests call directly).
    typer is imported here, not at module level: ``check_command`` alone must start fast (benchmarks)."""
    import typer
    @app.command()
    def check(
        path: str = typer.Argument(".", help="Project folder (wrangler's lookup: it and its parents) or config file."),
        config_path: Optional[str] = typer.Option(
            None, "-c", "--config", help="The wrangler config file, as wrangler's -c/--config."
        ),
        env: Optional[str] = typer.Option(None, "--env", help="Check only this environment (default: all)."),
        offline: bool = typer.Option(False, "--offline", help="Skip the rules that call the Cloudflare API."),
        output_format: str = typer.Option("text", "--format", help="text, json, sarif or github."),
        fix: bool = typer.Option(False, "--fix", help="Apply the safe autofixes (layout and comments kept)."),
        create_missing: bool = typer.Option(
            False, "--create-missing", help="With --fix: create missing buckets after confirmation."
        ),
        select: Optional[List[str]] = typer.Option(None, "--select", help="Only these rule IDs or prefixes."),
        ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Skip these rule IDs or prefixes."),
        fail_on: str = typer.Option("error", "--fail-on", help="error or warning: the exit-1 threshold."),
        checklist: bool = typer.Option(False, "--checklist", help="Show the ten prevention practices and their state."),
        network: bool = typer.Option(False, "--network", help="Also run the DNS/TLS/CORS/smoke rules (FB5xx)."),
    ) -> None:
        """Find before deploying what would make the deploy fail (exit 0 clean, 1 findings, 2 usage/parse error)."""

        def confirm(question: str) -> bool:
            if not sys.stdin.isatty():
                return False
            return typer.confirm(question, default=False)

        from pathlib import Path

        from faultbook.config import load_settings

        # The checked project's own faultbook.toml ([check] select/ignore) and the environment (API token).
        target = Path(config_path or path)
        settings = load_settings(cwd=target if target.is_dir() else target.parent, project=state.project)
        out, err, code = check_command(
            path,
            settings=settings,
            env=env,
            offline=offline,
            output_format=output_format,
            fix=fix,
            create_missing=create_missing,
            select=_split_ids(select),
            ignore=_split_ids(ignore),
            fail_on=fail_on,
            checklist=checklist,
            network=network,
            confirm=confirm,
            config_path=config_path,
        )
        sys.stdout.write(out)
        sys.stderr.write(err)
        raise typer.Exit(code)

    @app.command()
    def rules(rule_id: Optional[str] = typer.Argument(None, help="A rule ID (FB101) or name.")) -> None:
        """List the preflight rules, or explain one with its fix."""
        out, err, code = rules_command(rule_id)
        sys.stdout.write(out)
        sys.stderr.write(err)
        raise typer.Exit(code)


def _split_ids(values: Iterable[str] | None) -> tuple[str, ...]:
    """`--select FB1,FB2 --select FB3` → ("FB1", "FB2", "FB3")."""
    return tuple(part.strip() for value in values or () for part in value.split(",") if part.strip())
