"""Fingerprints: the recurrence key that says "this failure again", not "a new failure".

A fingerprint names WHAT failed, from three parts:

- the API error code (``[code: 10000]``), kept OUT of the normaliser's reach:
  ``[code: 10021]`` and ``[code: 10085]`` would both normalise to ``<int>``,
  which is Sentry's complaint #51232 (``status code <int>`` merging 400 and
  500);
- the API family: the endpoint template the error came from
  (``/accounts/:id/workers/scripts/:name``).  The same code means different
  things on different APIs -- ``Authentication error [code: 10000]`` on
  ``/zones/:id/workers/routes`` is a token without the Zone permission, on
  the script upload a token without Workers Scripts:Edit -- so two families
  never group, while two concrete endpoints of one family (two scripts, two
  accounts) do;
- the message template: the message with its volatile parts replaced by
  ``<kind>`` placeholders in ONE ordered regex pass (Sentry's
  parameterisation, ``src/sentry/grouping/parameterization.py``): at each
  position the alternatives are tried left to right, so a URL is consumed as
  a URL before its host or digits could be taken apart, and a replacement is
  never re-scanned.  Ids, uuids, hex, opaque references
  (``reference = subhugho2re78qb852ji8945``), quoted names, binding names,
  numbers, sizes, dates, times, durations, paths, hosts, URLs and API paths
  are volatile; the words are the error.

plus the component (``Backend``), lowercased.

Versioning: a fingerprint is ``"<version>:<hex>"``, the version stored with
it.  A normaliser is frozen once shipped: a better one is a NEW version, and
an Alembic migration recomputes the stored keys (``0006_fingerprint_v2``
moved every ledger from v1 to v2), so a lookup only ever computes the current
version.  v1 stays here because the migration's downgrade recomputes it.

Measured on the bundled benchmark (``benchmarks/bench_match.py``): one v2
fingerprint costs about 20 microseconds (one regex pass plus a SHA-256), far
inside the 5 ms matching budget.
"""

from __future__ import annotations

import hashlib
import re
from typing import Callable

VERSION = "v2"

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
#: A Cloudflare API code as wrangler 1-4 write it: ``[code: N]``, ``(Code: N)``, ``[API code: N]``, ``Code N:``,
#: and a JSON error body's ``"code": N``.
CODE_RE = re.compile(r'\[(?:API )?code: (\d+)\]|\((?:API )?Code: (\d+)\)|\bCode (\d+):|"code":\s*(\d+)')
_CODE_RE_V1 = re.compile(r"\[code: (\d+)\]|\(Code: (\d+)\)|\bCode (\d+):")

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


# ---------------------------------------------------------------- v2

#: v2 adds, before v1's alternatives: API paths become ``<api>`` (the family is its own part of the key),
#: code markers are dropped (the code is its own part of the key), opaque references, sizes and binding
#: names are placeholders.  Order matters: the first alternative that matches at a position wins.
_RULES_V2: tuple[tuple[str, str], ...] = (
    # Code markers in every spelling wrangler used: [code: N], (Code: N), [API code: N], Code N:, "code": N.
    ("code", r"\s*\[(?:API )?code: \d+\]|\s*\((?:API )?Code: \d+\)|\bCode \d+:\s*|\"code\":\s*\d+"),
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    ("url", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>)\]]+"),
    # (Redacted ids stay inside the path: /zones/[zone-id-redacted]/..., /accounts/*****/...)
    ("api", r"(?:/client/v4|(?<![\w./-]))/(?:accounts|zones|user|memberships)\b(?:/[^\s,;'\"()]*)?"),
    # "reference = subhugho2re78qb852ji8945", "Ray ID: 8f1c...", "request id abc123": the value is opaque.
    (
        "refctx",
        r"\b(?P<refword>(?i:reference|ref|ray id|ray|cf-ray|request[ -]?id|trace[ -]?id|correlation[ -]?id))"
        r"\b(?P<refsep>\s*[=:#]?\s*)(?P<refval>(?=[\w-]*\d)[A-Za-z0-9][\w-]{5,})",
    ),
    ("ip", r"\b(?:\d{1,3}\.){3}\d{1,3}\b(?::\d+)?|\b(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}\b"),
    ("uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    (
        "date",
        r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
        r"|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z)?(?:\s?[AP]M\b)?"
        r"|\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}"
        r" \d{2}:\d{2}:\d{2} (?:GMT|UTC)",
    ),
    ("hex", r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{8,128}\b"),
    # An opaque token: long, letters and digits mixed (base32/base62 ids, version tags, request ids).
    ("ref", r"\b(?=[A-Za-z0-9]*\d[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{12,}\b"),
    ("version", r"\bv?\d+\.\d+\.\d+(?:-[\w.]+)?\b"),
    # "POST /accounts/.../file -> 502 Bad Gateway": the class of the status, not its number and reason.
    ("status", r"(?<=-> )[1-5]\d\d\b(?: [A-Z][\w-]*)*"),
    ("size", r"(?<![\w.])\d+(?:\.\d+)?\s?(?:[KMGT]i?B|[kmg]b|bytes?|B)\b"),
    (
        "duration",
        r"\b\d+(?:\.\d+)?\s?(?:ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|days?)\b",
    ),
    ("float", r"(?<![\w.])-?\d+\.\d+\b"),
    ("int", r"(?<![\w.])-?\d+\b"),
    ("quoted", _RULES_V1[-3][1]),
    # "binding IMAGES has ...", "binding DB of type d1": an env binding's name is the user's choice.
    ("binding", r"(?<=\bbinding )[A-Z][A-Z0-9_]*\b(?![\w-])"),
    ("hostname", _RULES_V1[-2][1]),
    ("path", _RULES_V1[-1][1]),
)
assert [name for name, _ in _RULES_V1[-3:]] == ["quoted", "hostname", "path"]

_PATTERN_V2 = _compile(_RULES_V2)
#: A double-quoted config field (``"routes"``, ``"kv_namespaces[0].id"``) is kept: wrangler's config
#: diagnostics name the field that is wrong that way, and two fields are two different errors.  Names the
#: user chose are single-quoted by the API (``'quoteviral-uploads'``) or carry capitals, digits, dashes.
_CONFIG_KEY_V2 = re.compile(r'"[a-z_][a-z_]*(?:\.[a-z_][a-z_]*|\[\d+\])*"')
#: A marker wrangler or a shell puts before the message; not part of the error.
_LEAD_V2 = re.compile(
    r"^(?:(?:[✘X▲]\s*)?\[ERROR\]\s*)+|^(?:Uncaught\s+)?(?:(?:[A-Z]\w*)?Error|ERROR|error)(?:\s*\[\w+\])?:\s+"
)
#: A dumped JSON value ("but got {"pattern": ...}", "weren't valid: [ {...}, {...} ]"): the user's data.
_JSON_OBJECT_V2 = re.compile(r'\{\s*"[^{}\n]*\}')
_JSON_LIST_V2 = re.compile(r"\[\s*<value>(?:\s*,\s*<value>)*\s*\]")
#: A Node.js system error on a path ("EACCES: permission denied, mkdir '/opt/wranglerArtifacts'"): which file
#: or directory it is (its name) is what failed; where the machine keeps it is not.
_SYSCALL_PATH_V2 = re.compile(r"\b(E[A-Z]{2,}: [^,\n]{1,80}, \w+ )'([^'\n]+)'")
#: The token a syntax error names ("Unexpected token 'export'", "'<'") is what is wrong, not a name.
_SYNTAX_TOKEN_V2 = re.compile(r"(?i)(\bunexpected (?:token|character)\s+)(['\"`])([^'\"`\s]{1,20})\2")
#: A source location after the message ("... 'export' at worker.js:108:2"): where, not what.
_LOCATION_V2 = re.compile(r"\s+at \(?(?:[\w:]+//)?[\w./\\@-]*\.\w+:\d+(?::\d+)?\)?")
#: Advice that follows the error and changed wording between wrangler versions ("Please update ...",
#: "Refer to the documentation ...", "If this continues, contact support: ..."): not the error.
_ADVICE_V2 = re.compile(
    r"(?<=[.!?] )(?i:please|refer to|if (?:you|this|the problem|it)|for (?:support|more)|see|visit"
    r"|to learn more|try again|contact)\b.*?(?:[.!?](?=\s|$)|$)"
)
#: An executable's path (".../node_modules/.bin/pnpm", "/usr/local/bin/npx"): its name is not volatile.
_PROGRAM_V2 = re.compile(r"(?:.*/)?\.?bin/([\w.+-]+)")
_NODE_MODULE_V2 = re.compile(r"(node:)?([a-z_0-9]+)(?:/(?:promises|web|types|posix|win32|strict|consumers))?")
#: Node.js built-in modules: ``Could not resolve "buffer"`` and ``"node:buffer"`` are one error (no
#: nodejs_compat), a file or package that cannot be resolved is another.
NODE_BUILTINS = frozenset(
    "assert async_hooks buffer child_process cluster console constants crypto dgram diagnostics_channel dns "
    "domain events fs http http2 https inspector module net os path perf_hooks process punycode querystring "
    "readline repl stream string_decoder sys timers tls trace_events tty url util v8 vm wasi worker_threads zlib"
    .split()
)


def _replace_v2(match: re.Match[str]) -> str:
    kind = match.lastgroup or "value"
    if kind == "code":
        return ""
    if kind in ("refctx", "refword", "refsep", "refval"):
        return f"{match.group('refword')}{match.group('refsep')}<ref>"
    if kind == "status":
        return f"<{match.group(0)[0]}xx>"
    if kind == "quoted":
        inner = match.group(0)[1:-1]
        program = _PROGRAM_V2.fullmatch(inner)
        if program:
            return f"<program:{program.group(1)}>"  # '/usr/local/bin/npx': which program failed matters
        module = _NODE_MODULE_V2.fullmatch(inner)
        if module and (module.group(1) or module.group(2) in NODE_BUILTINS):
            return "<node-builtin>"
        if _CONFIG_KEY_V2.fullmatch(match.group(0)):
            return match.group(0)  # "compatibility_date", "routes": a config field is what is wrong, not a name
    return f"<{kind}>"


def _syscall_path(match: re.Match[str]) -> str:
    name = re.sub(r"[^\w.@+-]", "", match.group(2).rstrip("/").rsplit("/", 1)[-1])
    return f"{match.group(1)}<file:{name}>"


def normalise_v2(message: str) -> str:
    text = _ANSI_RE.sub("", message or "")
    text = _WS_RE.sub(" ", text).strip()
    text = _LEAD_V2.sub("", text)
    text = _JSON_LIST_V2.sub("<value>", _JSON_OBJECT_V2.sub("<value>", text))
    text = _SYSCALL_PATH_V2.sub(_syscall_path, text)
    text = _SYNTAX_TOKEN_V2.sub(r"\1<token:\3>", text)
    text = _LOCATION_V2.sub("", text)
    text = _ADVICE_V2.sub("", text)
    text = _PATTERN_V2.sub(_replace_v2, text)
    # Case changed between wrangler versions ("node.js" / "Node.js"); it never tells two errors apart.
    return _WS_RE.sub(" ", text).strip().rstrip(".:; ").lower()


# ---------------------------------------------------------------- the API family

#: In an API path, the segment after one of these is an id (accounts/<id>) or a name (scripts/<name>).
_FAMILY_ID_AFTER = frozenset({"accounts", "zones", "memberships", "organizations"})
_FAMILY_NAME_AFTER = _API_NAME_AFTER | frozenset(
    {"routes", "subdomains", "hostnames", "custom_hostnames", "pipelines", "workflows", "containers",
     "instances", "jobs", "tails", "schedules", "rulesets", "filters", "tags", "database", "databases"}
)
_FAMILY_ID_RE = re.compile(r"[0-9a-fA-F-]{8,}|\d+|[A-Za-z0-9]*\d[A-Za-z0-9]*\d[A-Za-z0-9]*")
#: "A request to the Cloudflare API (/accounts/.../workers/scripts/x) failed."  (wrangler 3 and 4)
API_FAILED_RE = re.compile(r"A request to the Cloudflare API\s*\(\s*(/[^)\s]*)\s*\)\s*failed")
#: A redacted segment ("[zone-id-redacted]", "*****", "xxxxREDACTED", "<id>") stands for an id or a name.
_REDACTED_RE = re.compile(r"[\[<*:].*|.*(?i:redacted|xxxx).*")
_API_IN_TEXT_RE = re.compile(r"(?:/client/v4|(?<![\w./-]))/(?:accounts|zones|user|memberships)\b(?:/[^\s,;'\"()]*)?")


def api_family(endpoint: str | None) -> str:
    """The endpoint template of an API path: ``/accounts/:id/workers/scripts/:name`` ("" when unknown).

    Accepts a path (``/accounts/abc/workers/scripts/app``), a full API URL, or
    text holding one; an API name such as ``r2`` is not a path and gives "".
    """
    if not endpoint:
        return ""
    found = _API_IN_TEXT_RE.search(endpoint)
    if not found:
        return ""
    path = found.group(0).split("?", 1)[0].split("#", 1)[0]
    if path.startswith("/client/v4"):
        path = path[len("/client/v4"):]
    out: list[str] = []
    previous = ""
    for segment in path.strip("/").split("/"):
        if not segment:
            continue
        if _REDACTED_RE.fullmatch(segment):
            out.append(":id" if previous in _FAMILY_ID_AFTER else ":name")  # already redacted
        elif previous in _FAMILY_ID_AFTER:
            out.append(":id")
        elif previous in _FAMILY_NAME_AFTER:
            out.append(":name")
        elif _FAMILY_ID_RE.fullmatch(segment):
            out.append(":id")
        else:
            out.append(segment.lower())
        previous = segment if not out[-1].startswith(":") else ":"
    return "/" + "/".join(out) if out else ""


def api_path_in(text: str | None) -> str | None:
    """The API path wrangler named in ``text`` ("A request to the Cloudflare API (<path>) failed"), else None.

    Used where only stored output is left (the migration reads a deployment's output tail).
    """
    found = API_FAILED_RE.search(text or "")
    return found.group(1) if found else None


#: Every normaliser ever shipped, by version.  Never change one in place: add a new version.
NORMALISERS: dict[str, Callable[[str], str]] = {"v1": normalise_v1, "v2": normalise_v2}


def normalise(message: str, *, version: str = VERSION) -> str:
    """The message with its volatile parts replaced by ``<kind>`` placeholders."""
    return NORMALISERS[version](message)


def extract_code(text: str, *, version: str = VERSION) -> int | None:
    """The first Cloudflare API code written in the text (see ``CODE_RE``; v1 knew fewer spellings)."""
    match = (_CODE_RE_V1 if version == "v1" else CODE_RE).search(text or "")
    if not match:
        return None
    return int(next(group for group in match.groups() if group))


def fingerprint(
    message: str,
    *,
    code: int | None,
    component: str,
    endpoint: str | None = None,
    version: str = VERSION,
) -> str:
    """``"v2:<hex>"`` over the code, the API family, the message template and the lowercased component.

    When ``code`` is None the code written in the message is used, so an error
    pasted into ``faultbook explain`` keys the same as the captured one.
    ``endpoint`` is the API path wrangler named ("A request to the Cloudflare
    API (<path>) failed"); when it is None an API path inside the message
    stands for it.  v1 ignores the endpoint.
    """
    if code is None:
        code = extract_code(message, version=version)
    parts = [version, normalise(message, version=version), "" if code is None else str(code),
             (component or "").strip().lower()]
    if version != "v1":
        parts.append(_family_part(parts[1], endpoint if endpoint else message))
    return _digest(version, parts)


#: Words that say nothing about what failed (a template of only these and placeholders is generic).
_STOPWORDS_V2 = frozenset(
    "the and for are was were with that this from not but you your has have had its into can could "
    "please try again use using error errors failed failure code has been occurred occured unknown request "
    "an a of to in on is it be api workers internal server status".split()
)
_WORD_RE = re.compile(r"[a-z][a-z0-9]{2,}")
#: A template with at most this many content words is generic: the API family is part of its key.
GENERIC_WORDS = 3


def _family_part(template: str, endpoint: str | None) -> str:
    """The API family, for a generic message only (see ``GENERIC_WORDS``).

    ``Authentication error``, ``workers.api.error.internal_server``, ``An
    unknown error has occurred``: such a message says what kind of error
    happened, not what it happened to, and the same words mean different
    causes on different APIs, so the family keeps them apart.  A longer
    message names what failed itself ("Project not found. The specified
    project name ...", "Script startup exceeded CPU time limit"), and the
    family would only split it: the same error is printed with wrangler's
    API header and without it (Pages CI, a trimmed paste), and on
    ``/scripts/:name`` as on ``/scripts/:name/versions``.  On the corpus of
    real outputs this rule turned 9 split same-error pairs into groups and
    merged no two errors of different causes.
    """
    words = set(_WORD_RE.findall(re.sub(r"<[\w-]+>", " ", template))) - _STOPWORDS_V2
    if len(words) > GENERIC_WORDS:
        return ""
    return api_family(endpoint)


def loose_fingerprint(message: str, *, code: int | None, component: str) -> str:
    """The current key with the API family left out: for a failure whose endpoint is not known.

    A failure whose family could not be told (recorded by hand, or migrated
    from a ledger whose output tail no longer showed the API path) is stored
    under this key, and a lookup tries it after the exact key.
    """
    if code is None:
        code = extract_code(message)
    parts = [VERSION, normalise(message), "" if code is None else str(code), (component or "").strip().lower(), ""]
    return _digest(VERSION, parts)


def _digest(version: str, parts: list[str]) -> str:
    payload = "\x00".join(parts)
    return f"{version}:{hashlib.sha256(payload.encode('utf-8')).hexdigest()[:40]}"


def fingerprints(message: str, *, code: int | None, component: str, endpoint: str | None = None) -> tuple[str, ...]:
    """The keys to look an error up by, most specific first: the exact key, then the family-less one.

    Only the current version: stored keys of older versions were recomputed by
    the migration that introduced the current one.
    """
    exact = fingerprint(message, code=code, component=component, endpoint=endpoint)
    loose = loose_fingerprint(message, code=code, component=component)
    return (exact,) if loose == exact else (exact, loose)
