"""Build the app from the environment: the factory uvicorn workers call.

``faultbook serve --workers N`` runs ``uvicorn faultbook.web.asgi:app_from_environment
--factory``; each worker process calls this once and so gets its own engine.
The settings come from ``faultbook.config.load_settings`` (the working
directory, ``FAULTBOOK_DATABASE_URL``, ``FAULTBOOK_PROJECT``); the serve
command hands over the bind host and anonymous policy in
``FAULTBOOK_SERVE_HOST`` / ``FAULTBOOK_SERVE_ANONYMOUS``.
"""

from __future__ import annotations

from fastapi import FastAPI


def app_from_environment() -> FastAPI:
    from faultbook.config import load_settings
    from faultbook.store.db import Database
    from faultbook.web.app import create_app
    from faultbook.web.auth import is_loopback

    settings = load_settings()
    host = settings.environ.get("FAULTBOOK_SERVE_HOST", "127.0.0.1")
    anonymous = settings.environ.get("FAULTBOOK_SERVE_ANONYMOUS") or None
    allowed = None
    if is_loopback(host):
        allowed = ["127.0.0.1", "localhost", "[::1]", "::1"]
    return create_app(
        database=Database(settings.database_url),
        settings=settings,
        host=host,
        anonymous=anonymous,
        allowed_hosts=allowed,
    )
