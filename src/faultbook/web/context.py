"""What every request handler shares: the app's context (database, settings, project, caches).

Below the app assembly, the routes, the rendering and the middleware, so each of them imports it and none
imports the app (no cycle: ``app.py`` imports the routes, nothing imports ``app.py`` but ``asgi.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from faultbook.config import Settings
from faultbook.services.ledger import ProjectRef
from faultbook.services.recognition import KnowledgeCache
from faultbook.store.db import Database


@dataclass(frozen=True)
class AppContext:
    database: Database
    settings: Settings
    project: ProjectRef
    anonymous_role: str | None
    templates: Jinja2Templates
    secure_cookies: bool = False
    #: ``[server] trusted_proxy``: believe ``X-Forwarded-Proto`` (the server runs behind a TLS proxy).
    trusted_proxy: bool = False
    #: Writes CI reports in batches (web/writer.py); made by ``create_app``.
    reports: Any = None
    #: The warm knowledge index recognition and ``explain`` use (built once, then updated from what changed).
    knowledge: KnowledgeCache = field(default_factory=KnowledgeCache)


def ctx_of(request: Request) -> AppContext:
    """The context of the app serving ``request``."""
    return request.app.state.ctx
