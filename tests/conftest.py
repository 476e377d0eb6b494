"""Shared fixtures.  tests/ is put on sys.path so plugin modules import by name.

- dbfixtures: ``backend``, ``db_url``, ``fresh_db_url``, ``database``, ``project`` (SQLite + PostgreSQL).
- cfapi.fixtures: ``cf_api`` (emulated Cloudflare API) and ``wrangler_bin``.
"""

import sys
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))

pytest_plugins = ["dbfixtures", "cfapi.fixtures"]
