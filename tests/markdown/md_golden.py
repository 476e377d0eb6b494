"""Golden-file comparison for the Markdown tests.

Set FAULTBOOK_UPDATE_GOLDEN=1 to (re)write the files instead of comparing; review the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
FIXTURES = HERE / "fixtures"
ROOT = HERE.parent.parent
SEED = ROOT / "examples" / "quoteviral" / "FAILURES.md"


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def lines_rstripped(text: str) -> list[str]:
    """The comparison the format promises: same lines, trailing whitespace aside."""
    return [line.rstrip() for line in text.split("\n")]


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("FAULTBOOK_UPDATE_GOLDEN"):
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"golden file {path} is missing: run with FAULTBOOK_UPDATE_GOLDEN=1"
    assert text == read(path)
