"""Settings: the one place that reads the environment and ``faultbook.toml``.

Everything else receives a ``Settings`` value.  Resolution order for the
database: ``FAULTBOOK_DATABASE_URL``, then ``database_url`` in
``faultbook.toml``, then the embedded default, SQLite at
``<project root>/.faultbook/faultbook.db``.

The project root is found by walking up from the working directory to the
first folder holding ``faultbook.toml`` (or, failing that, ``.git``); the
project key is ``project`` in ``faultbook.toml`` or the root folder's name.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from faultbook.errors import InputError

CONFIG_FILE = "faultbook.toml"
DATA_DIR = ".faultbook"


@dataclass(frozen=True)
class Settings:
    project_root: Path
    project_key: str
    project_name: str
    database_url: str
    #: The parsed faultbook.toml (empty when there is none); sections belong to their features.
    file: Mapping[str, Any] = field(default_factory=dict)
    config_path: Path | None = None
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: False when no faultbook.toml or .git was found upwards: the "project" is just the working folder.
    in_project: bool = True

    @property
    def data_dir(self) -> Path:
        return self.project_root / DATA_DIR

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.file.get(name, {})
        return value if isinstance(value, Mapping) else {}

    @property
    def display_database_url(self) -> str:
        return redact_url(self.database_url)


def find_project_root(start: Path) -> Path:
    """The nearest folder upwards holding faultbook.toml, else .git, else ``start`` itself."""
    return _find_marked_root(start.resolve()) or start.resolve()


def _find_marked_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def uses_embedded_database(settings: Settings) -> bool:
    """True when the ledger would be the SQLite file inside the project folder (no URL was configured)."""
    return settings.database_url == "sqlite:///" + str(settings.project_root / DATA_DIR / "faultbook.db")


def project_key_from_name(name: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return key or "default"


def load_settings(
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    project: str | None = None,
) -> Settings:
    """Build the settings for a command run in ``cwd`` (default: the process's)."""
    environ = dict(os.environ if environ is None else environ)
    start = (cwd or Path.cwd()).resolve()
    marked = _find_marked_root(start)
    root = marked or start
    config_path = root / CONFIG_FILE
    data: dict[str, Any] = {}
    if config_path.is_file():
        data = _read_toml(config_path)
    else:
        config_path = None
    key = project or environ.get("FAULTBOOK_PROJECT") or data.get("project") or root.name
    if not isinstance(key, str) or not key.strip():
        raise InputError("'project' must be a non-empty string", path=str(config_path))
    name = data.get("name") or key
    url = environ.get("FAULTBOOK_DATABASE_URL") or data.get("database_url")
    if url is not None and not isinstance(url, str):
        raise InputError("'database_url' must be a string", path=str(config_path))
    if not url:
        url = "sqlite:///" + str(root / DATA_DIR / "faultbook.db")
    return Settings(
        project_root=root,
        project_key=project_key_from_name(key),
        project_name=str(name),
        database_url=normalise_database_url(url),
        file=data,
        config_path=config_path,
        environ=environ,
        in_project=marked is not None,
    )


def normalise_database_url(url: str) -> str:
    """Accept the common ``postgres://`` / ``postgresql://`` spellings; use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _read_toml(path: Path) -> dict[str, Any]:
    from faultbook.files import read_capped

    data = read_capped(path, limit=1024 * 1024, what="faultbook.toml")  # /dev/zero stops at 1 MB
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", path=str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise InputError(f"invalid TOML: {exc}", path=str(path), line=line) from None


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
