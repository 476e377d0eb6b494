"""Every dashboard page on a phone (390x844) and a desktop (1280x900), light and dark, in real Chromium.

For each page and size: nothing scrolls sideways (``scrollWidth <= innerWidth``), every navigation link is
visible inside the viewport, every piece of text meets WCAG AA contrast against what is behind it, the skip
link is the first thing Tab reaches and shows, and no Content-Security-Policy violation is logged.  The
triage flows (bulk resolve, undo, mark, delete with confirmation) run through the pages, and the deployment
page shows its output without colour codes.  With FAULTBOOK_SCREENSHOTS=dir set, every page is saved there
(``scripts/screenshots.sh`` makes docs/screenshots/ this way).

The layout checks run on SQLite only: the pages are the same on PostgreSQL, whose storage paths the other
web tests cover.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import ROOT
from test_browser import CHROMIUM, _need_chromium

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
ANSI_OUTPUT = "\x1b[31m✘ \x1b[41;31m[\x1b[41;97mERROR\x1b[41;31m]\x1b[0m KV namespace 'CACHE' not found [code: 10041]\n"

#: Computes, in the page, every text element whose contrast with its effective background is below AA.
CONTRAST_JS = """
() => {
  function rgba(s) { const m = s.match(/[\\d.]+/g); if (!m) return [0,0,0,0];
    return [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1]; }
  function lum(c) { const a = c.slice(0,3).map(v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); });
    return 0.2126*a[0] + 0.7152*a[1] + 0.0722*a[2]; }
  function blend(top, bottom) { const a = top[3]; return [0,1,2].map(i => top[i]*a + bottom[i]*(1-a)).concat([1]); }
  function background(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c[3] > 0) layers.push(c); if (c[3] >= 1) break; }
    let bg = [255,255,255,1];
    if (layers.length && layers[layers.length-1][3] >= 1) bg = layers.pop();
    else if (matchMedia('(prefers-color-scheme: dark)').matches) bg = [0,0,0,1];
    while (layers.length) bg = blend(layers.pop(), bg);
    return bg;
  }
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode; const el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent.trim()) continue; seen.add(el);
    if (el.closest('svg, #swagger-ui, option, .skip, .visually-hidden')) continue;
    const r = el.getBoundingClientRect(); if (r.width <= 1 || r.height <= 1) continue;
    const st = getComputedStyle(el); if (st.visibility === 'hidden' || st.display === 'none') continue;
    const fg = blend(rgba(st.color), background(el)); const bg = background(el);
    const l1 = lum(fg), l2 = lum(bg); const ratio = (Math.max(l1,l2)+0.05)/(Math.min(l1,l2)+0.05);
    const size = parseFloat(st.fontSize); const bold = parseInt(st.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) bad.push(el.tagName + '.' + el.className + ' "' + node.textContent.trim().slice(0,40) + '" ' + ratio.toFixed(2));
  }
  return bad;
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(db, project):  # type: ignore[no-untyped-def]
    """A small ledger with everything a page can show: kinds, output, a regression, a rollback, audit rows."""
    from faultbook.domain import Deployment, DeploymentOutcome, Failure, Status, utcnow
    from faultbook.services import ingest, ledger, recognition, tokens, triage
    from faultbook.store.tables import FollowupRow, ProjectRow, RecoverySnapshotRow

    now = utcnow()
    with db.session(write=True) as s:
        for i, (title, comp, status) in enumerate([
            ("Pages build ran out of memory", "Frontend", Status.RESOLVED),
            ("DNS record points at the old origin after the zone moved", "DNS", Status.WORKAROUND),
        ]):
            ledger.record_failure(s, project=project, failure=Failure(
                number=None, title=title, component=comp, status=status, occurred_at=now - timedelta(days=20 + i),
                error_message=f"error {i}", step="Worker deployment"))
        commands = [("npx wrangler deploy --env production", DeploymentOutcome.SUCCEEDED, None),
                    ("wrangler r2 bucket create quoteviral-uploads", DeploymentOutcome.SUCCEEDED, None),
                    ("pwdd", DeploymentOutcome.FAILED, 127),
                    ("npx wrangler deploy --env production", DeploymentOutcome.FAILED, 1),
                    ("npx wrangler versions deploy 4f1c2e8a@100% -y", DeploymentOutcome.SUCCEEDED, 0)]
        for i, (command, outcome, code) in enumerate(commands):
            failure = None
            if i == 3:
                failure = Failure(number=None, title="KV namespace 'CACHE' not found [code: 10041]",
                                  component="Backend", occurred_at=now - timedelta(days=1),
                                  error_message="KV namespace 'CACHE' not found [code: 10041]")
            output = ANSI_OUTPUT * (60 if i == 3 else 1) + "Total Upload: 41.23 KiB / gzip: 9.87 KiB\n"
            ingest.ingest_report(s, project=project, output_tail=output, deployment=Deployment(
                id=None, key=f"dep-{i}", started_at=now - timedelta(days=5 - i, hours=1), command=command,
                outcome=outcome, finished_at=now - timedelta(days=5 - i), exit_code=code, component="Backend",
                environment="production", git_commit=f"{i:040x}", git_branch="main",
                version_id=f"0b6e{i:04d}-7c3d-4a52-9d8e-1f2a3b4c5d6e", config_hash=f"sha256:{i:064x}",
                url="https://quoteviral.example.workers.dev"), failure=failure)
        # A resolved failure that came back: a regression.
        ledger.record_failure(s, project=project, failure=Failure(
            number=None, title="binding IMAGES has an unknown type Images [code: 10021]", component="Backend",
            occurred_at=now - timedelta(days=40), error_message="binding IMAGES has an unknown type Images [code: 10021]",
            status=Status.RESOLVED))
    with db.session(write=True) as s:
        recognition.record_occurrence(s, project=project, draft=Failure(
            number=None, title="Images", occurred_at=None, component="Backend",
            error_message="binding IMAGES has an unknown type Images [code: 10021]"), deployment_id=None)
        ledger.record_failure(s, project=project, failure=Failure(
            number=None, title="Left-over test entry", component="Other", occurred_at=now - timedelta(hours=5)))
        ledger.record_failure(s, project=project, failure=Failure(
            number=None, title="Typo in a local script", component="Other", occurred_at=now - timedelta(hours=3)))
        triage.delete_failure(s, project=project, number=5, actor="admin")
        project_id = s.query(ProjectRow.id).filter(ProjectRow.key == project.key).scalar()
        s.add(RecoverySnapshotRow(project_id=project_id, created_at=now - timedelta(hours=20), actor="owner",
                                  kind="worker", target_name="quoteviral", deployment_id=4, outcome="rolled_back",
                                  summary="Rolled back to version 0b6e0000; verified.", live_versions=[], details={}))
        s.add(FollowupRow(project_id=project_id, title="Schedule redeployment after issue resolution",
                          created_at=now - timedelta(hours=20), source="rollback"))
        admin = tokens.create_token(s, role="admin", name="owner", project=project.key).secret
    return admin


@pytest.fixture
def site(tmp_path, project):  # type: ignore[no-untyped-def]
    from faultbook.store.db import Database

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    db = Database(url)
    db.upgrade()
    admin = seed(db, project)
    port = _free_port()
    env = {**os.environ, "FAULTBOOK_DATABASE_URL": url, "FAULTBOOK_PROJECT": project.key,
           "PYTHONPATH": str(ROOT / "src")}
    (tmp_path / "faultbook.toml").write_text(f'project = "{project.key}"\nname = "QuoteViral"\n')
    proc = subprocess.Popen([sys.executable, "-m", "faultbook", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 30
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
    yield base, admin, db
    proc.terminate()
    proc.wait(timeout=10)
    db.dispose()


PAGES = [
    ("failures", "/failures"),
    ("failure", "/failures/3"),
    ("failure-regression", "/failures/4"),
    ("delete", "/failures/3/delete"),
    ("deployments", "/deployments"),
    ("deployment", "/deployments/4"),
    ("deployment-not-found", "/deployments/3"),
    ("metrics", "/metrics"),
    ("potential", "/potential"),
    ("followups", "/followups"),
    ("audit", "/audit"),
    ("tokens", "/tokens"),
    ("login", "/login"),
    ("not-found", "/failures/999"),
    ("api-docs", "/api/docs"),
]


def _launch(p):  # type: ignore[no-untyped-def]
    return p.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"])


def _sign_in(page, base: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("#token", secret)
    page.click("#login-form button")
    page.wait_for_url("**/failures")


def test_every_page_fits_phone_and_desktop_light_and_dark(site):
    sync_playwright = _need_chromium()
    base, admin, _ = site
    shots = os.environ.get("FAULTBOOK_SCREENSHOTS")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = _launch(p)
        for scheme in ("light", "dark"):
            for size, viewport in SIZES.items():
                context = browser.new_context(viewport=viewport, color_scheme=scheme)
                page = context.new_page()
                console: list[str] = []
                page.on("console", lambda m: console.append(m.text))
                _sign_in(page, base, admin)
                for name, path in PAGES:
                    console.clear()
                    response = page.goto(base + path)
                    expected = 404 if name == "not-found" else 200
                    if response is None or response.status != expected:
                        problems.append(f"{name}: HTTP {response.status if response else None}, not {expected}")
                    if name == "api-docs":
                        page.wait_for_selector("#swagger-ui .information-container", timeout=15000)
                    where = f"{name} {size} {scheme}"
                    width = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
                    if width[0] > width[1]:
                        problems.append(f"{where}: scrolls sideways ({width[0]} > {width[1]})")
                    for link in page.locator("header.top nav a").all():
                        box = link.bounding_box()
                        if not link.is_visible() or box is None or box["x"] < 0 or box["x"] + box["width"] > width[1]:
                            problems.append(f"{where}: nav link {link.inner_text()!r} not visible in the viewport")
                    low = page.evaluate(CONTRAST_JS)
                    problems.extend(f"{where}: contrast {item}" for item in low)
                    problems.extend(f"{where}: CSP {text}" for text in console
                                    if "Content Security Policy" in text or "Refused to" in text)
                    if shots and scheme == "light" or shots and name in ("failures", "failure") and scheme == "dark":
                        suffix = "" if scheme == "light" else "-dark"
                        page.screenshot(path=str(Path(shots) / f"{name}-{size}{suffix}.png"), full_page=True)
                # Keyboard: the first Tab lands on the skip link, which becomes visible, and it leads to main.
                page.goto(base + "/failures")
                page.keyboard.press("Tab")
                assert page.evaluate("document.activeElement.className") == "skip"
                assert page.locator(".skip").bounding_box()["y"] >= 0
                page.keyboard.press("Enter")
                assert page.evaluate("document.activeElement.id") == "main"
                context.close()
        browser.close()
    assert not problems, "\n".join(problems)


def test_failures_triage_and_deployment_evidence_in_chromium(site, project):
    sync_playwright = _need_chromium()
    base, admin, db = site
    from faultbook.services import ledger, triage

    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport=SIZES["desktop"])
        _sign_in(page, base, admin)
        # Most recently seen first: the regression that came back today is on top, with its badge.
        page.goto(base + "/failures")
        first = page.locator("#failures tbody tr").first
        assert first.get_attribute("data-number") == "4"
        assert "Regression" in first.inner_text()
        # The deployment that produced failure #3 is named by number and links to its page.
        page.goto(base + "/failures/3")
        page.click("#occurrences a[href='/deployments/4']")
        assert page.inner_text("#title").startswith("Deployment #4")
        assert "deploy" in page.inner_text("#kind")
        output = page.text_content("#output pre") or ""
        assert "[ERROR] KV namespace 'CACHE' not found" in output and "\x1b" not in output
        assert page.locator("#output").get_attribute("open") is None  # long output starts collapsed
        assert "#3" in page.inner_text("#produced")
        page.goto(base + "/deployments/3")
        assert "Exit 127" in page.inner_text("#not-found")
        assert "Not counted as a deployment" in page.inner_text("#kind-note")
        page.goto(base + "/deployments")
        kinds = page.locator("#deployments tbody tr td[data-label=Kind]").all_inner_texts()
        assert sorted(set(kinds)) == ["deploy", "other", "provision"]

        # Resolve two at once, then undo one.
        page.goto(base + "/failures")
        page.check("input[name=number][value='3']")
        page.check("input[name=number][value='6']")
        page.select_option("#bulk-status", "resolved")
        page.click("#bulk-apply")
        page.wait_for_url("**/failures")
        with db.session() as s:
            assert ledger.get_failure(s, project=project, number=3).status.value == "resolved"
            assert ledger.get_failure(s, project=project, number=6).status.value == "resolved"
        page.goto(base + "/failures/6")
        page.click("#undo")
        page.wait_for_selector("#saved")
        assert "Open" in page.inner_text("#current-status")
        # Not a deployment failure.
        page.click("#triage summary")
        page.click("#mark-not-deployment")
        page.wait_for_selector("#not-deployment")
        # Delete, confirmed by typing the number; the audit trail shows it.
        page.goto(base + "/failures/6")
        page.click("#triage summary")
        page.click("#delete")
        page.fill("#delete-confirm", "6")
        page.click("#delete-yes")
        page.wait_for_selector("#deleted")
        assert "failure #6" in page.inner_text("#audit")
        with db.session() as s:
            actions = [e.action for e in triage.list_audit(s, project=project)]
        assert actions[:4] == ["delete", "mark_not_deployment", "undo_status", "bulk_status"]
        browser.close()


def test_api_explorer_renders_from_our_own_files_without_csp_violations(site):
    sync_playwright = _need_chromium()
    base, _, _ = site
    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport=SIZES["desktop"])
        console: list[str] = []
        hosts: set[str] = set()
        page.on("console", lambda m: console.append(m.text))
        page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
        page.goto(base + "/api/docs")
        page.wait_for_selector("#swagger-ui .opblock-tag", timeout=15000)
        assert "faultbook" in page.inner_text("#swagger-ui .information-container")
        assert page.locator("#swagger-ui .opblock").count() > 20
        assert hosts == {base.split("/")[2]}  # no CDN: every request went to faultbook itself
        assert not [m for m in console if "Content Security Policy" in m or "Refused to" in m], console
        browser.close()
