"""Fidelity on real deploy output: is the exact error stored, and is it recognised?

Run: ``python benchmarks/bench_fidelity.py [--in-process] [-v]`` from the repository root.

Every case of ``tests/corpus/errors`` (real wrangler / Cloudflare output users pasted into public
threads) goes through the path ``faultbook run`` takes — a child process prints the case's output,
``capture.runner.run_command`` keeps its tails and error windows, ``capture.extract.extract_error``
picks the error and the run's scrubber cleans it — on stderr, on stdout, and under six per-line
prefixes that CI systems and monorepo runners add (``corpus_cases.PREFIXES``); and the path
``faultbook explain`` takes (``extract.extract_text``), bare and under the same prefixes.

Printed:

- **exact extraction**: cases whose stored message is the corpus's ``message`` under every arrival
  (target >= 97 %), per arrival, and on the 20 % of cases held out while the rules were written;
- **run and explain agree**: cases where both paths store the same message, code and endpoint;
- recognition, with the matcher and fingerprint in this tree at the time, from what ``run`` extracted:
  **right explanation** on the cases whose thread found the cause (target >= 85 %), **same-error
  pairs grouped** (target: all) and **different causes merged** (target: 0).  These come from
  ``benchmarks/match_fidelity.py`` (the matcher's own benchmark) when the tree has it; without it
  only the grouping figures are computed here, with the tree's fingerprint.

``--in-process`` feeds the runner's capture directly instead of spawning a child per arrival (same
tails and windows, a few seconds instead of ~30).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "capture"))
sys.path.insert(0, str(ROOT / "benchmarks"))

TARGET_EXACT = 0.97
TARGET_EXPLAINED = 0.85
COMPONENT = "Backend"
PRINTER = (
    "import sys; data = open(sys.argv[1], 'rb').read(); "
    "(sys.stdout if sys.argv[2] == 'out' else sys.stderr).buffer.write(data)"
)


def run_path(text: str, *, stream: str, in_process: bool):
    """What ``faultbook run`` stores for a command that printed ``text`` on ``stream`` and exited 1."""
    from faultbook.capture import runner
    from faultbook.capture.extract import extract_error
    from faultbook.capture.scrub import Scrubber

    if in_process:
        captures = {}
        for name in ("out", "err"):
            capture = runner._Capture(out_fd=-1, tail_bytes=runner.DEFAULT_TAIL_BYTES)
            if name == stream:
                capture.feed(text.encode("utf-8"))
            captures[name] = capture
        stdout_tail = captures["out"].tail_text(runner.DEFAULT_TAIL_LINES)
        stderr_tail = captures["err"].tail_text(runner.DEFAULT_TAIL_LINES)
        blocks = captures["err"].block_texts() + captures["out"].block_texts()
        exit_code = 1
    else:
        with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as handle:
            handle.write(text.encode("utf-8"))
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            result = runner.run_command(
                [sys.executable, "-c", PRINTER + "; sys.exit(1)", handle.name, stream],
                stdout_fd=devnull, stderr_fd=devnull, use_pty=False, forward_signals=False,
            )
        finally:
            os.close(devnull)
            os.unlink(handle.name)
        stdout_tail, stderr_tail, blocks, exit_code = (
            result.stdout_tail, result.stderr_tail, result.error_blocks, result.exit_code
        )
    found = extract_error(stdout=stdout_tail, stderr=stderr_tail, blocks=blocks, exit_code=exit_code)
    scrubber = Scrubber.from_environ({})
    return found.__class__(
        message=scrubber.scrub(found.message), title=found.title, code=found.code,
        endpoint=scrubber.scrub_optional(found.endpoint), source=found.source,
    )


def explain_path(text: str):
    from faultbook.capture.extract import extract_text

    return extract_text(text)


def fingerprint_fn():
    """The tree's fingerprint function, wherever it lives now (``knowledge`` after the v2 move)."""
    try:
        from faultbook.knowledge.fingerprint import fingerprint
    except ImportError:  # before the move
        from faultbook.capture.fingerprint import fingerprint
    return fingerprint


def grouping(cases, extracted) -> tuple[int, int, int, int, list[str], list[str]]:
    fingerprint = fingerprint_fn()
    keyed = []
    for case in cases:
        message, code, endpoint = extracted[case["id"]]
        try:
            key = fingerprint(message, code=code, component=COMPONENT, endpoint=endpoint)
        except TypeError:  # a fingerprint without the endpoint (v1)
            key = fingerprint(message, code=code, component=COMPONENT)
        keyed.append((case, key))
    pairs = grouped = different = merged = 0
    splits, merges = [], []
    for (a, ka), (b, kb) in itertools.combinations(keyed, 2):
        if a["group"] == b["group"]:
            pairs += 1
            grouped += ka == kb
            if ka != kb:
                splits.append(f"{a['id']} / {b['id']} ({a['group']})")
            continue
        cause_a, cause_b = (a.get("cause") or {}).get("id"), (b.get("cause") or {}).get("id")
        if cause_a and cause_a == cause_b:
            continue
        different += 1
        if ka == kb:
            merged += 1
            merges.append(f"{a['id']} / {b['id']}")
    return pairs, grouped, different, merged, splits, merges


def main() -> int:
    from corpus_cases import PREFIXES, load_cases, with_prefix

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-process", action="store_true", help="feed the runner's capture, spawn no child")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()

    cases = load_cases()
    started = time.perf_counter()
    arrivals = ["run stderr", "run stdout", *(f"run stderr {k}" for k in PREFIXES), "explain",
                *(f"explain {k}" for k in PREFIXES)]
    right = {a: 0 for a in arrivals}
    exact_cases, exact_held, agree = 0, 0, 0
    held = [c for c in cases if c.get("holdout")]
    misses: list[str] = []
    extracted: dict[str, tuple] = {}
    for case in cases:
        raw, want = case["raw"], case["message"]
        results = {
            "run stderr": run_path(raw, stream="err", in_process=args.in_process),
            "run stdout": run_path(raw, stream="out", in_process=args.in_process),
            "explain": explain_path(raw),
        }
        for kind in PREFIXES:
            text = with_prefix(raw, kind)
            results[f"run stderr {kind}"] = run_path(text, stream="err", in_process=args.in_process)
            results[f"explain {kind}"] = explain_path(text)
        ok = True
        for arrival, found in results.items():
            if found.message == want and found.code == case["code"]:
                right[arrival] += 1
            else:
                ok = False
                misses.append(f"{case['id']} [{arrival}]: {found.message!r}")
        exact_cases += ok
        exact_held += ok and bool(case.get("holdout"))
        run, explain = results["run stderr"], results["explain"]
        agree += (run.message, run.code, run.endpoint) == (explain.message, explain.code, explain.endpoint)
        extracted[case["id"]] = (run.message, run.code, run.endpoint)
    elapsed = time.perf_counter() - started

    n = len(cases)
    exact_rate = exact_cases / n
    print(f"corpus: {n} real outputs ({len(held)} held out), {len(arrivals)} arrivals each, {elapsed:.1f} s")
    print(f"exact extraction (every arrival): {exact_cases}/{n} = {exact_rate:.1%} (target >= {TARGET_EXACT:.0%})")
    print(f"  held-out cases: {exact_held}/{len(held)} = {exact_held / max(len(held), 1):.1%}")
    for arrival in arrivals:
        print(f"  {arrival:<32} {right[arrival]}/{n}")
    print(f"run and explain agree: {agree}/{n}")

    ok = exact_rate >= TARGET_EXACT and agree == n
    try:
        from match_fidelity import measure
    except ImportError:
        measure = None
    if measure is not None:
        figures = measure(cases, extracted=lambda case: extracted[case["id"]])
        for line in figures.lines()[1:]:
            print(line)
        if args.verbose:
            for title, items in (("not explained", figures.misses), ("split", figures.splits),
                                 ("merged", figures.merges)):
                for item in items:
                    print(f"  {title}: {item}")
        ok = ok and figures.explained_rate >= TARGET_EXPLAINED and figures.grouped == figures.pairs
        ok = ok and figures.merged == 0
    else:
        pairs, grouped, different, merged, splits, merges = grouping(cases, extracted)
        print("right explanation: not measured here (benchmarks/match_fidelity.py, the matcher's own benchmark,"
              " is not in this tree)")
        print(f"same-error pairs grouped: {grouped}/{pairs}")
        print(f"different-cause pairs merged: {merged}/{different} (target 0)")
        if args.verbose:
            for item in splits:
                print(f"  split: {item}")
            for item in merges:
                print(f"  merged: {item}")
        ok = ok and grouped == pairs and merged == 0
    if args.verbose:
        for miss in misses:
            print(f"  miss: {miss}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
