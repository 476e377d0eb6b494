"""``faultbook init``: make a folder a faultbook project."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from faultbook.config import CONFIG_FILE, DATA_DIR, load_settings, project_key_from_name
from faultbook.errors import InputError

TEMPLATE = """\
# faultbook settings (https://github.com/faultbook/faultbook)
project = "{key}"

# database_url = "postgresql://user@127.0.0.1:5432/faultbook"   # default: SQLite in .faultbook/
"""


@dataclass(frozen=True)
class InitResult:
    root: Path
    created_config: bool
    database: str
    message: str


def init_project(*, path: Path, project: str | None = None) -> InitResult:
    root = path.resolve()
    if not root.is_dir():
        raise InputError("is not a folder", path=str(path))
    config = root / CONFIG_FILE
    created = False
    if not config.exists():
        key = project_key_from_name(project or root.name)
        config.write_text(TEMPLATE.format(key=key), encoding="utf-8")
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
    )


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
