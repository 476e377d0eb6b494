"""Shared fixtures.  tests/ is put on sys.path so plugin modules import by name.

- dbfixtures: ``backend``, ``db_url``, ``fresh_db_url``, ``database``, ``project`` (SQLite + PostgreSQL).
- cfapi.fixtures: ``cf_api`` (emulated Cloudflare API) and ``wrangler_bin``.
- webfixtures: the dashboard app and its clients.
- netfixtures: a local DNS responder, HTTP(S) servers and a trustme CA on 127.0.0.1 (network rules).
"""

import sys
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))

pytest_plugins = ["dbfixtures", "cfapi.fixtures", "webfixtures", "netfixtures"]


def faultbook_main(args: list[str]) -> int:
    """``faultbook ARGS`` in-process with fresh per-invocation state, as a new process would have."""
    from faultbook.cli import app as app_module

    app_module.state.__init__()
    app_module.state._settings = None
    app_module.state._db = None
    app_module.state.project = None
    return app_module.main(args)
