"""Shared fixtures: see dbfixtures.py (SQLite + PostgreSQL)."""

import sys
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))

pytest_plugins = ["dbfixtures", "webfixtures"]
