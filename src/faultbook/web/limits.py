"""Request-body limits, enforced before anything reads the body — and so before authentication.

Why a middleware of its own.  Starlette reads a body in full when a route (or the report fast path, or a
form-based CSRF check) asks for it, and authentication runs in the route's dependencies: an anonymous
400 MB POST was read into memory (+350 MB) before being refused with 401.  This plain ASGI middleware sits
outside every route and the report fast path: a ``Content-Length`` over the limit is answered 413 without
reading a byte, and a chunked (or lying) body is counted as it streams and cut off with 413 at the limit.

The limits (bytes of request body):

- ``POST /api/v1/import``: ``ledger.MAX_DOCUMENT_BYTES`` (32 MB), the same cap as ``faultbook import``.
- everything else: ``MAX_BODY_BYTES`` (4 MB).  The largest valid request is a CI report: an output tail of
  200,000 characters plus a failure whose text fields are each capped at 100,000 characters; JSON-escaped
  that stays well under 4 MB for ordinary text.
"""

from __future__ import annotations

from typing import Any

#: The body limit for every request without one of its own (bytes).
MAX_BODY_BYTES = 4 * 1024 * 1024


def limit_for(path: str) -> int:
    if path == "/api/v1/import":
        from faultbook.services.ledger import MAX_DOCUMENT_BYTES

        return MAX_DOCUMENT_BYTES
    return MAX_BODY_BYTES


from starlette.exceptions import HTTPException


class _TooLarge(HTTPException):
    """Raised from ``receive``: an HTTPException so that a route's body parsing passes it on (FastAPI turns
    any other error there into a 400) and the app's handler answers 413; outside the routes (the report
    fast path) ``BodyLimit`` answers it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body may be at most {limit // (1024 * 1024)} MB")


class BodyLimit:
    """413 for a body over ``limit_for(path)``: from Content-Length up front, else while it streams."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    await _refuse(send, limit, status=413 if declared > limit else 400)
                    return
        received = 0
        started = False

        async def counted_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _refuse(send, limit, status=413)


async def _refuse(send: Any, limit: int, *, status: int) -> None:
    import json

    if status == 413:
        message = f"the request body may be at most {limit // (1024 * 1024)} MB"
    else:
        message = "invalid Content-Length"
    body = json.dumps({"detail": message}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})
