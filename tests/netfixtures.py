"""Local network doubles for the network rules and probes — all bound to 127.0.0.1, nothing else is contacted.

- ``DnsResponder``: a UDP DNS server in a thread answering from a dict (A, AAAA, CNAME chains, NXDOMAIN,
  SERVFAIL), built with dnspython.
- ``WebServer``: an HTTP or HTTPS server in a thread answering ``(method, path)`` from a dict of canned
  responses, with a certificate issued by a ``trustme`` CA for the names the test chooses.
- fixtures: ``ca`` (a trustme CA, with ``ca_file``), ``dns_responder``, ``web_server`` (a factory).
"""

from __future__ import annotations

import socket
import ssl
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class DnsResponder:
    """``zone`` maps a name to records: ``{"a.test": [("A", "127.0.0.1")], "b.test": [("CNAME", "a.test")],
    "bad.test": "SERVFAIL"}``.  Names not in the zone are NXDOMAIN."""

    def __init__(self, zone: dict) -> None:
        self.zone = {k.rstrip(".").lower(): v for k, v in zone.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        import dns.message

        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            try:
                query = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001 - a test server ignores garbage
                continue
            self.sock.sendto(self._answer(query).to_wire(), peer)

    def _answer(self, query):
        import dns.flags
        import dns.rcode
        import dns.rdatatype
        import dns.message
        import dns.rrset

        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        question = query.question[0]
        name, qtype = question.name.to_text().rstrip(".").lower(), dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, qtype))
        for _ in range(10):
            records = self.zone.get(name)
            if records is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                return response
            if records == "SERVFAIL":
                response.set_rcode(dns.rcode.SERVFAIL)
                return response
            cname = [value for kind, value in records if kind == "CNAME"]
            if cname and qtype != "CNAME":
                response.answer.append(dns.rrset.from_text(name + ".", 60, "IN", "CNAME", cname[0].rstrip(".") + "."))
                name = cname[0].rstrip(".").lower()
                continue
            values = [value for kind, value in records if kind == qtype]
            if values:
                if qtype == "CNAME":
                    values = [v.rstrip(".") + "." for v in values]
                response.answer.append(dns.rrset.from_text(name + ".", 60, "IN", qtype, *values))
            return response
        return response

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def _respond(self) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers.items())))
        status, headers, body = self.server.routes.get((self.command, self.path), (404, {}, "not found"))
        data = body.encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_OPTIONS = do_HEAD = _respond

    def log_message(self, *args) -> None:  # keep test output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # refused handshakes are expected
        pass


class WebServer:
    """HTTP(S) on 127.0.0.1:<free port>.  ``routes[(method, path)] = (status, headers, body)``."""

    def __init__(self, routes: dict, *, cert=None) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.routes = routes
        self.httpd.requests = []
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            cert.configure_cert(context)
            self.httpd.socket = _LazyTlsSocket(self.httpd.socket, context)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if cert is not None else "http"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def requests(self) -> list:
        return self.httpd.requests

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=2)


class _LazyTlsSocket:
    """Wraps accepted connections in TLS in the handler thread, so a failed handshake never blocks accept()."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self._sock, self._context = sock, context

    def accept(self):
        conn, addr = self._sock.accept()
        return self._context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False), addr

    def __getattr__(self, name):
        return getattr(self._sock, name)


@pytest.fixture(scope="session")
def ca():
    trustme = pytest.importorskip("trustme")
    return trustme.CA(organization_name="faultbook test CA")


@pytest.fixture(scope="session")
def ca_file(ca, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def issue(ca, *names: str, days: float | None = None, expired: bool = False):
    """A leaf certificate for ``names``; ``days`` left before expiry, or already ``expired``."""
    now = datetime.now(timezone.utc)
    if expired:
        return ca.issue_cert(*names, not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
    if days is not None:
        return ca.issue_cert(*names, not_after=now + timedelta(days=days))
    return ca.issue_cert(*names)


@pytest.fixture
def dns_responder():
    servers: list[DnsResponder] = []

    def start(zone: dict) -> DnsResponder:
        server = DnsResponder(zone)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def web_server():
    servers: list[WebServer] = []

    def start(routes: dict | None = None, *, cert=None) -> WebServer:
        server = WebServer(routes if routes is not None else {}, cert=cert)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
