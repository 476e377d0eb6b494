"""``faultbook run`` and ``faultbook deployments`` as real processes, including a faultbook killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def cli(tmp_path, db_url, project):
    folder = tmp_path / "proj"
    folder.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": SRC,
        "FAULTBOOK_DATABASE_URL": db_url,
        "FAULTBOOK_PROJECT": project.key,
    }

    def run(*args, **kwargs):
        return subprocess.run(
            [sys.executable, "-m", "faultbook", *args], cwd=folder, env=env, capture_output=True, timeout=120, **kwargs
        )

    run.env = env
    run.cwd = folder
    return run


def test_run_exits_with_the_commands_code_and_keeps_streams_apart(cli):
    done = cli("run", "--", sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(7)")
    assert done.returncode == 7
    assert done.stdout == b"out\n"
    assert done.stderr.startswith(b"err\n")
    assert b"faultbook: recorded failure #1: err" in done.stderr


def test_options_after_the_command_belong_to_the_command(cli):
    done = cli("run", sys.executable, "-c", "import sys; print(sys.argv[1:])", "--env", "staging")
    assert done.returncode == 0
    assert done.stdout == b"['--env', 'staging']\n"


def test_run_without_a_command_is_a_usage_error(cli):
    done = cli("run")
    assert done.returncode == 2
    assert b"no command to run" in done.stderr and b"Traceback" not in done.stderr


def test_killed_faultbook_leaves_an_interrupted_deployment_that_the_next_command_reports(cli):
    proc = subprocess.Popen(
        [sys.executable, "-m", "faultbook", "run", "--", sys.executable, "-c",
         "import time; print('started', flush=True); time.sleep(120)"],
        cwd=cli.cwd,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout.readline() == b"started\n"
        running = json.loads(cli("deployments", "--json").stdout)
        assert [d["outcome"] for d in running] == ["running"]  # faultbook is alive: not reaped
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the orphaned child too
        proc.communicate()
    listed = cli("deployments", "--json")
    assert b"was interrupted" in listed.stderr
    (item,) = json.loads(listed.stdout)
    assert item["outcome"] == "interrupted"
    again = cli("deployments", "--json")
    assert b"interrupted" not in again.stderr  # said once, by the next command
