"""Shared fixtures: dbfixtures.py (SQLite + PostgreSQL) and cfapi/ (the Cloudflare API emulator + real wrangler)."""

import sys
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))

pytest_plugins = ["dbfixtures", "cfapi.fixtures", "webfixtures"]
