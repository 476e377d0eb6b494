"""HTML pages: escaping of captured text, CSRF on forms, sign-in, edit in place, charts, JSON twins."""

from __future__ import annotations

import re

from webfixtures import bearer

PLANTED = '<script>window.__pwned=1;document.title="pwned"</script><img src=x onerror=alert(1)>'


def _record(database, project, **fields):  # type: ignore[no-untyped-def]
    from faultbook.domain import Failure
    from faultbook.services import ledger

    values = {"title": "t", "component": "Backend", "occurred_at": None, **fields}
    with database.session(write=True) as s:
        return ledger.record_failure(s, project=project, failure=Failure(number=None, **values))


def _signed_in(client, secret: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"token": secret, "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _csrf(client, url: str) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


def test_captured_text_is_escaped_everywhere(make_app, database, project):
    from fastapi.testclient import TestClient

    _record(database, project, title="Deploy " + PLANTED, error_message=PLANTED, component="Back<b>end</b>")
    client = TestClient(make_app(host="127.0.0.1"))
    for url in ("/failures", "/failures/1", "/metrics", "/failures?q=pwned"):
        html = client.get(url).text
        assert "<script>window.__pwned" not in html, url
        assert "<img src=x" not in html, url
        assert "<b>end</b>" not in html, url
    assert "&lt;script&gt;window.__pwned=1;" in client.get("/failures/1").text
    assert "script-src 'self'" in client.get("/failures/1").headers["content-security-policy"]


def test_html_list_filters_and_links_its_json_twin(make_app, database, project):
    from fastapi.testclient import TestClient

    _record(database, project, title="Pages build failed", component="Frontend", status=_status("open"))
    _record(database, project, title="DNS record missing", component="DNS", status=_status("resolved"))
    client = TestClient(make_app(host="127.0.0.1"))
    html = client.get("/failures?status=resolved").text
    assert "DNS record missing" in html and "Pages build failed" not in html
    assert 'href="/api/v1/failures?status=resolved"' in html
    assert "Pages build failed" in client.get("/failures?q=pages").text
    assert "DNS record missing" not in client.get("/failures?q=pages").text
    assert client.get("/failures/42").status_code == 404
    assert client.get("/failures?since=notadate").status_code == 422
    # A search is ordered by best match and says so; after a column sort, one link goes back.
    assert "Best matches first" in client.get("/failures?q=pages").text
    by_title = client.get("/failures?q=pages&sort=title").text
    assert 'href="/failures?q=pages&amp;sort=relevance"' in by_title


def _status(word: str):  # type: ignore[no-untyped-def]
    from faultbook.domain import Status

    return Status(word)


def test_form_edit_needs_sign_in_and_csrf(make_app, database, project, token):
    from fastapi.testclient import TestClient

    from faultbook.services import ledger

    _record(database, project, title="needs fixing")
    client = TestClient(make_app(host="127.0.0.1"))
    # Anonymous (read-only) sees no form and cannot post.
    assert 'id="status-form"' not in client.get("/failures/1").text
    assert client.post("/failures/1", data={"status": "resolved"}).status_code in (401, 403)
    _signed_in(client, token("writer"))
    assert 'id="status-form"' in client.get("/failures/1").text
    # Without the CSRF token (or with a wrong one) the change is refused.
    assert client.post("/failures/1", data={"status": "resolved"}).status_code == 403
    assert client.post("/failures/1", data={"status": "resolved", "csrf_token": "x" * 40}).status_code == 403
    with database.session() as s:
        assert ledger.get_failure(s, project=project, number=1).status.value == "open"
    csrf = _csrf(client, "/failures/1")
    r = client.post("/failures/1", data={"status": "resolved", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/failures/1", data={"root_cause": "typo", "csrf_token": csrf}, follow_redirects=False)
    with database.session() as s:
        failure = ledger.get_failure(s, project=project, number=1)
    assert (failure.status.value, failure.root_cause) == ("resolved", "typo")
    assert failure.timeline[-2].actor == "test writer"
    # Cookie sessions need CSRF on the JSON API too; bearer tokens do not.
    assert client.patch("/api/v1/failures/1", json={"status": "open"}).status_code == 403
    assert client.patch("/api/v1/failures/1", json={"status": "open"}, headers={"X-CSRF-Token": csrf}).status_code == 200


def test_reader_session_cannot_write(make_app, database, project, token):
    from fastapi.testclient import TestClient

    _record(database, project)
    client = TestClient(make_app(host="0.0.0.0"))
    assert client.get("/failures", follow_redirects=False).headers["location"] == "/login"
    _signed_in(client, token("reader"))
    assert client.get("/failures").status_code == 200
    csrf = _csrf(client, "/failures/1")
    assert client.post("/failures/1", data={"status": "resolved", "csrf_token": csrf}).status_code == 403


def test_bad_sign_in_is_refused(make_app):
    from fastapi.testclient import TestClient

    client = TestClient(make_app(host="127.0.0.1"))
    r = client.post("/login", data={"token": "fbk_wrong", "csrf_token": _csrf(client, "/login")})
    assert r.status_code == 401 and "Unknown or revoked token" in r.text


def test_metrics_page_draws_charts(make_app, database, project, token):
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from faultbook.domain import utcnow

    now = utcnow()
    _record(database, project, title="a", component="DNS", occurred_at=now - timedelta(days=1))
    _record(database, project, title="b", component="Backend", occurred_at=now - timedelta(days=8))
    client = TestClient(make_app(host="127.0.0.1"))
    w = bearer(token("writer"))
    body = {"key": "d1", "started_at": (now - timedelta(hours=2)).isoformat(), "command": "deploy", "outcome": "failed"}
    assert client.post("/api/v1/deployments", json=body, headers=w).status_code == 201
    html = client.get("/metrics").text
    assert 'id="chart-deployments"' in html and 'id="chart-components"' in html
    assert re.findall(r'data-series="(\w+)" data-value="1"', html) == ["Backend", "DNS"]
    assert 'data-value="1"' in html.split('id="chart-deployments"')[1].split("</svg>")[0]
    assert "100.0 %" in html


def test_potential_and_deployments_pages(make_app, database, project):
    from fastapi.testclient import TestClient

    from faultbook.domain import PotentialFailure
    from faultbook.store import repo
    from faultbook.store.tables import PotentialFailureRow

    with database.session(write=True) as s:
        p = repo.get_or_create_project(s, key=project.key, name=project.name)
        item = PotentialFailure(number=1, title="R2 bucket <missing>", component="Backend", step="deploy",
                                possible_error_messages=("bucket not found",))
        s.add(PotentialFailureRow(project_id=p.id, number=1, position=1, **repo.potential_values(item)))
    client = TestClient(make_app(host="127.0.0.1"))
    html = client.get("/potential").text
    assert "R2 bucket &lt;missing&gt;" in html and "bucket not found" in html
    assert "No deployments recorded yet" in client.get("/deployments").text
    assert "No follow-ups." in client.get("/followups").text
    from faultbook.services.followups import open_followup

    with database.session(write=True) as s:
        open_followup(s, project=project, title="Schedule redeployment after <issue> resolution", source="rollback")
    html = client.get("/followups").text
    assert "Schedule redeployment after &lt;issue&gt; resolution" in html
    assert [f["title"] for f in client.get("/api/v1/followups").json()] == [
        "Schedule redeployment after <issue> resolution"
    ]


def test_export_download(make_app, database, project):
    import pytest
    from fastapi.testclient import TestClient

    try:
        import faultbook.markdown  # noqa: F401
    except ImportError:
        pytest.skip("faultbook.markdown is not on this branch yet")
    _record(database, project, title="exported one")
    r = TestClient(make_app(host="127.0.0.1")).get("/export.md")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert "exported one" in r.text


def test_resolution_markdown_is_rendered_and_still_escaped(make_app, database, project):
    """Fenced code in a resolution becomes a code block; raw HTML in it stays text."""
    from fastapi.testclient import TestClient

    from faultbook.domain import Failure
    from faultbook.services import ledger

    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=Failure(
            number=None, title="t", occurred_at=None, component="Backend",
            resolution='Changed it:\n```toml\ntype = "images"\n```\n<script>window.__pwned=1</script>'))
    page = TestClient(make_app(host="127.0.0.1")).get("/failures/1").text
    assert '<pre><code class="language-toml">type = &quot;images&quot;\n</code></pre>' in page
    assert "<script>window.__pwned" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page


def test_admin_creates_and_revokes_tokens_from_the_page(make_app, token):
    from fastapi.testclient import TestClient

    client = TestClient(make_app(host="0.0.0.0"))
    _signed_in(client, token("writer"))
    assert client.get("/tokens").status_code == 403  # admins only
    assert 'href="/tokens"' not in client.get("/failures").text
    client = TestClient(make_app(host="0.0.0.0"))
    _signed_in(client, token("admin"))
    assert 'href="/tokens"' in client.get("/failures").text  # in the menu, for admins
    assert client.post("/tokens", data={"role": "writer", "name": "GitHub Actions"}).status_code == 403  # no CSRF
    csrf = _csrf(client, "/tokens")
    page = client.post("/tokens", data={"role": "writer", "name": "GitHub <b>Actions</b>", "csrf_token": csrf})
    assert page.status_code == 201 and page.headers["cache-control"] == "no-store"
    secret = re.search(r'<pre class="secret" id="token-secret">([^<]+)</pre>', page.text).group(1)
    assert "GitHub &lt;b&gt;Actions&lt;/b&gt;" in page.text
    api = TestClient(make_app(host="0.0.0.0"))
    assert api.get("/api/v1/failures", headers=bearer(secret)).status_code == 200
    assert secret not in client.get("/tokens").text  # shown once
    assert client.post("/tokens", data={"role": "root", "csrf_token": csrf}).status_code == 422
    token_id = re.search(r'Token #(\d+) \(writer\) created', page.text).group(1)
    r = client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert api.get("/api/v1/failures", headers=bearer(secret)).status_code == 401


def test_csrf_token_is_bound_to_the_session_and_foreign_origins_are_refused(make_app, database, project, token):
    """The attack confirmed in Chromium: a page on another port of the same host plants its own ``fb_csrf``
    cookie (cookies ignore ports) and posts the matching token with the admin's session."""
    from fastapi.testclient import TestClient

    from faultbook.services import ledger

    _record(database, project, title="target")
    client = TestClient(make_app(host="127.0.0.1"), base_url="http://127.0.0.1:8000")
    _signed_in(client, token("admin"))
    # Double submit with a planted cookie: refused (the token is an HMAC of the session, not the cookie).
    client.cookies.set("fb_csrf", "a" * 43)
    assert client.post("/failures/1", data={"status": "resolved", "csrf_token": "a" * 43}).status_code == 403
    # Another signed-in session's token does not fit this session.
    other = TestClient(make_app(host="127.0.0.1"), base_url="http://127.0.0.1:8000")
    _signed_in(other, token("admin"))
    assert client.post("/failures/1", data={"status": "resolved", "csrf_token": _csrf(other, "/failures/1")}
                       ).status_code == 403
    csrf = _csrf(client, "/failures/1")
    for headers in (
        {"Origin": "http://127.0.0.1:9999"},  # another port of the same host
        {"Origin": "https://127.0.0.1:8000"},  # another scheme
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://127.0.0.1:8000"},
    ):
        r = client.post("/failures/1", data={"status": "resolved", "csrf_token": csrf}, headers=headers)
        assert r.status_code == 403, headers
        r = client.patch("/api/v1/failures/1", json={"status": "resolved"}, headers={**headers, "X-CSRF-Token": csrf})
        assert r.status_code == 403, headers
    with database.session() as s:
        assert ledger.get_failure(s, project=project, number=1).status.value == "open"
    # The dashboard's own page: accepted.
    same = {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}
    r = client.post("/failures/1", data={"status": "resolved", "csrf_token": csrf}, headers=same,
                    follow_redirects=False)
    assert r.status_code == 303
    # A Bearer token is not a browser session: no Origin or CSRF check.
    r = client.patch("/api/v1/failures/1", json={"status": "open"},
                     headers={**bearer(token("writer")), "Origin": "http://evil.example"})
    assert r.status_code == 200
    # Sign-in itself (login CSRF) checks the Origin too.
    fresh = TestClient(make_app(host="127.0.0.1"), base_url="http://127.0.0.1:8000")
    r = fresh.post("/login", data={"token": token("admin"), "csrf_token": _csrf(fresh, "/login")},
                   headers={"Origin": "http://127.0.0.1:9999"})
    assert r.status_code == 403


def test_every_page_names_the_faultbook_version_in_its_footer(client):  # type: ignore[no-untyped-def]
    from faultbook import __version__

    for path in ("/", "/deployments", "/metrics"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert f'<span class="version">faultbook {__version__}</span>' in page.text, path
