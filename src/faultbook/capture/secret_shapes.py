"""The scrubber's shape rules (``capture/scrub.py`` explains the design): each finds spans of the
original text where a secret stands, ``text -> Iterator[Span]``; none of them redacts."""

from __future__ import annotations

import functools
import re
from typing import Callable, Iterable, Iterator

#: Names that match the word list but hold no secret (socket paths, file names).
NOT_SECRET_VARS = frozenset({"SSH_AUTH_SOCK", "XAUTHORITY", "GPG_AGENT_INFO", "PWD", "OLDPWD"})


#: A name holding one of these as a substring is secret (Sentry's default sensitive keys, widened).
_SECRET_SUBSTRINGS = (
    "password", "passwd", "passphrase", "secret", "token", "apikey", "api_key", "api-key", "credential",
    "privatekey", "private_key", "private-key", "accesskey", "access_key", "authkey", "auth_key", "sessionid",
    "session_id", "connectionstring", "connection_string", "signature",
)
#: A name holding one of these as a *word* (split at ``_ - .`` and camelCase) is secret.
_SECRET_WORDS = frozenset({
    "pass", "pwd", "pw", "auth", "authorization", "authn", "oauth", "dsn", "sig",
    "jwt", "bearer", "creds", "sas", "salt", "pat", "otp", "pin", "passcode", "webhook", "hmac", "psk",
})
#: ``key`` alone is too common (``key: value`` in KV output); with one of these before it, it is a secret.
_KEY_QUALIFIERS = frozenset({
    "api", "access", "secret", "private", "account", "master", "encryption", "signing", "license", "licence",
    "client", "app", "auth", "admin", "service", "shared", "sas", "storage", "subscription", "deploy", "write",
    "read", "root", "server", "instance", "user", "consumer", "sendgrid", "stripe", "mailgun", "openai", "anthropic",
    "resend", "crypt", "crypto", "hmac", "jwt", "session", "cookie", "webhook", "global", "x",
})
#: A name whose last word is one of these names a reference to a secret, not the secret itself.
_REFERENCE_WORDS = frozenset({
    "name", "names", "file", "files", "path", "id", "ids", "url", "uri", "endpoint", "host", "type", "mode",
    "enabled", "disabled", "required", "length", "len", "expiry", "expires", "expiration", "ttl", "timeout",
    "header", "prefix", "dir", "location", "env", "stdin", "version", "count", "scope", "scopes", "method",
    "provider", "strategy", "policy", "format", "kind", "field", "sock", "socket", "store", "manager", "helper",
    "hint", "rotation", "created", "updated", "at", "used", "valid", "validity", "set", "bits", "size", "algorithm",
    "alg", "hash", "public", "pub", "arn", "ref", "source", "page", "pages", "list", "error", "errors", "status",
    "plugin", "command", "cmd", "level", "limit", "user", "username", "login", "email", "account", "domain",
    "region", "issuer", "audience", "label", "description", "policy", "template", "option", "options", "key_id",
    "code", "mark", "marker", "message", "msg", "text", "title", "help", "doc", "docs", "regex", "pattern",
})
#: Words ending in "pass" that are not passwords (``sshpass``, ``dbpass``, ``rootpass`` are).
_NOT_PASS = frozenset({"bypass", "compass", "encompass", "trespass", "overpass", "underpass", "surpass", "subpass", "multipass", "onepass", "firstpass"})


@functools.lru_cache(maxsize=4096)
def _words(name: str) -> tuple[str, ...]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return tuple(w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w)


@functools.lru_cache(maxsize=4096)
def looks_secret_name(name: str) -> bool:
    """Whether an environment variable, option, header or key name looks like it holds a secret."""
    upper = name.upper().lstrip("-")
    if upper in NOT_SECRET_VARS or upper.endswith("_SOCK"):
        return False
    words = _words(name)
    if not words or words[-1] in _REFERENCE_WORDS:
        return False
    lower = name.lower()
    if "tokeniz" in lower:
        return False
    if any(part in lower for part in _SECRET_SUBSTRINGS):
        return True
    if any(word in _SECRET_WORDS or (word.endswith(("pass", "pwd")) and word not in _NOT_PASS) for word in words):
        return True
    for before, word in zip(words, words[1:]):
        if word in ("key", "keys") and before in _KEY_QUALIFIERS:
            return True
    glued = "".join(words)
    return glued.endswith("key") and any(glued.startswith(q) for q in ("api", "secret", "access", "private", "auth"))


@functools.lru_cache(maxsize=4096)
def _password_like(name: str) -> bool:
    """Keys whose unquoted value may contain spaces (it runs to the end of the line)."""
    lower = name.lower()
    words = _words(name)
    return (
        any(part in lower for part in ("password", "passwd", "passphrase", "secret", "connectionstring", "connection_string"))
        or any(w in ("pass", "pwd", "pw", "authorization", "cookie", "cookies", "passcode") for w in words)
    )


#: Values that say a secret is absent, hidden or elsewhere: kept, so the message still says so.
_PLACEHOLDER = re.compile(
    r"""(?ix)^(?:
        |null|none|nil|undefined|true|false|yes|no|on|off|n/?a|empty|unset|set|not\s?set|missing|required|
        invalid|expired|revoked|hidden|\(hidden\)|redacted|\[redacted\]|\[filtered\]|masked|secrets?|passwords?|
        tokens?|keys?|api_?key|credentials?|auth|cookies?|session|value|bearer|basic|
        \*+|x{3,}|\.{3}|…|<[^<>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$\{\{[^}]*\}\}|%[A-Za-z_][A-Za-z0-9_]*%|
        \{\{[^}]*\}\}|env\([^)]*\)|process\.env\.[\w.]+|os\.environ.*|secrets\.[\w.]+|
        string|str|number|int|integer|boolean|bool|object|any|bytes|optional\[.*\]|
        (?:your|my)[_\-][\w\-]*|
        (?-i:[A-Z][A-Z_\-]*(?:=[A-Z][A-Z_\-]*)?)|\((?-i:[A-Z][A-Z_=\-]+)\)
    )$"""
)
#: A first word that begins a sentence, not a secret: ``Invalid token: the token is expired``.
_PROSE_WORDS = frozenset(
    "a an the is are was were be been not no must should has have had invalid expired missing required please "
    "check see provided given unknown too of for in on to with could cannot can't does did do you your this "
    "that it its was will would may might needs need wrong incorrect bad malformed empty none null undefined "
    "rejected denied failed error while when if or and but only at by from as use using set unset changed "
    "updated stored saved rotated hidden redacted flag option argument value variable parameter field header "
    "instead here there which what where how why who name file one await new function lambda yield return async "
    "typeof reload shown store".split()
)
#: Authorization schemes kept in front of the credential.
_SCHEME = re.compile(
    r"(?i)(?:bearer|basic|token|digest|negotiate|ntlm|apikey|api-key|key|oauth|ssws|splunk|geniekey|"
    r"deepl-auth-key|aws4-hmac-sha256|hawk|mac|jwt|sso-key)[ \t]+"
)


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip().strip("\"'`").strip()))


Span = tuple[int, int]

#: ``key`` then a separator: ``=``, ``:``, ``=>``, ``:=``; the key may be quoted; anchored at a word start.
_PAIR = re.compile(
    r"""(?<![\w.\-])(?P<key>[A-Za-z_$@][\w.\-]{0,80}?)(?P<close>["'`]?)[ \t]*(?P<sep>:=|=>|=(?!=)|:(?![/\\]{2}))[ \t]*"""
)
#: ``--flag value`` / ``--flag=value`` / ``-flag value`` (the value may be quoted).
_FLAG = re.compile(r"(?<![\w\-])(?P<flag>--?[A-Za-z][\w\-]{0,60})(?P<sep>=|[ \t]+)(?=[^\s\-])")
_HEADER = re.compile(r"(?im)(?<![\w\-])(?P<key>(?:proxy-)?authorization|(?:set-)?cookie)(?P<close>[\"']?)[ \t]*:[ \t]*")
_BINDING = re.compile(r"(?m)(?:^|(?<=[\s'\"]))env\.(?P<name>[\w$\-]+)(?P<rest>(?:(?![ \t]env\.)[^\n])*)")
#: ``scheme://user:password@host``: the password may hold ``/``, ``:`` and even ``@``; it ends at the first ``@``
#: that a host name follows (a host, then ``:port``, ``/``, ``?``, ``#`` or the end).
_URL_USERINFO = re.compile(
    r"(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]{1,30})://"
    r"(?P<userinfo>[^\s/?#@\"'<>:]{0,256}(?::[^\s\"'<>]{0,256}?)?)@(?=[\w\[][\w.\-\[\]:]{0,256}(?:[/?#\s\"'<>),;]|$))"
)
_CLI_USER = re.compile(r"(?<![\w\-])(?:-u|--user|--proxy-user)(?:=|[ \t]+|(?=[^\s\-]))[\"']?(?P<user>[^\s:\"']*):(?!//)(?P<pw>[^\s\"']+)")
#: ``-p PASSWORD`` with a space is a password only for commands known to take one there (a port elsewhere):
#: MySQL's clients, sshpass, twine, and any ``... login`` (docker, podman, helm registry, az, oras).
_CLI_SPACED_P = re.compile(
    r"(?<![\w\-])(?:sshpass|mysql|mysqladmin|mysqldump|mariadb|twine|login)\b[^\n]{0,300}?(?<=[ \t])-p[ \t]+"
)
_CLI_GLUED_P = re.compile(r"(?<![\w\-])-p(?P<pw>[^\s\-][^\s]*)")
_PORTISH = re.compile(r"^[\d.:\[\]]+(?:/(?:tcp|udp|sctp))?$|^\$")
_PEM = re.compile(
    r"-----BEGIN[ A-Z0-9_\-]{0,100}PRIVATE KEY(?: BLOCK)?-----"
    r"(?:[\s\S]{0,20000}?-----END[ A-Z0-9_\-]{0,100}PRIVATE KEY(?: BLOCK)?-----|[^\"'`]{0,20000})"
)
#: Vendor-prefixed tokens (gitleaks ``config/gitleaks.toml``, trufflehog ``pkg/detectors``): the prefix, then
#: the token's characters; the body length is deliberately loose (vendors change it) but never short.
_PROVIDER = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    # GitHub, GitLab
    r"gh[pousr]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,}|"
    r"gl(?:pat|ptt|dt|rt|cbt|soat|ft|imt|agent|oas|ffct)-[A-Za-z0-9_\-.]{16,}|GR1348941[\w\-]{16,}|"
    # Slack
    r"xox[abposrecd]-[A-Za-z0-9\-]{10,}|xoxe\.xox[bp]-[A-Za-z0-9\-]{10,}|xapp-[A-Za-z0-9\-]{10,}|"
    # Stripe and look-alikes: sk_live_, rk_test_, whsec_, pk_live_ is public and stays
    r"(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{6,}|whsec_[A-Za-z0-9+/=]{16,}|"
    # OpenAI, Anthropic and other sk- keys
    r"sk-(?:ant-(?:api|admin)\d\d-|proj-|svcacct-|admin-|or-v1-)?[A-Za-z0-9_\-]{20,}|"
    # AWS, Google, Azure, Alibaba
    r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}|ABSK[A-Za-z0-9+/=]{40,}|AIza[\w\-]{30,}|GOCSPX-[\w\-]{20,}|"
    r"ya29\.[\w\-.]{20,}|1//0[\w\-]{30,}|LTAI[A-Za-z0-9]{16,}|"
    # package registries
    r"npm_[A-Za-z0-9]{30,}|pypi-AgE[\w\-]{30,}|rubygems_[a-f0-9]{40,}|"
    # messaging and mail
    r"SG\.[\w\-]{16,}\.[\w\-]{16,}|key-[a-f0-9]{32}\b|xkeysib-[a-f0-9\-]{40,}[A-Za-z0-9]*|SK[0-9a-fA-F]{32}\b|"
    # infrastructure and SaaS with a written prefix and a hex or random body
    r"do[opr]_v1_[a-f0-9]{32,}|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{24,}|hf_[A-Za-z0-9]{24,}|api_org_[A-Za-z]{24,}|"
    r"lin_api_[A-Za-z0-9]{24,}|PMAK-[a-f0-9\-]{30,}|pul-[a-f0-9]{32,}|gl(?:c|sa)_[A-Za-z0-9+/_=]{24,}|"
    r"NR(?:AK|II|JS)-[A-Za-z0-9\-]{16,}|dapi[a-f0-9]{32}(?:-\d)?|ATATT[\w\-=]{30,}|HRKU-[\w\-]{30,}|"
    r"figd_[\w\-]{30,}|r8_[A-Za-z0-9]{30,}|gsk_[A-Za-z0-9]{30,}|pplx-[A-Za-z0-9]{30,}|sbp_[a-f0-9]{32,}|"
    r"fo1_[\w\-]{30,}|fm[12][ar]?_[A-Za-z0-9+/=]{40,}|dp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{30,}|"
    r"hv[sbr]\.[\w\-]{24,}|sntry[su]_[A-Za-z0-9+/=_]{30,}|(?:EAAA|sq0atp-|sq0csp-)[\w\-]{20,}|"
    r"shippo_(?:live|test)_[a-fA-F0-9]{32,}|dt0c01\.[A-Za-z0-9]{20,}\.[A-Za-z0-9]{40,}|"
    r"AGE-SECRET-KEY-1[A-Z0-9]{50,}|pscale_(?:tkn|pw|oauth)_[\w=.\-]{30,}|rdme_[a-z0-9]{40,}|pnu_[A-Za-z0-9]{30,}|"
    r"ico-[A-Za-z0-9]{30,}|tfp_[\w\-.=]{40,}|fio-u-[\w\-=]{40,}|duffel_(?:live|test)_[\w\-=]{30,}|"
    r"FLW(?:SECK|PUBK)(?:_TEST)?-[a-hA-H0-9]{12,}(?:-X)?|v1\.0-[a-f0-9]{24}-[a-f0-9]{100,}|ops_eyJ[\w+/=]{50,}|"
    r"AKCp[A-Za-z0-9]{50,}|EZ[AT]K[A-Za-z0-9]{40,}|ntn_[A-Za-z0-9]{40,}|secret_[A-Za-z0-9]{40,}|"
    r"[a-z0-9]{14}\.atlasv1\.[\w\-=]{50,}|sha256~[\w\-]{40,}|cfut_[A-Za-z0-9_\-]{30,}|cfk_[A-Za-z0-9_\-]{30,}|"
    r"(?:live|test)_[a-f0-9]{32,}|re_[A-Za-z0-9]{8,}_[A-Za-z0-9]{16,}|phc_[A-Za-z0-9]{30,}|"
    # a word, an underscore and 32+ hex digits: a token, not an id (ids are bare hex or uuids)
    r"(?!(?:sha|md|commit|hash|id|uuid|rev|build|object|blob|tree|etag)\d*_)[a-z]{2,10}_(?:[a-z0-9]{1,20}_)?[a-f0-9]{32,}\b|"
    # Octopus, 1Password, password hashes (crypt(3): bcrypt, sha512crypt, apr1, argon2)
    r"API-[A-Z0-9]{26}\b|A3-[A-Z0-9]{6}-[A-Z0-9\-]{20,}|\$(?:2[abxy]?|1|5|6|apr1|y|argon2(?:id|i|d))\$[^\s:\"'`]{20,}|"
    # JWTs and base64 JSON objects of two or three parts
    r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*|"
    # Slack, Discord, Teams and Google Chat webhook URLs
    r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{10,}|"
    r"(?:https?://)?(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w\-]{20,}|"
    r"https://[\w\-]+\.webhook\.office\.com/[^\s\"'<>]{20,}|https://chat\.googleapis\.com/v1/spaces/[^\s\"'<>]{20,}|"
    r"https://[\w.\-]*logic\.azure\.com[^\s\"'<>]*sig=[^\s\"'<>&]+|"
    # Azure AD client secrets (three characters, a digit, "Q~")
    r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{30,40}|"
    # Telegram bot tokens
    r"\d{6,12}:AA[\w\-]{30,}"
    r")(?:\.\.\.|…)?"
)
#: The same prefixes cut short by a table (``sk_live_51HxAcme...``) or wrapped at a line's end: a short body
#: is enough (the wrapped rest is taken by ``_continued``).
_PROVIDER_CUT = re.compile(
    r"(?<![A-Za-z0-9])(?:gh[pousr]_|github_pat_|gl[a-z]{2,5}-|xox[abposre]-|xapp-|(?:sk|rk)_(?:live|test|prod)_|whsec_|"
    r"sk-(?:ant-|proj-|svcacct-|admin-)?|AKIA|ASIA|AIza|GOCSPX-|ya29\.|npm_|pypi-|SG\.|key-|xkeysib-|do[opr]_v1_|"
    r"shp(?:at|ss|ca|pa)_|hf_|lin_api_|PMAK-|pul-|gl(?:c|sa)_|NR(?:AK|II)-|dapi|ATATT|HRKU-|r8_|gsk_|pplx-|sbp_|"
    r"dp\.pt\.|hv[sb]\.|sntry[su]_|eyJ|cfut_)[A-Za-z0-9_\-+/.=]{3,}(?:\.\.\.|…|(?<=[A-Za-z0-9_\-+/.=]{6})(?=\r?\n))"
)
#: Candidates for the ``random`` rule: runs of token characters, anchored at a run start.
_RUN = re.compile(r"(?<![A-Za-z0-9+/=_\-.])[A-Za-z0-9+/=_\-.]{16,}")
#: A short written prefix before a generated body (``sm_pat_Ab3...``): the body alone is judged, from 16 characters.
_WRITTEN_PREFIX = re.compile(r"^[a-z]{2,10}(?:[_\-][a-z0-9]{1,10}){0,2}[_\-](?=.{16})")
_LOWER_RUN = re.compile(r"[a-z]+")
_DIGIT_GROUP = re.compile(r"(?<=[A-Za-z])\d+(?=[A-Za-z])")
_HEX = re.compile(r"^[0-9a-fA-F\-]+$")
#: Integrity and digest prefixes: the hash that follows is content, not a credential.
_DIGEST_PREFIX = re.compile(r"(?i)(?:sha(?:1|224|256|384|512)|md5|blake2b?|sri)[-_:~]$|^(?:sha(?:1|224|256|384|512)|md5|blake2b?)[-_:]")
#: An SSH public key's blob follows its type; it is public.
_PUBLIC_KEY_BEFORE = re.compile(r"(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)[ \t]+$")


#: A part of an identifier: a word (``Linux``, ``x64``, ``v2``), a number, or a hex hash (``node-cache-Linux-x64-<sha>``).
_WORDY = re.compile(r"[A-Za-z]+\d{0,3}|[A-Za-z]\d{1,3}[A-Za-z]?|\d{1,8}|[0-9a-fA-F]{8,}")


def _random_word(word: str) -> bool:
    """Whether ``word`` (no ``/`` or ``.``) looks generated rather than written."""
    core = word.strip("=_-+")
    parts = re.split(r"[_\-]+", core)
    if len(parts) > 1 and all(_WORDY.fullmatch(p) and (len(p) <= 12 or not _random_body(p, minimum=13)) for p in parts if p):
        return False  # words, numbers and hashes joined: an identifier, a cache key, a file name
    prefix = _WRITTEN_PREFIX.match(core)
    if prefix and _random_body(core[prefix.end() :], minimum=16):
        return True
    return _random_body(core, minimum=24)


def _random_body(core: str, *, minimum: int) -> bool:
    if len(core) < min(minimum, 20):
        return False
    if re.fullmatch(r"[a-f0-9]{37}", core):  # Cloudflare Global API key; hashes are 32, 40 or 64
        return True
    if _HEX.match(core):
        return False
    has_upper = any(c.isupper() for c in core)
    has_lower = any(c.islower() for c in core)
    digits = sum(c.isdigit() for c in core)
    if has_upper and has_lower and digits and len(core) >= minimum:
        runs = _LOWER_RUN.findall(core)
        mean_run = sum(map(len, runs)) / len(runs)
        # written words have long lower-case runs and a number or two; generated text has short runs, or
        # digits strewn all through it
        return mean_run < 2.6 or len(_DIGIT_GROUP.findall(core)) >= 3
    if has_upper and has_lower and not digits and len(core) >= minimum:
        runs = _LOWER_RUN.findall(core)
        uppers = sum(c.isupper() for c in core)
        return sum(map(len, runs)) / len(runs) < 2.1 and uppers * 4 >= len(core)
    if not has_upper and has_lower:
        # lower case and digits: a 32+ character stretch with digits all through it that is not hex
        return any(
            len(part) >= 32 and sum(c.isdigit() for c in part) >= len(part) * 0.15 and re.search(r"[g-z]", part)
            for part in re.split(r"[_\-]", core)
        )
    return False


_PATH_WORDS = frozenset("src lib bin usr etc opt var tmp dev app api web out dist build pkg cmd js css img".split())


def _random_spans(text: str) -> Iterator[Span]:
    for match in _RUN.finditer(text):
        run, start = match.group(0), match.start()
        if "." in run:
            yield from _dotted_spans(text, run, start)
            continue
        before = text[max(0, start - 40) : start]
        if _DIGEST_PREFIX.search(before) or _DIGEST_PREFIX.match(run) or _PUBLIC_KEY_BEFORE.search(before):
            continue
        if "/" in run:
            segments = run.split("/")
            # a path has a leading or doubled slash, a lower-case directory name or a common short one
            pathlike = any(not s or re.fullmatch(r"[a-z._\-]{4,}", s) or s in _PATH_WORDS for s in segments)
            if not pathlike and _random_word(run.replace("/", "").replace("+", "")):
                yield start, match.end()
                continue
            offset = start
            for segment in segments:
                if _random_word(segment):
                    yield offset, offset + len(segment)
                offset += len(segment) + 1
        elif _random_word(run.replace("+", "")):
            yield start, match.end()


def _dotted_spans(text: str, run: str, start: int) -> Iterator[Span]:
    """A dotted run: a token in parts (``pat.Ab3.x``, ``t1.X.Y``) goes whole; a host or file name is judged by part."""
    parts = run.split(".")
    random_parts = [p for p in parts if p and "/" not in p and (_random_word(p) or (len(parts) > 2 and _random_body(p, minimum=16)))]
    hex_parts = [p for p in parts if len(p) >= 32 and _HEX.match(p)]
    mixed_parts = [p for p in parts if len(p) >= 10 and re.search(r"[A-Z]", p) and re.search(r"[a-z0-9]", p)]
    if random_parts or (hex_parts and [p for p in mixed_parts if p not in hex_parts]):
        yield start, start + len(run.rstrip("."))
        return
    offset = start
    for part in parts:
        if len(part) >= 16 and "/" in part:
            yield from _random_spans_in(text, part, offset)
        offset += len(part) + 1


def _random_spans_in(text: str, part: str, start: int) -> Iterator[Span]:
    for inner in _random_spans(part):
        yield start + inner[0], start + inner[1]


#: The longest value a rule takes (a 4096-bit private key in a JSON string is about 3.3 KB): a bound on every
#: scan that starts at a key, so that a line of ``password=password=...`` costs linear time, not quadratic.
MAX_VALUE = 8192


def _quoted_end(text: str, start: int, quote_char: str, limit: int = MAX_VALUE) -> int:
    """Index just past the closing quote of a value opened at ``start`` (end of text when unclosed)."""
    i = start
    stop = min(len(text), start + limit)
    while i < stop:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == quote_char:
            return i
        if char == "\n" and quote_char == "`":
            return i
        i += 1
    return stop


#: Where an unquoted password-like value stops: the end of the line, an outer quote, or the next pair/flag.
_LONG_VALUE_STOP = re.compile(
    r"""\n|\r|(?<=\s)--?[A-Za-z][\w\-]*(?=[=\s]|$)|[ \t;&,]+(?=[A-Za-z_][\w.\-]{0,60}["']?[ \t]*(?:=|:[ \t]))|;(?=\s*$)"""
)
_LINE_END = re.compile(r"\r|\n")
_SHORT_VALUE = re.compile(r"""[^\s"'`,;&)}\]<>|]+""")


#: A reference to a secret, not the secret: ``${{ secrets.X }}``, ``${X}``, ``$X``, ``{{ x }}``.
_REFERENCE = re.compile(r"""(?:\$\{\{[^}\n]*\}\}|\{\{[^}\n]*\}\}|\$\{[^}\n]*\}|\$[A-Za-z_]\w*|%[A-Za-z_]\w*%)(?=["'`\s,;)\\]|$)""")


#: Source code in a traceback: ``token = call.token``, ``token = dict(x)``, ``secrets: dict[str, str]``.
_CODE_VALUE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|[A-Za-z_]\w*(?=[(\[])")


def _code(text: str, start: int, end: int) -> bool:
    code = _CODE_VALUE.match(text, start, min(len(text), end + 1))
    if not code:
        return False
    stop = code.end()
    return stop >= end or text[stop : stop + 1] in ("(", "[")


def _value_span(
    text: str, start: int, *, long: bool, outer_quote: str = "", whole_line: bool = False, scheme: bool = False
) -> Span | None:
    """The value that begins at ``start``: quoted whole, else one word, else (``long``) up to a stop.

    ``scheme``: an Authorization value, whose scheme word (``Bearer``, ``token`` ...) is kept."""
    if scheme:
        word = _SCHEME.match(text, start)
        start = word.end() if word else start
    if start >= len(text) or _REFERENCE.match(text, start):
        return None
    first = text[start]
    if first in "\"'`":
        end = _quoted_end(text, start + 1, first)
        inner_start = start + 1
        word = _SCHEME.match(text, inner_start, end) if scheme else None
        inner_start = word.end() if word else inner_start
        inner = text[inner_start:end]
        if not inner.strip() or _is_placeholder(inner) or _REFERENCE.match(inner):
            return None
        return inner_start, end
    if first in "{[(":  # a JSON object or an expression as a value: scrub what is inside it rule by rule instead
        return None
    if long:
        bound = min(len(text), start + MAX_VALUE)
        stop = (_LINE_END if whole_line else _LONG_VALUE_STOP).search(text, start, bound)
        end = stop.start() if stop else bound
        if outer_quote:
            close = text.find(outer_quote, start, end)
            end = close if close != -1 else end
        comment = re.compile(r"[ \t]+#[ \t]").search(text, start, end)
        end = comment.start() if comment else end
        value = text[start:end].rstrip()
        end = start + len(value)
        if _is_placeholder(value.split(None, 1)[0].strip("`)]},;:.'\"") if value.strip() else value):
            return None
    else:
        match = _SHORT_VALUE.match(text, start)
        if not match:
            return None
        end = match.end()
        if outer_quote:
            close = text.find(outer_quote, start, end)
            end = close if close != -1 else end
        value = text[start:end]
    if not value or _is_placeholder(value) or _code(text, start, end):
        return None
    first_word = value.split(None, 1)[0]
    if first_word.lower().rstrip(".,:") in _PROSE_WORDS and (" " in value or first_word.isalpha()):
        return None
    return start, end


def _pair_spans(text: str) -> Iterator[Span]:
    covered = 0  # a key inside a value already taken is part of that value
    for match in _PAIR.finditer(text):
        key = match.group("key")
        if match.start() < covered or not looks_secret_name(key):
            continue
        start = match.end()
        outer = match.group("close")
        opener = text[match.start() - 1] if match.start() else ""
        outer_quote = opener if opener in "\"'`" and not outer else ""
        sep = match.group("sep")
        if sep == ":" and match.start("sep") + 1 == start and text[start : start + 1] in ("", "\n"):
            continue  # ``password:`` at the end of a line: a prompt or a YAML block opener
        long = _password_like(key) or key.lower().endswith(("authorization", "cookie"))
        scheme = key.lower().endswith("authorization") or _words(key)[-1:] == ("auth",)
        span = _value_span(text, start, long=long, outer_quote=outer_quote, scheme=scheme)
        if not span:
            continue
        value = text[span[0] : span[1]]
        if value.lower() in (key.lower(), key.lower().rsplit(".", 1)[-1]):
            continue  # ``api_token = api_token``: source code, not a secret
        spaced = match.end("sep") < start or text[start - 1 : start] in (" ", "\t")
        if sep == ":" and spaced and not long and text[span[0] - 1 : span[0]] not in "\"'`" and not _credential(value):
            continue  # ``CSRF token: reload the page``, ``token: ApiToken``: prose or a type, not a token
        covered = span[1]
        yield span


def _credential(value: str) -> bool:
    """Whether an unquoted word after ``key: `` looks like a credential rather than a word or a type name."""
    return bool(re.search(r"[0-9]|[^A-Za-z0-9\s]", value)) or len(value) >= 16


def _flag_spans(text: str) -> Iterator[Span]:
    for match in _FLAG.finditer(text):
        flag = match.group("flag")
        if not looks_secret_name(flag.lstrip("-")):
            continue
        opener = text[match.start() - 1] if match.start() else ""
        span = _value_span(text, match.end(), long=False, outer_quote=opener if opener in "\"'" else "")
        if span:
            yield span


def _header_spans(text: str) -> Iterator[Span]:
    covered = 0
    for match in _HEADER.finditer(text):
        if match.start() < covered:
            continue
        opener = text[match.start() - 1] if match.start() else ""
        span = _value_span(
            text,
            match.end(),
            long=True,
            outer_quote=opener if opener in "\"'" else "",
            whole_line=True,
            scheme=match.group("key").lower().endswith("authorization"),
        )
        # a header's value is the rest of its line, or of its quoted argument: a header inside it is part of it
        line_end = text.find("\n", match.end())
        covered = len(text) if line_end == -1 else line_end
        if opener in "\"'" and opener:
            close = text.find(opener, match.end(), covered)
            covered = close if close != -1 else covered
        if span:
            covered = span[1]
            yield span


def _binding_spans(text: str) -> Iterator[Span]:
    for match in _BINDING.finditer(text):
        if not looks_secret_name(match.group("name")):
            continue
        rest_start = match.start("rest")
        rest = match.group("rest")
        inline = re.match(r"[ \t]*\(", rest)
        if inline:
            # the value runs to the last ``)`` before the Resource column (two or more spaces) or the line's end
            tail = re.search(r"\)(?=[ \t]{2,}\S|[ \t]*$)", rest[inline.end() :])
            end = rest_start + inline.end() + (tail.start() if tail else len(rest) - inline.end())
            value = text[rest_start + inline.end() : end]
            if not _is_placeholder(value):
                yield rest_start + inline.end(), end
            continue
        # a narrow terminal wraps the value onto the next, indented line
        nxt = re.compile(r"\n[ \t]+(?P<value>[\"{\[][^\n]*)").match(text, match.end())
        if nxt and not _is_placeholder(nxt.group("value")):
            yield nxt.start("value"), nxt.end("value")


def _url_spans(text: str) -> Iterator[Span]:
    for match in _URL_USERINFO.finditer(text):
        userinfo = match.group("userinfo")
        start = match.start("userinfo")
        if ":" in userinfo:
            user, password = userinfo.split(":", 1)
            if re.match(r"^\d{1,5}(?:/|$)", password):
                continue  # host:port/path@... is not a password
            if password and not _is_placeholder(password):
                yield start + len(user) + 1, match.end("userinfo")
            if len(user) >= 16 and _token_like(user):
                yield start, start + len(user)
        elif len(userinfo) >= 16 and _token_like(userinfo):
            yield start, match.end("userinfo")


def _token_like(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_\-.~%+=]+", value)) and not _is_placeholder(value)


def _cli_spans(text: str) -> Iterator[Span]:
    for match in _CLI_USER.finditer(text):
        if not _is_placeholder(match.group("pw")):
            yield match.start("pw"), match.end("pw")
    for match in _CLI_SPACED_P.finditer(text):
        span = _value_span(text, match.end(), long=False, outer_quote="")
        if span and not _PORTISH.match(text[span[0] : span[1]]):
            yield span
    for match in _CLI_GLUED_P.finditer(text):
        password = match.group("pw").rstrip("\"'")
        if not _PORTISH.match(password) and not _is_placeholder(password):
            yield match.start("pw"), match.start("pw") + len(password)


#: ``<add key="Password" value="..."/>``, ``name="apiKey" value="..."``: the name and the value are attributes.
_ATTRIBUTE_PAIR = re.compile(
    r"""(?i)\b(?:key|name)[ \t]*=[ \t]*(?P<q1>["'])(?P<name>[^"'\n]{1,80})(?P=q1)[ \t]+value[ \t]*=[ \t]*(?P<q2>["'])(?P<value>[^"'\n]*)(?P=q2)"""
)
#: ``Bearer X`` / ``Basic X`` / ``token X`` written without a header name (a log line, a pasted curl).
_BARE_SCHEME = re.compile(r"(?<![\w\-])(?i:bearer|basic|token)[ \t]+(?P<value>[A-Za-z0-9._~+/\-]{8,}={0,2})(?![\w\-])")
#: ``password X`` with no separator (netrc, a log line): only when X looks like a credential, not prose.
_SPACED_PAIR = re.compile(
    r"(?i)(?<![\w\-])(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key)[ \t]+(?P<value>[^\s\"'`,;]{6,})"
)


def _attribute_spans(text: str) -> Iterator[Span]:
    for match in _ATTRIBUTE_PAIR.finditer(text):
        if looks_secret_name(match.group("name")) and not _is_placeholder(match.group("value")):
            yield match.start("value"), match.end("value")


def _bare_scheme_spans(text: str) -> Iterator[Span]:
    for match in _BARE_SCHEME.finditer(text):
        value = match.group("value")
        if re.search(r"[0-9A-Z+/=]", value[1:]) and not _is_placeholder(value):
            yield match.start("value"), match.end("value")


def _spaced_spans(text: str) -> Iterator[Span]:
    for match in _SPACED_PAIR.finditer(text):
        value = match.group("value")
        if value.lower() in _PROSE_WORDS or _is_placeholder(value) or _REFERENCE.match(value) or value[0] in "#(":
            continue
        if re.search(r"[0-9!@#%^&*+=/~]", value) and not re.fullmatch(r"[\d.,:]+[a-z]*", value):
            yield match.start("value"), match.end("value")


def _regex_spans(pattern: re.Pattern[str]) -> Callable[[str], Iterator[Span]]:
    def spans(text: str) -> Iterator[Span]:
        for match in pattern.finditer(text):
            yield match.start(), match.end()

    return spans


#: Every shape rule, by name (the ``value`` rule is per scrubber: it knows the environment's values).
RULES: dict[str, Callable[[str], Iterable[Span]]] = {
    "pem": _regex_spans(_PEM),
    "pair": _pair_spans,
    "flag": _flag_spans,
    "header": _header_spans,
    "binding": _binding_spans,
    "url": _url_spans,
    "cli": _cli_spans,
    "attribute": _attribute_spans,
    "spaced": _spaced_spans,
    "scheme": _bare_scheme_spans,
    "provider": _regex_spans(_PROVIDER),
    "provider_cut": _regex_spans(_PROVIDER_CUT),
    "random": _random_spans,
}
