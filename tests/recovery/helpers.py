"""Shared setup for the recovery tests: a QuoteViral-like project folder wired to the emulator."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from faultbook.config import load_settings

WORKER = "quoteviral-api"

WRANGLER_TOML = """\
name = "quoteviral-api"
main = "src/index.js"
compatibility_date = "2025-08-15"

[vars]
ENVIRONMENT = "production"
FRONTEND_ORIGIN = "https://quoteviral.com"

[[r2_buckets]]
binding = "UPLOADS"
bucket_name = "quoteviral-uploads"
"""


def make_project(root: Path, *, key: str, db_url: str, extra_toml: str = "", wrangler: str = WRANGLER_TOML) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "faultbook.toml").write_text(
        f'project = "{key}"\ndatabase_url = "{db_url}"\n' + textwrap.dedent(extra_toml), encoding="utf-8"
    )
    (root / "wrangler.toml").write_text(wrangler, encoding="utf-8")
    return root


def settings_for(root: Path, cf_api: Any, **extra_env: str):  # type: ignore[no-untyped-def]
    environ = {**cf_api.emulator.env(), **extra_env}
    return load_settings(cwd=root, environ=environ)
