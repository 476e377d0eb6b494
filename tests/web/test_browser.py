"""Real Chromium against a real `faultbook serve` process, on SQLite and PostgreSQL.

Open the list, filter, search, open a failure, sign in, change its status
(checked in the database), see the charts drawn, and check that a script
planted in an error message never runs.  Skipped without Chromium, except
under CI=true where a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("FAULTBOOK_CHROMIUM", "/usr/bin/chromium")
PLANTED = '<script>window.__pwned=1;document.title="pwned"</script><img src=x onerror="window.__pwned=2;alert(1)">'


def _need_chromium():  # type: ignore[no-untyped-def]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium/Playwright required in CI (looked for {CHROMIUM})")
        pytest.skip("Chromium or Playwright not installed")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(db_url, tmp_path, project):  # type: ignore[no-untyped-def]
    """Seed the ledger, create a writer token, start `faultbook serve` on a free port."""
    from datetime import timedelta

    from faultbook.domain import Deployment, DeploymentOutcome, Failure, Status, utcnow
    from faultbook.services import ingest, ledger, tokens
    from faultbook.store.db import Database

    db = Database(db_url)
    now = utcnow()
    with db.session(write=True) as s:
        for i, (title, comp, status) in enumerate([
            ("Worker deployment failed: KV binding", "Backend", Status.OPEN),
            ("Pages build ran out of memory", "Frontend", Status.RESOLVED),
            ("DNS record points at old origin", "DNS", Status.WORKAROUND),
            ("Deploy broke " + PLANTED, "Backend", Status.OPEN),
        ]):
            ledger.record_failure(s, project=project, failure=Failure(
                number=None, title=title, component=comp, status=status,
                occurred_at=now - timedelta(days=3 * i + 1), error_message=f"error {i}: " + PLANTED,
                step="Worker deployment"))
        for i in range(6):
            ingest.ingest_report(s, project=project, deployment=Deployment(
                id=None, key=f"dep-{i}", started_at=now - timedelta(days=4 * i + 1, hours=1), command="npx wrangler deploy",
                outcome=DeploymentOutcome.FAILED if i == 1 else DeploymentOutcome.SUCCEEDED,
                finished_at=now - timedelta(days=4 * i + 1), git_commit=f"{i:040x}", version_id=f"v{i}"))
        secret = tokens.create_token(s, role="writer", name="browser", project=project.key).secret
    port = _free_port()
    env = {**os.environ, "FAULTBOOK_DATABASE_URL": db_url, "FAULTBOOK_PROJECT": project.key,
           "PYTHONPATH": str(ROOT / "src")}
    (tmp_path / "faultbook.toml").write_text(f'project = "{project.key}"\nname = "QuoteViral"\n')
    proc = subprocess.Popen([sys.executable, "-m", "faultbook", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    import httpx

    while True:
        try:
            if httpx.get(base + "/health").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("faultbook serve did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
        time.sleep(0.1)
    yield base, secret, db
    proc.terminate()
    proc.wait(timeout=10)
    db.dispose()


def test_dashboard_in_chromium(served, project, tmp_path):
    sync_playwright = _need_chromium()
    base, secret, db = served
    from faultbook.services import ledger

    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        page.goto(base + "/")
        assert page.locator("#failures tbody tr").count() == 4
        page.screenshot(path=str(tmp_path / "failures.png"), full_page=True)
        # Filter by status (the select submits by itself).
        page.select_option("#status", "resolved")
        page.wait_for_url("**status=resolved**")
        assert page.locator("#failures tbody tr").all_inner_texts()[0].find("Pages build") >= 0
        assert page.locator("#failures tbody tr").count() == 1
        # Full-text search.
        page.goto(base + "/failures")
        page.fill("#q", "origin")
        page.press("#q", "Enter")
        page.wait_for_url("**q=origin**")
        assert page.locator("#failures tbody tr").count() == 1
        assert "DNS record points" in page.inner_text("#failures")
        # Sort by number ascending by clicking the column header.
        page.goto(base + "/failures")
        page.click("th >> text=#")
        assert page.locator("#failures tbody tr").first.get_attribute("data-number") == "1"

        # The planted script shows as text and never runs.
        page.goto(base + "/failures/4")
        assert "<script>window.__pwned=1" in page.inner_text("#title")
        assert page.evaluate("window.__pwned") is None
        assert page.title() != "pwned" and page.title().startswith("#4 Deploy broke <script>")

        # Sign in with the writer token, change a status in place, verify in the database.
        page.goto(base + "/login")
        page.fill("#token", secret)
        page.click("#login-form button")
        page.goto(base + "/failures/1")
        page.select_option("#new-status", "resolved")
        page.click("#save-status")
        page.wait_for_selector("#saved")
        assert "Resolved" in page.inner_text("#current-status")
        with db.session() as s:
            assert ledger.get_failure(s, project=project, number=1).status.value == "resolved"
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)

        # Charts drawn with data.
        page.goto(base + "/metrics")
        bars = page.locator("#chart-deployments rect.bar")
        assert bars.count() >= 4
        values = [float(v) for v in bars.evaluate_all("els => els.map(e => e.getAttribute('data-value'))")]
        assert sum(values) >= 4
        assert page.locator("#chart-components rect.bar").count() >= 3
        assert page.locator("#chart-deployments").bounding_box()["width"] > 300
        page.screenshot(path=str(tmp_path / "metrics.png"), full_page=True)
        page.goto(base + "/deployments")
        assert page.locator("#deployments tbody tr").count() == 6

        assert page.evaluate("window.__pwned") is None
        browser.close()
    assert dialogs == []
    shots = os.environ.get("FAULTBOOK_SCREENSHOTS")
    if shots:
        for name in ("failures.png", "failure.png", "metrics.png"):
            shutil.copy(tmp_path / name, Path(shots) / f"{db.dialect}-{name}")
