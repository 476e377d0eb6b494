"""Online rules about what a deploy would change (FB420-FB423), against the local API emulator (tests/cfapi):
required secrets per environment's Worker, dashboard variables a deploy wipes, custom domains and DNS records
taken over, routes owned by another Worker."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from faultbook.cli.check_cmd import check_command
from test_online import diagnostics, settings_for

TODAY = date(2026, 1, 1)


def write(project: Path, config: str, **files: str) -> Path:
    project.mkdir(parents=True, exist_ok=True)
    (project / "wrangler.toml").write_text(config)
    (project / "i.js").write_text("export default {}\n")
    for name, text in files.items():
        (project / name).write_text(text)
    return project


def found(cf_api, project: Path, rules: list[str]) -> list[tuple[str, int, str, str]]:
    stdout, _, _ = check_command(
        str(project), output_format="json", settings=settings_for(cf_api), today=TODAY, select=rules,
    )
    return sorted((d["rule"], d["range"]["start"]["line"], d["severity"], d["summary"]) for d in diagnostics(stdout))


HEAD = 'name = "shop"\nmain = "i.js"\ncompatibility_date = "2025-01-01"\n'


def test_required_secrets_are_checked_per_environment_worker(cf_api, tmp_path: Path) -> None:
    project = write(tmp_path / "p", HEAD + (
        '[secrets]\nrequired = ["STRIPE_KEY", "DB_URL"]\n'          # lines 4-5
        '[env.staging]\n[env.staging.secrets]\nrequired = ["STRIPE_KEY"]\n'  # lines 6-8
        '[env.preview]\n'                                           # no secrets.required: nothing enforced
    ))
    cf_api.state.add_version("shop")
    cf_api.state.set_secret("shop", "STRIPE_KEY", "sk_live_x")
    result = found(cf_api, project, ["FB420"])
    assert [(r, line, sev) for r, line, sev, _ in result] == [("FB420", 5, "error"), ("FB420", 8, "error")]
    assert "The following required secrets have not been set: DB_URL" in result[0][3]
    assert "shop-staging does not exist yet" in result[1][3] and "wrangler secret put STRIPE_KEY -e staging" in result[1][3]
    # Set them: nothing left.
    cf_api.state.set_secret("shop", "DB_URL", "postgres://x")
    cf_api.state.add_version("shop-staging")
    cf_api.state.set_secret("shop-staging", "STRIPE_KEY", "sk_test_x")
    assert found(cf_api, project, ["FB420"]) == []


def test_example_file_names_are_a_warning_and_vars_are_not_secrets(cf_api, tmp_path: Path) -> None:
    project = write(
        tmp_path / "p", HEAD + '[vars]\nPUBLIC_URL = "https://shop.example.com"\n',
        **{".dev.vars.example": "# copy to .dev.vars\nSTRIPE_KEY=sk_test_...\nexport SESSION_SECRET=\nPUBLIC_URL=http://localhost\n"},
    )
    cf_api.state.add_version("shop")
    cf_api.state.set_secret("shop", "STRIPE_KEY", "x")
    [(rule, line, severity, summary)] = found(cf_api, project, ["FB420"])
    assert (rule, line, severity) == ("FB420", 1, "warning")
    assert "SESSION_SECRET" in summary and "STRIPE_KEY" not in summary and "PUBLIC_URL" not in summary


def test_dashboard_vars_would_be_wiped_unless_keep_vars(cf_api, tmp_path: Path) -> None:
    config = HEAD + '[vars]\nSTAGE = "prod"\n'
    project = write(tmp_path / "p", config)
    cf_api.state.add_version("shop", bindings=[
        {"type": "plain_text", "name": "STAGE", "text": "prod"},
        {"type": "plain_text", "name": "FEATURE_FLAG", "text": "on"},
        {"type": "json", "name": "LIMITS", "json": {"rpm": 10}},
        {"type": "secret_text", "name": "TOKEN"},
    ])
    [(rule, line, severity, summary)] = found(cf_api, project, ["FB421"])
    assert (rule, line, severity) == ("FB421", 4, "warning")
    assert "FEATURE_FLAG, LIMITS" in summary and "TOKEN" not in summary and "STAGE" not in summary
    write(tmp_path / "p", "keep_vars = true\n" + config)
    assert found(cf_api, project, ["FB421"]) == []


def test_custom_domain_of_another_worker_and_dns_record_replaced(cf_api, tmp_path: Path) -> None:
    zone = cf_api.state.add_zone("example.com")
    cf_api.state.add_worker_domain("shop.example.com", service="shop", zone=zone)
    cf_api.state.add_dns_record(zone, type="CNAME", name="blog.example.com", content="blog.example.net")
    cf_api.state.add_dns_record(zone, type="TXT", name="api.example.com", content="v=spf1 -all")
    project = write(tmp_path / "p", HEAD + (
        'routes = [{ pattern = "shop.example.com", custom_domain = true }]\n'   # line 4: ours
        '[env.staging]\n'
        'routes = [\n'
        '  { pattern = "shop.example.com", custom_domain = true },\n'           # line 7: production's
        '  { pattern = "blog.example.com", custom_domain = true },\n'           # line 8: CNAME replaced
        '  { pattern = "api.example.com", custom_domain = true },\n'            # line 9: only a TXT record
        ']\n'
    ))
    result = found(cf_api, project, ["FB422"])
    assert [(r, line, sev) for r, line, sev, _ in result] == [("FB422", 7, "warning"), ("FB422", 8, "warning")]
    assert 'attached to Worker "shop": deploying shop-staging moves it' in result[0][3]
    assert "CNAME blog.example.net" in result[1][3]


def test_route_owned_by_another_worker_is_an_error(cf_api, tmp_path: Path) -> None:
    zone = cf_api.state.add_zone("example.com")
    cf_api.state.add_worker_route(zone, "example.com/*", script="shop")
    cf_api.state.add_worker_route(zone, "example.com/api/*", script="legacy-api")
    cf_api.state.add_worker_route(zone, "example.com/static/*", script=None)
    project = write(tmp_path / "p", HEAD + (
        'routes = ["example.com/*", "example.com/static/*"]\n'                              # line 4
        '[env.staging]\n'
        'routes = [{ pattern = "example.com/api/*", zone_name = "example.com" }, "unknown-zone.org/*"]\n'  # line 6
    ))
    [(rule, line, severity, summary)] = found(cf_api, project, ["FB423"])
    assert (rule, line, severity) == ("FB423", 6, "error")
    assert summary.startswith("Can't deploy routes that are assigned to another worker. \"legacy-api\"")
    # Each zone's routes are fetched once however many routes and environments use them.
    assert len(cf_api.calls("GET", "/workers/routes")) == 1


def test_online_target_rules_need_the_api(cf_api, tmp_path: Path) -> None:
    project = write(tmp_path / "p", HEAD + '[secrets]\nrequired = ["X"]\n')
    stdout, _, _ = check_command(
        str(project), output_format="json", offline=True, settings=settings_for(cf_api), today=TODAY,
        select=["FB420", "FB421", "FB422", "FB423"],
    )
    assert diagnostics(stdout) == [] and list(cf_api.requests) == []


def test_an_api_failure_is_a_could_not_check_warning_not_a_verdict(cf_api, tmp_path: Path) -> None:
    project = write(tmp_path / "p", HEAD + '[secrets]\nrequired = ["STRIPE_KEY"]\n')
    cf_api.state.add_version("shop")
    cf_api.state.inject_fault("/secrets", status=500)
    [(rule, line, severity, summary)] = found(cf_api, project, ["FB420"])
    assert (rule, line, severity) == ("FB420", 1, "warning")
    assert summary.startswith("could not check the secrets of Worker shop")


def test_fb423_and_fb222_agree_with_the_real_wrangler(cf_api, wrangler_bin, tmp_path: Path) -> None:
    """The pinned wrangler, against the same emulated account, refuses what FB423 reports, and deploys an env's
    own `route` as the top level's `routes` (what FB222 says)."""
    from cfapi.wrangler import run_wrangler

    zone = cf_api.state.add_zone("example.com")
    cf_api.state.add_worker_route(zone, "example.com/*", script="legacy-api")
    project = write(tmp_path / "p", HEAD + (
        'workers_dev = false\nroutes = ["example.com/*"]\n'
        '[env.staging]\nroute = { pattern = "staging.example.com/*", zone_name = "example.com" }\n'
    ))
    assert [(r, line) for r, line, _, _ in found(cf_api, project, ["FB423", "FB222"])] == [("FB222", 7), ("FB423", 5)]
    run = run_wrangler(wrangler_bin, "deploy", cwd=project, api=cf_api)
    assert run.returncode != 0
    assert "Can't deploy routes that are assigned to another worker." in run.text and '"legacy-api"' in run.text
    run = run_wrangler(wrangler_bin, "deploy", "-e", "staging", cwd=project, api=cf_api)
    assert "Can't deploy routes that are assigned to another worker." in run.text  # the inherited routes, not its own


def test_live_migration_tag_missing_from_the_config(cf_api, tmp_path: Path) -> None:
    project = write(tmp_path / "p", HEAD + (
        '[[durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\n'
        '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Room"]\n'           # line 7
        '[env.staging]\n[[env.staging.durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\n'
    ))
    cf_api.state.add_version("shop")
    cf_api.state.scripts["shop"].migration_tag = "v3"       # squashed since
    cf_api.state.add_version("shop-staging")
    cf_api.state.scripts["shop-staging"].migration_tag = "v1"
    [(rule, line, severity, summary)] = found(cf_api, project, ["FB424"])
    assert (rule, line, severity) == ("FB424", 7, "warning")
    assert summary.startswith('The published script shop has a migration tag "v3", which was not found in your wrangler.toml')
    assert len(cf_api.calls("GET", "/workers/scripts")) == 1


def test_fb424_is_the_warning_the_real_wrangler_prints(cf_api, wrangler_bin, tmp_path: Path) -> None:
    from cfapi.wrangler import run_wrangler

    project = write(tmp_path / "p", HEAD + (
        '[[durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\n'
        '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Room"]\n'
    ))
    (project / "i.js").write_text("export class Room {}\nexport default { fetch() { return new Response('ok') } }\n")
    cf_api.state.add_version("shop")
    cf_api.state.scripts["shop"].migration_tag = "v3"
    [(rule, _, _, summary)] = found(cf_api, project, ["FB424"])
    run = run_wrangler(wrangler_bin, "deploy", cwd=project, api=cf_api)
    # wrangler 4.86 prints it with a quote missing: `migration tag "v3, which was not found ...`
    assert 'The published script shop has a migration tag "v3, which was not found in your wrangler.toml' in run.text
    assert "Applying all available migrations to the script" in run.text
    assert summary.startswith('The published script shop has a migration tag "v3", which was not found in your wrangler.toml')
