"""Secret scrubbing: nothing faultbook stores, sends, serves or prints carries a credential.

A wrapped deploy command sees the real environment (it needs the API token), and its output, its command
line, a pasted error message and the wrangler config can all echo secrets back.  Everything faultbook *keeps*
passes through one ``Scrubber`` first: the command line before it is recorded, the output tail and error
blocks before they are stored, a failure recorded or edited by hand, a report arriving at the team server,
the support bundle's files, the notification before it is sent.  The live stream the user watches is the
command's own output and is passed through untouched (faultbook is transparent, not a filter).

Why rules that generalise, not one rule per vendor: the corpus in ``tests/security/secrets.toml`` (built
from the gitleaks, trufflehog and detect-secrets rule sets) has over a hundred shapes, and tomorrow's vendor
has a new prefix.  Every rule finds *spans* of the original text; overlapping spans are merged and each
becomes ``[REDACTED]``, so one rule can never hide a secret from another (the old single alternation let the
``key=value`` rule eat ``"private_key": "-----BEGIN`` and the PEM rule never fired).  The rules:

* ``value``: the values of ``CLOUDFLARE_API_TOKEN`` and of every environment variable whose name looks secret
  (and the config's secret-looking ``vars``) — also base64-encoded (at any alignment, inside a longer base64
  string such as a Basic header), URL-encoded, JSON-escaped, split over two lines, and cut short (``abc...``);
* ``pem``: private key blocks, across lines or with JSON-escaped ``\\n``, to the END line or the end of text;
* ``pair``: ``key=value``, ``key: value``, ``"key": "value"``, ``--flag value``, ``NAME:value`` (wrangler's
  ``--var``), ``<add key="Password" value="..."/>`` and ``password X`` whose key looks secret
  (``looks_secret_name``: a password, token, secret, credential, auth, signature or qualified key word); a quoted
  value is taken whole (spaces, newlines, escaped quotes), a password-like key's unquoted value runs to the end
  of the line (passwords have spaces) but stops before the next ``key=`` or ``--flag``; after ``key: `` a word
  that reads like prose or a type name (``token: expired``, ``token: ApiToken``) is left, and so is a
  reference (``$TOKEN``, ``${{ secrets.X }}``, ``<token>``, ``***``) or source code (``token = call.token``);
* ``header``: ``Authorization`` and ``Cookie`` / ``Set-Cookie`` values to the end of the line, keeping the
  scheme word (``Bearer``, ``token``, ``Basic``); a bare ``Bearer X`` / ``Basic X`` too;
* ``binding``: wrangler's bindings table, ``env.ADMIN_PASSWORD ("hunter2-acme-2025")``, also wrapped onto the
  next line on a narrow terminal, and truncated values (wrangler cuts at 37 characters plus ``...``);
* ``url``: the password of ``scheme://user:password@`` (which may contain ``/`` and ``:``), and a long
  user part alone (a Sentry DSN's key, a token used as user name);
* ``cli``: ``-u user:password`` / ``--user``, ``-pPASSWORD`` (a port like ``-p8080`` is kept), ``-p PASSWORD``
  after ``mysql``, ``sshpass``, ``twine`` or ``... login``;
* ``provider``: tokens that carry their vendor's prefix (``ghp_``, ``xoxb-``, ``sk_live_``, ``glpat-``,
  ``AKIA``, ``AIza``, ``SG.``, ``npm_``, crypt(3) hashes, JWTs, webhook URLs ...), also cut short with ``...``
  or wrapped at the end of a line (the rest, alone on the next line, goes with it);
* ``random``: any other word that is generated rather than written — 24+ characters (16 after a written
  prefix such as ``sm_pat_``) mixing upper case, lower case and digits with short lower-case runs or digits
  strewn all through (a CamelCase identifier has long runs and a number or two), 32+ lower-case letters and
  digits that are not hex, or a 37-hex-digit Cloudflare Global API key.  UUIDs, git shas, KV/account ids and
  content hashes are hex and stay; so do ``integrity sha512-...`` and SSH public keys; a path is judged
  segment by segment and ``words-x64-<hash>`` cache keys are identifiers.

A command line is scrubbed argument by argument before it is joined (``scrub_command``): shell quoting
(``'"'"'``) would hide where a value starts and ends.

Ordinary words stay: "Permission denied", "token expired", "password is required", binding names, version ids
and hashes, file paths — a changed error message changes its fingerprint (``tests/security/secrets.toml``
lists what must be kept).  Every pattern is anchored so that it is tried once per word, and only what is kept
(a bounded tail, a few error blocks) is scrubbed, so the cost does not grow with what the command prints.

Measured (``benchmarks/bench_scrub.py``, 2 shared cores): the corpus 152/152 shapes caught and 104/104
ordinary texts kept; 1958/1960 held-out shapes (98 shapes and contexts not in the corpus x 20 seeds) caught
without the environment; 606/607 of wrangler 4.86's own messages that name a token, password, secret or key unchanged.
Cost: 60-100 ms (by the machine's load) for a dense 32 KiB tail (once per ``run``), 0.04 ms for a small report's fields (per report
on a team server: a prefilter skips fields no rule could touch).  The single alternation this replaced took
36 ms for the same tail, caught 72 of the 152 shapes and changed 21 of the 102 ordinary texts.
"""

from __future__ import annotations

import base64
import codecs
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import quote, quote_plus

from faultbook.capture.secret_shapes import RULES, Span, _random_body, looks_secret_name  # noqa: F401 (re-exported)

REDACTED = "[REDACTED]"

#: Always treated as secret, whatever their length.
ALWAYS_SECRET_VARS = ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CF_API_TOKEN", "CF_API_KEY")
#: Values of look-alike variables shorter than this are not scrubbed (``AUTH_ENABLED=true``).
MIN_SECRET_LENGTH = 8

# ------------------------------------------------------------------------------------------ literal values


def _encoded_forms(value: str) -> set[str]:
    """``value`` as it shows up elsewhere: URL-encoded, JSON-escaped."""
    forms = {value, quote(value, safe=""), quote_plus(value), quote(value), json.dumps(value)[1:-1]}
    return {f for f in forms if f}


def _base64_cores(value: str) -> set[str]:
    """The part of base64(``value``) that is the same wherever it sits in a longer base64 text.

    A value at byte offset ``k`` (mod 3) in the encoded bytes yields a fixed middle whatever comes before and
    after; the three alignments cover every position (a Basic header's ``user:password`` included).
    """
    raw = value.encode("utf-8")
    cores: set[str] = set()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw).decode("ascii")
        first = (pad * 4 + 2) // 3  # characters touched by the padding bytes
        body_chars = (len(raw) + pad) * 4 // 3  # characters fully determined by the value's bytes
        core = encoded[first:body_chars]
        if len(core) >= 8:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


def _literal_regex(value: str) -> str:
    """``value`` that may be broken over two lines (a terminal or a log wraps it), anywhere."""
    parts = [re.escape(c) for c in value]
    if len(value) <= 512:
        return r"(?:\\?\r?\n[ \t]*)?".join(parts)
    return "".join(parts)


#: Values of secret-looking variables that are not secrets and would redact ordinary output everywhere:
#: one short word (``AUTH_MODE=Permission`` made "Permission denied" "[REDACTED] denied"), a number, a path
#: (``GOOGLE_APPLICATION_CREDENTIALS=/ci/key.json``).
_ORDINARY_VALUE = re.compile(r"[A-Za-z]{1,11}|\d+|(?:/|~/|\./|\.\./|[A-Za-z]:\\)[^\s:]*")


def _ordinary_value(value: str) -> bool:
    return bool(_ORDINARY_VALUE.fullmatch(value))


@dataclass(frozen=True)
class Scrubber:
    """Replaces secrets in text with ``[REDACTED]``; build one per run with ``from_environ``."""

    values: tuple[str, ...] = ()
    _literal: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _encoded: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _prefixes: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = sorted({v for v in self.values if v and v.strip()}, key=len, reverse=True)
        forms = sorted({f for v in values for f in _encoded_forms(v)}, key=len, reverse=True)
        literal = None
        if forms:
            cut = [re.escape(v[:12]) + r"[^\s\"'…]{0,%d}(?:\.\.\.|…)" % len(v) for v in values if len(v) > 12]
            literal = re.compile("|".join([*cut, *(_literal_regex(f) for f in forms)]))
        cores = sorted({c for v in values if len(v) >= 6 for c in _base64_cores(v)}, key=len, reverse=True)
        encoded = re.compile("|".join(re.escape(c) for c in cores)) if cores else None
        object.__setattr__(self, "_literal", literal)
        object.__setattr__(self, "_encoded", encoded)
        object.__setattr__(self, "_prefixes", tuple(v for v in values if len(v) >= 12))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, extra: Iterable[str] = ()) -> "Scrubber":
        values: list[str] = [v for v in extra if v]
        for name, value in environ.items():
            if not value:
                continue
            if name.upper() in ALWAYS_SECRET_VARS:
                values.append(value)
            elif looks_secret_name(name) and len(value) >= MIN_SECRET_LENGTH and not _ordinary_value(value):
                values.append(value)
        return cls(values=tuple(values))

    def spans(self, text: str) -> list[Span]:
        """Where the secrets in ``text`` are, merged and sorted."""
        if self._literal is None and not _MAYBE_SECRET.search(text):
            return []  # most short fields (a title, a branch, a step): no rule could fire
        found: list[Span] = []
        if self._literal is not None:
            found.extend(m.span() for m in self._literal.finditer(text))
        if self._encoded is not None:
            for match in self._encoded.finditer(text):
                start, end = match.span()
                while start and text[start - 1] in _B64_CHARS:
                    start -= 1
                while end < len(text) and text[end] in _B64_CHARS:
                    end += 1
                found.append((start, end))
        found.extend(self._cut_ends(text))
        for rule in RULES.values():
            found.extend(rule(text))
        return _merge(_continued(text, _merge(found)))

    def _cut_ends(self, text: str) -> Iterator[Span]:
        """A secret cut by a tail window: its end opens the text (or a ``--- stderr ---`` part), or its start
        ends the text."""
        if not self._prefixes:
            return
        starts = [0, *(m.end() for m in _PART_HEADER.finditer(text))]
        for value in self._prefixes:
            for n in range(len(value) - 1, 7, -1):
                if text.endswith(value[:n]):
                    yield len(text) - n, len(text)
                    break
            for start in starts:
                for n in range(len(value) - 1, 7, -1):
                    if text.startswith(value[-n:], start):
                        yield start, start + n
                        break

    def scrub(self, text: str) -> str:
        """``text`` without secrets, and storable (``storable``): what faultbook keeps comes through here."""
        if not text:
            return text
        pieces: list[str] = []
        cursor = 0
        for start, end in self.spans(text):
            pieces.append(text[cursor:start])
            pieces.append(REDACTED)
            cursor = end
        pieces.append(text[cursor:])
        return storable("".join(pieces))

    def scrub_optional(self, text: str | None) -> str | None:
        return None if text is None else self.scrub(text)

    def scrub_command(self, argv: Iterable[str]) -> str:
        """A command line as it is kept: each argument scrubbed alone (shell quoting would hide a value's
        start and end from the rules), then the joined line (``--token X`` spans two arguments)."""
        import shlex

        return self.scrub(shlex.join(self.scrub(arg) for arg in argv))


#: What every shape rule needs at least one of: a long token-like run, a URL, a PEM header, a binding, a
#: ``-p``/``-u`` flag, a ``...`` cut, or a secret-looking word.  Only a prefilter: a false alarm costs a scan.
_MAYBE_SECRET = re.compile(
    r"[A-Za-z0-9+/=_\-.~]{16}|://|-----BEGIN|\benv\.|(?<![\w\-])-[pu]|\.\.\.|…|\$\w+\$|"
    r"(?i:pass|pwd|pw\b|token|secret|key|auth|cookie|bearer|basic|sig|dsn|cred|session|jwt|salt|pin\b|otp|webhook|"
    r"hmac|psk|sas|pat\b)"
)
#: The header of each stream in a stored tail (``services.run``): each part starts where a window cut it.
_PART_HEADER = re.compile(r"(?m)^--- [a-z]+ ---\n")
_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")


#: The rest of a token a terminal or a log wrapped onto the next line: that line is one random-looking word.
_CONTINUATION = re.compile(
    r"\r?\n[ \t]*(?P<word>[A-Za-z0-9+/_\-.]{4,}={0,2})(?P<alone>[ \t\"'`,;)\]}]*(?=\r?\n|$))?(?=[\s\"'`,;)\]}]|$)"
)


def _continued(text: str, spans: list[Span]) -> list[Span]:
    out = []
    for start, end in spans:
        words = text[start:end].split()
        if words and len(words[-1]) >= 16 and not text[end - 1].isspace():
            more = _CONTINUATION.match(text, end)
            word = more.group("word") if more else ""
            # the whole next line, or a first word that is plainly generated (digits and both cases)
            if more and re.search(r"\d", word) and re.search(r"[A-Za-z]", word) and (
                more.group("alone") is not None
                or (len(word) >= 8 and re.fullmatch(r"[A-Za-z0-9_\-]+={0,2}", word) and _random_body(word, minimum=8))
            ):
                end = more.end("word")
        out.append((start, end))
    return out


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


#: The scrubber for text that does not come from a wrapped command's environment (a failure recorded by
#: hand, a report arriving at the team server): every shape rule, no environment values.
SHAPES_ONLY = Scrubber()


def scrub(text: str, *, scrubber: Scrubber | None = None) -> str:
    """``text`` through ``scrubber`` (the shape rules alone by default)."""
    return (scrubber or SHAPES_ONLY).scrub(text)


def scrub_fields(values: Mapping[str, Any], *, scrubber: Scrubber | None = None) -> dict[str, Any]:
    """``values`` with every text scrubbed (a failure's fields, a deployment's, a report's)."""
    active = scrubber or SHAPES_ONLY
    return {key: active.scrub(value) if type(value) is str else value for key, value in values.items()}


def storable(text: str) -> str:
    """``text`` as any database, file or terminal takes it.

    Bytes that are not UTF-8 reach Python as lone surrogates (a command line, a file name or an
    environment value is decoded with ``surrogateescape``), and no UTF-8 encoder accepts those: they
    are kept as ``\\xNN`` (other lone surrogates as ``\\udNNN``).  NUL, which PostgreSQL cannot store,
    is kept as ``\\x00``: one policy for every way in (CLI, API, import, run output, reports).
    """
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", _STORABLE).decode("utf-8", "backslashreplace")


def _escape_surrogates(error: UnicodeError) -> tuple[bytes, int]:
    """Encoding error handler: an escaped byte (U+DC80..U+DCFF) back to that byte, another lone
    surrogate to ``\\uXXXX``."""
    assert isinstance(error, UnicodeEncodeError)
    out = bytearray()
    for char in error.object[error.start : error.end]:
        code = ord(char)
        out += bytes([code - 0xDC00]) if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}".encode()
    return bytes(out), error.end


_STORABLE = "faultbook-storable"
codecs.register_error(_STORABLE, _escape_surrogates)
