"""Network rules (``faultbook check --network``): do the Worker's hostnames resolve, carry a good certificate,
let the front end through CORS, and answer their smoke tests?  The seed's Potential Failures #1 and #3.

Targets come from the wrangler config's ``routes`` / ``route`` (the host part of
each pattern) and from faultbook.toml (``[[network.dns]]``, ``[[network.cors]]``,
``[[smoke]]``; see ``faultbook.netprobe.targets``), which ``Context.network_settings``
carries.  The probes themselves live in ``faultbook.netprobe``; these rules only
decide what to ask and how to judge it.  Each lookup is made once per run
(``ctx.cache``) however many rules or entries need it.

Hostnames are resolved with dnspython (the configured ``[network] resolver``, or
the system's) and TLS/HTTP connect to the resolved address with the hostname as
SNI and Host header, so every rule sees the same DNS answer.
``[network.connect_to]`` overrides the address for one ``host:port``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Iterable, Iterator
from urllib.parse import urlsplit

from faultbook.checks.base import Context, Finding, Rule, Severity
from faultbook.netprobe.targets import CorsCheck, NetworkSettings, SmokeCheck, Where


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class RouteHost:
    host: str
    pattern: str
    custom_domain: bool
    where: Where
    env: str | None


def host_of_pattern(pattern: str) -> str | None:
    """``api.quoteviral.com/*`` → ``api.quoteviral.com``; ``*quoteviral.com/*`` → ``quoteviral.com`` (the pattern
    matches the apex too); ``*.quoteviral.com/*`` and other wildcards → None (no single host to probe)."""
    text = re.sub(r"^[a-z]+://", "", pattern.strip(), flags=re.I)
    host = re.split(r"[/?#]", text, maxsplit=1)[0]
    host = re.sub(r":\d+$", "", host).rstrip(".").lower()
    if host.startswith("*") and not host.startswith("*."):
        host = host[1:]
    if not host or "*" in host or "." not in host:
        return None
    return host


def route_hosts(ctx: Context) -> list[RouteHost]:
    """Every concrete hostname the config routes to, once per place it is written."""
    found: list[RouteHost] = []
    seen: set[tuple] = set()
    for scope in ctx.scopes():
        for key in ("routes", "route"):
            value, path = scope.get(key)
            if value is None:
                continue
            entries = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for index, entry in entries:
                entry_path = path + (index,) if index is not None else path
                pattern = entry.get("pattern") if isinstance(entry, dict) else entry
                if not isinstance(pattern, str):
                    continue
                host = host_of_pattern(pattern)
                if host is None:
                    continue
                span = ctx.config.value_span(entry_path) or ctx.config.locate(entry_path)
                where = Where(str(ctx.config.path), span.line, span.column, span.end_line, span.end_column)
                if (host, where) in seen:  # an inherited route is written once
                    continue
                seen.add((host, where))
                custom = isinstance(entry, dict) and entry.get("custom_domain") is True
                found.append(RouteHost(host, pattern, custom, where, scope.env))
    return found


def _net(ctx: Context) -> NetworkSettings:
    return ctx.network_settings or NetworkSettings()


def _addresses(ctx: Context, host: str):
    """The host's A records (AAAA when it has no A), as a cached ``DnsResult``."""
    key = ("net-addresses", host)
    if key not in ctx.cache:
        result = _dns(ctx, host, "A")
        if result.status == "noanswer":
            v6 = _dns(ctx, host, "AAAA")
            result = v6 if v6.ok else result
        ctx.cache[key] = result
    return ctx.cache[key]


def _dns(ctx: Context, host: str, rdtype: str):
    from faultbook.netprobe.dns import resolve

    key = ("net-dns", host, rdtype)
    if key not in ctx.cache:
        net = _net(ctx)
        nameserver, port = net.resolver or (None, 53)
        ctx.cache[key] = resolve(host, rdtype=rdtype, nameserver=nameserver, port=port, timeout=net.timeout)
    return ctx.cache[key]


def _connect_address(ctx: Context, host: str, port: int):
    """(address, port) to connect to for ``host:port``, or the failed ``DnsResult``."""
    override = _net(ctx).address_for(host, port)
    if override:
        return override
    try:
        ipaddress.ip_address(host)
        return host, port
    except ValueError:
        pass
    result = _addresses(ctx, host)
    return (result.records[0], port) if result.ok and result.records else result


def _url_host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)


def _tls_targets(ctx: Context) -> Iterator[tuple[str, int, Where, bool]]:
    """(host, port, where, custom_domain) for every HTTPS endpoint, once, at the first place naming it."""
    seen: set[tuple[str, int]] = set()
    items: list[tuple[str, int, Where, bool]] = [(r.host, 443, r.where, r.custom_domain) for r in route_hosts(ctx)]
    net = _net(ctx)
    endpoints: list[SmokeCheck | CorsCheck] = [*net.smoke, *net.cors]
    for entry in sorted(endpoints, key=lambda e: e.where.line):
        if urlsplit(entry.url).scheme == "https":
            host, port = _url_host_port(entry.url)
            items.append((host, port, entry.where, False))
    for host, port, where, custom in items:
        if (host, port) not in seen:
            seen.add((host, port))
            yield host, port, where, custom


def _inspect(ctx: Context, host: str, port: int):
    """The cached ``TlsResult`` for host:port, or the failed ``DnsResult`` when it cannot be reached by name."""
    key = ("net-tls", host, port)
    if key not in ctx.cache:
        from faultbook.netprobe.tls import inspect_certificate

        address = _connect_address(ctx, host, port)
        if not isinstance(address, tuple):
            ctx.cache[key] = address
        else:
            net = _net(ctx)
            ctx.cache[key] = inspect_certificate(
                address[0], address[1], server_name=host, cafile=net.cafile, timeout=net.timeout
            )
    return ctx.cache[key]


class _NetworkRule(Rule):
    abstract = True
    network = True

    def at(self, where: Where, summary: str, *, detail: str = "", env: str | None = None,
           severity: Severity | None = None) -> Finding:
        return Finding(
            rule_id=self.id, severity=severity or self.severity, summary=summary, detail=detail or self.summary(),
            path=where.path or "faultbook.toml", line=where.line, column=where.column,
            end_line=where.end_line, end_column=where.end_column, env=env, rule_name=self.name,
        )


# --------------------------------------------------------------------------- rules


class DnsDoesNotResolve(_NetworkRule):
    """A hostname the Worker is routed to, or listed in `[[network.dns]]`, does not resolve.

    *Why* The seed's Potential Failure #1 ("DNS resolution failed"): a route such as
    `api.quoteviral.com/*` only receives traffic when the zone has a DNS record for the
    host. Without one, browsers get `DNS_PROBE_FINISHED_NXDOMAIN` and the deploy looks
    fine. A route with `custom_domain = true` is exempt while the name does not exist:
    wrangler creates its record on deploy.

    *Bad* `routes = ["api.quoteviral.com/*"]` with no `api` record in the zone.

    *Good* a proxied (orange-cloud) `AAAA 100::` or `CNAME` record for `api`, or
    `routes = [{ pattern = "api.quoteviral.com", custom_domain = true }]`.

    *Fix* Add the record in the Cloudflare dashboard (DNS → Records), then check with
    `dig api.quoteviral.com`; allow time for propagation on a new zone.
    """

    id = "FB501"
    name = "dns-does-not-resolve"
    severity = Severity.ERROR

    def applies(self, ctx: Context) -> bool:
        return bool(route_hosts(ctx) or _net(ctx).dns)

    def check(self, ctx: Context) -> Iterable[Finding]:
        targets = [(r.host, r.where, r.custom_domain, r.env, f" — the route {r.pattern} gets no traffic")
                   for r in route_hosts(ctx)]
        targets += [(d.host, d.where, False, None, "") for d in _net(ctx).dns]
        for host, where, custom, env, consequence in targets:
            result = _addresses(ctx, host)
            if result.ok or (custom and result.status in ("nxdomain", "noanswer")):
                continue
            if result.status == "timeout":
                yield self.at(where, f"could not check DNS for {host}: {result.problem}", env=env,
                              severity=Severity.WARNING)
            else:
                yield self.at(where, f"{result.problem}{consequence}", env=env)


class DnsPointsElsewhere(_NetworkRule):
    """A hostname resolves, but not to the target it should (the expected CNAME, addresses, or Cloudflare).

    *Why* The seed's Potential Failure #1 ("Domain not pointing to correct target"): a record
    left at an old host, a grey-cloud (DNS-only) record under a Worker route — the Worker
    never runs, the old origin answers — or a Pages custom domain whose CNAME points
    at another project.

    *Bad* `api.quoteviral.com` → `192.0.2.10` (the old server) with
    `routes = ["api.quoteviral.com/*"]`; or `quoteviral.com` → `CNAME old-site.pages.dev`.

    *Good* route hosts resolve to Cloudflare (proxied); in faultbook.toml
    `[[network.dns]] host = "www.quoteviral.com"` with `expect_cname = "quoteviral.pages.dev"`
    (DNS-only records), `expect_a = ["192.0.2.1"]`, or `expect_proxied = true`
    (a proxied CNAME is flattened, so only its Cloudflare addresses are visible).

    *Fix* Correct the record in the Cloudflare dashboard (DNS → Records): turn the proxy on
    for route hosts, point the CNAME at the right target; then re-run
    `faultbook check --network`.
    """

    id = "FB502"
    name = "dns-points-elsewhere"
    severity = Severity.ERROR

    def applies(self, ctx: Context) -> bool:
        net = _net(ctx)
        return any(d.has_expectation for d in net.dns) or (net.expect_routes_proxied and bool(route_hosts(ctx)))

    def check(self, ctx: Context) -> Iterable[Finding]:
        from faultbook.netprobe.dns import is_cloudflare_address

        net = _net(ctx)
        if net.expect_routes_proxied:
            for route in route_hosts(ctx):
                result = _addresses(ctx, route.host)
                if result.ok and not all(is_cloudflare_address(a) for a in result.records):
                    yield self.at(
                        route.where,
                        f"Domain not pointing to correct target: {route.host} resolves to {', '.join(result.records)}, "
                        f"not to Cloudflare — the route {route.pattern} only runs the Worker on a proxied record",
                        env=route.env,
                    )
        for entry in net.dns:
            yield from self._expectations(ctx, entry, is_cloudflare_address)

    def _expectations(self, ctx: Context, entry, is_cloudflare_address) -> Iterator[Finding]:
        host = entry.host
        if entry.expect_cname:
            result = _addresses(ctx, host)
            if result.ok and entry.expect_cname not in result.cname_chain:
                seen = " → ".join(result.cname_chain) if result.cname_chain else ", ".join(result.records)
                hint = ""
                if not result.cname_chain and result.records and all(is_cloudflare_address(a) for a in result.records):
                    hint = " (a proxied CNAME is flattened to Cloudflare addresses: use expect_proxied = true)"
                yield self.at(entry.where, f"Domain not pointing to correct target: {host} → {seen}, "
                                           f"expected CNAME {entry.expect_cname}{hint}")
        for rdtype, expected in (("A", entry.expect_a), ("AAAA", entry.expect_aaaa)):
            if not expected:
                continue
            result = _dns(ctx, host, rdtype)
            if result.status in ("ok", "noanswer"):
                wanted = {_normal_ip(a) for a in expected}
                got = {_normal_ip(a) for a in result.records}
                if not got or not got <= wanted:
                    yield self.at(entry.where, f"Domain not pointing to correct target: {host} {rdtype} "
                                               f"{', '.join(result.records) or '(none)'}, expected {', '.join(expected)}")
        if entry.expect_proxied is not None:
            result = _addresses(ctx, host)
            if result.ok:
                proxied = all(is_cloudflare_address(a) for a in result.records)
                if proxied != entry.expect_proxied:
                    state = "is proxied by Cloudflare" if proxied else "is not proxied by Cloudflare"
                    yield self.at(entry.where, f"Domain not pointing to correct target: {host} {state} "
                                               f"({', '.join(result.records)}), expected expect_proxied = "
                                               f"{str(entry.expect_proxied).lower()}")


def _normal_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


class TlsCertificateInvalid(_NetworkRule):
    """The TLS certificate served for a hostname is not valid: wrong name, untrusted or self-signed, or expired.

    *Why* The seed's Potential Failure #1 ("SSL certificate provisioning failed"): browsers
    refuse the site outright (`NET::ERR_CERT_COMMON_NAME_INVALID`,
    `ERR_CERT_AUTHORITY_INVALID`, `ERR_CERT_DATE_INVALID`). Typical causes: a custom
    domain whose certificate is still pending, a sub-subdomain (`a.b.quoteviral.com`) that
    the Universal certificate does not cover, an origin certificate served directly.

    *Bad* `api.v2.quoteviral.com` under a Universal certificate for `*.quoteviral.com`.

    *Good* every route host and HTTPS smoke/CORS URL serves a certificate for its own
    name, from a trusted CA, within its dates.

    *Fix* Check SSL/TLS → Edge Certificates in the dashboard (status "Active"); order an
    Advanced certificate for deeper subdomains; wait for custom-domain provisioning to
    finish; contact Cloudflare support if it stays pending.
    """

    id = "FB503"
    name = "tls-certificate-invalid"
    severity = Severity.ERROR

    def applies(self, ctx: Context) -> bool:
        return any(True for _ in _tls_targets(ctx))

    def check(self, ctx: Context) -> Iterable[Finding]:
        for host, port, where, custom in _tls_targets(ctx):
            result = _inspect(ctx, host, port)
            if not hasattr(result, "valid") or result.valid:
                continue  # DNS failures are FB501's / FB506's
            if result.reason == "unreachable":
                yield self.at(where, f"could not check the TLS certificate of {host}: {result.problem}",
                              severity=Severity.WARNING)
            else:
                yield self.at(where, f"SSL certificate provisioning failed: {result.problem}")


class TlsCertificateExpiring(_NetworkRule):
    """The TLS certificate for a hostname expires within `tls_min_days` (default 14).

    *Why* Cloudflare renews its edge certificates itself, but a custom certificate, an
    Advanced certificate whose validation broke (a removed CNAME/TXT record) or a
    DNS-only host's origin certificate expires silently — and then every visitor sees
    `ERR_CERT_DATE_INVALID`.

    *Bad* a custom certificate uploaded a year ago, 5 days left.

    *Good* more than `tls_min_days` left (`[network] tls_min_days = 14` in faultbook.toml).

    *Fix* Renew or re-upload the certificate (SSL/TLS → Edge Certificates), or repair the
    validation records so Cloudflare can renew it.
    """

    id = "FB504"
    name = "tls-certificate-expiring"
    severity = Severity.WARNING

    applies = TlsCertificateInvalid.applies

    def check(self, ctx: Context) -> Iterable[Finding]:
        minimum = _net(ctx).tls_min_days
        for host, port, where, _ in _tls_targets(ctx):
            result = _inspect(ctx, host, port)
            if getattr(result, "valid", False) and result.expires_within(minimum):
                yield self.at(where, f"the TLS certificate for {host} expires in {result.days_left} days "
                                     f"({result.not_after:%Y-%m-%d}), under tls_min_days = {minimum}")


class CorsPreflightRefused(_NetworkRule):
    """A CORS preflight from the front end's origin is refused, or its answer lacks the headers the browser needs.

    *Why* The seed's Potential Failure #3 ("CORS policy blocked"): the API works with curl
    but every `fetch` from `https://quoteviral.com` fails, because the Worker does not
    answer `OPTIONS` or omits `Access-Control-Allow-Origin` / `-Methods` / `-Headers`.

    *Bad* a Worker that handles only GET/POST and returns 405 to `OPTIONS`.

    *Good* `OPTIONS` answered with 204 and `Access-Control-Allow-Origin: https://quoteviral.com`,
    the methods and the request headers the front end sends; checked by
    `[[network.cors]] url = "https://api.quoteviral.com/templates/x"`,
    `origin = "https://quoteviral.com"`, `method = "PUT"`, `headers = ["content-type"]`.

    *Fix* Answer preflights in the Worker (or a `_headers` file for Pages) with the origin,
    methods and headers the front end uses; keep the origin list in one variable per env.
    """

    id = "FB505"
    name = "cors-preflight-refused"
    severity = Severity.ERROR

    def applies(self, ctx: Context) -> bool:
        return bool(_net(ctx).cors)

    def check(self, ctx: Context) -> Iterable[Finding]:
        from faultbook.netprobe.http import cors_preflight

        net = _net(ctx)
        for entry in net.cors:
            host, port = _url_host_port(entry.url)
            address = _connect_address(ctx, host, port)
            prefix = f"CORS policy blocked: Access to fetch at '{entry.url}' from origin '{entry.origin}'"
            if not isinstance(address, tuple):
                yield self.at(entry.where, f"{prefix}: the preflight was not sent: {address.problem}")
                continue
            result = cors_preflight(
                entry.url, origin=entry.origin, method=entry.method, request_headers=entry.headers,
                timeout=net.timeout, verify=net.cafile or True, connect_to=address,
            )
            if result.problem:
                yield self.at(entry.where, f"{prefix}: {result.problem}")


class SmokeEndpointFailed(_NetworkRule):
    """A smoke endpoint from faultbook.toml `[[smoke]]` is unreachable or answers with the wrong status or body.

    *Why* The seed's Potential Failure #3 ("API endpoints not accessible") and its practice
    "Test all API endpoints after deployment": a Worker that deploys cleanly can still
    throw on every request (`Error 1101`), miss a binding, or be shadowed by another route.

    *Bad* `GET https://api.quoteviral.com/health` → 500, or a body without `"ok":true`.

    *Good* in faultbook.toml: `[[smoke]] url = "https://api.quoteviral.com/health"`,
    `expect_status = 200`, `expect_body = '"ok":true'` — and the endpoint answers so.

    *Fix* Look at `wrangler tail` while calling the endpoint; roll back with
    `faultbook rollback` if the last deploy broke it.
    """

    id = "FB506"
    name = "smoke-endpoint-failed"
    severity = Severity.ERROR

    def applies(self, ctx: Context) -> bool:
        return bool(_net(ctx).smoke)

    def check(self, ctx: Context) -> Iterable[Finding]:
        from faultbook.netprobe.targets import run_smoke

        net = _net(ctx)
        for entry in net.smoke:
            host, port = _url_host_port(entry.url)
            address = _connect_address(ctx, host, port)
            prefix = f"API endpoints not accessible: {entry.method} {entry.url}"
            if not isinstance(address, tuple):
                yield self.at(entry.where, f"{prefix} — {address.problem}")
                continue
            # The same call rollback verification makes, with the address this run already resolved.
            result = run_smoke(entry, net, connect_to=address)
            if result.problem:
                yield self.at(entry.where, f"{prefix} — {result.problem}")
