"""What a project deploys, read from its wrangler config: the Worker's name, the Pages project, the account.

Rollback and the support bundle need only a few values (``name``, ``[env.X]
name``, ``account_id``, ``pages_build_output_dir``) and the file's text, so
this reads the data with the standard parsers (tomllib, json5 for JSONC)
instead of the position-keeping loader ``faultbook check`` uses.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from faultbook.errors import InputError

#: wrangler's own lookup order in a directory.
CONFIG_NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")


@dataclass(frozen=True)
class WranglerFile:
    path: Path
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def worker_name(self, env: str | None = None) -> str | None:
        """The deployed Worker's name: ``[env.X] name`` or ``<name>-<X>`` (wrangler's rule)."""
        name = self.data.get("name")
        if env:
            section = (self.data.get("env") or {}).get(env) or {}
            if isinstance(section, Mapping) and section.get("name"):
                return str(section["name"])
            return f"{name}-{env}" if name else None
        return str(name) if name else None

    @property
    def is_pages(self) -> bool:
        return "pages_build_output_dir" in self.data


def find_wrangler_config(root: Path, configured: str | None = None) -> Path | None:
    """``configured`` (relative to ``root``) or the first of wrangler's names in ``root``."""
    if configured:
        path = (root / configured).resolve()
        if not path.is_file():
            raise InputError("the wrangler config named in faultbook.toml does not exist", path=str(path))
        return path
    for name in CONFIG_NAMES:
        if (root / name).is_file():
            return root / name
    return None


def read_wrangler_config(path: Path) -> WranglerFile:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
    if path.suffix == ".toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"invalid TOML: {exc}", path=str(path)) from None
    else:
        import json5

        try:
            data = json5.loads(text)
        except ValueError as exc:
            raise InputError(f"invalid JSON: {exc}", path=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("the top level must be a table/object", path=str(path), line=1)
    return WranglerFile(path=path, text=text, data=data)


def load_project_wrangler(root: Path, recovery_section: Mapping[str, Any] | None = None) -> WranglerFile | None:
    """The project's wrangler config (``[rollback] wrangler_config`` in faultbook.toml, else the default names)."""
    configured = (recovery_section or {}).get("wrangler_config")
    path = find_wrangler_config(root, configured if isinstance(configured, str) else None)
    return read_wrangler_config(path) if path else None
