"""Request bodies are limited before anything reads them, so before authentication (issue 14)."""

from __future__ import annotations

import pytest
from webfixtures import bearer


def _chunks(total: int, size: int = 256 * 1024):  # type: ignore[no-untyped-def]
    sent = 0
    while sent < total:
        step = min(size, total - sent)
        sent += step
        yield b"x" * step


@pytest.mark.parametrize("path", ["/api/v1/failures", "/api/v1/reports", "/login", "/failures/1"])
def test_anonymous_oversized_body_is_refused_413_before_authentication(client, path):
    import faultbook.web.limits as limits

    too_big = limits.MAX_BODY_BYTES + 1
    kind = "application/json" if path.startswith("/api/") else "application/x-www-form-urlencoded"
    # Declared in Content-Length: refused without reading.
    r = client.post(path, content=b"x" * too_big, headers={"content-type": kind})
    assert r.status_code == 413 and "at most 4 MB" in r.json()["detail"]
    # Streamed (chunked, no Content-Length): cut off at the limit.
    r = client.post(path, content=_chunks(too_big), headers={"content-type": kind})
    assert r.status_code == 413


def test_a_streamed_body_over_the_limit_is_refused_even_with_a_valid_token(client, token):
    import faultbook.web.limits as limits

    w = {**bearer(token("writer")), "content-type": "application/json"}
    r = client.post("/api/v1/failures", content=_chunks(limits.MAX_BODY_BYTES + 1), headers=w)
    assert r.status_code == 413
    # The report fast path reads its body itself: the limit holds there too (a cached writer token).
    client.get("/api/v1/failures", headers=w)
    r = client.post("/api/v1/reports", content=_chunks(limits.MAX_BODY_BYTES + 1), headers=w)
    assert r.status_code == 413


def test_import_keeps_its_32_mb_limit(client, token):
    import faultbook.web.limits as limits
    from faultbook.services.ledger import MAX_DOCUMENT_BYTES

    w = {**bearer(token("writer")), "content-type": "text/markdown"}
    assert limits.limit_for("/api/v1/import") == MAX_DOCUMENT_BYTES == 32 * 1024 * 1024
    # Over the general limit but under the import's: not refused for its size.
    body = b"# Failures\n\n" + b"x" * (limits.MAX_BODY_BYTES + 10)
    assert client.post("/api/v1/import", content=body, headers=w).status_code != 413
    r = client.post("/api/v1/import", content=_chunks(MAX_DOCUMENT_BYTES + 1), headers=w)
    assert r.status_code == 413 and "32 MB" in r.json()["detail"]
