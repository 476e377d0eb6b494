"""Who is asking, what they may do, and CSRF for cookie-authenticated writes.

Three ways in, checked in this order:

1. ``Authorization: Bearer <token>`` — scripts and CI.  No cookie is involved,
   so no CSRF check is needed.
2. The ``fb_token`` cookie set by the sign-in form (HttpOnly, SameSite=Strict).
3. Anonymous, with the role the server grants anonymous users:
   ``[server] anonymous = "none" | "read" | "write"`` in faultbook.toml.  When
   unset, a server bound to a loopback address (the local ``faultbook serve``)
   allows anonymous *read*; on any other address, nothing.

Every unsafe request (POST/PATCH/DELETE) not carrying a Bearer token passes two checks:

- Origin.  A browser names the page that sent the request (``Origin``, and ``Sec-Fetch-Site``); a request
  whose Origin is not this server's own (scheme, host and port: the Host header and ``request_scheme``) or whose
  Sec-Fetch-Site is ``same-site``/``cross-site`` is refused.  Cookies do not keep ports apart: a page served
  on another port of the same host gets and can set this server's cookies, so only the Origin tells it
  apart (a CSRF confirmed in Chromium against the plain double-submit cookie).  A request with neither
  header (not a browser, or a very old one) falls through to the token.
- The CSRF token, bound to the session: the form field ``csrf_token`` (or the ``X-CSRF-Token`` header) must
  equal an HMAC keyed with the session cookie (before sign-in, with the HttpOnly ``fb_csrf`` nonce).  A
  forger who plants a cookie of its own cannot compute the token for the victim's session, which it cannot
  read (HttpOnly).  Keyed with the session itself, every ``--workers`` process agrees without a shared key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request

from faultbook.services import tokens as token_service
from faultbook.services.tokens import ANONYMOUS_MODES, anonymous_role, is_loopback  # noqa: F401 (re-exported)
from starlette.concurrency import run_in_threadpool

CSRF_COOKIE = "fb_csrf"
SESSION_COOKIE = "fb_token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Principal:
    role: str | None
    #: "bearer", "cookie" or "anonymous"
    source: str
    name: str | None = None
    #: The API token's id (None when anonymous): the report writer re-checks it is not revoked.
    token_id: int | None = None
    #: The token works for every project (not only this server's).
    all_projects: bool = False

    @property
    def signed_in(self) -> bool:
        return self.source != "anonymous"

    def can(self, role: str) -> bool:
        return token_service.role_allows(self.role, role)


def principal(request: Request) -> Principal:
    """Resolve (and cache on the request) who is asking; an invalid token is a 401, never anonymous."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    ctx = request.app.state.ctx
    header = request.headers.get("authorization")
    found: Principal
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise HTTPException(401, "use 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
        token = _verify(ctx, secret.strip())
        if token is None:
            raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        found = _of(token, "bearer")
    elif request.cookies.get(SESSION_COOKIE):
        token = _verify(ctx, request.cookies[SESSION_COOKIE])
        if token is None:
            found = Principal(role=ctx.anonymous_role, source="anonymous")
        else:
            found = _of(token, "cookie")
    else:
        found = Principal(role=ctx.anonymous_role, source="anonymous")
    request.state.principal = found
    return found


def _of(token: token_service.ApiToken, source: str) -> Principal:
    return Principal(role=token.role, source=source, name=token.name, token_id=token.id,
                     all_projects=token.project is None)


#: Tokens verified by this process (hash -> (token, expiry)): a *hint* that lets the report fast path skip
#: a worker thread and a query for a known CI token, never the last word.  Revocation is immediate in every
#: ``--workers`` process because nothing is decided from this cache alone: ``principal`` (every route)
#: verifies against the database on each request (one indexed SELECT), and a report taken on the hint is
#: re-checked inside its batch's write transaction (``ReportWriter``: one query per batch), so a token
#: revoked a moment ago is refused by the same transaction that would have written for it.
CACHE_SECONDS = 60.0
_cache: dict[str, tuple[object, float]] = {}


def forget_tokens() -> None:
    _cache.clear()


def _cached(secret: str):
    hit = _cache.get(token_service.hash_token(secret))
    if hit is not None and hit[1] > time.monotonic():
        return hit[0]
    return None


def cached_bearer(authorization: str | None) -> Principal | None:
    """The caller of an ``Authorization: Bearer`` header this process verified lately, else None (a hint: the
    caller must have it re-checked in the transaction that acts on it)."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    token = _cached(secret.strip())
    if token is None:
        return None
    return _of(token, "bearer")


def _verify(ctx, secret: str):
    """The active token for this server's project with this secret, from the database (None if not)."""
    token = _verify_uncached(ctx, secret)
    key = token_service.hash_token(secret)
    if token is None or not token.allows_project(ctx.project.key):
        _cache.pop(key, None)
        return None
    if len(_cache) > 1000:
        _cache.clear()
    _cache[key] = (token, time.monotonic() + CACHE_SECONDS)
    return token


def _verify_uncached(ctx, secret: str):
    with ctx.database.session() as session:
        token = token_service.verify_token(session, secret=secret, touch=False)
    if token is not None and token_service.needs_touch(token):
        with ctx.database.session(write=True) as session:
            token_service.touch_token(session, token_id=token.id)
    return token


def _csrf_binding(request: Request, *, create: bool) -> str | None:
    """What the CSRF token is bound to: the session cookie, else the pre-session nonce (new if ``create``)."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return session
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 100:
        return existing
    token = getattr(request.state, "new_csrf", None)
    if token is None and create:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def _csrf_for(binding: str) -> str:
    digest = hmac.new(binding.encode("utf-8", "surrogatepass"), b"faultbook csrf v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def csrf_token(request: Request) -> str:
    """The CSRF token for forms on this page: an HMAC of the session (or of a new nonce the middleware sets)."""
    binding = _csrf_binding(request, create=True)
    assert binding is not None
    return _csrf_for(binding)


def _host_port(netloc: str, scheme: str) -> str:
    """``host[:port]`` lower-cased with the scheme's default port dropped."""
    netloc = netloc.strip().lower()
    suffix = {"http": ":80", "https": ":443"}.get(scheme)
    if suffix and netloc.endswith(suffix):
        return netloc[: -len(suffix)]
    return netloc


def request_scheme(request: Request) -> str:
    """``https`` or ``http`` as the browser sees it: ``X-Forwarded-Proto`` counts only when the server is told
    it runs behind a TLS-terminating proxy (``[server] trusted_proxy = true``), since anyone can send it."""
    ctx = request.app.state.ctx
    if getattr(ctx, "trusted_proxy", False):
        forwarded = (request.headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
        if forwarded in ("http", "https"):
            return forwarded
    return request.url.scheme


def secure_cookie(request: Request) -> bool:
    """Mark cookies ``Secure`` when the browser talks https to us (directly or through a trusted proxy)."""
    return bool(getattr(request.app.state.ctx, "secure_cookies", False)) or request_scheme(request) == "https"


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another origin (another port counts)."""
    fetch_site = (request.headers.get("sec-fetch-site") or "").lower()
    if fetch_site in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # no browser claim: the CSRF token decides
    scheme, sep, rest = origin.partition("://")
    if not sep or origin == "null":
        return False
    host = request.headers.get("host") or ""
    mine = request_scheme(request)
    return bool(host) and scheme.lower() == mine and _host_port(rest, mine) == _host_port(host, mine)


async def check_csrf(request: Request, who: Principal) -> None:
    if request.method not in UNSAFE or who.source == "bearer":
        return
    if not same_origin(request):
        raise HTTPException(403, "cross-origin request refused: use the dashboard's own pages")
    binding = _csrf_binding(request, create=False)
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    sent_ascii = sent.encode("ascii", "replace").decode("ascii") if sent else ""
    if not binding or not sent_ascii or not hmac.compare_digest(_csrf_for(binding), sent_ascii):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def require(role: str, *, changes_nothing: bool = False):
    """A dependency: the caller must hold ``role`` (and pass CSRF when not using a Bearer token).

    ``changes_nothing``: a POST that only reads (``/explain`` takes its text in the body because it can be
    long) needs no CSRF token: a forged request could only make the server answer the forger's browser,
    which the same-origin policy keeps from reading it.
    """

    async def dependency(request: Request) -> Principal:
        who: Principal | None = getattr(request.state, "principal", None)
        if who is None:
            who = await run_in_threadpool(principal, request)
        if not changes_nothing:
            await check_csrf(request, who)
        if not who.can(role):
            if who.role is None and not who.signed_in:
                raise HTTPException(
                    401, "sign in with an API token (Authorization: Bearer <token>)",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            raise HTTPException(403, f"this needs the {role} role")
        return who

    return dependency
