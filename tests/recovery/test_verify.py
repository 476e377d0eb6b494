"""Verification after a rollback and `run --rollback-on-failure`, against a local HTTP server."""

from __future__ import annotations

import pytest

from faultbook.errors import InputError
from faultbook.services import health, recovery

from recovery.helpers import WORKER

SEED_ERROR = "binding IMAGES has an unknown type Images [code: 10021]"


def health_toml(server, *, smoke_status=200):
    server.answers["/health"] = (200, b'{"ok":true}')
    server.answers["/"] = (smoke_status, b"<html>QuoteViral</html>")
    return (
        f'[checks.health]\nurl = "{server.url("/health")}"\nexpect_body = \'"ok":true\'\n\n'
        f'[[smoke]]\nurl = "{server.url("/")}"\nexpect_status = 200\n'
    )


def test_rollback_verified_yes(qv, cf_api, worker_history, health_server):
    qv.write_toml(health_toml(health_server))
    number = qv.record_failed_deploy()
    report = qv.rollback(failure_number=number)
    assert report.verification.ok is True
    assert "; verified: yes (2 of 2 checks passed)." in qv.timeline(number)[-1].description
    assert qv.snapshots()[0].verified is True


def test_rollback_verified_no_is_recorded_with_the_failing_check(qv, cf_api, worker_history, health_server):
    qv.write_toml(health_toml(health_server, smoke_status=502))
    number = qv.record_failed_deploy()
    report = qv.rollback(failure_number=number)
    assert report.rolled_back and report.verification.ok is False
    event = qv.timeline(number)[-1].description
    assert "; verified: no (1 of 2 checks failed)." in event
    assert f"The checks still fail after the rollback: GET {health_server.url('/')}: FAILED (status 502, expected 200)" \
        in event
    assert qv.snapshots()[0].verified is False


def test_health_check_results(qv, health_server):
    health_server.answers["/health"] = (200, b'{"ok":false}')
    qv.write_toml(
        f'[checks.health]\nurl = "{health_server.url("/health")}"\nexpect_body_regex = \'"ok":\\s*true\'\n\n'
        f'[[smoke]]\nurl = "{health_server.url("/missing")}"\n\n'
        '[[smoke]]\nurl = "http://127.0.0.1:9/"\n'
    )
    results = health.run_health_checks(qv.settings())
    assert [(r.check.name, r.ok, r.status) for r in results] == [
        ("checks.health", False, 200), ("smoke[0]", False, 404), ("smoke[1]", False, None)]
    # netprobe's wording (the same as FB506's): the expectation, then how the body starts
    assert results[0].problem == "the body does not match '\"ok\":\\\\s*true' (it starts '{\"ok\":false}')"
    assert results[1].problem == "status 404"
    assert results[2].problem.startswith("no response: ")


def test_bad_health_config_is_an_input_error(qv):
    """[[smoke]] is parsed by netprobe.targets, as for FB506: the same message, with file and line."""
    qv.write_toml('[[smoke]]\nurl = "ftp://x"\n')
    with pytest.raises(InputError, match=r"'smoke.url' must be an http:// or https:// URL, not 'ftp://x'") as caught:
        health.load_health_checks(qv.settings())
    assert caught.value.path.endswith("faultbook.toml") and caught.value.line is not None


def test_checks_health_takes_the_smoke_keys_and_their_checks(qv):
    qv.write_toml('[checks.health]\nurl = "https://x.test/health"\nexpect_status = "200"\n')
    with pytest.raises(InputError, match=r"'checks.health.expect_status' must be an HTTP status") as caught:
        health.load_health_checks(qv.settings())
    assert caught.value.line is not None


def test_verification_reads_smoke_as_the_network_rules_do(qv, health_server):
    """[network.connect_to] and timeout apply, a redirect is the answer (not followed), bodies match as written."""
    port = health_server.server_address[1]
    health_server.answers["/health"] = (200, b'{"ok": true}')
    health_server.answers["/old"] = (301, b"")
    qv.write_toml(
        f'[network]\ntimeout = 2\n[network.connect_to]\n"api.quoteviral.test:80" = "127.0.0.1:{port}"\n\n'
        '[checks.health]\nurl = "http://api.quoteviral.test/health"\nexpect_body = \'"ok": true\'\n\n'
        '[[smoke]]\nurl = "http://api.quoteviral.test/old"\n\n'
        '[[smoke]]\nurl = "http://api.quoteviral.test/old"\nexpect_status = 200\n\n'
        '[[smoke]]\nurl = "http://api.quoteviral.test/health"\nexpect_body = " true} "\n'
    )
    results = health.run_health_checks(qv.settings())
    assert [(r.ok, r.status, r.problem) for r in results] == [
        (True, 200, None),
        (True, 301, None),
        (False, 301, "status 301, expected 200"),
        (False, 200, "the body does not contain ' true} ' (it starts '{\"ok\": true}')"),
    ]


def test_an_httpx_transport_can_answer_instead_of_the_network(qv):
    import httpx

    qv.write_toml('[checks.health]\nurl = "https://api.quoteviral.test/health"\nexpect_status = 204\n')
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="down"))
    [result] = health.run_health_checks(qv.settings(), transport=transport)
    assert (result.ok, result.status, result.problem) == (False, 503, "status 503, expected 204")


def auto(qv, **kwargs):
    return recovery.rollback_on_failure(database=qv.database, settings=qv.settings(), project=qv.project,
                                        actor="ci", **kwargs)


def test_on_failure_without_checks_does_not_roll_back(qv, cf_api, worker_history):
    result = auto(qv)
    assert result.live_ok is None and not result.rolled_back
    assert "cannot tell whether the live service is broken" in result.reason
    assert cf_api.calls("POST") == []


def test_on_failure_with_a_healthy_service_does_not_roll_back(qv, cf_api, worker_history, health_server):
    qv.write_toml(health_toml(health_server))
    result = auto(qv)
    assert result.live_ok is True and not result.rolled_back
    assert cf_api.calls("POST") == []


def test_on_failure_with_a_broken_service_rolls_back(qv, cf_api, worker_history, health_server):
    _, v2, _ = worker_history
    qv.write_toml(health_toml(health_server, smoke_status=500))
    number = qv.record_failed_deploy()
    result = auto(qv, failure_number=number, component="Backend")
    assert result.live_ok is False and result.rolled_back
    assert cf_api.state.scripts[WORKER].active_deployment.versions == [{"version_id": v2.id, "percentage": 100}]
    assert [f.source for f in qv.followups()] == ["rollback-on-failure"]
    assert qv.timeline(number)[-1].actor == "ci"


@pytest.mark.parametrize("configured, forced", [(False, False), (True, True)])
def test_on_failure_forces_past_changed_secrets_only_when_configured(qv, cf_api, health_server, configured, forced):
    cf_api.state.add_version(WORKER)
    cf_api.state.add_version(WORKER)
    cf_api.state.set_secret(WORKER, "API_KEY", "rotated-value")
    toml = health_toml(health_server, smoke_status=500)
    if configured:
        toml = "[rollback]\nforce_on_changed_secrets = true\n\n" + toml
    qv.write_toml(toml)
    result = auto(qv)
    assert result.rolled_back is forced
    posts = cf_api.calls("POST", "/deployments")
    assert [p.query for p in posts] == ([{}, {"force": ["true"]}] if forced else [{}])


def test_on_failure_never_raises(qv, cf_api, health_server):
    qv.write_toml(health_toml(health_server, smoke_status=500))
    result = auto(qv)  # the Worker does not exist: nothing to roll back
    assert not result.rolled_back
    assert result.reason.startswith("the live service fails its checks, but ")
    assert "[code: 10007]" in result.reason


def test_run_rollback_on_failure_from_the_cli(qv, cf_api, worker_history, health_server):
    """`faultbook run --rollback-on-failure -- <failing deploy>` with a broken live service rolls back by itself."""
    import subprocess
    import sys

    from conftest import ROOT

    _, v2, _ = worker_history
    qv.write_toml(health_toml(health_server, smoke_status=500))
    env = {**cf_api.emulator.env(), "PYTHONPATH": str(ROOT / "src")}
    env.pop("FAULTBOOK_DATABASE_URL", None)
    failing = [sys.executable, "-c", f"import sys; sys.stderr.write('✘ [ERROR] {SEED_ERROR}\\n'); sys.exit(1)"]
    proc = subprocess.run(
        [sys.executable, "-m", "faultbook", "run", "--component", "Backend", "--rollback-on-failure", "--", *failing],
        cwd=qv.root, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1, proc.stderr  # the deploy's own exit code stands
    assert "ROLLED BACK" in proc.stderr
    assert cf_api.state.scripts[WORKER].active_deployment.versions == [{"version_id": v2.id, "percentage": 100}]
    assert [f.source for f in qv.followups()] == ["rollback-on-failure"]

