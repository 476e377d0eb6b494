"""Build the app for a server process from what ``faultbook serve`` decided, passed in explicitly.

``faultbook serve --workers N`` spawns N processes (``faultbook.server``); each calls ``build`` once and
so gets its own engine.  The settings travel as an argument (a frozen, picklable ``Settings`` inside
``faultbook.server.Launch``), not through environment variables or the working directory: the serve
command neither writes ``os.environ`` nor changes directory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from faultbook.config import Settings


def build(settings: "Settings", host: str = "127.0.0.1", anonymous: str | None = None) -> "FastAPI":
    from faultbook.store.db import Database
    from faultbook.web.app import create_app
    from faultbook.web.auth import is_loopback

    allowed = ["127.0.0.1", "localhost", "[::1]", "::1"] if is_loopback(host) else None
    return create_app(
        database=Database(settings.database_url),
        settings=settings,
        host=host,
        anonymous=anonymous,
        allowed_hosts=allowed,
    )
