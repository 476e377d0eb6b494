"""DNS lookups with dnspython: the records a name resolves to, and the CNAME chain on the way.

``resolve`` asks one resolver (the system's, or ``nameserver:port``) and turns
every outcome — NXDOMAIN, no record of that type, SERVFAIL, silence — into a
``DnsResult`` status instead of an exception.  ``is_cloudflare_address`` knows
Cloudflare's published anycast ranges, which is how a proxied ("orange cloud")
record is recognised: Cloudflare flattens proxied CNAMEs, so the chain is not
visible from outside and only the addresses tell.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

#: Cloudflare's published ranges (cloudflare.com/ips-v4 and /ips-v6).
CLOUDFLARE_RANGES = tuple(ipaddress.ip_network(net) for net in (
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
))


def is_cloudflare_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in CLOUDFLARE_RANGES if net.version == ip.version)


def normalise_name(name: str) -> str:
    return name.strip().rstrip(".").lower()


@dataclass(frozen=True)
class DnsResult:
    host: str
    rdtype: str
    #: "ok" | "nxdomain" | "noanswer" | "servfail" | "timeout" | "error"
    status: str
    records: tuple[str, ...] = ()
    #: Every name the lookup went through after ``host`` (CNAME targets, in order).
    cname_chain: tuple[str, ...] = ()
    resolver: str = "system resolver"
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def canonical_name(self) -> str:
        return self.cname_chain[-1] if self.cname_chain else normalise_name(self.host)

    @property
    def problem(self) -> str | None:
        if self.status == "ok":
            return None
        if self.status == "nxdomain":
            return f"DNS resolution failed: {self.host} does not exist (NXDOMAIN)"
        if self.status == "noanswer":
            return f"DNS resolution failed: {self.host} has no {self.rdtype} record"
        if self.status == "timeout":
            return f"DNS resolution failed: no answer from {self.resolver} ({self.error})"
        if self.status == "servfail" and "SERVFAIL" in (self.error or ""):
            return f"DNS resolution failed: {self.host} — the resolver answered SERVFAIL"
        return f"DNS resolution failed for {self.host}: {self.error}"


def resolve(
    host: str,
    *,
    rdtype: str = "A",
    nameserver: str | None = None,
    port: int = 53,
    timeout: float = 5.0,
) -> DnsResult:
    """Look ``host`` up (following CNAMEs); ``nameserver`` None uses the system's resolv.conf."""
    import dns.exception
    import dns.rdatatype
    import dns.resolver

    where = f"{nameserver}:{port}" if nameserver else "system resolver"
    base = DnsResult(host=host, rdtype=rdtype.upper(), status="error", resolver=where)
    try:
        resolver = dns.resolver.Resolver(configure=nameserver is None)
        if nameserver:
            resolver.nameservers = [nameserver]
            resolver.port = port
        resolver.timeout = resolver.lifetime = timeout
        answer = resolver.resolve(host, rdtype, raise_on_no_answer=False, search=False)
    except dns.resolver.NXDOMAIN:
        return replace(base, status="nxdomain")
    except dns.resolver.NoNameservers as exc:
        return replace(base, status="servfail", error=_first_line(exc))
    except dns.exception.Timeout as exc:
        return replace(base, status="timeout", error=_first_line(exc))
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        return replace(base, status="error", error=_first_line(exc) or type(exc).__name__)
    chain = _cname_chain(host, answer.response)
    if answer.rrset is None:
        return replace(base, status="noanswer", cname_chain=chain)
    wanted = dns.rdatatype.from_text(rdtype)
    records = tuple(_record_text(r) for r in answer.rrset if r.rdtype == wanted)
    return replace(base, status="ok", records=records, cname_chain=chain)


def _cname_chain(host: str, response) -> tuple[str, ...]:
    import dns.rdatatype

    targets = {}
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.CNAME:
            for record in rrset:
                targets[normalise_name(rrset.name.to_text())] = normalise_name(record.target.to_text())
    chain: list[str] = []
    name = normalise_name(host)
    while name in targets and targets[name] not in chain and len(chain) < 16:
        name = targets[name]
        chain.append(name)
    return tuple(chain)


def _record_text(record) -> str:
    target = getattr(record, "target", None)
    return normalise_name(target.to_text()) if target is not None else record.to_text()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""
