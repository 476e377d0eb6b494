"""HTTP probes with httpx: does an endpoint answer as expected, does a CORS preflight pass?

``probe`` is a smoke test (status and a body substring or regex); ``cors_preflight``
sends the OPTIONS request a browser sends before a cross-origin call and judges
the answer the way the browser would.  Both can connect to an address other than
the URL's host (``connect_to``) while keeping the URL's Host header and TLS
server name, so a hostname can be checked against a chosen server.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Pattern

#: Read at most this much of a body when matching (health endpoints are small).
BODY_LIMIT = 1 << 20
#: Methods a browser never needs in Access-Control-Allow-Methods (Fetch: CORS-safelisted methods).
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})


@dataclass(frozen=True)
class HttpResult:
    url: str
    method: str
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body_excerpt: str = ""
    error: str | None = None
    expect_status: tuple[int, ...] = ()
    expect_body: str | None = None
    expect_body_regex: bool = False
    body_matched: bool | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def problem(self) -> str | None:
        if self.error:
            return f"no response: {self.error}"
        if self.expect_status and self.status not in self.expect_status:
            return f"status {self.status}, expected {' or '.join(map(str, self.expect_status))}"
        if not self.expect_status and (self.status or 0) >= 400:
            return f"status {self.status}"
        if self.body_matched is False:
            how = "match" if self.expect_body_regex else "contain"
            excerpt = self.body_excerpt[:80].replace("\n", " ")
            return f"the body does not {how} {self.expect_body!r} (it starts {excerpt!r})"
        return None


@dataclass(frozen=True)
class CorsResult:
    url: str
    origin: str
    method: str
    request_headers: tuple[str, ...] = ()
    status: int | None = None
    allow_origin: str | None = None
    allow_methods: str | None = None
    allow_headers: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def problem(self) -> str | None:
        if self.error:
            return f"the preflight got no response: {self.error}"
        if self.status is None or not 200 <= self.status < 300:
            return f"Response to preflight request doesn't pass access control check: It does not have HTTP ok status ({self.status})"
        if not self.allow_origin:
            return "No 'Access-Control-Allow-Origin' header is present on the requested resource"
        if self.allow_origin.strip() not in ("*", self.origin):
            return (f"The 'Access-Control-Allow-Origin' header has a value '{self.allow_origin}' that is not equal "
                    f"to the supplied origin '{self.origin}'")
        methods = _tokens(self.allow_methods)
        if self.method.upper() not in SAFELISTED_METHODS and self.method.upper() not in methods and "*" not in methods:
            return f"Method {self.method.upper()} is not allowed by Access-Control-Allow-Methods in preflight response"
        allowed = {h.lower() for h in _tokens(self.allow_headers)}
        for header in self.request_headers:
            if header.lower() not in allowed and not ("*" in allowed and header.lower() != "authorization"):
                return f"Request header field {header.lower()} is not allowed by Access-Control-Allow-Headers in preflight response"
        return None


def _tokens(value: str | None) -> list[str]:
    return [part.strip().upper() if part.strip() != "*" else "*" for part in (value or "").split(",") if part.strip()]


def probe(
    url: str,
    *,
    method: str = "GET",
    expect_status: int | Iterable[int] | None = None,
    expect_body: str | Pattern[str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    verify: bool | str = True,
    connect_to: tuple[str, int] | None = None,
    follow_redirects: bool = False,
    transport: Any = None,
) -> HttpResult:
    """Request ``url``; ``expect_body`` is a substring (str) or a regex (compiled pattern).

    Redirects are not followed unless asked: a 3xx is the endpoint's answer (below 400, so it passes
    when no ``expect_status`` is given).  ``transport`` (an httpx transport) lets tests answer in-process."""
    statuses = (expect_status,) if isinstance(expect_status, int) else tuple(expect_status or ())
    pattern = expect_body if isinstance(expect_body, re.Pattern) else None
    base = HttpResult(url=url, method=method.upper(), expect_status=statuses,
                      expect_body=pattern.pattern if pattern is not None else expect_body if isinstance(expect_body, str) else None,
                      expect_body_regex=pattern is not None)
    response = _send(method, url, headers=headers, timeout=timeout, verify=verify, connect_to=connect_to,
                     follow_redirects=follow_redirects, transport=transport)
    if isinstance(response, str):
        return replace(base, error=response)
    status, resp_headers, body = response
    matched = None
    if pattern is not None:
        matched = bool(pattern.search(body))
    elif isinstance(expect_body, str):
        matched = expect_body in body
    return replace(base, status=status, headers=resp_headers, body_excerpt=body[:200], body_matched=matched)


def cors_preflight(
    url: str,
    *,
    origin: str,
    method: str = "POST",
    request_headers: Iterable[str] = (),
    timeout: float = 10.0,
    verify: bool | str = True,
    connect_to: tuple[str, int] | None = None,
) -> CorsResult:
    """Send a browser's preflight (OPTIONS with Origin and Access-Control-Request-*) and judge the answer."""
    wanted = tuple(request_headers)
    headers = {"Origin": origin, "Access-Control-Request-Method": method.upper()}
    if wanted:
        headers["Access-Control-Request-Headers"] = ", ".join(h.lower() for h in wanted)
    base = CorsResult(url=url, origin=origin, method=method.upper(), request_headers=wanted)
    response = _send("OPTIONS", url, headers=headers, timeout=timeout, verify=verify, connect_to=connect_to)
    if isinstance(response, str):
        return replace(base, error=response)
    status, resp_headers, _ = response
    found = {k.lower(): v for k, v in resp_headers}
    return replace(
        base,
        status=status,
        allow_origin=found.get("access-control-allow-origin"),
        allow_methods=found.get("access-control-allow-methods"),
        allow_headers=found.get("access-control-allow-headers"),
    )


def _send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None,
    timeout: float,
    verify: bool | str,
    connect_to: tuple[str, int] | None,
    follow_redirects: bool = False,
    transport: Any = None,
) -> tuple[int, tuple[tuple[str, str], ...], str] | str:
    """(status, headers, body text) or an error sentence."""
    import httpx

    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        return f"invalid URL: {exc}"
    if target.scheme not in ("http", "https") or not target.host:
        return f"invalid URL {url!r}: expected http:// or https://"
    send_headers = dict(headers or {})
    extensions: dict = {}
    if connect_to is not None:
        send_headers.setdefault("Host", target.netloc.decode("ascii"))
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        target = target.copy_with(host=connect_to[0], port=connect_to[1])
    try:
        context = verify if isinstance(verify, bool) and not verify else _ssl_context(verify)
    except (OSError, ssl.SSLError) as exc:
        return f"cannot load CA file {verify}: {exc}"
    try:
        with httpx.Client(verify=context, timeout=timeout, follow_redirects=follow_redirects,
                          transport=transport) as client:
            with client.stream(method.upper(), target, headers=send_headers, extensions=extensions) as response:
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) >= BODY_LIMIT:
                        break
                text = body.decode(response.encoding or "utf-8", errors="replace")
                return response.status_code, tuple(response.headers.items()), text
    except httpx.TimeoutException:
        return f"timed out after {timeout:g} s"
    except httpx.HTTPError as exc:
        return _describe(exc)


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:  # httpx wraps httpcore wraps ssl
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
            return f"TLS certificate verify failed: {cause.verify_message}"
        cause = cause.__cause__ or cause.__context__
    return text.splitlines()[0]
