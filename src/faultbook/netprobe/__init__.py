"""Small network probes — DNS, TLS, HTTP, CORS — that return values and never raise for a network failure.

Why this exists: ``faultbook check --network`` (rules FB501–FB506) and rollback
verification both need to ask "does this name resolve, is this certificate
good, does this endpoint answer" and get back a plain result to judge or show.
Each probe returns a frozen dataclass whose ``.problem`` is None when all is
well and otherwise one sentence a person can act on.  No rule logic lives here.

Every probe takes the address to connect to separately from the name it
verifies (``server_name`` / ``connect_to``), so callers can feed it a DNS answer
from a chosen resolver, or tests can point real hostnames at 127.0.0.1.
dnspython and httpx are imported inside the functions that use them.
"""

from importlib import import_module
from typing import Any

#: name -> submodule; loaded on first use so ``checks`` (which only needs ``targets``) stays light.
_EXPORTS = {
    "DnsResult": "dns", "is_cloudflare_address": "dns", "resolve": "dns",
    "CorsResult": "http", "HttpResult": "http", "cors_preflight": "http", "probe": "http",
    "TlsResult": "tls", "inspect_certificate": "tls",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'faultbook.netprobe' has no attribute {name!r}")
    return getattr(import_module(f"faultbook.netprobe.{_EXPORTS[name]}"), name)
