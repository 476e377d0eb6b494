"""A CI pipeline's view: `faultbook run --server URL` reports each deploy to a real `faultbook serve`.

Real processes throughout: the team server (uvicorn) on 127.0.0.1, the pipeline's faultbook with its own local
ledger. While the server is down, reports wait in .faultbook/outbox; the next run sends them, without duplicates.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT

FAILING = [sys.executable, "-c", "import sys; sys.stderr.write('✘ [ERROR] Queue \\'jobs\\' not found. [code: 11000]\\n'); sys.exit(1)"]
PASSING = [sys.executable, "-c", "print('deployed')"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fb(args, *, cwd, env, timeout=120):
    return subprocess.run([sys.executable, "-m", "faultbook", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


class Server:
    def __init__(self, folder, env, port):
        self.folder, self.env, self.port, self.proc = folder, env, port, None
        self.url = f"http://127.0.0.1:{port}"

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "faultbook", "serve", "--port", str(self.port)],
                                     cwd=self.folder, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/v1/health", timeout=1)
                return
            except OSError:
                assert self.proc.poll() is None, self.proc.stderr.read().decode()
                time.sleep(0.2)
        raise AssertionError("faultbook serve did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def get(self, path, token):
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


@pytest.fixture
def team(tmp_path, db_url, project):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FAULTBOOK_", "CLOUDFLARE_"))}
    base["PYTHONPATH"] = str(ROOT / "src")
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    server_env = {**base, "FAULTBOOK_DATABASE_URL": db_url, "FAULTBOOK_PROJECT": project.key}
    created = fb(["token", "create", "--role", "writer", "--name", "ci", "--json"], cwd=server_dir, env=server_env)
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)["token"]
    server = Server(server_dir, server_env, free_port())
    pipeline = tmp_path / "pipeline"
    pipeline.mkdir()
    (pipeline / "faultbook.toml").write_text(f'project = "{project.key}"\n', encoding="utf-8")
    pipeline_env = {**base, "FAULTBOOK_SERVER_URL": server.url, "FAULTBOOK_SERVER_TOKEN": token}
    yield server, token, pipeline, pipeline_env
    server.stop()


def test_runs_report_to_the_server_and_queue_while_it_is_down(team):
    server, token, pipeline, env = team
    server.start()
    proc = fb(["run", "--", *FAILING], cwd=pipeline, env=env)
    assert proc.returncode == 1
    assert "reported to the team server" in proc.stderr
    assert token not in proc.stderr + proc.stdout
    failures = server.get("/api/v1/failures", token)
    items = failures["items"] if isinstance(failures, dict) else failures
    assert [f["error_message"] for f in items] == ["Queue 'jobs' not found. [code: 11000]"]

    server.stop()
    proc = fb(["run", "--", *PASSING], cwd=pipeline, env=env)
    assert proc.returncode == 0  # a server that is down never changes the exit code
    assert "queued" in proc.stderr
    assert len(list((pipeline / ".faultbook" / "outbox").glob("*.json"))) == 1

    server.start()
    proc = fb(["run", "--", *FAILING], cwd=pipeline, env=env)
    assert proc.returncode == 1
    deployments = server.get("/api/v1/deployments", token)
    rows = deployments["items"] if isinstance(deployments, dict) else deployments
    assert sorted(d["outcome"] for d in rows) == ["failed", "failed", "succeeded"]
    assert len({d["key"] for d in rows}) == 3
    items = server.get("/api/v1/failures", token)
    items = items["items"] if isinstance(items, dict) else items
    assert len(items) == 1  # the same failure twice is one failure on the server too
    assert list((pipeline / ".faultbook" / "outbox").glob("*.json")) == []
