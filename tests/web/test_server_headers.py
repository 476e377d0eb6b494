"""500s keep the security headers; the session cookie is Secure over https (issue 14)."""

from __future__ import annotations

import re

import pytest


def test_a_500_carries_the_security_headers(make_app, monkeypatch):
    from fastapi.testclient import TestClient

    app = make_app(host="127.0.0.1")

    @app.get("/api/v1/boom-for-test")
    def boom() -> None:
        raise RuntimeError("boom")

    r = TestClient(app, raise_server_exceptions=False).get("/api/v1/boom-for-test")
    assert r.status_code == 500
    assert "boom" not in r.text
    for name in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert name in r.headers, name


def _sign_in(client, secret: str, **headers):  # type: ignore[no-untyped-def]
    page = client.get("/login", headers=headers)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    nonce = re.search(r"fb_csrf=([^;]+)", page.headers["set-cookie"]).group(1)
    client.cookies.set("fb_csrf", nonce)  # (the test client talks http: it would not send a Secure cookie back)
    return page, client.post("/login", data={"token": secret, "csrf_token": csrf}, headers=headers,
                             follow_redirects=False)


@pytest.mark.parametrize("base_url, trusted, forwarded, secure", [
    ("http://127.0.0.1:8000", False, None, False),
    ("https://127.0.0.1:8000", False, None, True),  # TLS straight to us
    ("http://127.0.0.1:8000", True, "https", True),  # behind a TLS proxy we were told to trust
    ("http://127.0.0.1:8000", False, "https", False),  # anyone can send the header: not trusted by default
])
def test_session_cookie_is_secure_over_https(database, settings, project, token, base_url, trusted, forwarded,
                                             secure):
    import dataclasses

    from fastapi.testclient import TestClient

    from faultbook.web.app import create_app

    if trusted:
        settings = dataclasses.replace(settings, file={"server": {"trusted_proxy": True}})
    app = create_app(database=database, settings=settings, project=project, host="127.0.0.1")
    client = TestClient(app, base_url=base_url)
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    page, r = _sign_in(client, token("writer"), **headers)
    assert r.status_code == 303
    session = [c for c in r.headers.get_list("set-cookie") if c.startswith("fb_token=")][0]
    csrf = [c for c in page.headers.get_list("set-cookie") if c.startswith("fb_csrf=")][0]
    assert ("; secure" in session.lower()) is secure
    assert ("; secure" in csrf.lower()) is secure
