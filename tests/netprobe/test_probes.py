"""The probes against servers started on 127.0.0.1: each outcome a user could meet gives the expected result."""

from __future__ import annotations

import re

import pytest

from faultbook.netprobe import cors_preflight, inspect_certificate, is_cloudflare_address, probe, resolve
from netfixtures import issue

HOST = "api.quoteviral.test"

ZONE = {
    HOST: [("A", "127.0.0.1")],
    "quoteviral.test": [("CNAME", "quoteviral.pages.test")],
    "quoteviral.pages.test": [("CNAME", "pages-edge.test")],
    "pages-edge.test": [("A", "104.16.1.1"), ("AAAA", "2606:4700::1")],
    "v6only.quoteviral.test": [("AAAA", "::1")],
    "broken.quoteviral.test": "SERVFAIL",
}


@pytest.fixture
def dns(dns_responder):
    server = dns_responder(ZONE)
    return lambda host, rdtype="A": resolve(host, rdtype=rdtype, nameserver="127.0.0.1", port=server.port, timeout=2)


@pytest.mark.parametrize(
    "host, rdtype, status, records, chain",
    [
        (HOST, "A", "ok", ("127.0.0.1",), ()),
        ("quoteviral.test", "A", "ok", ("104.16.1.1",), ("quoteviral.pages.test", "pages-edge.test")),
        ("quoteviral.test", "AAAA", "ok", ("2606:4700::1",), ("quoteviral.pages.test", "pages-edge.test")),
        ("quoteviral.test", "CNAME", "ok", ("quoteviral.pages.test",), ("quoteviral.pages.test",)),
        ("v6only.quoteviral.test", "A", "noanswer", (), ()),
        ("missing.quoteviral.test", "A", "nxdomain", (), ()),
        ("broken.quoteviral.test", "A", "servfail", (), ()),
    ],
)
def test_resolve(dns, host, rdtype, status, records, chain) -> None:
    result = dns(host, rdtype)
    assert (result.status, result.records, result.cname_chain) == (status, records, chain)
    assert (result.problem is None) == (status == "ok")
    if status == "nxdomain":
        assert result.problem == "DNS resolution failed: missing.quoteviral.test does not exist (NXDOMAIN)"


def test_resolver_that_does_not_answer_is_a_timeout() -> None:
    import socket

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        result = resolve(HOST, nameserver="127.0.0.1", port=silent.getsockname()[1], timeout=0.3)
    finally:
        silent.close()
    assert result.status == "timeout"
    assert result.problem.startswith("DNS resolution failed: no answer from 127.0.0.1:")


def test_cloudflare_ranges() -> None:
    assert is_cloudflare_address("104.16.1.1") and is_cloudflare_address("2606:4700::1")
    assert not is_cloudflare_address("192.0.2.1") and not is_cloudflare_address("not an ip")


# ------------------------------------------------------------------ TLS


def test_valid_certificate_with_sni_on_a_local_address(ca, ca_file, web_server) -> None:
    server = web_server(cert=issue(ca, HOST, days=90))
    result = inspect_certificate("127.0.0.1", server.port, server_name=HOST, cafile=str(ca_file))
    assert result.valid and result.problem is None
    assert result.san == (HOST,) and "faultbook test CA" in result.issuer
    assert 88 <= result.days_left <= 90 and not result.expires_within(14)


def test_certificate_expiring_soon_is_valid_but_expires_within(ca, ca_file, web_server) -> None:
    server = web_server(cert=issue(ca, HOST, days=3.5))
    result = inspect_certificate("127.0.0.1", server.port, server_name=HOST, cafile=str(ca_file))
    assert result.valid and result.days_left == 3 and result.expires_within(14)


@pytest.mark.parametrize(
    "cert_names, expired, trusted, reason, problem",
    [
        (("other.quoteviral.test",), False, True, "hostname-mismatch",
         f"the certificate is not valid for {HOST} (it covers other.quoteviral.test)"),
        ((HOST,), True, True, "expired", f"the certificate for {HOST} expired on "),
        ((HOST,), False, False, "untrusted", f"{HOST} presents a certificate from an untrusted issuer"),
    ],
)
def test_invalid_certificates(ca, ca_file, web_server, cert_names, expired, trusted, reason, problem) -> None:
    server = web_server(cert=issue(ca, *cert_names, expired=expired))
    result = inspect_certificate("127.0.0.1", server.port, server_name=HOST, cafile=str(ca_file) if trusted else None)
    assert not result.valid and result.reason == reason
    assert result.problem.startswith(problem)
    assert result.san == cert_names  # described even though it was refused


def test_nothing_listening_is_unreachable(web_server) -> None:
    server = web_server()
    port = server.port
    server.close()
    result = inspect_certificate("127.0.0.1", port, server_name=HOST, timeout=2)
    assert result.reason == "unreachable" and result.problem.startswith(f"cannot connect to 127.0.0.1:{port}")


def test_plain_http_server_is_a_handshake_failure(web_server) -> None:
    server = web_server()
    result = inspect_certificate("127.0.0.1", server.port, server_name=HOST, timeout=2)
    assert result.reason == "handshake"


# ------------------------------------------------------------------ HTTP and CORS


def test_probe_status_and_body(web_server) -> None:
    server = web_server({
        ("GET", "/health"): (200, {}, '{"ok":true,"version":"1.2"}'),
        ("GET", "/broken"): (500, {}, "Error 1101: Worker threw exception"),
    })
    base = f"http://127.0.0.1:{server.port}"
    assert probe(f"{base}/health", expect_status=200, expect_body='"ok":true').problem is None
    assert probe(f"{base}/health", expect_body=re.compile(r'"version":"1\.\d+"')).problem is None
    assert probe(f"{base}/health", expect_body='"ok":false').problem.startswith("the body does not contain '\"ok\":false'")
    assert probe(f"{base}/broken", expect_status=200).problem == "status 500, expected 200"
    assert probe(f"{base}/broken").problem == "status 500"
    assert probe(f"{base}/missing", expect_status=[200, 204]).problem == "status 404, expected 200 or 204"


def test_probe_connects_elsewhere_with_host_header_and_sni(ca, ca_file, web_server) -> None:
    server = web_server({("GET", "/health"): (200, {}, "ok")}, cert=issue(ca, HOST))
    url = f"https://{HOST}:{server.port}/health"
    result = probe(url, expect_status=200, verify=str(ca_file), connect_to=("127.0.0.1", server.port))
    assert result.problem is None
    assert server.requests[-1][2]["Host"] == f"{HOST}:{server.port}"
    refused = probe(url, connect_to=("127.0.0.1", server.port))  # system CAs do not know the test CA
    assert refused.problem.startswith("no response: TLS certificate verify failed")


def test_probe_unreachable_and_invalid_url(web_server) -> None:
    server = web_server()
    port = server.port
    server.close()
    assert probe(f"http://127.0.0.1:{port}/", timeout=2).problem.startswith("no response: ")
    assert probe("ftp://127.0.0.1/x").problem.startswith("no response: invalid URL")


ALLOW = {"Access-Control-Allow-Origin": "https://quoteviral.test", "Access-Control-Allow-Methods": "GET, POST, PUT",
         "Access-Control-Allow-Headers": "Content-Type, Authorization"}


@pytest.mark.parametrize(
    "headers, status, method, request_headers, problem",
    [
        (ALLOW, 204, "PUT", ("Content-Type",), None),
        ({**ALLOW, "Access-Control-Allow-Origin": "*"}, 200, "PUT", (), None),
        ({**ALLOW, "Access-Control-Allow-Methods": "GET"}, 204, "POST", (), None),  # safelisted
        ({}, 204, "GET", (), "No 'Access-Control-Allow-Origin' header is present on the requested resource"),
        ({**ALLOW, "Access-Control-Allow-Origin": "https://old.quoteviral.test"}, 204, "GET", (),
         "The 'Access-Control-Allow-Origin' header has a value 'https://old.quoteviral.test' that is not equal to "
         "the supplied origin 'https://quoteviral.test'"),
        (ALLOW, 204, "DELETE", (),
         "Method DELETE is not allowed by Access-Control-Allow-Methods in preflight response"),
        (ALLOW, 204, "POST", ("X-Api-Key",),
         "Request header field x-api-key is not allowed by Access-Control-Allow-Headers in preflight response"),
        (ALLOW, 405, "POST", (),
         "Response to preflight request doesn't pass access control check: It does not have HTTP ok status (405)"),
    ],
)
def test_cors_preflight(web_server, headers, status, method, request_headers, problem) -> None:
    server = web_server({("OPTIONS", "/templates/x"): (status, headers, "")})
    result = cors_preflight(f"http://127.0.0.1:{server.port}/templates/x", origin="https://quoteviral.test",
                            method=method, request_headers=request_headers)
    assert result.problem == problem
    sent = server.requests[-1][2]
    assert sent["Origin"] == "https://quoteviral.test" and sent["Access-Control-Request-Method"] == method


def test_importing_the_probes_loads_neither_dnspython_nor_httpx() -> None:
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src"
    code = ("import sys, faultbook.netprobe, faultbook.checks.registry\n"
            "print(sorted(m for m in ('dns', 'dns.resolver', 'httpx') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(src), "PATH": ""}, check=True).stdout
    assert out.strip() == "[]"
