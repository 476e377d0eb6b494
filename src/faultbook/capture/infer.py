"""Name the component and step of a deploy command, and describe where it ran.

The seed files every failure under a component (Backend, Frontend, Assets,
DNS) and a deployment step ("Worker deployment").  ``faultbook run`` fills
both in from the command when ``--component``/``--step`` are not given:
``wrangler deploy`` is a Backend Worker deployment, ``wrangler pages deploy``
a Frontend Pages deployment, ``wrangler r2 object put`` an Assets upload,
domain and route commands DNS.  Launchers are seen through (``npx``,
``bunx``, ``pnpm exec``, ``yarn``), and so are package scripts
(``npm run deploy`` reads ``package.json``).  A project overrides any of it
with glob patterns in ``faultbook.toml``::

    [capture.components]
    "wrangler deploy*" = "Backend"
    "./scripts/upload-*" = { component = "Assets", step = "Template asset upload" }

The same module records the context a deployment row needs: git commit,
branch and dirty flag, and the sha256 of the wrangler config file in use.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

UNKNOWN_COMPONENT = "Unknown"
UNKNOWN_STEP = "Deployment"

_LAUNCHERS = {"npx", "bunx", "pnpx"}
_LAUNCHER_FLAGS = {"-y", "--yes", "--no", "--no-install", "-q", "--quiet"}
_RUNNERS = {"npm", "pnpm", "yarn", "bun"}


@dataclass(frozen=True)
class Inference:
    component: str
    step: str
    component_detail: str | None = None
    #: The tool that does the work ("wrangler" when it is wrangler, else the program name).
    tool: str | None = None
    #: True when a rule or pattern matched (False: the fallback "Unknown").
    matched: bool = False


@dataclass(frozen=True)
class GitInfo:
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None


# (wrangler subcommand prefix, component, detail, step) — first match wins, longest prefixes first.
_WRANGLER_RULES: tuple[tuple[tuple[str, ...], str, str, str], ...] = (
    (("pages", "deploy"), "Frontend", "Cloudflare Pages", "Pages deployment"),
    (("pages", "publish"), "Frontend", "Cloudflare Pages", "Pages deployment"),
    (("pages", "project"), "Frontend", "Cloudflare Pages", "Pages project configuration"),
    (("versions", "deploy"), "Backend", "Cloudflare Worker", "Worker deployment"),
    (("versions", "upload"), "Backend", "Cloudflare Worker", "Worker deployment"),
    (("versions", "secret"), "Backend", "Cloudflare Worker", "Secret configuration"),
    (("r2", "object"), "Assets", "Cloudflare R2", "Template asset upload"),
    (("r2", "bucket"), "Assets", "Cloudflare R2", "R2 bucket setup"),
    (("kv", "key"), "Assets", "Workers KV", "KV upload"),
    (("kv", "bulk"), "Assets", "Workers KV", "KV upload"),
    (("kv:key",), "Assets", "Workers KV", "KV upload"),
    (("kv:bulk",), "Assets", "Workers KV", "KV upload"),
    (("d1", "migrations"), "Backend", "Cloudflare D1", "Database migration"),
    (("d1", "execute"), "Backend", "Cloudflare D1", "Database migration"),
    (("triggers", "deploy"), "DNS", "Cloudflare Worker routes", "Custom domain configuration"),
    (("deploy",), "Backend", "Cloudflare Worker", "Worker deployment"),
    (("publish",), "Backend", "Cloudflare Worker", "Worker deployment"),
    (("rollback",), "Backend", "Cloudflare Worker", "Rollback"),
    (("secret",), "Backend", "Cloudflare Worker", "Secret configuration"),
)


def infer(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    patterns: Mapping[str, Any] | None = None,
) -> Inference:
    """Component and step for ``argv`` (project patterns first, then the built-in rules)."""
    line = shlex.join(argv)
    for pattern, value in (patterns or {}).items():
        if fnmatch.fnmatchcase(line, pattern) or (argv and fnmatch.fnmatchcase(argv[0], pattern)):
            return _from_pattern(value, argv)
    for candidate in _expand(list(argv), cwd=cwd, depth=0):
        found = _wrangler_rule(candidate)
        if found:
            return found
    for candidate in _expand(list(argv), cwd=cwd, depth=0):
        text = " ".join(candidate).lower()
        if any(word in text for word in ("dns", "domain", "route")):
            return Inference("DNS", "Custom domain configuration", tool=_tool(candidate), matched=True)
    return Inference(UNKNOWN_COMPONENT, UNKNOWN_STEP, tool=_tool(list(argv)), matched=False)


def _from_pattern(value: Any, argv: Sequence[str]) -> Inference:
    if isinstance(value, str):
        return Inference(value, UNKNOWN_STEP, tool=_tool(list(argv)), matched=True)
    if isinstance(value, Mapping):
        return Inference(
            str(value.get("component") or UNKNOWN_COMPONENT),
            str(value.get("step") or UNKNOWN_STEP),
            component_detail=value.get("detail") or value.get("component_detail"),
            tool=_tool(list(argv)),
            matched=True,
        )
    return Inference(UNKNOWN_COMPONENT, UNKNOWN_STEP, tool=_tool(list(argv)))


def _tool(argv: list[str]) -> str | None:
    stripped = _strip_launcher(argv)
    if not stripped:
        return None
    return _program(stripped[0])


def _strip_launcher(argv: list[str]) -> list[str]:
    """``npx -y wrangler deploy`` → ``wrangler deploy``; ``pnpm exec wrangler`` / ``bun x wrangler`` likewise."""
    args = list(argv)
    while args:
        head = Path(args[0]).name
        if head in _LAUNCHERS:
            args = args[1:]
            while args and (args[0] in _LAUNCHER_FLAGS or args[0].startswith("--package")):
                args = args[1:] if "=" in args[0] or args[0] in _LAUNCHER_FLAGS else args[2:]
            continue
        if head in _RUNNERS and len(args) > 1 and args[1] in ("exec", "dlx", "x"):
            args = args[2:]
            if args and args[0] == "--":
                args = args[1:]
            continue
        if head in ("env",):  # env VAR=1 wrangler deploy
            args = args[1:]
            while args and "=" in args[0] and not args[0].startswith("-"):
                args = args[1:]
            continue
        break
    return args


def _expand(argv: list[str], *, cwd: Path | None, depth: int) -> list[list[str]]:
    """The commands ``argv`` amounts to: itself without launchers, or a package script's commands."""
    args = _strip_launcher(argv)
    if not args or depth > 3:
        return [args] if args else []
    head = Path(args[0]).name
    script = None
    if head in _RUNNERS:
        rest = args[1:]
        if rest and rest[0] in ("run", "run-script"):
            rest = rest[1:]
        if rest:
            script = rest[0]
    if script is None:
        if head in ("sh", "bash") and len(args) > 2 and args[1] == "-c":
            return [c for segment in _segments(args[2]) for c in _expand(segment, cwd=cwd, depth=depth + 1)]
        return [args]
    body = _package_scripts(cwd).get(script)
    if not isinstance(body, str):
        return [args]
    found: list[list[str]] = []
    for segment in _segments(body):
        found.extend(_expand(segment, cwd=cwd, depth=depth + 1))
    # The deploy usually comes last ("npm run build && wrangler deploy"): try the last first.
    return list(reversed(found)) or [args]


def _segments(command: str) -> list[list[str]]:
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    segments: list[list[str]] = [[]]
    for word in words:
        if word in ("&&", "||", ";", "|"):
            segments.append([])
        else:
            segments[-1].append(word)
    return [s for s in segments if s]


def _package_scripts(cwd: Path | None) -> Mapping[str, Any]:
    path = (cwd or Path.cwd()) / "package.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    scripts = data.get("scripts") if isinstance(data, dict) else None
    return scripts if isinstance(scripts, dict) else {}


def _wrangler_rule(args: list[str]) -> Inference | None:
    if not args or _program(args[0]) not in ("wrangler", "wrangler.js", "wrangler2"):
        return None
    words = [a for a in args[1:] if not a.startswith("-")]
    for prefix, component, detail, step in _WRANGLER_RULES:
        if tuple(words[: len(prefix)]) == prefix:
            if "domain" in words[: len(prefix) + 2] or "domains" in words[: len(prefix) + 2]:
                return Inference("DNS", "Custom domain configuration", detail, tool="wrangler", matched=True)
            return Inference(component, step, detail, tool="wrangler", matched=True)
    if any(w in ("domain", "domains", "route", "routes", "dns") for w in words[:3]):
        return Inference("DNS", "Custom domain configuration", "Cloudflare DNS", tool="wrangler", matched=True)
    return None


def is_wrangler(argv: Sequence[str], *, cwd: Path | None = None) -> bool:
    """Whether ``argv`` runs wrangler (directly, through a launcher or a package script)."""
    return any(c and _program(c[0]).startswith("wrangler") for c in _expand(list(argv), cwd=cwd, depth=0))


def _program(word: str) -> str:
    """``/path/to/wrangler`` and ``wrangler@4.86.0`` are both ``wrangler``."""
    name = Path(word).name
    return name.split("@", 1)[0] if "@" in name[1:] else name


# ---------------------------------------------------------------- context


def git_info(cwd: Path) -> GitInfo:
    """Commit, branch and dirty flag; all None outside a git work tree, before the first commit or without git."""
    return start_git_info(cwd)()


def start_git_info(cwd: Path) -> Callable[[], GitInfo]:
    """Start asking git now; the returned function waits for the answer (``git_info``'s).

    One ``git status --porcelain=v2 --branch`` gives commit, branch and dirty
    flag (it is on every deploy's path, so one process rather than three,
    running while faultbook does other work).  Untracked files do not make
    the tree dirty.
    """
    try:
        proc = subprocess.Popen(
            ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    except OSError:
        return GitInfo

    def answer() -> GitInfo:
        try:
            out, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return GitInfo()
        return _parse_git_status(out) if proc.returncode == 0 else GitInfo()

    return answer


def _parse_git_status(out: str) -> GitInfo:
    commit = branch = None
    dirty = False
    for line in out.splitlines():
        if line.startswith("# branch.oid "):
            commit = line[len("# branch.oid ") :].strip()
        elif line.startswith("# branch.head "):
            branch = line[len("# branch.head ") :].strip()
        elif line and not line.startswith("#"):
            dirty = True
    if not commit or commit == "(initial)":
        return GitInfo()
    return GitInfo(commit=commit, branch=None if branch in (None, "(detached)") else branch, dirty=dirty)


def config_path(argv: Sequence[str], cwd: Path) -> Path | None:
    """The wrangler config file this command uses: ``-c/--config FILE``, else the one wrangler finds from ``cwd``."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg in ("-c", "--config") and i + 1 < len(args):
            return (cwd / args[i + 1]).resolve()
        if arg.startswith("--config="):
            return (cwd / arg.split("=", 1)[1]).resolve()
    from faultbook.cloudflare.config import search_config

    return search_config(cwd)


def config_hash(argv: Sequence[str], cwd: Path) -> str | None:
    path = config_path(argv, cwd)
    if path is None:
        return None
    try:
        return "sha256:" + _sha256(path.read_bytes())
    except OSError:
        return None


def _sha256(data: bytes) -> str:
    # CPython's own SHA-256 (0.2 ms to load) rather than hashlib's OpenSSL (2-3 ms), on every deploy's path.
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]  # CPython 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256(data).hexdigest()
