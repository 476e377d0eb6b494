"""What a deployment deployed, kept small and secret-free: the input of the suspect change.

When a deploy fails, the first question is "what changed since the last one
that worked?".  git answers it only where there is a repository, its history
is at hand (CI clones are often shallow) and the deploy was committed; a
``faultbook run`` from a dirty tree or a tarball has none of that.  So every
deployment stores a *snapshot* of what matters, taken from the files
themselves:

- the wrangler config as parsed, every string through the run's
  ``Scrubber``, values under secret-looking keys redacted, and every
  ``vars`` table reduced to its *names* (a var may hold what should have
  been a secret, so its value is never kept);
- the secret *names* the project declares (``.dev.vars`` keys; the config's
  ``secrets.required``), never a value;
- from the lockfile (``package-lock.json``, ``pnpm-lock.yaml`` or
  ``yarn.lock``): the resolved versions of the direct dependencies named in
  ``package.json``, wrangler's among them.

``view`` turns a stored snapshot into what the suspect change compares: for
the deployed ``--env`` scope (bindings are never inherited by environments,
top-level keys are) each binding by name with its kind and fields, the
compatibility date and flags, the var names, and a short hash of every
other key (``routes``, ``triggers``, ``assets`` ...).

Cost, measured on QuoteViral (this machine, under load): taking the snapshot
is about 3 ms (tomllib plus a 40 KB ``package-lock.json``), and it stores
about 1.5 KB of JSON.  The work that needs the binding table
(``checks.bindings``, ~40-120 ms to import) is done by ``view``, on the
failure path only, so a successful deploy never pays for it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Mapping

SNAPSHOT_VERSION = 1
#: Top-level keys kept with their value (short, never secret); every other key is kept as a hash.
PLAIN_KEYS = ("name", "main", "compatibility_date", "workers_dev", "minify", "usage_model", "pages_build_output_dir",
              "no_bundle", "upload_source_maps", "logpush", "placement")
#: Keys the snapshot models itself (bindings, vars, environments) and never hashes.
MODELLED = {"vars", "env", "compatibility_flags", "secrets"}
LOCKFILES = ("package-lock.json", "pnpm-lock.yaml", "yarn.lock")
#: How many folders above the Worker's a workspace lockfile is looked for.
LOCKFILE_LEVELS = 3
MAX_LOCKFILE_BYTES = 32 * 1024 * 1024


def take_snapshot(
    config_data: Mapping[str, Any] | None,
    *,
    config_file: str | None = None,
    env: str | None = None,
    project_dir: Path | None = None,
    scrub: Callable[[str], str] = lambda text: text,
) -> dict[str, Any]:
    """The snapshot of a deployment (a JSON-able dict) from its parsed wrangler config and its folder.

    Cheap on purpose (it runs before every deploy): the config is stored as parsed, scrubbed, with every
    ``vars`` table reduced to its names; ``view`` turns it into bindings, settings and hashes when a
    failure needs comparing.
    """
    snapshot: dict[str, Any] = {"v": SNAPSHOT_VERSION}
    if config_data is not None:
        snapshot["config_file"] = config_file
        if env:
            snapshot["env"] = env
        snapshot["config"] = stored_config(config_data, scrub=scrub)
    if project_dir is not None:
        secrets = set(dev_vars_names(project_dir))
        if secrets:
            snapshot["secrets"] = sorted(secrets)
        lock = lockfile_snapshot(project_dir)
        if lock:
            snapshot["lockfile"] = lock
    return snapshot


def stored_config(data: Mapping[str, Any], *, scrub: Callable[[str], str]) -> dict[str, Any]:
    """The config as stored: every string scrubbed, secret-looking keys redacted, ``vars`` as names only."""
    from faultbook.capture.scrub import REDACTED, looks_secret_name

    def walk(node: Any, key: str | None) -> Any:
        if isinstance(node, Mapping):
            out = {}
            for k, v in node.items():
                k = str(k)
                if k == "vars" and isinstance(v, Mapping):
                    out[k] = sorted(str(name) for name in v)
                elif looks_secret_name(k) and isinstance(v, str):
                    out[k] = REDACTED
                else:
                    out[k] = walk(v, k)
            return out
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        return _scrubbed(node, scrub)

    return walk(data, None)


def view(snapshot: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored snapshot as the suspect change compares it: bindings, settings, flags, var and secret names,
    hashes of the other keys, the lockfile."""
    if not snapshot:
        return None
    out: dict[str, Any] = {k: snapshot[k] for k in ("v", "config_file", "env", "lockfile") if k in snapshot}
    secrets = set(snapshot.get("secrets") or [])
    config = snapshot.get("config")
    if isinstance(config, Mapping):
        part = config_snapshot(config, env=snapshot.get("env"))
        secrets.update(part.pop("secrets", []))
        out.update(part)
    if secrets:
        out["secrets"] = sorted(secrets)
    return out


def config_snapshot(data: Mapping[str, Any], *, env: str | None = None, scrub: Callable[[str], str] = lambda t: t) -> dict[str, Any]:
    """Bindings, compatibility, var names, secret names and hashed other keys of one config scope."""
    from faultbook.checks.bindings import KINDS

    envs = data.get("env") if isinstance(data.get("env"), Mapping) else {}
    scope: Mapping[str, Any] = data
    if env and isinstance(envs.get(env), Mapping):
        scope = envs[env]

    def inherited(key: str) -> Any:
        return scope[key] if key in scope else data.get(key)

    out: dict[str, Any] = {}
    if env:
        out["env"] = env
    settings: dict[str, Any] = {}
    for key in PLAIN_KEYS:
        value = inherited(key)
        if value is not None:
            settings[key] = _scrubbed(value, scrub)
    flags = inherited("compatibility_flags")
    out["compatibility_flags"] = sorted(str(f) for f in flags) if isinstance(flags, list) else []
    binding_keys = {kind.key[0] for kind in KINDS}
    hashed = {}
    for key in sorted(set(data) | set(scope)):
        if key in MODELLED or key in PLAIN_KEYS or key in binding_keys:
            continue
        hashed[key] = _digest(inherited(key))
    out["settings"] = settings
    out["other_keys"] = hashed
    bindings: dict[str, Any] = {}
    for kind in KINDS:
        node: Any = scope
        for part in kind.key:
            node = node.get(part) if isinstance(node, Mapping) else None
        entries = node if kind.many and isinstance(node, list) else [node] if isinstance(node, Mapping) else []
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            name = str(entry.get(kind.name_field) or f"({kind.config_key})")
            fields = {k: _scrubbed(v, scrub) for k, v in sorted(entry.items()) if k != kind.name_field}
            bindings[name] = {"kind": kind.config_key, "fields": fields}
    out["bindings"] = bindings
    variables = scope.get("vars")
    out["vars"] = sorted(str(k) for k in variables) if isinstance(variables, (Mapping, list)) else []
    secrets = scope.get("secrets") if isinstance(scope.get("secrets"), Mapping) else data.get("secrets")
    required = secrets.get("required") if isinstance(secrets, Mapping) else None
    if isinstance(required, list):
        out["secrets"] = sorted(str(s) for s in required)
    return out


def dev_vars_names(project_dir: Path) -> list[str]:
    """The variable names in ``.dev.vars`` (wrangler's local secrets file); values are never read into the snapshot."""
    names: set[str] = set()
    for path in sorted(project_dir.glob(".dev.vars*")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            match = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
            if match:
                names.add(match.group(1))
    return sorted(names)


def lockfile_snapshot(project_dir: Path) -> dict[str, Any] | None:
    """``{"file", "dependencies": {name: version}}`` for the direct dependencies, from the nearest lockfile.

    In a workspace (pnpm, npm or yarn) the lockfile sits at the repository's root, several folders above
    the Worker's: the nearest one up to ``LOCKFILE_LEVELS`` folders up is read, for the importer (pnpm) or
    workspace (npm) that is the Worker's folder.
    """
    direct = _direct_dependencies(project_dir)
    here = project_dir.resolve()
    for level, folder in enumerate((here, *here.parents)):
        if level > LOCKFILE_LEVELS:
            break
        for name in LOCKFILES:
            path = folder / name
            try:
                if not path.is_file() or path.stat().st_size > MAX_LOCKFILE_BYTES:
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            importer = here.relative_to(folder).as_posix() or "."
            if name == "package-lock.json":
                versions = parse_package_lock(text, importer=importer)
            elif name == "pnpm-lock.yaml":
                versions = parse_pnpm_lock(text, importer=importer)
            else:
                versions = parse_yarn_lock(text, direct)
            if direct:
                versions = {k: v for k, v in versions.items() if k in direct}
            shown = name if importer == "." else f"{'../' * len(here.relative_to(folder).parts)}{name}"
            return {"file": shown, "dependencies": dict(sorted(versions.items()))}
        if (folder / ".git").exists() or (folder / "faultbook.toml").is_file() and folder != here:
            break  # never past the repository's (or the faultbook project's) root
    return None


def parse_package_lock(text: str, *, importer: str = ".") -> dict[str, str]:
    """Direct dependencies' resolved versions from npm's ``package-lock.json`` (lockfileVersion 1, 2 and 3).

    ``importer`` is the workspace folder relative to the lockfile (``.`` for the root package); npm hoists
    a workspace's dependencies to the root ``node_modules`` unless versions clash.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    packages = data.get("packages")
    key = "" if importer == "." else importer
    if isinstance(packages, dict) and isinstance(packages.get(key), dict):
        root = packages[key]
        names = {**(root.get("devDependencies") or {}), **(root.get("dependencies") or {})}
        out = {}
        for name in names:
            for where in ((f"{key}/node_modules/{name}",) if key else ()) + (f"node_modules/{name}",):
                entry = packages.get(where)
                if isinstance(entry, dict) and entry.get("version"):
                    out[name] = str(entry["version"])
                    break
        return out
    deps = data.get("dependencies")
    if isinstance(deps, dict) and importer == ".":  # lockfileVersion 1: every package at the top
        return {name: str(entry["version"]) for name, entry in deps.items()
                if isinstance(entry, dict) and entry.get("version")}
    return {}


def parse_pnpm_lock(text: str, *, importer: str = ".") -> dict[str, str]:
    """Direct dependencies of one importer in ``pnpm-lock.yaml`` (v5: name: version; v6-v9: version: field).

    ``importer`` is the workspace folder relative to the lockfile (``.``, ``workers/download`` ...).

    A line reader rather than a YAML parser: the lockfile's layout is fixed by
    pnpm, and faultbook does not need PyYAML for anything else.
    """
    out: dict[str, str] = {}
    section: str | None = None  # "importer" once inside importers['.'] (or the v5 top level)
    in_deps = False
    current: str | None = None
    has_importers = re.search(r"^importers:\s*$", text, re.M) is not None
    if not has_importers:
        section = "importer"
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        base = 4 if has_importers else 0
        if has_importers:
            if indent == 0:
                section = None
                in_deps = False
                continue
            if indent == 2:
                section = "importer" if line.rstrip(":").strip("'\"") == importer else None
                in_deps = False
                continue
        if section != "importer":
            continue
        if indent == base and line.endswith(":"):
            in_deps = line[:-1] in ("dependencies", "devDependencies", "optionalDependencies")
            current = None
            continue
        if indent == base:
            in_deps = False
            continue
        if not in_deps:
            continue
        if indent == base + 2:
            name, _, rest = line.partition(":")
            current = name.strip().strip("'\"")
            rest = rest.strip()
            if rest:  # v5: "  wrangler: 4.86.0"
                out[current] = _pnpm_version(rest)
        elif indent == base + 4 and current and line.startswith("version:"):
            out[current] = _pnpm_version(line.partition(":")[2].strip())
    return out


def _pnpm_version(value: str) -> str:
    value = value.strip().strip("'\"")
    return value.split("(", 1)[0]


def parse_yarn_lock(text: str, names: set[str] | None = None) -> dict[str, str]:
    """Resolved versions from ``yarn.lock`` (classic v1 and berry); ``names`` limits it to those packages."""
    out: dict[str, str] = {}
    current: list[str] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        if not raw.startswith(" "):
            current = []
            for spec in raw.rstrip(":").split(","):
                spec = spec.strip().strip('"')
                at = spec.find("@", 1)
                if at > 0:
                    current.append(spec[:at])
            continue
        match = re.match(r'\s+version:?\s+"?([^"\s]+)"?', raw)
        if match and current:
            for name in current:
                if names is None or name in names:
                    out.setdefault(name, match.group(1))
            current = []
    return out


def _direct_dependencies(project_dir: Path) -> set[str]:
    try:
        data = json.loads((project_dir / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(data, dict):
        return set()
    names: set[str] = set()
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        if isinstance(data.get(key), dict):
            names.update(data[key])
    return names


def _scrubbed(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, list):
        return [_scrubbed(v, scrub) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _scrubbed(v, scrub) for k, v in value.items()}
    return scrub(str(value))


def _digest(value: Any) -> str:
    import hashlib  # only when comparing: OpenSSL's hashlib costs milliseconds on the deploy path

    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def deploy_snapshot(
    argv: "list[str] | tuple[str, ...]", cwd: Path, *, env: str | None = None, scrub: Callable[[str], str] = lambda t: t,
) -> dict[str, Any] | None:
    """The snapshot of the deploy ``argv`` runs in ``cwd`` (its ``-c/--config`` or wrangler's default file).

    Never raises: a config that does not parse is wrangler's to report, and the deploy runs all the same;
    the snapshot then has the lockfile and secret names only.
    """
    from faultbook.capture.infer import config_path

    try:
        path = config_path(list(argv), cwd)
        data = _read_config(path) if path is not None else None
        return take_snapshot(data, config_file=path.name if path is not None else None, env=env,
                             project_dir=path.parent if path is not None else cwd, scrub=scrub)
    except Exception:  # noqa: BLE001 - a snapshot is a nicety; it must never cost the deploy
        return None


def _read_config(path: Path) -> Mapping[str, Any] | None:
    """The config as wrangler reads it (the one loader, ``cloudflare.config``); None when it does not parse."""
    from faultbook.cloudflare.config import load_config
    from faultbook.errors import InputError

    try:
        data = load_config(path).data
    except (InputError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
