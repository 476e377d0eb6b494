"""``ProjectRef``: which project a command works on, in a module that imports nothing heavy.

It lives apart from ``services.ledger`` (which re-exports it) so that code
on ``faultbook run``'s start-up path can name a project without importing
SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProjectRef:
    key: str
    name: str
