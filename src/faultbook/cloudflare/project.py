"""What a project deploys, for rollback and the support bundle: its wrangler config, found and read
exactly as ``faultbook check`` reads it.

There used to be a second reader here (tomllib + json5) with its own copy of CONFIG_NAMES and of
the ``<name>-<env>`` rule; json5 accepts files wrangler refuses and the two copies drifted.  Now
this module only decides *where* to look (``[rollback] wrangler_config`` in faultbook.toml, else
wrangler's own lookup from the project root) and delegates to ``cloudflare.config``.  Reading with
positions costs ~1 ms more on a real config, which rollback does not notice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from faultbook.cloudflare.config import WranglerConfig, load_config, search_config
from faultbook.errors import InputError

#: Rollback and the bundle read the same object ``faultbook check`` does.
WranglerFile = WranglerConfig


def find_wrangler_config(root: Path, configured: str | None = None) -> Path | None:
    """``configured`` (relative to ``root``), else the file wrangler would use from ``root``."""
    if configured:
        path = (Path(root) / configured).resolve()
        if not path.is_file():
            raise InputError("the wrangler config named in faultbook.toml does not exist", path=str(path))
        return path
    return search_config(Path(root))


def read_wrangler_config(path: Path) -> WranglerConfig:
    return load_config(Path(path))


def load_project_wrangler(root: Path, recovery_section: Mapping[str, Any] | None = None) -> WranglerConfig | None:
    """The project's wrangler config (``[rollback] wrangler_config`` in faultbook.toml, else wrangler's lookup)."""
    configured = (recovery_section or {}).get("wrangler_config")
    path = find_wrangler_config(root, configured if isinstance(configured, str) else None)
    return read_wrangler_config(path) if path else None
