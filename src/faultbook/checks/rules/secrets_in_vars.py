"""Secrets written as plain `vars`: committed to git, shown in the dashboard and in `wrangler deploy` output.

Two signals, either is enough: the *value* starts with a known credential prefix
(Stripe ``sk_live_``, Slack ``xoxb-``, GitHub ``ghp_``/``github_pat_``, AWS ``AKIA``,
a PEM private key ...), or the *name* says secret (``*PASSWORD*``, ``*SECRET*``,
``*TOKEN*``, ``*API_KEY*``, ``*PRIVATE_KEY*``) and the value looks like one.

False alarms are what makes people switch a check off, so the name signal is
deliberately narrow (measured on the case file and the corpus): names ending in
``_URL``/``_ENDPOINT``/``_TTL``/``_HEADER``... describe a secret without being one
(``TOKEN_URL = "https://..."``, ``MAX_TOKENS = "1024"``); names with a public prefix
(``PUBLIC_``, ``NEXT_PUBLIC_``, ``VITE_``) or the words PUBLIC/PUBLISHABLE are shipped to
browsers by design; empty values, booleans, numbers, URLs and placeholders
(``"changeme"``, ``"<token>"``) and test values (``"testpassword"``, ``"dev-secret"``)
are not secrets.  A warning, never an error: wrangler
deploys it fine.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from faultbook.checks.base import Context, Finding, Rule, Severity

#: Credential formats with a fixed, documented prefix.
_VALUE_PREFIXES = re.compile(
    r"^(?:sk_live_|rk_live_|sk_test_|rk_test_|whsec_|xox[abposr]-|xapp-|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|"
    r"glpat-|AKIA[0-9A-Z]{16}$|ASIA[0-9A-Z]{16}$|sk-ant-|sk-proj-|npm_[A-Za-z0-9]{36}$|SG\.[\w-]{16,}\.|"
    r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----)"
)
_SECRET_WORDS = re.compile(r"(?:^|_)(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|SECRETS|TOKEN|API_?KEY|PRIVATE_?KEY|CLIENT_SECRET)(?:_|$)")
#: A last word that makes the variable *about* a secret, not the secret.
_NOT_SECRET_SUFFIX = re.compile(
    r"_(?:URL|URI|ENDPOINT|HOST|DOMAIN|PATH|FILE|NAME|ID|TTL|EXPIRY|EXPIRES|EXPIRATION|LIFETIME|DURATION|AGE|"
    r"LIMIT|MAX|MIN|COUNT|LENGTH|SIZE|HEADER|COOKIE|PREFIX|TYPE|ALG|ALGORITHM|ISSUER|AUDIENCE|SCOPE|SCOPES|"
    r"FIELD|PARAM|KEY_ID|ENABLED|REQUIRED|VERSION|BINDING|STORE)$"
)
_PUBLIC = re.compile(r"^(?:PUBLIC_|NEXT_PUBLIC_|VITE_|REACT_APP_|EXPO_PUBLIC_|NUXT_PUBLIC_)|PUBLIC|PUBLISHABLE|(?:^|_)MAX_TOKENS?$")
_PLACEHOLDER = re.compile(
    r"^(?:|x+|\*+|\.+|-+|<.*>|\{\{.*\}\}|\$\{.*\}|\$[A-Z_]+|%.*%|todo|tbd|none|null|undefined|n/?a|"
    r".*(?:your|change|replace|placeholder|example|dummy|fake|sample|redacted|insert|put[_-]?here|set[_-]?me|fill).*)$",
    re.IGNORECASE,
)
#: Values made for tests and local development ("testpassword", "dev-secret", "local_token").
_TEST_VALUE = re.compile(r"test|demo|(?:^|[^a-z])(?:dev|local)(?:[^a-z]|$)", re.IGNORECASE)
_BOOLEAN = {"true", "false", "yes", "no", "on", "off", "enabled", "disabled"}


def looks_secret(name: str, value: Any) -> str | None:
    """Why ``name = value`` looks like a committed secret, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _VALUE_PREFIXES.match(text):
        return "its value has the format of a credential"
    upper = name.upper()
    if not _SECRET_WORDS.search(upper) or _NOT_SECRET_SUFFIX.search(upper) or _PUBLIC.search(upper):
        return None
    if len(text) < 6 or text.lower() in _BOOLEAN or _PLACEHOLDER.match(text) or _TEST_VALUE.search(text):
        return None
    if re.fullmatch(r"[\d.,_:-]+", text) or "://" in text or text.startswith(("/", "./")):
        return None
    if " " in text and len(text.split()) > 4:
        return None  # a sentence, not a credential
    return "its name says it is a secret"


class SecretInVars(Rule):
    """A value in `vars` looks like a secret (a password, token or API key).

    *Why* `vars` are plain text: committed with the config, listed in the dashboard and
    printed by `wrangler deploy` ("Your Worker has access to the following bindings ...
    Vars"). A leaked key must be rotated. Secrets belong in `wrangler secret put`, which
    encrypts them and keeps them out of git and logs.

    *Bad*
    ```toml
    [vars]
    STRIPE_SECRET_KEY = "sk_live_51H..."
    ```

    *Good*
    ```toml
    [secrets]
    required = ["STRIPE_SECRET_KEY"]   # set with: wrangler secret put STRIPE_SECRET_KEY
    ```

    *Fix* Remove it from `vars`, run `wrangler secret put NAME` (per environment: `-e X`),
    list it in `secrets.required`, and rotate the value if it was ever committed.
    """

    id = "FB123"
    name = "secret-in-vars"
    severity = Severity.WARNING

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            variables = scope.raw.get("vars")
            if not isinstance(variables, dict):
                continue
            for name, value in variables.items():
                reason = looks_secret(str(name), value)
                if reason:
                    flag = f" -e {scope.env}" if scope.env else ""
                    yield self.finding(
                        ctx, scope.prefix + ("vars", name),
                        f'vars.{name} looks like a secret ({reason}): use `wrangler secret put {name}{flag}` and '
                        "`secrets.required` instead",
                        detail="vars are plain text in git, in the dashboard and in deploy output; rotate it if it "
                        "was committed.", env=scope.env,
                    )
