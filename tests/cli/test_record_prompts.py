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


def _spawn(args, tmp_path, env):
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "faultbook", *args],
                            stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path, env=env, close_fds=True)
    os.close(slave)
    return master, proc


def _env(db_url, project, **extra):
    return {**os.environ, "FAULTBOOK_DATABASE_URL": db_url, "FAULTBOOK_PROJECT": project.key,
            "PYTHONPATH": str(ROOT / "src"), "TERM": "dumb", **extra}


def _stored(tmp_path, env):
    listing = subprocess.run([sys.executable, "-m", "faultbook", "list", "--json"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    [failure] = json.loads(listing.stdout)
    return failure


def _converse(master, proc, script):
    try:
        seen = b""
        for prompt, answer in script:
            seen += _read_until(master, prompt)
            os.write(master, answer)
        seen += _read_until(master, b"Recorded failure")
        assert proc.wait(timeout=60) == 0
        return seen
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


WRANGLER_ERROR = (b"\xe2\x9c\x98 [ERROR] Processing wrangler.jsonc configuration:\r\r"
                  b"    - \"routes\" should be an array of strings.\r")


def test_record_asks_every_field_of_the_seed_and_takes_a_pasted_multiline_error(tmp_path, db_url, project):
    env = _env(db_url, project)
    master, proc = _spawn(["record"], tmp_path, env)
    # The paste (with an empty line inside it) is written in one go, as a terminal delivers it; the
    # lone empty line after it ends the message.
    _converse(master, proc, [
        (b"Brief description", b"Routes rejected\r"),
        (b"Component (", b"Backend\r"),
        (b"Component detail", b"Cloudflare Worker\r"),
        (b"Deployment step", b"Worker deployment\r"),
        (b"Exact error message", WRANGLER_ERROR),
        (b"routes", b"\r"),
        (b"Root cause", b"A route written as an object\rin wrangler.jsonc\r\r"),
        (b"Resolution", b"\r"),
        (b"Lessons learned", b"Validate before deploying\r\r"),
        (b"Status", b"workaround\r"),
    ])
    failure = _stored(tmp_path, env)
    # The paste is read by the extractor run uses (issue 12): the block's header and the line that says what is wrong.
    assert failure["error_message"] == (
        "Processing wrangler.jsonc configuration:\n- \"routes\" should be an array of strings.")
    assert (failure["title"], failure["component"], failure["component_detail"], failure["step"]) == (
        "Routes rejected", "Backend", "Cloudflare Worker", "Worker deployment")
    assert failure["root_cause"] == "A route written as an object\nin wrangler.jsonc"
    assert (failure["resolution"], failure["lessons_learned"], failure["status"]) == (
        "", "Validate before deploying", "workaround")


def test_an_empty_step_or_error_message_is_questioned_before_it_is_accepted(tmp_path, db_url, project):
    env = _env(db_url, project)
    master, proc = _spawn(["record", "--title", "t", "--component", "DNS", "--component-detail", "",
                           "--root-cause", "", "--resolution", "", "--lessons-learned", "", "--status", "open"],
                          tmp_path, env)
    seen = _converse(master, proc, [
        (b"Deployment step", b"\r"),
        (b"Enter again to leave it empty", b"\r"),
        (b"Exact error message", b"\r"),
        (b"empty line again leaves it empty", b"\r"),
    ])
    assert b"where in the deploy this failed" in seen
    assert b"recognises this failure when it happens again" in seen
    failure = _stored(tmp_path, env)
    assert (failure["step"], failure["error_message"]) == ("", "")


def test_an_empty_first_line_opens_the_editor_for_the_error_message(tmp_path, db_url, project):
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "fetch failed\\n# a comment\\nat upload\\n" > "$1"\n')
    editor.chmod(0o755)
    env = _env(db_url, project, EDITOR=str(editor))
    master, proc = _spawn(["record", "--title", "t", "--component", "Backend", "--component-detail", "",
                           "--step", "Worker deployment", "--root-cause", "", "--resolution", "",
                           "--lessons-learned", "", "--status", "open"], tmp_path, env)
    _converse(master, proc, [(b"Exact error message", b"\r")])
    assert _stored(tmp_path, env)["error_message"] == "fetch failed\nat upload"
