"""What kind of command was wrapped: a deploy, a provisioning step, or something else.

``faultbook run`` wraps whatever it is given, and people wrap more than deploys: ``wrangler r2 bucket create``,
``wrangler secret put``, ``pwd``, a typo.  Only a *deploy* changes what users are served, so only deploys count
as deployments in the metrics (deployment frequency, change failure rate) and only a deploy can be "the last
successful deployment".  A provisioning step (creating a bucket, a database, a namespace, a secret; applying D1
migrations) changes the account, not the code: it is kept, shown, and its failures are still failures, but it
is not a deployment.  Everything else is ``other``.

Pure and small on purpose: a list of rules over the command's words, no I/O, so the table of cases in
``tests/capture/test_classify.py`` is the specification.  The command is the *scrubbed* command line as stored.

How the words are read:

* a shell line is split at ``&&``, ``||``, ``;`` and ``|``; the line is a deploy if any part is
  (``npm run build && npx wrangler deploy``), else a provisioning step if any part is;
* ``sh -c '...'`` / ``bash -c`` are read inside; leading ``VAR=value`` assignments and launchers
  (``npx``, ``pnpm exec``/``dlx``, ``yarn``/``yarn dlx``, ``bunx``, ``npm exec``, ``env``, ``time``, ``sudo``)
  are skipped, so ``CLOUDFLARE_ENV=prod npx -y wrangler@4 deploy`` is seen as ``wrangler deploy``;
* wrangler itself: ``deploy``/``publish`` (wrangler 1-3), ``versions deploy``, ``pages deploy``/``publish``,
  ``triggers deploy`` and the ``rollback`` commands are deploys (a rollback changes what is served).
  ``versions upload`` is *not*: it uploads a version without serving it; the ``versions deploy`` that follows is
  the deployment, and counting both would count one change twice.  A resource family (``r2``, ``d1``, ``kv``,
  ``secret``, ``queues``, ...) with a changing verb (create, delete, put, apply, ...) is provisioning; reading
  verbs (list, get, info, tail, dev, whoami) are ``other``;
* a package script (``npm run deploy``, ``pnpm deploy:prod``, ``yarn run release``, ``bun run deploy``), a make or
  just target, or a script file (``./scripts/deploy.sh``) is judged by its name: one that says deploy, release,
  publish or ship is a deploy; provision, setup, bootstrap, migrate or infra is provisioning.  A name that says
  nothing (``npm run build``) is ``other``.  A wrong guess is fixed with ``faultbook run --kind``.
"""

from __future__ import annotations

import re
import shlex
from typing import Iterable, Sequence

DEPLOY, PROVISION, OTHER = "deploy", "provision", "other"
KINDS = (DEPLOY, PROVISION, OTHER)

_SEPARATORS = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
#: Programs that run the next word as the command (their own flags are skipped).
_LAUNCHERS = {"npx", "bunx", "pnpx", "env", "time", "sudo", "nohup", "exec", "command", "dotenv", "doppler",
              "op", "infisical", "cross-env", "dotenvx"}
#: ``pnpm exec wrangler``, ``npm exec -- wrangler``, ``yarn dlx wrangler``, ``bun x wrangler``.
_LAUNCH_VERBS = {"exec", "dlx", "x"}
_PACKAGE_MANAGERS = {"npm", "pnpm", "yarn", "bun"}
_WRANGLER = re.compile(r"(?:^|/)(?:wrangler|wrangler2)(?:@[\w.^~-]+)?$")
_WRANGLER_DEPLOYS = {("deploy",), ("publish",), ("versions", "deploy"), ("pages", "deploy"), ("pages", "publish"),
                     ("triggers", "deploy"), ("rollback",), ("deployments", "rollback"), ("versions", "rollback"),
                     ("pages", "deployment", "create")}
_RESOURCE_FAMILIES = {"r2", "d1", "kv", "kv:namespace", "kv:key", "kv:bulk", "kv-namespace", "secret",
                      "secret:bulk", "queues", "vectorize", "hyperdrive", "dispatch-namespace", "mtls-certificate",
                      "cert", "workflows", "pipelines", "pages", "ai", "containers", "email", "secrets-store",
                      "route", "subdomain"}
_CHANGING_VERBS = {"create", "delete", "put", "bulk", "apply", "add", "update", "remove", "rm", "upload",
                   "execute", "set", "enable", "disable", "rename", "import", "restore", "consumer", "migrations"}
_READING_VERBS = {"list", "get", "info", "show", "tail", "download", "export", "whoami", "status", "view"}
#: Other deploy tools users wrap for Cloudflare targets.
_OTHER_DEPLOYERS = {
    "opennextjs-cloudflare": {"deploy"},
    "@opennextjs/cloudflare": {"deploy"},
    "netlify": {"deploy"},
    "vercel": {"deploy", "--prod"},
    "flyctl": {"deploy"},
    "fly": {"deploy"},
    "terraform": {"apply"},
    "pulumi": {"up"},
}
_DEPLOY_NAME = re.compile(r"(?:^|[^a-z])(?:deploy\w*|release|publish|ship)(?:$|[^a-z])", re.IGNORECASE)
_PROVISION_NAME = re.compile(
    r"(?:^|[^a-z])(?:provision\w*|setup|bootstrap|migrat\w*|infra\w*|create)(?:$|[^a-z])", re.IGNORECASE
)


def classify_command(command: str | Sequence[str] | None) -> str:
    """``deploy``, ``provision`` or ``other`` for a command line (a string or its argv)."""
    if not command:
        return OTHER
    if not isinstance(command, str):
        command = " ".join(shlex.quote(str(part)) for part in command)
    kinds = [_classify_words(_words(part)) for part in _parts(command)]
    if DEPLOY in kinds:
        return DEPLOY
    if PROVISION in kinds:
        return PROVISION
    return OTHER


def parse_kind(value: str | None) -> str | None:
    """A ``--kind`` option's value, checked: None stays None (classify)."""
    if value is None or not value.strip():
        return None
    kind = value.strip().lower()
    if kind not in KINDS:
        from faultbook.errors import InputError

        raise InputError(f"--kind must be one of {', '.join(KINDS)}, not {value!r}")
    return kind


def _parts(command: str) -> list[str]:
    # Split only outside quotes: shlex keeps "a && b" inside sh -c '...' together.
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return [p for p in _SEPARATORS.split(command) if p.strip()]
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token and set(token) <= set(";&|"):
            parts.append([])
        else:
            parts[-1].append(token)
    return [shlex.join(p) for p in parts if p]


def _words(part: str) -> list[str]:
    try:
        return shlex.split(part)
    except ValueError:
        return part.split()


def _classify_words(words: list[str]) -> str:
    words = list(_strip_launchers(words))
    if not words:
        return OTHER
    program = words[0].lower()
    if program in {"sh", "bash", "zsh", "dash"} and "-c" in words[1:]:
        index = words.index("-c")
        return classify_command(words[index + 1]) if index + 1 < len(words) else OTHER
    if _WRANGLER.search(program):
        return _classify_wrangler(words[1:])
    if program in _PACKAGE_MANAGERS:
        return _classify_script(words[1:], manager=program)
    deployer = _OTHER_DEPLOYERS.get(_without_version(program))
    if deployer is not None:
        return DEPLOY if deployer & {w.lower() for w in words[1:]} else OTHER
    if program in {"make", "just", "task", "mage", "rake"}:
        return _by_name(w for w in words[1:] if not w.startswith("-"))
    if "/" in program or program.endswith((".sh", ".py", ".js", ".mjs", ".ts")):
        return _by_name([program.rsplit("/", 1)[-1].rsplit(".", 1)[0]])
    if program in {"node", "python", "python3", "tsx", "ts-node", "deno", "bun"} and len(words) > 1:
        return _by_name([words[1].rsplit("/", 1)[-1].rsplit(".", 1)[0]])
    return _by_name([program])  # a deploy script on PATH: ``deploy``, ``release-worker``


def _without_version(program: str) -> str:
    """``wrangler@4`` -> ``wrangler``; ``@opennextjs/cloudflare@1.2`` -> ``@opennextjs/cloudflare``."""
    at = program.find("@", 1)
    return program[:at] if at > 0 else program


def _strip_launchers(words: list[str]) -> Iterable[str]:
    i = 0
    while i < len(words):
        word = words[i]
        lower = word.lower()
        if _ASSIGNMENT.match(word) or word == "--":
            i += 1
            continue
        if lower in _LAUNCHERS:
            i += 1
            # The launcher's own flags (npx -y, env -i, doppler run --): skip them and their "run".
            while i < len(words) and (words[i].startswith("-") or words[i] in {"run"} and lower in
                                      {"doppler", "op", "infisical", "dotenvx"}):
                i += 1
            continue
        if lower in _PACKAGE_MANAGERS and i + 1 < len(words) and words[i + 1] in _LAUNCH_VERBS:
            i += 2
            while i < len(words) and words[i].startswith("-"):
                i += 1
            continue
        break
    return words[i:]


def _classify_wrangler(args: list[str]) -> str:
    # Subcommand words come before the first flag or positional that is not a command word; keep the first
    # three words that are not flags (wrangler takes no flag before its subcommand that has a value).
    words = [a.lower() for a in args if not a.startswith("-")][:3]
    for size in (3, 2, 1):
        if tuple(words[:size]) in _WRANGLER_DEPLOYS:
            return DEPLOY
    if not words:
        return OTHER
    family = words[0]
    if family in _RESOURCE_FAMILIES or family.split(":")[0] in _RESOURCE_FAMILIES:
        rest = set(words[1:]) | set(family.split(":")[1:])
        if rest & _READING_VERBS and not rest & _CHANGING_VERBS:
            return OTHER
        if rest & _CHANGING_VERBS:
            return PROVISION
    return OTHER


def _classify_script(args: list[str], *, manager: str) -> str:
    words = [a for a in args if not a.startswith("-")]
    if not words:
        return OTHER
    if words[0] in {"run", "run-script"}:
        words = words[1:]
        if words and _WRANGLER.search(words[0].lower()):
            return _classify_wrangler(words[1:])
    elif _WRANGLER.search(words[0].lower()):  # pnpm wrangler deploy, yarn wrangler deploy
        return _classify_wrangler(words[1:])
    elif words[0] in {"install", "i", "ci", "add", "test", "build", "start", "init", "create", "audit", "exec"}:
        return OTHER
    elif manager == "npm" and words[0] == "publish":
        return OTHER  # a package to a registry, not the project to Cloudflare
    return _by_name(words[:1])


def _by_name(names: Iterable[str]) -> str:
    names = list(names)
    if any(_DEPLOY_NAME.search(n) for n in names):
        return DEPLOY
    if any(_PROVISION_NAME.search(n) for n in names):
        return PROVISION
    return OTHER
