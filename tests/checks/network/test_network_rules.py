"""Network rules FB501–FB506 against servers on 127.0.0.1: a DNS responder for the *.quoteviral.test names,
HTTPS servers with trustme certificates (right name, wrong name, expiring), an HTTP server with CORS answers
right and wrong, smoke endpoints returning 200/500.  Each test asserts the exact set of (rule, file, line)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from faultbook.checks.base import Severity
from faultbook.checks.runner import run
from faultbook.cli.check_cmd import check_command
from faultbook.cloudflare.config import load_config
from faultbook.errors import InputError
from faultbook.netprobe.targets import load_network_settings
from netfixtures import issue

ZONE = {
    "api.quoteviral.test": [("A", "104.16.0.10")],  # proxied by Cloudflare
    "old.quoteviral.test": [("A", "192.0.2.10")],  # grey cloud: the route never runs
    "soon.quoteviral.test": [("A", "104.16.0.11")],
    "www.quoteviral.test": [("CNAME", "quoteviral.pages.test")],
    "quoteviral.pages.test": [("A", "127.0.0.1")],
    "smoke.quoteviral.test": [("A", "127.0.0.1")],
    "cors.quoteviral.test": [("A", "127.0.0.1")],
    "broken.quoteviral.test": "SERVFAIL",
}

WRANGLER = """\
name = "quoteviral-api"
main = "src/index.js"
compatibility_date = "2025-08-15"
routes = [
  "api.quoteviral.test/*",
  "old.quoteviral.test/*",
  { pattern = "soon.quoteviral.test/*", zone_name = "quoteviral.test" },
  "missing.quoteviral.test/*",
  { pattern = "new.quoteviral.test", custom_domain = true },
  "*.quoteviral.test/*",
]

[env.staging]
route = { pattern = "staging.quoteviral.test/*", zone_name = "quoteviral.test" }
"""

FAULTBOOK = """\
project = "quoteviral"

[network]
resolver = "{dns}"
timeout = 3
tls_min_days = 14
cafile = "{cafile}"
origin = "https://quoteviral.test"

[network.connect_to]
"api.quoteviral.test:443" = "127.0.0.1:{good}"
"old.quoteviral.test:443" = "127.0.0.1:{wrong}"
"soon.quoteviral.test:443" = "127.0.0.1:{soon}"

[[network.dns]]
host = "www.quoteviral.test"
expect_cname = "quoteviral.pages.test"

[[network.dns]]
host = "www.quoteviral.test"
expect_cname = "other.pages.test"

[[network.dns]]
host = "gone.quoteviral.test"

[[network.dns]]
host = "smoke.quoteviral.test"
expect_a = ["127.0.0.1"]

[[network.dns]]
host = "smoke.quoteviral.test"
expect_proxied = true

[[network.dns]]
host = "broken.quoteviral.test"

[[network.cors]]
url = "http://cors.quoteviral.test:{http}/templates/x"
method = "PUT"
headers = ["Content-Type"]

[[network.cors]]
url = "http://cors.quoteviral.test:{http}/legacy"
origin = "https://quoteviral.test"

[[smoke]]
url = "https://smoke.quoteviral.test:{smoke}/health"
expect_status = 200
expect_body = '"ok":true'

[[smoke]]
url = "https://smoke.quoteviral.test:{smoke}/broken"
expect_status = 200

[[smoke]]
url = "https://smoke.quoteviral.test:{smoke}/health"
expect_body_regex = '"version":"2\\.'

[[smoke]]
url = "http://127.0.0.1:{closed}/health"

[[smoke]]
url = "https://nowhere.quoteviral.test/health"
"""

CORS_OK = {"Access-Control-Allow-Origin": "https://quoteviral.test", "Access-Control-Allow-Methods": "GET, PUT",
           "Access-Control-Allow-Headers": "content-type"}


@pytest.fixture
def project(tmp_path: Path, ca, ca_file, dns_responder, web_server) -> Path:
    dns = dns_responder(ZONE)
    good = web_server(cert=issue(ca, "api.quoteviral.test", days=90))
    wrong = web_server(cert=issue(ca, "elsewhere.quoteviral.test", days=90))
    soon = web_server(cert=issue(ca, "soon.quoteviral.test", days=3.5))
    smoke = web_server({
        ("GET", "/health"): (200, {}, '{"ok":true,"version":"1.4.0"}'),
        ("GET", "/broken"): (500, {}, "error code: 1101"),
    }, cert=issue(ca, "smoke.quoteviral.test", days=90))
    http = web_server({
        ("OPTIONS", "/templates/x"): (204, CORS_OK, ""),
        ("OPTIONS", "/legacy"): (405, {}, "Method Not Allowed"),
    })
    closed = web_server()
    closed_port = closed.port
    closed.close()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text("export default {}\n")
    (tmp_path / "wrangler.toml").write_text(WRANGLER)
    (tmp_path / "faultbook.toml").write_text(FAULTBOOK.format(
        dns=dns.address, cafile=ca_file, good=good.port, wrong=wrong.port, soon=soon.port, smoke=smoke.port,
        http=http.port, closed=closed_port,
    ))
    return tmp_path


EXPECTED = {
    # wrangler.toml: routes
    ("FB502", "wrangler.toml", 6),  # old.* resolves to 192.0.2.10, not Cloudflare
    ("FB503", "wrangler.toml", 6),  # and serves a certificate for another name
    ("FB504", "wrangler.toml", 7),  # soon.* expires in 3 days
    ("FB501", "wrangler.toml", 8),  # missing.* NXDOMAIN (new.* is a custom domain: wrangler creates it)
    ("FB501", "wrangler.toml", 14),  # [env.staging] route
    # FB222: wrangler 4.86 deploys [env.staging] with the inherited top-level `routes`, not its own `route`
    ("FB222", "wrangler.toml", 14),
    # faultbook.toml
    ("FB502", "faultbook.toml", 19),  # www → quoteviral.pages.test, not other.pages.test
    ("FB501", "faultbook.toml", 23),  # gone.* NXDOMAIN
    ("FB502", "faultbook.toml", 30),  # smoke.* is not proxied
    ("FB501", "faultbook.toml", 34),  # SERVFAIL
    ("FB505", "faultbook.toml", 42),  # /legacy answers the preflight with 405
    ("FB506", "faultbook.toml", 51),  # /broken → 500
    ("FB506", "faultbook.toml", 55),  # body does not match the regex
    ("FB506", "faultbook.toml", 59),  # nothing listening
    ("FB506", "faultbook.toml", 62),  # NXDOMAIN
}


def _check(project: Path, **kwargs):
    config = load_config(project)
    return run(config, network=True, network_settings=load_network_settings(project / "faultbook.toml"), **kwargs)


def test_every_network_rule_finds_exactly_its_problems(project: Path) -> None:
    report = _check(project)
    found = {(f.rule_id, Path(f.path).name, f.line) for f in report.findings}
    assert found == EXPECTED, "\n".join(f"{f.rule_id} {Path(f.path).name}:{f.line} {f.summary}" for f in report.findings)
    assert set(report.files) == {str(project / "wrangler.toml"), str(project / "faultbook.toml")}


def test_messages_echo_the_seed_and_name_the_cause(project: Path) -> None:
    by_key = {(f.rule_id, Path(f.path).name, f.line): f for f in _check(project).findings}
    assert by_key[("FB501", "wrangler.toml", 8)].summary == (
        "DNS resolution failed: missing.quoteviral.test does not exist (NXDOMAIN) — the route "
        "missing.quoteviral.test/* gets no traffic")
    assert by_key[("FB501", "wrangler.toml", 14)].env == "staging"
    assert by_key[("FB502", "wrangler.toml", 6)].summary.startswith(
        "Domain not pointing to correct target: old.quoteviral.test resolves to 192.0.2.10, not to Cloudflare")
    assert by_key[("FB502", "faultbook.toml", 19)].summary == (
        "Domain not pointing to correct target: www.quoteviral.test → quoteviral.pages.test, "
        "expected CNAME other.pages.test")
    assert by_key[("FB503", "wrangler.toml", 6)].summary == (
        "SSL certificate provisioning failed: the certificate is not valid for old.quoteviral.test "
        "(it covers elsewhere.quoteviral.test)")
    expiring = by_key[("FB504", "wrangler.toml", 7)]
    assert expiring.severity == Severity.WARNING
    assert expiring.summary.startswith("the TLS certificate for soon.quoteviral.test expires in 3 days (")
    assert by_key[("FB505", "faultbook.toml", 42)].summary.startswith(
        "CORS policy blocked: Access to fetch at 'http://cors.quoteviral.test:")
    assert by_key[("FB505", "faultbook.toml", 42)].summary.endswith("It does not have HTTP ok status (405)")
    assert by_key[("FB506", "faultbook.toml", 51)].summary.endswith("/broken — status 500, expected 200")
    assert by_key[("FB506", "faultbook.toml", 62)].summary == (
        "API endpoints not accessible: GET https://nowhere.quoteviral.test/health — DNS resolution failed: "
        "nowhere.quoteviral.test does not exist (NXDOMAIN)")


def test_an_environment_sees_its_own_route_and_the_inherited_ones(project: Path) -> None:
    found = {(f.rule_id, f.line) for f in _check(project, env="staging", selected=["FB501"]).findings}
    assert found == {("FB501", 8), ("FB501", 14), ("FB501", 23), ("FB501", 34)}


def test_network_rules_only_run_with_network(project: Path) -> None:
    report = run(load_config(project), network=False,
                 network_settings=load_network_settings(project / "faultbook.toml"))
    assert not [r for r in report.rules_run if r.startswith("FB5")]


def test_tls_min_days_threshold(project: Path) -> None:
    text = (project / "faultbook.toml").read_text().replace("tls_min_days = 14", "tls_min_days = 2")
    (project / "faultbook.toml").write_text(text)
    assert [f for f in _check(project, selected=["FB504"]).findings] == []


def test_check_command_end_to_end(project: Path) -> None:
    stdout, stderr, code = check_command(str(project), offline=True, network=True, output_format="json",
                                         checklist=True)
    diagnostics = json.loads(stdout)["diagnostics"]
    network = {(d["rule"], Path(d["range"]["filename"]).name, d["range"]["start"]["line"]) for d in diagnostics
               if d["rule"].startswith("FB5")}
    assert network == {e for e in EXPECTED if e[0].startswith("FB5")}
    assert code == 1
    assert " 8. [FAIL] Test all API endpoints after deployment" in stderr
    # The same project without --network probes nothing.
    stdout, _, _ = check_command(str(project), offline=True, output_format="json")
    assert not [d for d in json.loads(stdout)["diagnostics"] if d["rule"].startswith("FB5")]


def test_clean_network_config_passes_and_says_so_in_text(tmp_path: Path, ca, ca_file, dns_responder, web_server) -> None:
    dns = dns_responder({"api.quoteviral.test": [("A", "104.16.0.10")]})
    server = web_server({("GET", "/health"): (200, {}, '{"ok":true}')}, cert=issue(ca, "api.quoteviral.test"))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text("export default {}\n")
    (tmp_path / "wrangler.toml").write_text(
        'name = "api"\nmain = "src/index.js"\ncompatibility_date = "2025-08-15"\nroute = "api.quoteviral.test/*"\n')
    (tmp_path / "faultbook.toml").write_text(textwrap.dedent(f"""\
        [network]
        resolver = "{dns.address}"
        cafile = "{ca_file}"
        [network.connect_to]
        "api.quoteviral.test:443" = "127.0.0.1:{server.port}"
        [[smoke]]
        url = "https://api.quoteviral.test/health"
        expect_status = 200
        expect_body = '"ok":true'
        """))
    stdout, stderr, code = check_command(str(tmp_path), offline=True, network=True, checklist=True)
    assert code == 0 and "No problems found in 1 file." in stdout, stdout
    assert " 8. [PASS] Test all API endpoints after deployment" in stdout
    assert server.requests[-1][:2] == ("GET", "/health")
    assert server.requests[-1][2]["Host"] == "api.quoteviral.test"


def test_nothing_to_probe_is_said(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text("export default {}\n")
    (tmp_path / "wrangler.toml").write_text('name = "api"\nmain = "src/index.js"\ncompatibility_date = "2025-08-15"\n')
    _, stderr, code = check_command(str(tmp_path), offline=True, network=True, checklist=True)
    assert "network checks: nothing to probe" in stderr
    assert code == 0


@pytest.mark.parametrize(
    "toml, line, message",
    [
        ("[[smoke]]\nexpect_status = 200\n", 1, "smoke needs 'url'"),
        ('[[smoke]]\nurl = "ftp://x/y"\n', 2, "'smoke.url' must be an http:// or https:// URL"),
        ('[[smoke]]\nurl = "https://x.test/"\nexpect_status = "200"\n', 3, "'smoke.expect_status' must be an HTTP status"),
        ('[[smoke]]\nurl = "https://x.test/"\nexpect_body = "a"\nexpect_body_regex = "b"\n', 1, "not both"),
        ('[network]\nresolver = "127.0.0.1:dns"\n', 2, "'network.resolver' must be HOST or HOST:PORT"),
        ('[network]\ntls_min_days = "soon"\n', 2, "'network.tls_min_days' must be a non-negative number"),
        ('[[network.cors]]\nurl = "https://api.x.test/"\n', 1, "[[network.cors]] needs 'origin'"),
        ('[[network.dns]]\nhost = ""\n', 2, "'network.dns.host' must be a non-empty string"),
    ],
)
def test_bad_settings_name_faultbook_toml_and_line(tmp_path: Path, toml: str, line: int, message: str) -> None:
    path = tmp_path / "faultbook.toml"
    path.write_text(toml)
    with pytest.raises(InputError) as caught:
        load_network_settings(path)
    assert caught.value.path == str(path) and caught.value.line == line
    assert message in str(caught.value)


def test_bad_settings_through_the_cli_exit_2(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text('name = "api"\n')
    (tmp_path / "faultbook.toml").write_text('[[smoke]]\nurl = "nope"\n')
    _, stderr, code = check_command(str(tmp_path), offline=True, network=True)
    assert code == 2 and "faultbook.toml:2" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize(
    "pattern, host",
    [
        ("api.quoteviral.com/*", "api.quoteviral.com"),
        ("https://API.quoteviral.com/v1/*", "api.quoteviral.com"),
        ("*quoteviral.com/*", "quoteviral.com"),
        ("*.quoteviral.com/*", None),
        ("api.quoteviral.com:8443/x", "api.quoteviral.com"),
        ("quoteviral.com", "quoteviral.com"),
        ("localhost/*", None),
    ],
)
def test_host_of_route_pattern(pattern: str, host: str | None) -> None:
    from faultbook.checks.rules.network import host_of_pattern

    assert host_of_pattern(pattern) == host



def test_run_smoke_is_what_rollback_verification_calls(project: Path) -> None:
    from faultbook.netprobe.targets import run_smoke

    settings = load_network_settings(project / "faultbook.toml")
    problems = [run_smoke(entry, settings).problem for entry in settings.smoke]
    assert problems[0] is None and problems[1] == "status 500, expected 200"
    assert problems[4] == "no response: DNS resolution failed: nowhere.quoteviral.test does not exist (NXDOMAIN)"
