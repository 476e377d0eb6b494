"""The built-in catalog of Cloudflare deploy errors, loaded from data files in the package.

The entries live in ``knowledge/catalog/*.toml`` (one ``[[error]]`` table
each) so that adding a known error is a data change reviewed like a rule
change: an id that is public and never reused, the API code, the API that
returns it, a message pattern, the cause, a fix with exact commands, and
whether retrying helps.

Codes overlap between APIs — 10006 is NoSuchBucket on R2 but "could not parse
the Worker" on the script upload; 10013 is "namespace not found" on KV and a
generic error elsewhere — so every entry names its API (``endpoint``) and
``classify_endpoint`` turns the API path wrangler printed into that name.

Loading validates every entry (required fields, types, regexes compile,
unique ids, known endpoint names) and raises ``CatalogError`` naming the file
and entry; the result is cached for the life of the process.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from faultbook.errors import InputError

#: API names an entry may give as ``endpoint``, and the API paths that belong to each (first match wins).
ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("routes", r"/workers/scripts/[^/]+/routes|/workers/routes|/zones/[^/]+/workers/routes"),
    ("workers-secrets", r"/workers/scripts/[^/]+/secrets"),
    ("workers-deployments", r"/workers/scripts/[^/]+/(?:deployments|rollback)|/workers/deployments"),
    ("script-upload", r"/workers/(?:dispatch/namespaces/[^/]+/)?scripts/[^/]+(?:/versions|/content|/edge-preview)?/?$"),
    ("workers", r"/workers/(?:services|scripts)/"),
    ("r2", r"/r2/"),
    ("kv", r"/storage/kv/"),
    ("d1", r"/d1/"),
    ("queues", r"/queues"),
    ("pages", r"/pages/"),
    ("domains", r"/workers/domains|/zones/[^/]+/workers/"),
    ("zones", r"/zones"),
    ("tokens", r"/tokens/verify|/user/tokens|/memberships"),
)
_ENDPOINT_RES = tuple((name, re.compile(pattern)) for name, pattern in ENDPOINTS)
#: ``any``: the code means the same on every API; ``config``: wrangler's own validation, no API call.
ENDPOINT_NAMES = frozenset(name for name, _ in ENDPOINTS) | {"any", "config"}
#: An entry for the workers API also covers the script upload and its sub-resources.
_ENDPOINT_FAMILY = {
    "workers": {"workers", "script-upload", "workers-secrets", "workers-deployments"},
    "script-upload": {"script-upload"},
}

REQUIRED = ("id", "endpoint", "title", "component", "step", "cause", "fix")


class CatalogError(InputError):
    """A catalog data file is malformed (names the file and the entry)."""


@dataclass(frozen=True)
class KnownError:
    """One catalog entry: a Cloudflare error with its cause and fix."""

    id: str
    code: int | None
    endpoint: str
    message: str
    title: str
    component: str
    step: str
    cause: str
    fix: str
    lessons: str = ""
    transient: bool = False
    #: A catch-all for its code ("10021 failed validation"): shown only when no entry's pattern explains more.
    fallback: bool = False
    docs: str | None = None
    source: str = ""

    @functools.cached_property
    def pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.message) if self.message else None

    def matches_message(self, text: str) -> bool:
        return bool(self.pattern and self.pattern.search(text or ""))

    def applies_to(self, api: str | None) -> bool | None:
        """True/False when the API is known; None when it is not (``api`` None)."""
        if self.endpoint == "any":
            return True
        if api is None:
            return None
        return api in _ENDPOINT_FAMILY.get(self.endpoint, {self.endpoint})

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "endpoint": self.endpoint,
            "message": self.message,
            "title": self.title,
            "component": self.component,
            "step": self.step,
            "cause": self.cause,
            "fix": self.fix,
            "lessons": self.lessons,
            "transient": self.transient,
            "fallback": self.fallback,
            "docs": self.docs,
        }


def classify_endpoint(path: str | None) -> str | None:
    """The API name of a path like ``/accounts/<id>/r2/buckets/x`` (None when unknown or absent)."""
    if not path:
        return None
    path = path.split("?", 1)[0]
    for name, pattern in _ENDPOINT_RES:
        if pattern.search(path):
            return name
    return None


@functools.lru_cache(maxsize=1)
def load_catalog() -> tuple[KnownError, ...]:
    """Every built-in entry, in file order (files sorted by name); validated, cached."""
    folder = resources.files("faultbook.knowledge") / "catalog"
    entries: list[KnownError] = []
    seen: dict[str, str] = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml"):
            continue
        text = item.read_text(encoding="utf-8")
        entries.extend(parse_catalog(text, source=f"catalog/{item.name}", seen=seen))
    return tuple(entries)


def parse_catalog(text: str, *, source: str, seen: dict[str, str] | None = None) -> list[KnownError]:
    """Parse and validate one catalog file; ``seen`` collects ids across files to catch duplicates."""
    seen = {} if seen is None else seen
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(str(exc), path=source) from None
    raw = data.get("error", [])
    if not isinstance(raw, list):
        raise CatalogError("expected [[error]] tables", path=source)
    out: list[KnownError] = []
    for index, item in enumerate(raw, start=1):
        where = f"entry {index}" + (f" ({item.get('id')})" if isinstance(item, dict) and item.get("id") else "")
        out.append(_entry(item, source=source, where=where, seen=seen))
    return out


def _entry(item: Any, *, source: str, where: str, seen: dict[str, str]) -> KnownError:
    def fail(reason: str) -> CatalogError:
        return CatalogError(f"{where}: {reason}", path=source)

    if not isinstance(item, dict):
        raise fail("not a table")
    known = set(KnownError.__dataclass_fields__) - {"source"}
    unknown = set(item) - known
    if unknown:
        raise fail(f"unknown field(s): {', '.join(sorted(unknown))}")
    for name in REQUIRED:
        if not isinstance(item.get(name), str) or not item[name].strip():
            raise fail(f"missing or empty {name!r}")
    code = item.get("code")
    if code is not None and (not isinstance(code, int) or isinstance(code, bool) or code <= 0):
        raise fail("'code' must be a positive integer")
    if item["endpoint"] not in ENDPOINT_NAMES:
        raise fail(f"unknown endpoint {item['endpoint']!r} (one of {', '.join(sorted(ENDPOINT_NAMES))})")
    message = item.get("message", "")
    if not isinstance(message, str):
        raise fail("'message' must be a string (a regular expression)")
    try:
        re.compile(message)
    except re.error as exc:
        raise fail(f"'message' is not a valid regular expression: {exc}") from None
    if code is None and not message:
        raise fail("an entry without a code needs a message pattern")
    for flag in ("transient", "fallback"):
        if not isinstance(item.get(flag, False), bool):
            raise fail(f"{flag!r} must be true or false")
    if item.get("fallback") and (code is None or message):
        raise fail("a fallback entry has a code and no message pattern")
    for name in ("lessons", "docs"):
        if name in item and not isinstance(item[name], str):
            raise fail(f"{name!r} must be a string")
    if item["id"] in seen:
        raise fail(f"duplicate id {item['id']!r} (also in {seen[item['id']]})")
    seen[item["id"]] = source
    return KnownError(
        id=item["id"],
        code=code,
        endpoint=item["endpoint"],
        message=message,
        title=item["title"].strip(),
        component=item["component"].strip(),
        step=item["step"].strip(),
        cause=item["cause"].strip(),
        fix=item["fix"].strip(),
        lessons=item.get("lessons", "").strip(),
        transient=item.get("transient", False),
        fallback=item.get("fallback", False),
        docs=item.get("docs") or None,
        source=source,
    )
