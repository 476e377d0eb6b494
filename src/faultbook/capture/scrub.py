"""Secret scrubbing: nothing faultbook stores, sends or prints carries a credential.

A wrapped deploy command sees the real environment (it needs the API token),
and its output, its command line and our notifications can all echo secrets
back.  Everything faultbook *keeps* passes through one ``Scrubber`` first: the
command line before it is recorded, the output tail and error blocks before
they are stored, the error message before it becomes a failure record, the
notification before it is sent.  The live stream the user watches is the
command's own output and is passed through untouched (faultbook is
transparent, not a filter).

Two kinds of rule, one compiled regular expression:

* exact values: the values of ``CLOUDFLARE_API_TOKEN`` and of every
  environment variable whose name looks secret (Sentry's default key list:
  password, secret, passwd, api_key, apikey, auth, credentials, privatekey,
  private_key, token, bearer);
* shapes: ``Bearer`` headers, ``key=value`` / ``key: value`` /
  ``--token=X`` / ``--api-key X`` pairs whose key looks secret, 40-character
  Cloudflare API tokens, JWTs, AWS access keys, GitHub tokens, PEM private
  keys and passwords inside URLs.

Only what is kept is scrubbed (a bounded tail, a few error blocks), so the
cost does not grow with what the command prints.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

REDACTED = "[REDACTED]"

#: Sentry's default sensitive-key list (see docs/prior-art): a name containing one of these is secret.
SECRET_WORDS = (
    "password",
    "secret",
    "passwd",
    "api_key",
    "apikey",
    "auth",
    "credentials",
    "privatekey",
    "private_key",
    "token",
    "bearer",
)
#: Always treated as secret, whatever their length.
ALWAYS_SECRET_VARS = ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CF_API_TOKEN", "CF_API_KEY")
#: Names that match the word list but hold no secret (socket paths, file names).
NOT_SECRET_VARS = frozenset({"SSH_AUTH_SOCK", "XAUTHORITY", "GPG_AGENT_INFO"})
#: Values of look-alike variables shorter than this are not scrubbed (``AUTH_ENABLED=true``).
MIN_SECRET_LENGTH = 8

_KEY_WORDS = r"(?:password|passwd|pwd|secret|api[_-]?key|apikey|auth\w*|credentials?|private[_-]?key|privatekey|token|bearer|access[_-]?key)"

_SHAPES = [
    # PEM private keys (the whole block; a truncated block is scrubbed to the end).
    ("pem", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)"),
    # Authorization headers.
    ("bearer", r"(?i:\b(?:bearer|basic))\s+[A-Za-z0-9._~+/=-]{8,}"),
    # --token=X, --api-key X, -p X is not guessable: only secret-looking long flags.
    (
        "flag",
        r"(?i:(?<![\w-])--?[\w-]*(?:token|secret|password|passwd|api-key|api_key|apikey|credentials|private-key)[\w-]*)"
        r"(?:=|[ \t]+)(?!-)[^\s'\"]+",
    ),
    # key=value, key: value, "key": "value" with a secret-looking key.
    ("pair", r"(?<![\w.-])(?i:[\w.-]*" + _KEY_WORDS + r"[\w.-]*)[\"']?[ \t]*[:=][ \t]*[\"']?(?:(?i:bearer|basic)[ \t]+)?[^\s\"',;&}]+"),
    # Passwords in URLs: scheme://user:password@host
    ("url", r"(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]+:[^@\s/]+@"),
    # JWTs (header and payload are base64url JSON objects, so they start with eyJ).
    ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
    # GitHub tokens.
    ("github", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    # AWS access key ids.
    ("aws", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    # Cloudflare API tokens: 40 characters of [A-Za-z0-9_-] with upper, lower and a digit (a git sha has no upper case).
    (
        "cftoken",
        r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]{0,39}[A-Z])(?=[A-Za-z0-9_-]{0,39}[a-z])(?=[A-Za-z0-9_-]{0,39}[0-9])"
        r"[A-Za-z0-9_-]{40}(?![A-Za-z0-9_-])",
    ),
]


def looks_secret_name(name: str) -> bool:
    """Whether an environment variable (or option) name looks like it holds a secret."""
    upper = name.upper()
    if upper in NOT_SECRET_VARS or upper.endswith("_SOCK"):
        return False
    lower = name.lower()
    return any(word in lower for word in SECRET_WORDS)


@dataclass(frozen=True)
class Scrubber:
    """Replaces secrets in text with ``[REDACTED]``; build one per run with ``from_environ``."""

    values: tuple[str, ...] = ()
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = []
        # Exact values first, longest first, so a value containing another wins.
        literals = sorted({v for v in self.values if v}, key=len, reverse=True)
        if literals:
            parts.append("(?P<value>" + "|".join(re.escape(v) for v in literals) + ")")
        parts.extend(f"(?P<{name}>{regex})" for name, regex in _SHAPES)
        object.__setattr__(self, "_pattern", re.compile("|".join(parts)))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, extra: Iterable[str] = ()) -> "Scrubber":
        values: list[str] = [v for v in extra if v]
        for name, value in environ.items():
            if not value:
                continue
            if name.upper() in ALWAYS_SECRET_VARS:
                values.append(value)
            elif looks_secret_name(name) and len(value) >= MIN_SECRET_LENGTH:
                values.append(value)
        return cls(values=tuple(values))

    def scrub(self, text: str) -> str:
        """``text`` without secrets, and storable (``storable``): what faultbook keeps comes through here."""
        if not text:
            return text
        return storable(self._pattern.sub(self._replace, text))

    def scrub_optional(self, text: str | None) -> str | None:
        return None if text is None else self.scrub(text)

    @staticmethod
    def _replace(match: re.Match[str]) -> str:
        kind = match.lastgroup
        text = match.group(0)
        if kind == "bearer":
            return text.split(None, 1)[0] + " " + REDACTED
        if kind == "flag":
            key = re.match(r"--?[\w-]+", text)
            assert key is not None
            separator = text[key.end()]
            return key.group(0) + (separator if separator == "=" else " ") + REDACTED
        if kind == "pair":
            return _scrub_pair(text)
        if kind == "url":
            scheme_user, _password = text[:-1].rsplit(":", 1)
            return f"{scheme_user}:{REDACTED}@"
        return REDACTED


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


def _scrub_pair(text: str) -> str:
    separator = re.search(r"[\"']?[ \t]*[:=][ \t]*[\"']?", text)
    assert separator is not None
    head = text[: separator.end()]
    rest = text[separator.end() :]
    auth = re.match(r"(?i)(bearer|basic)[ \t]+", rest)
    if auth:
        head += auth.group(0)
    return head + REDACTED
