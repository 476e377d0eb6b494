"""`record` asks for missing fields on a terminal (and only there)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

from conftest import ROOT


def _read_until(fd: int, marker: bytes, timeout: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} in {seen!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_record_prompts_for_missing_fields_on_a_tty(tmp_path, db_url, project):
    env = {**os.environ, "FAULTBOOK_DATABASE_URL": db_url, "FAULTBOOK_PROJECT": project.key,
           "PYTHONPATH": str(ROOT / "src"), "TERM": "dumb"}
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "faultbook", "record", "--component", "DNS", "--step", "Custom domain configuration",
         "--root-cause", "", "--resolution", ""],
        stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path, env=env, close_fds=True,
    )
    os.close(slave)
    try:
        for prompt, answer in ((b"Brief description", b"Domain not pointing to target"),
                               (b"Exact error message", b"DNS resolution failed")):
            _read_until(master, prompt)
            os.write(master, answer + b"\r")
        assert b"Recorded failure #1" in _read_until(master, b"Recorded failure")
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    listing = subprocess.run([sys.executable, "-m", "faultbook", "list", "--json"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    [failure] = json.loads(listing.stdout)
    assert (failure["title"], failure["error_message"], failure["component"]) == (
        "Domain not pointing to target", "DNS resolution failed", "DNS")
