"""Idle and half-sent connections are closed by the server (slowloris), ordinary requests still work."""

from __future__ import annotations

import socket
import threading
import time

import pytest


async def _app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    while True:
        message = await receive()
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def served(monkeypatch):  # type: ignore[no-untyped-def]
    import uvicorn

    from faultbook import server as server_module

    protocol = server_module.guarded_protocol()
    monkeypatch.setattr(protocol, "timeout_seconds", 0.3)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options = {**server_module.uvicorn_options(), "timeout_keep_alive": 60}  # only the guard may close
    config = uvicorn.Config(_app, log_level="warning", lifespan="off", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(5)
    sock.close()


def _closed_within(conn: socket.socket, seconds: float) -> bool:
    conn.settimeout(seconds)
    try:
        while True:
            data = conn.recv(4096)
            if not data:
                return True
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("sent", [
    b"",  # connects and says nothing
    b"GET / HTTP/1.1\r\nHost: x\r\n",  # half a request head
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789",  # a body that stops
])
def test_a_stalled_connection_is_closed(served, sent):
    conn = socket.create_connection(("127.0.0.1", served))
    conn.sendall(sent)
    assert _closed_within(conn, 3.0)


def test_a_keep_alive_connection_serves_requests_then_is_closed_when_idle(served):
    conn = socket.create_connection(("127.0.0.1", served))
    for _ in range(2):
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        conn.settimeout(3)
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(0.2)  # under one interval between requests: kept
    assert _closed_within(conn, 3.0)


def test_the_head_size_is_capped():
    from faultbook.server import MAX_HEAD_BYTES, uvicorn_options

    assert uvicorn_options()["h11_max_incomplete_event_size"] == MAX_HEAD_BYTES
