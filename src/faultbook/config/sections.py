"""The sections of faultbook.toml, typed: one frozen dataclass per table, every key declared once.

Before this module each feature read its table with ``settings.section("x").get("key")`` and checked
types (or not) where it used them; a misspelt key was silently ignored.  Now a key is declared once
(``setting(default, doc)``), its value is checked against the declared type when faultbook.toml is
loaded, and an unknown key is an error naming the file and line (a typo in
``force_on_changed_secrets`` must not quietly turn a safety switch off; an error costs one edit).

The network tables (``[network]``, ``[[network.dns]]``, ``[[network.cors]]``, ``[[smoke]]``,
``[checks.health]``) are parsed by ``faultbook.netprobe.targets`` into its own typed values, with
positions so check findings point at faultbook.toml's lines; they are declared here as ``Key`` values
so unknown keys and docs/settings.md are checked for them too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Mapping, TypeVar

from faultbook.config.declare import Key, keys_of, setting
from faultbook.errors import InputError

T = TypeVar("T")


@dataclass(frozen=True)
class TopLevel:
    project: str | None = setting(None, "The project key (default: FAULTBOOK_PROJECT, else the root folder's name).")
    name: str | None = setting(None, "The project's display name (default: the project key).")
    database_url: str | None = setting(
        None, "The ledger's database (default: SQLite at .faultbook/faultbook.db; FAULTBOOK_DATABASE_URL wins)."
    )


@dataclass(frozen=True)
class CheckSection:
    select: tuple[str, ...] = setting((), "Rules to run (codes or prefixes), when --select is not given.",
                                      toml_type="string or array of strings")
    ignore: tuple[str, ...] = setting((), "Rules never to run (codes or prefixes), added to --ignore.",
                                      toml_type="string or array of strings")


@dataclass(frozen=True)
class CaptureSection:
    components: Mapping[str, Any] | None = setting(
        None, "Glob pattern over the command line -> component (or {component, step}), tried before the built-in rules.",
        toml_type="table",
    )


@dataclass(frozen=True)
class ServerSection:
    url: str | None = setting(None, "The team server `faultbook run` reports to (FAULTBOOK_SERVER_URL wins).")
    token: str | None = setting(None, "Its API token (FAULTBOOK_SERVER_TOKEN wins; prefer the variable).")
    anonymous: str | bool | None = setting(
        None, "What anonymous users may do on `faultbook serve`: none, read or write (default: read on loopback).",
        toml_type="string or boolean",
    )
    anonymous_read: bool | None = setting(None, "Older spelling: true = anonymous read, false = none.")
    trusted_proxy: bool = setting(
        False, "The server runs behind a TLS-terminating proxy: believe X-Forwarded-Proto (Secure cookies, Origin check)."
    )

    @property
    def anonymous_setting(self) -> str | bool | None:
        return self.anonymous if self.anonymous is not None else self.anonymous_read


@dataclass(frozen=True)
class RollbackSection:
    worker: str | None = setting(None, "The Worker to roll back (default: the wrangler config's name, per --env).")
    wrangler_config: str | None = setting(None, "The wrangler config, relative to the project root (default: found).")
    force_on_changed_secrets: bool = setting(
        False, "Roll back even when secrets changed since the target version (wrangler's --force)."
    )


@dataclass(frozen=True)
class PagesSection:
    project: str | None = setting(None, "The Pages project to roll back and name in support bundles.")


@dataclass(frozen=True)
class SupportSection:
    zone_id: str | None = setting(None, "The zone id for support bundles (default: from the wrangler config).")


@dataclass(frozen=True)
class McpSection:
    allow_writes: bool = setting(False, "Offer record_failure to coding agents over MCP (default: read-only).")
    http: bool = setting(False, "Serve MCP at /mcp/ on the team server (the SDK costs about a second per worker).")


#: Tables read into a dataclass here: TOML name -> class ("" is the top level).
TYPED: dict[str, type] = {
    "": TopLevel,
    "check": CheckSection,
    "capture": CaptureSection,
    "server": ServerSection,
    "rollback": RollbackSection,
    "pages": PagesSection,
    "support": SupportSection,
    "mcp": McpSection,
}

_SMOKE_KEYS = (
    Key("smoke", "url", "string", None, "The endpoint (http:// or https://); required."),
    Key("smoke", "method", "string", "GET", "The HTTP method."),
    Key("smoke", "expect_status", "integer or array of integers", None,
        "Accepted statuses (default: any status below 400)."),
    Key("smoke", "expect_body", "string", None, "A substring the body must contain."),
    Key("smoke", "expect_body_regex", "string", None, "A regular expression the body must match (not with expect_body)."),
    Key("smoke", "headers", "table of strings", None, "Request headers."),
)

#: Tables parsed by ``faultbook.netprobe.targets`` (with positions), declared here for docs and unknown keys.
NETWORK_KEYS: tuple[Key, ...] = (
    Key("network", "resolver", "string", None, "DNS resolver HOST or HOST:PORT (default: the system resolver)."),
    Key("network", "timeout", "number", 5.0, "Seconds per DNS/TLS/HTTP probe."),
    Key("network", "tls_min_days", "integer", 14, "FB504 warns when a certificate has fewer days left."),
    Key("network", "cafile", "string", None, "Extra trust anchors, relative to faultbook.toml."),
    Key("network", "origin", "string", None, "Default origin for [[network.cors]] entries."),
    Key("network", "expect_routes_proxied", "boolean", True, "FB502: route hosts must resolve to Cloudflare."),
    Key("network", "connect_to", "table of strings", None,
        "\"host:port\" = \"address:port\": probe at another address, keeping Host and TLS name."),
    Key("network", "dns", "array of tables", None, "[[network.dns]] entries."),
    Key("network", "cors", "array of tables", None, "[[network.cors]] entries."),
    Key("network.dns", "host", "string", None, "The hostname to resolve; required."),
    Key("network.dns", "expect_cname", "string", None, "A name that must appear in the CNAME chain."),
    Key("network.dns", "expect_a", "array of strings", None, "Every A record must be one of these."),
    Key("network.dns", "expect_aaaa", "array of strings", None, "Every AAAA record must be one of these."),
    Key("network.dns", "expect_proxied", "boolean", None, "All addresses must be in Cloudflare's ranges."),
    Key("network.cors", "url", "string", None, "The URL the browser calls; required."),
    Key("network.cors", "origin", "string", None, "The page's origin (default: [network] origin)."),
    Key("network.cors", "method", "string", "POST", "The request's method."),
    Key("network.cors", "headers", "array of strings", None, "Request headers the front end sends."),
    *_SMOKE_KEYS,
    Key("checks", "health", "table", None, "[checks.health]: the main health endpoint for rollback verification."),
    *(Key("checks.health", k.name, k.toml_type, k.default, k.doc) for k in _SMOKE_KEYS),
)

#: Every key faultbook.toml may hold, in docs order.
ALL_KEYS: tuple[Key, ...] = (
    *(key for name, cls in TYPED.items() for key in keys_of(name, cls)),
    *NETWORK_KEYS,
)
#: Tables (and arrays of tables) that are not typed here but are known.
_ARRAYS = {"smoke", "network.dns", "network.cors"}
_FREE_FORM = {"capture.components", "network.connect_to", "smoke.headers", "checks.health.headers"}


def known_keys(section: str) -> dict[str, Key]:
    return {k.name: k for k in ALL_KEYS if k.section == section}


def read_section(data: Mapping[str, Any], name: str, cls: type[T], *, path: str | None, text: str | None = None) -> T:
    """The typed value of table ``name`` ("" = top level) of the parsed file ``data``."""
    table = data if name == "" else data.get(name, {})
    if not isinstance(table, Mapping):
        raise InputError(f"[{name}] must be a table", path=path, line=_line_of(text, name, None))
    values = {}
    for f in fields(cls):  # type: ignore[arg-type]  # cls is a dataclass (TYPED's values)
        if f.name not in table:
            continue
        values[f.name] = _coerce(table[f.name], f.metadata.get("toml_type") or str(f.type), name, f.name, path, text)
    return cls(**values)


def check_unknown_keys(data: Mapping[str, Any], *, path: str | None, text: str | None) -> None:
    """Raise ``InputError`` at the first key no section declares (file and line when known)."""
    _check_table(data, "", path, text, index=None)


def _check_table(table: Mapping[str, Any], section: str, path: str | None, text: str | None, index: int | None) -> None:
    known = known_keys(section)
    subtables = {k.section.split(".")[-1] for k in ALL_KEYS if k.section.rsplit(".", 1)[0] == section and "." in k.section
                 } if section else {k.section.split(".")[0] for k in ALL_KEYS if k.section}
    for key, value in table.items():
        dotted = f"{section}.{key}" if section else key
        if dotted in _FREE_FORM:
            continue
        if key in subtables and key not in known:  # e.g. [network] at top level, [checks.health] under checks
            _check_child(value, dotted, path, text)
            continue
        if key in known:
            if dotted in _ARRAYS or f"{dotted}" in {k.section for k in ALL_KEYS}:
                _check_child(value, dotted, path, text)
            continue
        where = f"[{section}]" if section else "the top level"
        choices = ", ".join(sorted({*known, *subtables})) or "none"
        raise InputError(
            f"unknown setting '{dotted}' in {where} (known: {choices}; see docs/settings.md)",
            path=path, line=_line_of(text, section, key, index),
        )


def _check_child(value: Any, dotted: str, path: str | None, text: str | None) -> None:
    if isinstance(value, Mapping):
        _check_table(value, dotted, path, text, index=None)
    elif isinstance(value, list):
        for i, entry in enumerate(value):
            if isinstance(entry, Mapping):
                _check_table(entry, dotted, path, text, index=i)


def _coerce(value: Any, toml_type: str, section: str, key: str, path: str | None, text: str | None) -> Any:
    dotted = f"{section}.{key}" if section else key

    def bad(expected: str) -> InputError:
        return InputError(f"'{dotted}' must be {expected}, not {value!r}", path=path, line=_line_of(text, section, key))

    if toml_type.startswith("string or array"):
        if isinstance(value, str):
            return tuple(part for part in re.split(r"[,\s]+", value) if part)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise bad("a string or an array of strings")
    if toml_type == "string or boolean":
        if isinstance(value, (str, bool)):
            return value
        raise bad("a string or a boolean")
    if "bool" in toml_type:
        if isinstance(value, bool):
            return value
        raise bad("true or false")
    if toml_type == "table" or "Mapping" in toml_type:
        if isinstance(value, Mapping):
            return dict(value)
        raise bad("a table")
    if "str" in toml_type:
        if isinstance(value, str) and value.strip():
            return value
        raise bad("a non-empty string")
    return value


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")


def _line_of(text: str | None, section: str, key: str | None, index: int | None = None) -> int | None:
    """The 1-based line of ``key`` in table ``section`` (its ``index``-th entry for an array of tables);
    the table's header line when the key is not found; None without the text."""
    if text is None:
        return None
    current, seen, header_line = "", -1, None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = header.group(2).replace('"', "").replace(" ", "")
            if key is not None and header_line is None and index is None:
                dotted = f"{section}.{key}" if section else key
                if current == dotted or current.startswith(dotted + "."):
                    return number  # the key is a table of its own: its header
            if current == section:
                seen += 1
                if index is None or seen == index:
                    header_line = number
            continue
        if current == section and (index is None or seen == index) and key is not None:
            if re.match(rf'^\s*"?{re.escape(key)}"?\s*=', line):
                return number
    return header_line
