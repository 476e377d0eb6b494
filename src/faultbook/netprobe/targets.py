"""What to probe, read from faultbook.toml: ``[network]``, ``[[network.dns]]``, ``[[network.cors]]``, ``[[smoke]]``
and ``[checks.health]``.

Shared by ``faultbook check --network`` (rules FB501–FB506) and rollback
verification (``services.health``), so both read ``[[smoke]]`` with this one
parser and give it one meaning; ``[checks.health]`` takes the same keys as a
``[[smoke]]`` entry and is parsed by the same function.  Every entry keeps
where it is written (``Where``: file, line, column) so a finding points at its
line.  Bad settings raise ``InputError`` naming the file and line.

```toml
[network]
resolver = "127.0.0.1:5353"      # default: the system resolver
timeout = 5                      # seconds per probe
tls_min_days = 14                # FB504 warns below this
cafile = "certs/ca.pem"          # extra trust anchors (relative to faultbook.toml)
origin = "https://quoteviral.com"  # default origin for [[network.cors]]
expect_routes_proxied = true     # route hosts must resolve to Cloudflare
[network.connect_to]             # like curl --connect-to: probe host:port at another address
"api.quoteviral.com:443" = "127.0.0.1:8443"
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping, overload
from urllib.parse import urlsplit

from faultbook.errors import InputError

if TYPE_CHECKING:
    from faultbook.config import Settings

KeyPath = tuple[Any, ...]


@dataclass(frozen=True)
class Where:
    """The place a target is written: file and 1-based span (end exclusive)."""

    path: str | None = None
    line: int = 1
    column: int = 1
    end_line: int = 1
    end_column: int = 1


@dataclass(frozen=True)
class DnsCheck:
    host: str
    expect_cname: str | None = None
    expect_a: tuple[str, ...] = ()
    expect_aaaa: tuple[str, ...] = ()
    expect_proxied: bool | None = None
    where: Where = field(default_factory=Where)

    @property
    def has_expectation(self) -> bool:
        return bool(self.expect_cname or self.expect_a or self.expect_aaaa or self.expect_proxied is not None)


@dataclass(frozen=True)
class CorsCheck:
    url: str
    origin: str
    method: str = "POST"
    headers: tuple[str, ...] = ()
    where: Where = field(default_factory=Where)


@dataclass(frozen=True)
class SmokeCheck:
    url: str
    method: str = "GET"
    expect_status: tuple[int, ...] = ()
    expect_body: str | None = None
    expect_body_regex: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    where: Where = field(default_factory=Where)


@dataclass(frozen=True)
class NetworkSettings:
    resolver: tuple[str, int] | None = None
    timeout: float = 5.0
    tls_min_days: int = 14
    cafile: str | None = None
    expect_routes_proxied: bool = True
    connect_to: Mapping[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    dns: tuple[DnsCheck, ...] = ()
    cors: tuple[CorsCheck, ...] = ()
    smoke: tuple[SmokeCheck, ...] = ()
    #: ``[checks.health]``: the main health endpoint, probed by rollback verification (not by FB506).
    health: SmokeCheck | None = None
    path: str | None = None

    def address_for(self, host: str, port: int) -> tuple[str, int] | None:
        return self.connect_to.get((host.lower(), port))


def load_network_settings(path: Path | None) -> NetworkSettings:
    """Read faultbook.toml at ``path`` (None or missing: defaults, nothing to probe)."""
    if path is None or not Path(path).is_file():
        return NetworkSettings()
    from faultbook.cloudflare.config import load_located_toml

    located = load_located_toml(Path(path))
    return network_settings_from_data(located.data, path=str(located.path), locate=located.locate)


def network_settings_from_settings(settings: "Settings") -> NetworkSettings:
    """From a ``faultbook.config.Settings``: positions when its file is known, else the parsed data alone."""
    if settings.config_path is not None:
        return load_network_settings(settings.config_path)
    return network_settings_from_data(dict(settings.file))


def network_settings_from_data(data: Mapping[str, Any], *, path: str | None = None, locate: Any = None) -> NetworkSettings:
    reader = _Reader(path, locate)
    network = data.get("network", {})
    if not isinstance(network, Mapping):
        raise reader.error(("network",), "[network] must be a table")
    base = Path(path).parent if path else Path(".")
    cafile = reader.string(network, ("network", "cafile"))
    return NetworkSettings(
        resolver=_host_port(reader, network, ("network", "resolver"), default_port=53),
        timeout=reader.number(network, ("network", "timeout"), 5.0),
        tls_min_days=int(reader.number(network, ("network", "tls_min_days"), 14)),
        cafile=str(base / cafile) if cafile else None,
        expect_routes_proxied=reader.boolean(network, ("network", "expect_routes_proxied"), True),
        connect_to=_connect_to(reader, network),
        dns=tuple(_dns(reader, entry, ("network", "dns", i)) for i, entry in enumerate(reader.tables(network, ("network", "dns")))),
        cors=tuple(
            _cors(reader, entry, ("network", "cors", i), reader.string(network, ("network", "origin")))
            for i, entry in enumerate(reader.tables(network, ("network", "cors")))
        ),
        smoke=tuple(_smoke(reader, entry, ("smoke", i)) for i, entry in enumerate(reader.tables(data, ("smoke",)))),
        health=_health(reader, data),
        path=path,
    )


class _Reader:
    def __init__(self, path: str | None, locate: Any) -> None:
        self.path, self.locate = path, locate

    def where(self, key_path: KeyPath) -> Where:
        if self.locate is None:
            return Where(self.path)
        span = self.locate(key_path)
        return Where(self.path, span.line, span.column, span.end_line, span.end_column)

    def error(self, key_path: KeyPath, message: str) -> InputError:
        where = self.where(key_path)
        return InputError(message, path=self.path, line=where.line if self.locate else None,
                          column=where.column if self.locate else None)

    def _get(self, table: Mapping, key_path: KeyPath) -> Any:
        return table.get(key_path[-1])

    @overload
    def string(self, table: Mapping, key_path: KeyPath, *, required: Literal[True]) -> str: ...

    @overload
    def string(self, table: Mapping, key_path: KeyPath, *, required: bool = False) -> str | None: ...

    def string(self, table: Mapping, key_path: KeyPath, *, required: bool = False) -> str | None:
        value = self._get(table, key_path)
        if value is None:
            if required:
                raise self.error(key_path[:-1], f"{_dotted(key_path[:-1])} needs '{key_path[-1]}'")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key_path, f"'{_dotted(key_path)}' must be a non-empty string")
        return value.strip()

    def strings(self, table: Mapping, key_path: KeyPath) -> tuple[str, ...]:
        value = self._get(table, key_path)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key_path, f"'{_dotted(key_path)}' must be a string or a list of strings")
        return tuple(v.strip() for v in value)

    def number(self, table: Mapping, key_path: KeyPath, default: float) -> float:
        value = self._get(table, key_path)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.error(key_path, f"'{_dotted(key_path)}' must be a non-negative number")
        return value

    @overload
    def boolean(self, table: Mapping, key_path: KeyPath, default: bool) -> bool: ...

    @overload
    def boolean(self, table: Mapping, key_path: KeyPath, default: None) -> bool | None: ...

    def boolean(self, table: Mapping, key_path: KeyPath, default: bool | None) -> bool | None:
        value = self._get(table, key_path)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key_path, f"'{_dotted(key_path)}' must be true or false")
        return value

    def tables(self, table: Mapping, key_path: KeyPath) -> list[Mapping]:
        value = self._get(table, key_path)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.error(key_path, f"'{_dotted(key_path)}' must be an array of tables ([[{_dotted(key_path)}]])")
        return value


def _dotted(key_path: KeyPath) -> str:
    return ".".join(str(k) for k in key_path if not isinstance(k, int))


def _host_port(reader: _Reader, table: Mapping, key_path: KeyPath, *, default_port: int) -> tuple[str, int] | None:
    text = reader.string(table, key_path)
    if text is None:
        return None
    if text.startswith("["):  # [::1]:53
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    try:
        return host, int(port) if port else default_port
    except ValueError:
        raise reader.error(key_path, f"'{_dotted(key_path)}' must be HOST or HOST:PORT, not {text!r}") from None


def _connect_to(reader: _Reader, network: Mapping) -> dict[tuple[str, int], tuple[str, int]]:
    table = network.get("connect_to")
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise reader.error(("network", "connect_to"), "[network.connect_to] must be a table of \"host:port\" = \"address:port\"")
    result: dict[tuple[str, int], tuple[str, int]] = {}
    for key, value in table.items():
        path = ("network", "connect_to", key)
        source = _host_port(reader, {"k": key}, path[:-1] + ("k",), default_port=443)
        target = _host_port(reader, table, path, default_port=source[1] if source else 443)
        if source is None or target is None:  # only for a missing key, and both keys exist here
            continue
        result[(source[0].lower(), source[1])] = target
    return result


def _url(reader: _Reader, entry: Mapping, key_path: KeyPath) -> str:
    url = reader.string(entry, key_path, required=True)
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # "http://[::1" (an unclosed IPv6 bracket), a port out of range
        ok = False
    if not ok:
        raise reader.error(key_path, f"'{_dotted(key_path)}' must be an http:// or https:// URL, not {url[:100]!r}")
    return url


def _dns(reader: _Reader, entry: Mapping, prefix: KeyPath) -> DnsCheck:
    return DnsCheck(
        host=reader.string(entry, prefix + ("host",), required=True).rstrip(".").lower(),
        expect_cname=(reader.string(entry, prefix + ("expect_cname",)) or "").rstrip(".").lower() or None,
        expect_a=reader.strings(entry, prefix + ("expect_a",)),
        expect_aaaa=reader.strings(entry, prefix + ("expect_aaaa",)),
        expect_proxied=reader.boolean(entry, prefix + ("expect_proxied",), None),
        where=reader.where(prefix),
    )


def _cors(reader: _Reader, entry: Mapping, prefix: KeyPath, default_origin: str | None) -> CorsCheck:
    origin = reader.string(entry, prefix + ("origin",)) or default_origin
    if origin is None:
        raise reader.error(prefix, "[[network.cors]] needs 'origin' (or set it once in [network])")
    return CorsCheck(
        url=_url(reader, entry, prefix + ("url",)),
        origin=origin,
        method=(reader.string(entry, prefix + ("method",)) or "POST").upper(),
        headers=reader.strings(entry, prefix + ("headers",)),
        where=reader.where(prefix),
    )


def _health(reader: _Reader, data: Mapping[str, Any]) -> SmokeCheck | None:
    checks = data.get("checks")
    if not isinstance(checks, Mapping) or checks.get("health") is None:
        return None
    if not isinstance(checks["health"], Mapping):
        raise reader.error(("checks", "health"), "[checks.health] must be a table")
    return _smoke(reader, checks["health"], ("checks", "health"))


def _smoke(reader: _Reader, entry: Mapping, prefix: KeyPath) -> SmokeCheck:
    """One ``[[smoke]]`` entry (prefix ``("smoke", i)``) or ``[checks.health]`` (prefix ``("checks", "health")``)."""
    name = _dotted(prefix)
    table = f"[[{name}]]" if isinstance(prefix[-1], int) else f"[{name}]"
    status = entry.get("expect_status")
    statuses = (status,) if isinstance(status, int) and not isinstance(status, bool) else status
    if statuses is not None and (not isinstance(statuses, (list, tuple)) or not all(
            isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in statuses)):
        raise reader.error(prefix + ("expect_status",), f"'{name}.expect_status' must be an HTTP status or a list of them")
    headers = entry.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(isinstance(v, str) for v in headers.values()):
        raise reader.error(prefix + ("headers",), f"'{name}.headers' must be a table of strings")
    # The body expectations are kept as written (not stripped): spaces can be part of what is matched.
    body = _verbatim(reader, entry, prefix + ("expect_body",))
    regex = _verbatim(reader, entry, prefix + ("expect_body_regex",))
    if regex is not None and body is not None:
        raise reader.error(prefix, f"{table} takes expect_body (a substring) or expect_body_regex, not both")
    if regex is not None:
        import re

        try:
            re.compile(regex)
        except re.error as exc:
            raise reader.error(prefix + ("expect_body_regex",), f"'{name}.expect_body_regex' is not a valid regex: {exc}") from None
    return SmokeCheck(
        url=_url(reader, entry, prefix + ("url",)),
        method=(reader.string(entry, prefix + ("method",)) or "GET").upper(),
        expect_status=tuple(statuses or ()),
        expect_body=body,
        expect_body_regex=regex,
        headers=tuple((str(k), v) for k, v in headers.items()),
        where=reader.where(prefix),
    )


def _verbatim(reader: _Reader, table: Mapping, key_path: KeyPath) -> str | None:
    value = table.get(key_path[-1])
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise reader.error(key_path, f"'{_dotted(key_path)}' must be a non-empty string")
    return value


def run_smoke(
    entry: SmokeCheck,
    settings: NetworkSettings | None = None,
    *,
    transport: Any = None,
    connect_to: tuple[str, int] | None = None,
) -> Any:
    """Call one ``[[smoke]]`` endpoint as FB506 does (resolver, connect_to, cafile, timeout) → ``HttpResult``.

    Rollback verification (``services.health``) runs every ``ns.smoke`` entry and ``ns.health`` through
    this and looks at each ``.problem``.  ``connect_to`` is an address the caller already resolved (FB506
    resolves each host once per check run); ``transport`` (an httpx transport) is for tests."""
    import re

    from faultbook.netprobe.dns import resolve
    from faultbook.netprobe.http import HttpResult, probe

    settings = settings or NetworkSettings()
    parts = urlsplit(entry.url)
    host, port = (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)
    address = connect_to or settings.address_for(host, port)
    if address is None and settings.resolver is not None:
        result = resolve(host, nameserver=settings.resolver[0], port=settings.resolver[1], timeout=settings.timeout)
        if not result.ok:
            return HttpResult(url=entry.url, method=entry.method, error=result.problem)
        address = (result.records[0], port)
    body = re.compile(entry.expect_body_regex) if entry.expect_body_regex else entry.expect_body
    return probe(
        entry.url, method=entry.method, expect_status=entry.expect_status or None, expect_body=body,
        headers=dict(entry.headers), timeout=settings.timeout, verify=settings.cafile or True, connect_to=address,
        transport=transport,
    )
