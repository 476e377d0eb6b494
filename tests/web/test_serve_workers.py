"""``faultbook serve --workers 2``: both workers get connections, reports arrive, it stops cleanly."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from faultbook.server import PortInUse, _check_free, reuseport_socket

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT (Linux)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_port_held_by_another_server_is_refused() -> None:
    with socket.socket() as plain:
        plain.bind(("127.0.0.1", 0))
        plain.listen()
        with pytest.raises(PortInUse, match=str(plain.getsockname()[1])):
            _check_free("127.0.0.1", plain.getsockname()[1])


def test_workers_share_the_port() -> None:
    port = free_port()
    a, b = reuseport_socket("127.0.0.1", port), reuseport_socket("127.0.0.1", port)
    try:
        assert a.getsockname()[1] == b.getsockname()[1] == port
    finally:
        a.close()
        b.close()


def established_inodes(port: int) -> set[str]:
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if int(local.split(":")[1], 16) == port and state == "01":
            inodes.add(inode)
    return inodes


def socket_inodes(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


def children(pid: int) -> list[int]:
    """The worker processes (multiprocessing also starts a resource tracker: not a worker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                found.append(int(child))
    return found


@pytest.fixture
def server(tmp_path):  # type: ignore[no-untyped-def]
    from faultbook.services import tokens
    from faultbook.store.db import Database

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    db = Database(url)
    with db.session(write=True) as session:
        secret = tokens.create_token(session, role="writer", project="serve-test").secret
    db.dispose()
    port = free_port()
    env = {**os.environ, "FAULTBOOK_DATABASE_URL": url, "FAULTBOOK_PROJECT": "serve-test"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "faultbook", "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            ok = conn.getresponse().status == 200
            conn.close()
            if ok and len(children(proc.pid)) >= 2:
                break
        except OSError:
            pass
        time.sleep(0.2)
    yield proc, port, secret, env, tmp_path
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_both_workers_serve_keep_alive_clients_and_reports_arrive(server) -> None:  # type: ignore[no-untyped-def]
    proc, port, secret, _, _ = server
    workers = children(proc.pid)
    assert len(workers) == 2
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(16)]
    for conn in connections:
        conn.request("GET", "/health")
        assert conn.getresponse().read()
    # Both workers hold some of the 16 established connections (one shared socket gave them all to one).
    time.sleep(0.2)
    established = established_inodes(port)
    held = [len(socket_inodes(pid) & established) for pid in workers]
    assert sum(held) == 16 and min(held) >= 1, held
    for i, conn in enumerate(connections):
        key = str(uuid.uuid4())
        body = {"deployment": {"key": key, "started_at": "2025-08-20T14:10:00Z", "command": "deploy",
                               "outcome": "failed"},
                "failure": {"title": f"failure {i}", "component": "Backend", "error_message": f"boom module{'abcdefghijklmnop'[i]}"}}
        conn.request("POST", "/api/v1/reports", body=json.dumps(body),
                     headers={"Authorization": "Bearer " + secret, "Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 201, response.read()
        assert json.loads(response.read())["failure_number"] is not None
    for conn in connections:
        conn.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert all(not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
               for pid in workers)


def test_a_second_server_on_the_same_port_fails_with_one_line(server) -> None:  # type: ignore[no-untyped-def]
    _, port, _, env, tmp_path = server
    second = subprocess.run(
        [sys.executable, "-m", "faultbook", "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert second.returncode != 0
    assert str(port) in second.stderr
    assert "Traceback" not in second.stderr + second.stdout
