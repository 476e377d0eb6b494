"""`faultbook run` and the kind of what it wraps: --kind, command not found (exit 127), and what a
successful deploy may have fixed — as real processes, on both backends."""

from __future__ import annotations

import json
import sys

from test_run_cli import cli  # noqa: F401 (the fixture)


def test_a_command_that_is_not_found_files_no_failure(cli):  # noqa: F811
    done = cli("run", "--", "wrangelr-no-such-command", "deploy")
    assert done.returncode == 127
    assert b"command not found (exit 127)" in done.stderr and b"no failure was filed" in done.stderr
    assert json.loads(cli("list", "--json").stdout) == []
    (deployment,) = json.loads(cli("deployments", "--json").stdout)
    assert (deployment["outcome"], deployment["exit_code"], deployment["kind"]) == ("failed", 127, "other")


def test_kind_is_classified_and_can_be_overridden(cli):  # noqa: F811
    assert cli("run", "--", sys.executable, "-c", "pass").returncode == 0
    assert cli("run", "--kind", "provision", "--", sys.executable, "-c", "pass").returncode == 0
    bad = cli("run", "--kind", "release", "--", sys.executable, "-c", "pass")
    assert bad.returncode != 0 and b"--kind must be one of deploy, provision, other" in bad.stderr
    kinds = [d["kind"] for d in json.loads(cli("deployments", "--json").stdout)]
    assert kinds == ["provision", "other"]
    only = json.loads(cli("deployments", "--json", "--kind", "provision").stdout)
    assert [d["kind"] for d in only] == ["provision"]


def test_a_successful_deploy_names_the_open_failures_it_may_have_fixed(cli):  # noqa: F811
    failing = cli("run", "--kind", "deploy", "--component", "Backend", "--", sys.executable, "-c",
                  "import sys; print('✘ [ERROR] KV namespace CACHE not found [code: 10041]', file=sys.stderr); "
                  "sys.exit(1)")
    assert failing.returncode == 1
    fixed = cli("run", "--kind", "deploy", "--component", "Backend", "--", sys.executable, "-c", "pass")
    assert fixed.returncode == 0
    assert b"this deploy may have fixed 1 open failure of this component" in fixed.stderr
    assert b"faultbook update 1 --status resolved" in fixed.stderr
    # Not a terminal: nothing is resolved without being asked.
    assert json.loads(cli("list", "--json").stdout)[0]["status"] == "open"
    # A provisioning step fixes nothing.
    other = cli("run", "--kind", "provision", "--component", "Backend", "--", sys.executable, "-c", "pass")
    assert b"may have fixed" not in other.stderr
