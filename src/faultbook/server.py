"""Run the team server: one uvicorn process, or several sharing the port through ``SO_REUSEPORT``.

A module of its own, beside ``cli`` and ``web``: it names the web app's factory only by its import
string (``APP``, imported inside each worker), so the CLI starts a server without importing the web layer.  What to
serve arrives as one picklable value (``Launch``: the settings, host, anonymous policy), handed to each
spawned worker as an argument.

Why not ``uvicorn --workers N``.  uvicorn's workers share one listening
socket; every worker's event loop is woken for a new connection and the
first to call ``accept`` keeps it for as long as the client keeps it alive.
CI runners, proxies and load generators hold keep-alive connections, so in
practice one worker took all of them: measured with eight keep-alive
clients, one worker served every report while the other sat idle, and
ingest stayed at the rate of a single process.  Here each worker opens its
own socket with ``SO_REUSEPORT`` and the kernel spreads connections over
them by address hash, which is how nginx's ``reuseport`` works too.

The parent only supervises: it checks that the port is free (a socket
bound without ``SO_REUSEPORT`` would clash; a stale ``faultbook serve`` on
the same port must not silently share it), starts the workers (spawned, so
each has its own engine and caches), restarts one that dies, and stops them
all on SIGINT/SIGTERM.

Slow clients.  uvicorn closes a keep-alive connection idle after a response (``timeout_keep_alive``), but
has no timer for a connection that never completes a request head, nor for a body that stops arriving: a
few hundred such sockets (slowloris) held every worker's connections open forever.  ``guarded_protocol``
wraps uvicorn's HTTP protocol with one timer per connection, every ``HEAD_TIMEOUT_SECONDS``: a connection
still without a complete request head (or without a new one after its last response), or whose request
body received nothing during the last interval, is closed.  A request the app is still working on is never
cut.  The head's size is capped too (``h11_max_incomplete_event_size``, 64 KB).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faultbook.config import Settings

#: The web app's factory, called with (settings, host, anonymous) in each server process.
APP = "faultbook.web.asgi:build"
#: A connection must complete a request head, or send body bytes, within this many seconds (see above).
HEAD_TIMEOUT_SECONDS = 10.0
#: An idle keep-alive connection is closed after this many seconds (uvicorn's own timer).
KEEP_ALIVE_SECONDS = 5
#: The largest request head (request line + headers) in bytes.
MAX_HEAD_BYTES = 64 * 1024
#: A worker that dies sooner than this after starting is not restarted (it would only die again).
MIN_UPTIME_SECONDS = 5.0


class PortInUse(Exception):
    pass


@dataclass(frozen=True)
class Launch:
    """What to serve: made by ``faultbook serve``, pickled to each spawned worker."""

    settings: "Settings"
    host: str = "127.0.0.1"
    #: ``--anonymous`` (None: ``[server] anonymous``, else the default for ``host``).
    anonymous: str | None = None


def serve(launch: Launch, port: int, workers: int = 1) -> int:
    """Serve ``launch`` until interrupted; returns the exit status (0 after a clean stop).

    Without ``SO_REUSEPORT`` (not Linux/BSD) there is one process: uvicorn's own workers would need the
    app as an import string, i.e. the settings in the environment again."""
    import uvicorn

    host = launch.host
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        try:
            uvicorn.run(_factory(launch), factory=True, host=host, port=port, log_level="warning", proxy_headers=False,
                        **uvicorn_options())
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0
    _check_free(host, port)
    return _Supervisor(launch, port, workers).run()


def _factory(launch: Launch) -> Any:
    import importlib

    module, name = APP.split(":")
    return partial(getattr(importlib.import_module(module), name), launch.settings, launch.host, launch.anonymous)


def uvicorn_options() -> dict[str, Any]:
    return {
        "http": "faultbook.server:GuardedProtocol",  # an import string: picklable into spawned workers
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
    }


_GUARDED: Any = None


def guarded_protocol() -> Any:
    """uvicorn's HTTP protocol (httptools when installed, else h11) with the slow-client timer."""
    global _GUARDED
    if _GUARDED is not None:
        return _GUARDED
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    except ImportError:  # httptools is optional
        from uvicorn.protocols.http.h11_impl import H11Protocol as base  # type: ignore[assignment]

    class GuardedProtocol(base):
        timeout_seconds = HEAD_TIMEOUT_SECONDS

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._guard_received = 0
            self._guard_seen: tuple[Any, int] = (None, -1)
            self._guard = self.loop.call_later(self.timeout_seconds, self._guard_check)

        def data_received(self, data: bytes) -> None:
            self._guard_received += len(data)
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            guard = getattr(self, "_guard", None)
            if guard is not None:
                guard.cancel()
            super().connection_lost(exc)

        def _guard_check(self) -> None:
            if self.transport.is_closing():
                return
            cycle = self.cycle
            last_cycle, last_received = self._guard_seen
            self._guard_seen = (cycle, self._guard_received)
            waiting_for_head = cycle is None or cycle.response_complete
            if waiting_for_head and cycle is last_cycle:
                self.transport.close()  # no (new) complete request head for a whole interval
                return
            stalled = self._guard_received == last_received and not self.flow.read_paused
            if not waiting_for_head and cycle.more_body and stalled:
                self.transport.close()  # a body that stopped arriving
                return
            self._guard = self.loop.call_later(self.timeout_seconds, self._guard_check)

    _GUARDED = GuardedProtocol
    return _GUARDED


def __getattr__(name: str) -> Any:
    if name == "GuardedProtocol":  # built on first use: uvicorn is imported only by a server
        return guarded_protocol()
    raise AttributeError(name)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _check_free(host: str, port: int) -> None:
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.bind((host, port))
    except OSError as exc:
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    finally:
        probe.close()


def reuseport_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_worker(launch: Launch, port: int) -> None:
    """One worker process: its own listening socket, one uvicorn server."""
    import uvicorn

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us with SIGTERM
    sock = reuseport_socket(launch.host, port)
    config = uvicorn.Config(_factory(launch), factory=True, log_level="warning", proxy_headers=False,
                            **uvicorn_options())
    uvicorn.Server(config).run(sockets=[sock])


class _Supervisor:
    def __init__(self, launch: Launch, port: int, workers: int) -> None:
        self.launch = launch
        self.port = port
        self.count = workers
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[tuple[Any, float]] = []
        self.stopping = False

    def _start(self) -> tuple[Any, float]:
        process = self.context.Process(target=run_worker, args=(self.launch, self.port), daemon=False)
        process.start()
        return process, time.monotonic()

    def _stop(self, *_: Any) -> None:
        self.stopping = True

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        status = 0
        try:
            self.processes = [self._start() for _ in range(self.count)]
            while not self.stopping:
                time.sleep(0.2)
                for i, (process, started) in enumerate(self.processes):
                    if process.is_alive() or self.stopping:
                        continue
                    if time.monotonic() - started < MIN_UPTIME_SECONDS:
                        # It could not even start (the port, the database ...): its own log says why.
                        status = 1
                        self.stopping = True
                        break
                    self.processes[i] = self._start()
        finally:
            for process, _ in self.processes:
                if process.is_alive():
                    process.terminate()
            deadline = time.monotonic() + 10
            for process, _ in self.processes:
                process.join(max(0.1, deadline - time.monotonic()))
                if process.is_alive():
                    os.kill(process.pid, signal.SIGKILL)
                    process.join()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status
