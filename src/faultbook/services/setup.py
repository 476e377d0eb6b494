"""``faultbook init``: make a folder a faultbook project, and say what it found there.

A new user's first minute decides whether they keep the tool, so ``init``
looks before it writes: the wrangler configs below the folder (Workers and
Pages, as wrangler names them, skipping ``node_modules`` and hidden folders,
three levels deep — a monorepo's ``apps/api/wrangler.toml`` is two), and any
Markdown file already kept in the seed's failure-log layout (it parses and
holds at least one failure or potential failure).  It never imports on its
own: the CLI offers it on a terminal and prints the exact command otherwise.
The ``faultbook.toml`` it writes is commented, so the settings a user may want
next are one uncomment away.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from faultbook.cloudflare.config import CONFIG_NAMES
from faultbook.config import CONFIG_FILE, DATA_DIR, load_settings, project_key_from_name
from faultbook.errors import InputError

SEARCH_DEPTH = 3
#: A failure log larger than this is not looked into (the import itself has its own limit).
MAX_LOG_BYTES = 2 * 1024 * 1024
SKIPPED_DIRS = {"node_modules", "dist", "build", "vendor", "__pycache__"}

TEMPLATE = """\
# faultbook settings: every key is described in docs/settings.md.
project = "<key>"

# The ledger.  Default: SQLite in .faultbook/ (keep that folder out of git).
# A team shares one PostgreSQL database (FAULTBOOK_DATABASE_URL wins over this line):
# database_url = "postgresql://user@db.example.internal:5432/faultbook"
<found>
# Preflight (`faultbook check`): which rules run, and what fails the check.
# [check]
# ignore = ["FB104"]                  # rule ids (see `faultbook rules`)

# Capture (`faultbook run`): the component and step a failed deploy is filed under, by command.
# [capture.components]
# "wrangler deploy*" = "Backend"
# "wrangler pages deploy*" = { component = "Frontend", step = "Pages deployment" }

# The team server that `faultbook run --server` reports to (token in FAULTBOOK_SERVER_TOKEN).
# [server]
# url = "https://faultbook.example.internal"

# Smoke checks run by `check`, after a rollback and with `run --rollback-on-failure`.
# [[smoke]]
# url = "https://api.example.com/health"
# expect_status = 200
"""


@dataclass(frozen=True)
class FoundConfig:
    path: Path
    kind: str  # "worker", "pages" or "unreadable"
    name: str | None


@dataclass(frozen=True)
class FoundLog:
    path: Path
    failures: int
    potential_failures: int


@dataclass(frozen=True)
class InitResult:
    root: Path
    created_config: bool
    database: str
    message: str
    configs: tuple[FoundConfig, ...] = field(default=())
    logs: tuple[FoundLog, ...] = field(default=())


def init_project(*, path: Path, project: str | None = None) -> InitResult:
    root = path.resolve()
    if not root.is_dir():
        raise InputError("is not a folder", path=str(path))
    configs = tuple(find_wrangler_configs(root))
    logs = tuple(find_failure_logs(root))
    config = root / CONFIG_FILE
    created = False
    if not config.exists():
        key = project_key_from_name(project or root.name)
        text = TEMPLATE.replace("<key>", key).replace("<found>\n", _found_comment(root, configs))
        config.write_text(text, encoding="utf-8")
        created = True
    _ignore_data_dir(root)
    settings = load_settings(cwd=root)
    from faultbook.store.db import Database

    db = Database(settings.database_url)
    db.dispose()
    verb = "Created" if created else "Kept the existing"
    return InitResult(
        root=root,
        created_config=created,
        database=settings.display_database_url,
        message=f"{verb} {config}; ledger of project '{settings.project_key}' at {settings.display_database_url}",
        configs=configs,
        logs=logs,
    )


def _walk(root: Path):
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS and depth < SEARCH_DEPTH)
        yield Path(folder), sorted(files)


def find_wrangler_configs(root: Path) -> list[FoundConfig]:
    """Each folder's wrangler config (the one wrangler would pick there), Worker or Pages."""
    found = []
    for folder, files in _walk(root):
        name = next((n for n in CONFIG_NAMES if n in files), None)
        if name is not None:
            found.append(_describe_config(folder / name))
    return found


def _describe_config(path: Path) -> FoundConfig:
    try:
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        else:
            from faultbook.cloudflare.config import load_config

            data = load_config(path).data
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError, InputError):
        return FoundConfig(path=path, kind="unreadable", name=None)
    name = data.get("name") if isinstance(data.get("name"), str) else None
    kind = "pages" if "pages_build_output_dir" in data else "worker"
    return FoundConfig(path=path, kind=kind, name=name)


def find_failure_logs(root: Path) -> list[FoundLog]:
    """Markdown files in the seed's layout: they parse and hold at least one (potential) failure."""
    from faultbook.markdown import parse_document

    found = []
    for folder, files in _walk(root):
        for name in files:
            if not name.lower().endswith(".md"):
                continue
            path = folder / name
            try:
                if path.stat().st_size > MAX_LOG_BYTES:
                    continue
                text = path.read_text(encoding="utf-8")
                if "Failure" not in text:
                    continue
                document = parse_document(text, path=str(path))
            except (OSError, UnicodeDecodeError, InputError):
                continue
            if document.failures or document.potential_failures:
                found.append(FoundLog(path=path, failures=len(document.failures),
                                      potential_failures=len(document.potential_failures)))
    return found


def _found_comment(root: Path, configs: tuple[FoundConfig, ...]) -> str:
    if not configs:
        return "\n# No wrangler config was found below this folder when `faultbook init` ran.\n"
    lines = ["", "# wrangler configs found when `faultbook init` ran (`faultbook check PATH` checks one):"]
    for item in configs:
        what = {"worker": "Worker", "pages": "Pages project", "unreadable": "could not be read"}[item.kind]
        lines.append(f"#   {item.path.relative_to(root)}: {what}{' ' + repr(item.name) if item.name else ''}")
    return "\n".join(lines) + "\n"


def _ignore_data_dir(root: Path) -> None:
    """Keep the embedded database out of git when the project is a repository."""
    gitignore = root / ".gitignore"
    if not (root / ".git").exists():
        return
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    if f"{DATA_DIR}/" in lines or DATA_DIR in lines:
        return
    with gitignore.open("a", encoding="utf-8") as handle:
        if lines and lines[-1] != "":
            handle.write("\n")
        handle.write(f"{DATA_DIR}/\n")
