"""`faultbook serve` on loopback prints a one-time sign-in link, once the server answers, that makes the owner admin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx

from conftest import ROOT
from test_responsive import _free_port


def test_sign_in_link_is_printed_when_listening_and_works_once(tmp_path, project):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    port = _free_port()
    env = {**os.environ, "FAULTBOOK_DATABASE_URL": url, "FAULTBOOK_PROJECT": project.key,
           "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "faultbook", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        link = None
        deadline = time.monotonic() + 30
        lines = []
        while link is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+/login/once\?code=\S+)", line)
            if found:
                link = found.group(1)
                # Printed only once the server accepts connections: it answers right now.
                assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        assert link, "no sign-in link printed:\n" + "".join(lines)
        first = httpx.get(link)
        assert first.status_code == 303 and first.headers["location"] == "/failures"
        cookies = first.cookies
        tokens_page = httpx.get(f"http://127.0.0.1:{port}/tokens", cookies=cookies)
        assert tokens_page.status_code == 200 and "owner (sign-in link" in tokens_page.text
        again = httpx.get(link)
        assert again.status_code == 403 and "works once" in again.text
        assert httpx.get(link.split("code=")[0] + "code=guess").status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=10)
