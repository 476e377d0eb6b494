"""The real deploy-error corpus (tests/corpus/errors/*.yaml), loaded once; also read by benchmarks/bench_fidelity.py.

Each case is a dict with the fields tests/corpus/errors/README.md describes.  ``PREFIXES`` are the
per-line prefixes CI systems and monorepo runners put before every line; the test and the benchmark
add them to every case to check the extractor finds the same message underneath.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "errors"


def load_cases() -> list[dict]:
    import yaml

    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        case["path"] = path
        cases.append(case)
    return cases


def _iso_tab(i: int) -> str:  # Workers Builds / Pages CI
    return f"2026-04-02T08:56:{7 + i % 50:02d}.{(130 + 7 * i) % 1000:03d}Z\t"


def _clock_pipe(i: int) -> str:  # the dashboard's build log, copied as a table
    return f"14:18:{37 + i % 20:02d}.{(337 + 3 * i) % 1000:03d} | "


def _actions(i: int) -> str:  # a GitHub Actions raw log
    return f"2023-01-21T11:06:09.{8455119 + 13 * i}Z "


PREFIXES = {
    "iso-timestamp-tab": _iso_tab,
    "clock-pipe": _clock_pipe,
    "actions-timestamp": _actions,
    "pnpm-recursive": lambda i: "packages/api deploy: ",
    "turbo": lambda i: "api:deploy: ",
    "deploy-output": lambda i: "DEPLOY_OUTPUT: ",
}


def with_prefix(text: str, kind: str) -> str:
    prefix = PREFIXES[kind]
    return "\n".join(prefix(i) + line for i, line in enumerate(text.split("\n")))
