"""Fingerprints: the recurrence key that says "this failure again", not "a new failure".

A deploy error carries volatile parts — bucket and Worker names, account ids,
uuids, version ids, timestamps, sizes — that differ between two runs of the
same mistake.  ``normalise`` replaces them with placeholders in ONE ordered
regex pass (Sentry's parameterisation, ``src/sentry/grouping/
parameterization.py``): the alternatives are tried left to right at each
position, so a URL is consumed as a URL before its host or digits could be
taken apart, and a replacement is never re-scanned.

``fingerprint`` hashes the normalised message together with the API error
code and the component.  The code is kept OUT of the normalisation's reach on
purpose: ``[code: 10021]`` and ``[code: 10085]`` both normalise to
``[code: <int>]``, and Sentry's complaint #51232 (``status code <int>``
merging 400 and 500) is exactly what that would cause.  The raw message is
kept by the caller (the failure and each occurrence store it verbatim).

Versioning: a fingerprint is ``"<version>:<hex>"``.  A new normaliser gets a
new version and is added to ``NORMALISERS``; new failures get the newest
version, stored failures keep theirs, and ``fingerprints`` returns the key
under every version so that an old failure is still found — nothing is ever
regrouped.
"""

from __future__ import annotations

import hashlib
import re
from typing import Callable

VERSION = "v1"

#: Top-level domains a bare hostname may end with (a file name like wrangler.toml must not look like a host).
_TLDS = (
    "com|net|org|io|dev|app|co|cloud|ai|me|info|biz|us|uk|de|fr|nl|eu|jp|cn|ru|in|br|au|ca|ch|se|no|es|it|pl|"
    "xyz|site|online|tech|page|workers\\.dev|pages\\.dev|local|internal|localhost"
)

#: (name, pattern) in priority order: at one position the first that matches wins.
_RULES_V1: tuple[tuple[str, str], ...] = (
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    ("url", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>)\]]+"),
    # /client/v4/accounts/<id>/workers/scripts/<name>: keep the API shape, drop ids and names.
    ("api_path", r"(?<![\w.])(?:/client/v4)?/(?:accounts|zones|user|memberships)(?:/[^\s,;'\"<>)\]]*)?"),
    ("ip", r"\b(?:\d{1,3}\.){3}\d{1,3}\b(?::\d+)?|\b(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}\b"),
    ("uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    (
        "date",
        r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
        r"|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z)?\b"
        r"|\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}"
        r" \d{2}:\d{2}:\d{2} (?:GMT|UTC)",
    ),
    ("hex", r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{8,128}\b"),
    ("version", r"\bv?\d+\.\d+\.\d+(?:-[\w.]+)?\b"),
    (
        "duration",
        r"\b\d+(?:\.\d+)?\s?(?:ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|days?)\b",
    ),
    ("float", r"(?<![\w.])-?\d+\.\d+\b"),
    ("int", r"(?<![\w.])-?\d+\b"),
    # 'quoteviral-uploads', "src/worker.ts", `id` — an opening quote never follows a letter (can't).
    ("quoted", r"(?<![\w'\"`])'[^'\n]{1,200}'(?![\w])|(?<![\w\"])\"[^\"\n]{1,200}\"(?![\w])|`[^`\n]{1,200}`"),
    ("hostname", r"\b(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+(?:" + _TLDS + r")\b"),
    (
        "path",
        r"\b[A-Za-z]:\\[^\s'\"]+"
        r"|(?<![\w.<>/])(?:~|\.{1,2})?/[\w.@+-]+(?:/[\w.@+-]+)*/?"
        r"|\b[\w.@+-]+(?:/[\w.@+-]+)+\.[A-Za-z][\w]{0,7}\b",
    ),
)

_WS_RE = re.compile(r"\s+")
_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
CODE_RE = re.compile(r"\[code: (\d+)\]|\(Code: (\d+)\)|\bCode (\d+):")

#: In an API path, the segment after one of these is an id or a name.
_API_ID_AFTER = frozenset({"accounts", "zones", "user", "memberships"})
_API_NAME_AFTER = frozenset(
    {
        "scripts",
        "services",
        "buckets",
        "namespaces",
        "database",
        "queues",
        "projects",
        "deployments",
        "versions",
        "domains",
        "dns_records",
        "tokens",
        "keys",
        "values",
        "environments",
        "secrets",
        "objects",
        "consumers",
        "dispatch",
        "configs",
        "indexes",
        "certificates",
    }
)


def _api_path(path: str) -> str:
    segments = path.split("/")
    out: list[str] = []
    previous = ""
    for segment in segments:
        if segment and previous in _API_ID_AFTER and previous != "user":
            out.append("<id>")
        elif segment and previous in _API_NAME_AFTER:
            out.append("<name>")
        elif segment and re.fullmatch(r"[0-9a-fA-F-]{8,}|\d+", segment):
            out.append("<id>")
        else:
            out.append(segment)
        previous = segment
    return "/".join(out)


def _compile(rules: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in rules))


_PATTERN_V1 = _compile(_RULES_V1)


def _replace_v1(match: re.Match[str]) -> str:
    kind = match.lastgroup or "value"
    if kind == "api_path":
        return _api_path(match.group(0))
    return f"<{kind}>"


def normalise_v1(message: str) -> str:
    text = _ANSI_RE.sub("", message or "")
    text = _WS_RE.sub(" ", text).strip()
    return _PATTERN_V1.sub(_replace_v1, text)


#: Every normaliser ever shipped, by version.  Never change one in place: add a new version.
NORMALISERS: dict[str, Callable[[str], str]] = {"v1": normalise_v1}


def normalise(message: str, *, version: str = VERSION) -> str:
    """The message with its volatile parts replaced by ``<kind>`` placeholders."""
    return NORMALISERS[version](message)


def extract_code(text: str) -> int | None:
    """The first Cloudflare API code written in the text (``[code: N]``, ``(Code: N)``, ``Code N:``)."""
    match = CODE_RE.search(text or "")
    if not match:
        return None
    return int(next(group for group in match.groups() if group))


def fingerprint(message: str, *, code: int | None, component: str, version: str = VERSION) -> str:
    """``"v1:<hex>"`` over the normalised message, the code and the lowercased component.

    When ``code`` is None the code written in the message is used, so an error
    pasted into ``faultbook explain`` keys the same as the captured one.
    """
    if code is None:
        code = extract_code(message)
    payload = "\x00".join(
        (version, normalise(message, version=version), "" if code is None else str(code), (component or "").strip().lower())
    )
    return f"{version}:{hashlib.sha256(payload.encode('utf-8')).hexdigest()[:40]}"


def fingerprints(message: str, *, code: int | None, component: str) -> tuple[str, ...]:
    """The key under every known normaliser version, newest first (to find failures fingerprinted earlier)."""
    ordered = sorted(NORMALISERS, key=lambda v: int(v.lstrip("v")), reverse=True)
    return tuple(fingerprint(message, code=code, component=component, version=v) for v in ordered)
