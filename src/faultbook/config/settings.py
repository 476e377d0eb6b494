"""Settings: the one place that reads the environment and ``faultbook.toml``.

Everything else receives a ``Settings`` value, and reads its typed sections (``settings.rollback.worker``,
``settings.env.CLOUDFLARE_ACCOUNT_ID``); the keys are declared in ``config.sections`` and
``config.environment`` and documented in docs/settings.md (a test keeps the two equal).  Resolution order for the
database: ``FAULTBOOK_DATABASE_URL``, then ``database_url`` in
``faultbook.toml``, then the embedded default, SQLite at
``<project root>/.faultbook/faultbook.db``.

The project root is found by walking up from the working directory to the
first folder holding ``faultbook.toml`` (or, failing that, ``.git``); the
project key is ``project`` in ``faultbook.toml`` or the root folder's name.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, TypeVar

from faultbook.config.environment import Environment, process_environ
from faultbook.config.sections import (
    CaptureSection,
    CheckSection,
    McpSection,
    PagesSection,
    RollbackSection,
    ServerSection,
    SupportSection,
    TopLevel,
    check_unknown_keys,
    read_section,
)
from faultbook.errors import InputError

T = TypeVar("T")

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

    @cached_property
    def env(self) -> Environment:
        return Environment.from_mapping(self.environ)

    def _section(self, name: str, cls: type[T]) -> T:
        return read_section(self.file, name, cls, path=str(self.config_path) if self.config_path else None)

    @cached_property
    def check(self) -> CheckSection:
        return self._section("check", CheckSection)

    @cached_property
    def capture(self) -> CaptureSection:
        return self._section("capture", CaptureSection)

    @cached_property
    def server(self) -> ServerSection:
        return self._section("server", ServerSection)

    @cached_property
    def rollback(self) -> RollbackSection:
        return self._section("rollback", RollbackSection)

    @cached_property
    def pages(self) -> PagesSection:
        return self._section("pages", PagesSection)

    @cached_property
    def support(self) -> SupportSection:
        return self._section("support", SupportSection)

    @cached_property
    def mcp(self) -> McpSection:
        return self._section("mcp", McpSection)

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
    environ = process_environ() if environ is None else dict(environ)
    env = Environment.from_mapping(environ)
    start = (cwd or Path.cwd()).resolve()
    marked = _find_marked_root(start)
    root = marked or start
    config_path: Path | None = root / CONFIG_FILE
    data: dict[str, Any] = {}
    if config_path is not None and config_path.is_file():
        text = _read_text(config_path)
        data = _parse_toml(text, config_path)
        # Every declared table is read (and type-checked) now: bad settings fail before anything runs.
        path = str(config_path)
        check_unknown_keys(data, path=path, text=text)
        top: TopLevel = read_section(data, "", TopLevel, path=path, text=text)
        for name, cls in (("check", CheckSection), ("capture", CaptureSection), ("server", ServerSection),
                          ("rollback", RollbackSection), ("pages", PagesSection), ("support", SupportSection),
                          ("mcp", McpSection)):
            read_section(data, name, cls, path=path, text=text)
    else:
        config_path = None
        top = TopLevel()
    key = project or env.FAULTBOOK_PROJECT or top.project or root.name
    if not key.strip():
        raise InputError("'project' must be a non-empty string", path=str(config_path))
    name = top.name or key
    url = env.FAULTBOOK_DATABASE_URL or top.database_url
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


def _read_text(path: Path) -> str:
    from faultbook.files import read_capped

    data = read_capped(path, limit=1024 * 1024, what="faultbook.toml")  # /dev/zero stops at 1 MB
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", path=str(path)) from None


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise InputError(f"invalid TOML: {exc}", path=str(path), line=line) from None


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
