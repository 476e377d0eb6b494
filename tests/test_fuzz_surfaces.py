"""A small-budget slice of benchmarks/fuzz_surfaces.py: every input surface, no exit 70, no traceback, no 500.

The full run (10,000 generated inputs per surface, figures printed) is
``python benchmarks/fuzz_surfaces.py``; here each surface gets a fixed seed
and a few seconds, so CI catches a surface that starts crashing.
"""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import fuzz_surfaces  # noqa: E402

BUDGET = {"markdown": 50, "wrangler": 60, "faultbook_toml": 80, "cli": 50, "api": 120}


@pytest.mark.parametrize("surface", sorted(fuzz_surfaces.SURFACES))
def test_surface_survives_generated_input(surface, tmp_path):
    figures = fuzz_surfaces.fuzz(surface, examples=BUDGET[surface], seed=14, work=tmp_path)
    assert figures["examples"] >= BUDGET[surface] // 2, figures
