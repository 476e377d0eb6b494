"""The HTTP front of the emulated Cloudflare API: routing, envelope, auth, faults, request log.

Why http.server and not Starlette: tests need byte-level control that an
ASGI stack hides (drop a connection mid-request, answer a 7000 for any path
wrangler invents), and wrangler's multipart upload parses fine with the
standard library.  The server is a ``ThreadingHTTPServer`` on 127.0.0.1 with
port 0, run in a daemon thread: ``Emulator.start()`` / ``stop()``.

Everything under ``/client/v4`` is routed through ``ROUTES`` (filled by the
``@route`` decorator in ``endpoints.py``).  Each handler gets a ``Call``
(the parsed request plus the state) and returns the ``result`` value, or a
``Reply`` when it needs another status or ``result_info``; it raises
``ApiError`` to answer with the error envelope.

The envelope is the one every Cloudflare v4 endpoint uses (see
https://developers.cloudflare.com/fundamentals/api/how-to/make-api-calls/ and
workers-sdk ``src/cfetch/index.ts``, which reads ``success``/``errors``/
``messages``/``result``)::

    {"success": bool, "errors": [{"code": int, "message": str}],
     "messages": [...], "result": ..., "result_info"?: {...}}

Unknown paths answer what the real API answers for them: HTTP 400 with code
7000 "No route for that URI" (the same text faultbook's capture sees from a
bad ``CLOUDFLARE_API_BASE_URL``), and are logged with ``unrouted=True`` and a
loud line on stderr so a new wrangler call never goes unnoticed.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from .state import ApiToken, CloudflareState

API_PREFIX = "/client/v4"


class ApiError(Exception):
    """Answer with the error envelope: ``errors=[{"code", "message"}]`` at HTTP ``status``."""

    def __init__(self, status: int, code: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass
class Reply:
    """A successful answer that needs more than ``result``."""

    result: Any
    status: int = 200
    result_info: dict[str, Any] | None = None
    messages: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator saw it; ``headers`` never holds credentials."""

    method: str
    path: str  # below /client/v4, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body_summary: Any  # parsed JSON, {"multipart": {...}}, or "<N bytes>"
    status: int
    error_codes: tuple[int, ...]
    unrouted: bool = False

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Call:
    """What a handler receives."""

    state: CloudflareState
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str]
    token: ApiToken | None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            # Real answer for a body that is not JSON on a JSON endpoint.
            raise ApiError(400, 10026, "Could not parse request body") from None


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    scope: str | None
    auth: bool


ROUTES: list[Route] = []


def route(method: str, template: str, *, scope: str | None = None, auth: bool = True) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``method`` on ``template`` (``{name}`` = one path segment).

    ``scope`` is the token permission the endpoint needs (see
    ``state.ALL_SCOPES``); ``auth=False`` for endpoints that judge the token
    themselves (``/tokens/verify``).
    """

    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, template, re.compile(regex), handler, scope, auth))
        return handler

    return register


def envelope(*, success: bool, result: Any = None, errors: list[dict[str, Any]] | None = None,
             messages: list[Any] | None = None, result_info: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": success,
        "errors": errors or [],
        "messages": messages or [],
        "result": result,
    }
    if result_info is not None:
        body["result_info"] = result_info
    return body


def list_reply(items: list[Any], call: Call) -> Reply:
    """A paged list answer with the v4 ``result_info`` (page, per_page, count, total_count)."""
    page = int(call.arg("page", "1") or 1)
    per_page = int(call.arg("per_page", "20") or 20)
    chunk = items[(page - 1) * per_page : page * per_page]
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(items),
        "total_pages": max(1, -(-len(items) // per_page)),
    }
    return Reply(result=chunk, result_info=info)


_SECRET_HEADERS = {"authorization", "x-auth-key", "x-auth-email", "cookie", "cf-access-token"}


def _summarise_body(headers: dict[str, str], body: bytes) -> Any:
    if not body:
        return None
    content_type = headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        from .upload import parse_multipart

        parts = parse_multipart(content_type, body)
        summary: dict[str, Any] = {}
        for name, part in parts.items():
            if name == "metadata":
                try:
                    summary[name] = json.loads(part.data)
                except ValueError:
                    summary[name] = f"<{len(part.data)} bytes>"
            else:
                summary[name] = f"<{part.content_type or 'data'} {len(part.data)} bytes>"
        return {"multipart": summary}
    try:
        return json.loads(body)
    except ValueError:
        return f"<{len(body)} bytes>"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # the request log replaces stderr chatter

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        state = emulator.state
        body = self._read_body()
        split = urlsplit(self.path)
        full_path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = full_path[len(API_PREFIX):] if full_path.startswith(API_PREFIX) else full_path
        method = self.command

        # Called before answering: a client asserting right after its response must see the entry.
        def record(status: int, codes: tuple[int, ...], unrouted: bool = False) -> None:
            emulator.record(
                RequestRecord(
                    method=method,
                    path=path,
                    query=query,
                    headers={k: v for k, v in headers.items() if k not in _SECRET_HEADERS},
                    body_summary=_summarise_body(headers, body),
                    status=status,
                    error_codes=codes,
                    unrouted=unrouted,
                )
            )

        fault = state.take_fault(method, path)
        if fault is not None and fault.close_connection and not fault.after_apply:
            record(0, (), False)
            self._drop_connection()
            return
        if fault is not None and fault.after_apply:
            # Handle the request below, then lose the answer (see _send).
            self._drop_answer = True
            fault = None
        if fault is not None:
            code = fault.code or (971 if fault.status == 429 else 10013)
            message = fault.message or (
                "Please wait and consider throttling your request speed"
                if fault.status == 429
                else "An unknown error has occurred"
            )
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            record(fault.status, (code,))
            self._send(fault.status, envelope(success=False, errors=[{"code": code, "message": message}]), extra)
            return

        if not full_path.startswith(API_PREFIX):
            # wrangler's update check (npm_registry points here): not an API call.
            record(404, ())
            self._send(404, {"error": "Not found"})
            return

        match_route = None
        params: dict[str, str] = {}
        for candidate in ROUTES:
            if candidate.method != method:
                continue
            m = candidate.pattern.match(path)
            if m:
                match_route, params = candidate, m.groupdict()
                break
        if match_route is None:
            print(f"cfapi: NO ROUTE for {method} {path} — add an endpoint (tests/cfapi/README.md)",
                  file=sys.stderr, flush=True)
            record(400, (7000,), True)
            self._send(400, envelope(success=False, errors=[{"code": 7000, "message": "No route for that URI"}]))
            return

        try:
            token = emulator.authenticate(headers, params, match_route)
            call = Call(state, method, path, query, headers, body, params, token)
            with state.lock:
                outcome = match_route.handler(call)
        except ApiError as error:
            record(error.status, (error.code,))
            self._send(error.status, envelope(success=False, errors=[{"code": error.code, "message": error.message}]),
                       error.headers)
            return
        reply = outcome if isinstance(outcome, Reply) else Reply(result=outcome)
        record(reply.status, ())
        self._send(reply.status, envelope(success=True, result=reply.result, messages=reply.messages,
                                          result_info=reply.result_info))

    _drop_answer = False

    def _drop_connection(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def _send(self, status: int, payload: Any, extra_headers: dict[str, str] | None = None) -> None:
        if self._drop_answer:
            # Fault "after_apply": the handler ran (its change is in the state), the client hears nothing.
            self._drop_answer = False
            self._drop_connection()
            return
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: "Emulator"


class Emulator:
    """A running emulated API: ``base_url`` ends in ``/client/v4``."""

    def __init__(self, state: CloudflareState | None = None) -> None:
        from . import endpoints  # noqa: F401 - registers the routes

        self.state = state or CloudflareState()
        self.requests: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> "Emulator":
        server = _Server(("127.0.0.1", 0), _Handler)
        server.emulator = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="cfapi", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "emulator not started"
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX

    @property
    def account_id(self) -> str:
        return self.state.account_id

    @property
    def token(self) -> str:
        return self.state.token

    # -- request log -----------------------------------------------------------

    def record(self, entry: RequestRecord) -> None:
        with self._log_lock:
            self.requests.append(entry)

    def calls(self, method: str | None = None, path_contains: str = "") -> list[RequestRecord]:
        """The logged requests, optionally filtered by method and a path fragment."""
        with self._log_lock:
            return [
                r for r in self.requests
                if (method is None or r.method == method) and path_contains in r.path
            ]

    @property
    def unrouted(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.unrouted]

    # -- auth ------------------------------------------------------------------

    def authenticate(self, headers: dict[str, str], params: dict[str, str], matched: Route) -> ApiToken | None:
        """The token behind the request, or the API's auth error.

        Texts: 9106 for no credentials at all; 1000 "Invalid API Token" for a
        token the API does not know (or a disabled/expired one); 10000
        "Authentication error" when the token lacks the scope or the account
        (workers-sdk issues #2863, #4089 show how wrangler prints it).
        """
        header = headers.get("authorization", "")
        token_value = header[7:].strip() if header.lower().startswith("bearer ") else None
        token = self.state.tokens.get(token_value) if token_value else None
        if not matched.auth:
            return token
        if token_value is None:
            raise ApiError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
        if token is None or token.status != "active":
            raise ApiError(401, 1000, "Invalid API Token")
        account_id = params.get("account_id")
        if account_id is not None:
            if account_id not in self.state.accounts:
                raise ApiError(
                    404, 7003,
                    f"Could not route to {API_PREFIX}/accounts/{account_id}, perhaps your object identifier is invalid?",
                )
            if token.accounts and account_id not in token.accounts:
                raise ApiError(403, 10000, "Authentication error")
        if matched.scope and matched.scope not in token.scopes:
            raise ApiError(403, 10000, "Authentication error")
        return token

    # -- environment for child processes --------------------------------------

    def env(self, *, home: str | None = None) -> dict[str, str]:
        """Variables that point wrangler (and faultbook) at this emulator and nowhere else.

        ``npm_config_registry`` sends wrangler's update check (it runs on
        every banner and after an API error) to this server, which answers
        404, so no run ever reaches a registry.  ``home`` (a temp dir)
        isolates wrangler's config/log/cache directories from the user's.
        """
        env = {
            "CLOUDFLARE_API_BASE_URL": self.base_url,
            "CLOUDFLARE_API_TOKEN": self.token,
            "CLOUDFLARE_ACCOUNT_ID": self.account_id,
            "WRANGLER_SEND_METRICS": "false",
            "WRANGLER_SEND_ERROR_REPORTS": "false",
            # rc("npm") in wrangler's update check reads npm_registry; npm itself npm_config_registry.
            "npm_registry": self.origin + "/",
            "npm_config_registry": self.origin + "/",
            "NO_UPDATE_NOTIFIER": "1",
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
            # Wide virtual terminal so messages wrap as little as possible.
            "COLUMNS": "200",
        }
        if home is not None:
            env.update(
                {
                    "HOME": home,
                    "XDG_CONFIG_HOME": f"{home}/.config",
                    "XDG_CACHE_HOME": f"{home}/.cache",
                    "WRANGLER_LOG_PATH": f"{home}/wrangler-logs",
                    "TMPDIR": f"{home}/tmp",
                }
            )
        return env
