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
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"

#: Always treated as secret, whatever their length.
ALWAYS_SECRET_VARS = ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CF_API_TOKEN", "CF_API_KEY")
#: Names that match the word list but hold no secret (socket paths, file names).
NOT_SECRET_VARS = frozenset({"SSH_AUTH_SOCK", "XAUTHORITY", "GPG_AGENT_INFO", "PWD", "OLDPWD"})
#: Values of look-alike variables shorter than this are not scrubbed (``AUTH_ENABLED=true``).
MIN_SECRET_LENGTH = 8

# ------------------------------------------------------------------------------------------ names

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


# ------------------------------------------------------------------------------------------ values

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


# ------------------------------------------------------------------------------------------ rules

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
    are kept as ``\\xNN`` (other lone surrogates as ``\\udNNN``).
    """
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
