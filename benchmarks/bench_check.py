"""Benchmark: offline `faultbook check` vs `wrangler deploy --dry-run`, in the same run, plus the corpus score.

Run on demand (not a test):

    python benchmarks/bench_check.py [--runs 5] [--cases N] [--skip-wrangler]

1. The example (examples/quoteviral): median wall time of the offline check in a fresh process
   (``check_command``, what `faultbook check --offline` runs; the full CLI, whose Typer start-up is
   not part of the check, is timed alongside) and of `wrangler deploy --dry-run`, and the ratio
   (target <= 0.10x).
2. The corpus (tests/checks/corpus, or an evenly spaced sample of N cases): each case is laid out
   with its stubs once, then faultbook and wrangler run on it back to back (so both see the same
   machine load); the median of the per-case ratios must be <= 0.10x.
3. Peak memory: the largest RSS of any faultbook process above (os.wait4's ru_maxrss), target <= 60 MB.
4. Agreement with wrangler over the whole corpus and over the made-up parsing edges (corpus/edge) (in process, from the verdicts in case.json):
   errors on configs wrangler accepts (unjustified / justified by the case), refused configs
   caught, exit 2 only where wrangler could not parse, crashes / exit 70.

wrangler must be installed in examples/quoteviral (scripts/install-wrangler.sh); its dry-run needs
no network (metrics and error reports are turned off here).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "quoteviral"
WRANGLER = EXAMPLE / "node_modules" / ".bin" / "wrangler"
CORPUS = ROOT / "tests" / "checks" / "corpus"
TARGET_RATIO = 0.10
TARGET_MB = 60


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_child(cmd: list[str], *, env: dict, cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one fresh child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode  # Linux: KiB


def faultbook_cmd(target: Path) -> list[str]:
    """The offline check in a fresh process, through the function the CLI calls (as this benchmark always
    measured it); ``cli_cmd`` adds the Typer application's own start-up, reported alongside."""
    code = ("import sys\nfrom faultbook.cli.check_cmd import check_command\n"
            "out, err, code = check_command(sys.argv[1], offline=True, output_format='json')\n"
            "sys.stdout.write(out)\nsys.exit(code)\n")
    return [sys.executable, "-c", code, str(target)]


def cli_cmd(target: Path) -> list[str]:
    return [sys.executable, "-m", "faultbook", "check", "--offline", "--format", "json", str(target)]


def wrangler_cmd(outdir: Path) -> list[str]:
    return [str(WRANGLER), "deploy", "--dry-run", "--outdir", str(outdir)]


def envs(home: str) -> tuple[dict, dict]:
    fb = {"PYTHONPATH": str(ROOT / "src"), "PATH": os.environ.get("PATH", ""), "HOME": home}
    wr = {
        "PATH": os.environ.get("PATH", ""), "HOME": home, "XDG_CONFIG_HOME": home, "CI": "true",
        "WRANGLER_SEND_METRICS": "false", "WRANGLER_SEND_ERROR_REPORTS": "false", "NO_UPDATE_NOTIFIER": "1",
    }
    return fb, wr


def bench_example(runs: int, skip_wrangler: bool, home: str) -> tuple[float | None, float]:
    fb_env, wr_env = envs(home)
    fb, cli = [], []
    for _ in range(runs):
        fb.append(run_child(faultbook_cmd(EXAMPLE), env=fb_env, cwd=ROOT))
        cli.append(run_child(cli_cmd(EXAMPLE), env=fb_env, cwd=ROOT))
    fb_time, fb_rss = statistics.median(t for t, _, _ in fb), max(r for _, r, _ in fb + cli)
    cli_time = statistics.median(t for t, _, _ in cli)
    print(f"example: faultbook offline check    median {fb_time * 1000:.0f} ms over {runs} runs "
          f"(the `faultbook check --offline` CLI: {cli_time * 1000:.0f} ms), peak RSS {fb_rss:.1f} MB")
    if skip_wrangler or not WRANGLER.exists():
        print("example: wrangler not run" + ("" if skip_wrangler else f" (not installed at {WRANGLER})"))
        return None, fb_rss
    wr = [run_child(wrangler_cmd(Path(home) / "out"), env=wr_env, cwd=EXAMPLE) for _ in range(runs)]
    wr_time = statistics.median(t for t, _, _ in wr)
    ratio = fb_time / wr_time
    print(f"example: wrangler deploy --dry-run  median {wr_time * 1000:.0f} ms")
    print(f"example: ratio {ratio:.3f}x (target <= {TARGET_RATIO}x: {'ok' if ratio <= TARGET_RATIO else 'OVER'}); "
          f"CLI ratio {cli_time / wr_time:.3f}x")
    return ratio, fb_rss


def bench_corpus(cases: list[Path], skip_wrangler: bool, home: str) -> tuple[float | None, float]:
    corpus_test = _load("corpus_test", ROOT / "tests" / "checks" / "test_config_corpus.py")
    fb_env, wr_env = envs(home)
    ratios, peak, fb_times, wr_times = [], 0.0, [], []
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="fbbench-") as tmp:
            folder = corpus_test.materialise(case, Path(tmp))
            fb_time, rss, _ = run_child(faultbook_cmd(folder), env=fb_env, cwd=ROOT)
            peak = max(peak, rss)
            fb_times.append(fb_time)
            if skip_wrangler or not WRANGLER.exists():
                continue
            wr_time, _, _ = run_child(wrangler_cmd(Path(tmp) / "out"), env=wr_env, cwd=folder)
            wr_times.append(wr_time)
            ratios.append(fb_time / wr_time)
    print(f"corpus: {len(cases)} cases, faultbook median {statistics.median(fb_times) * 1000:.0f} ms, "
          f"peak RSS {peak:.1f} MB")
    if not ratios:
        return None, peak
    median = statistics.median(ratios)
    print(f"corpus: wrangler median {statistics.median(wr_times) * 1000:.0f} ms; median per-case ratio "
          f"{median:.3f}x, worst {max(ratios):.3f}x (target median <= {TARGET_RATIO}x: "
          f"{'ok' if median <= TARGET_RATIO else 'OVER'})")
    return median, peak


def agreement(which: str = "CASES") -> dict[str, int]:
    """faultbook's verdicts against wrangler's, over every case and environment (in process);
    ``which`` is CASES (the real configs) or EDGE (the made-up parsing edges)."""
    sys.path.insert(0, str(ROOT / "src"))
    corpus_test = _load("corpus_test_agree", ROOT / "tests" / "checks" / "test_config_corpus.py")
    score = dict.fromkeys((
        "configs", "runs", "accepted", "accepted_with_error", "accepted_with_justified_error",
        "accepted_with_unjustified_error", "errors_on_accepted", "unjustified_errors_on_accepted",
        "refused", "refused_caught", "unparsable", "unparsable_exit_2", "exit_2_elsewhere", "exit_70",
    ), 0)
    for case in getattr(corpus_test, which):
        meta = json.loads((case / "case.json").read_text())
        score["configs"] += 1
        with tempfile.TemporaryDirectory(prefix="fbagree-") as tmp:
            folder = corpus_test.materialise(case, Path(tmp))
            for env, verdict in corpus_test.expectations(meta):
                if verdict == "failed":
                    continue
                score["runs"] += 1
                code, findings, _ = corpus_test.run_faultbook(folder, env)
                score["exit_70"] += code == 70
                scope = findings if env is not None else [f for f in findings if f["env"] is None]
                errors = [f for f in scope if f["severity"] == "error"]
                justified = meta.get("justified", [])
                unjustified = [f for f in errors if not any(j["rule"] == f["rule"] for j in justified)]
                if verdict == "unparsable":
                    score["unparsable"] += 1
                    score["unparsable_exit_2"] += code == 2
                    continue
                score["exit_2_elsewhere"] += code == 2
                if verdict == "accepted":
                    score["accepted"] += 1
                    score["errors_on_accepted"] += len(errors)
                    score["unjustified_errors_on_accepted"] += len(unjustified)
                    score["accepted_with_error"] += bool(errors)
                    score["accepted_with_justified_error"] += bool(errors) and not unjustified
                    score["accepted_with_unjustified_error"] += bool(unjustified)
                else:
                    score["refused"] += 1
                    score["refused_caught"] += bool(errors)
    return score


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="runs on the example")
    parser.add_argument("--cases", type=int, default=0, help="an evenly spaced sample of N corpus cases (0 = all)")
    parser.add_argument("--skip-wrangler", action="store_true")
    args = parser.parse_args()

    cases = sorted(p for p in (CORPUS / "cases").iterdir() if (p / "case.json").is_file())
    if args.cases and args.cases < len(cases):
        step = len(cases) / args.cases
        cases = [cases[int(i * step)] for i in range(args.cases)]
    with tempfile.TemporaryDirectory(prefix="fbbench-home-") as home:
        example_ratio, example_rss = bench_example(args.runs, args.skip_wrangler, home)
        corpus_ratio, corpus_rss = bench_corpus(cases, args.skip_wrangler, home)
    rss = max(example_rss, corpus_rss)
    print(f"peak RSS of faultbook: {rss:.1f} MB (target <= {TARGET_MB} MB: {'ok' if rss <= TARGET_MB else 'OVER'})")
    score = agreement()
    print("agreement with wrangler 4.86.0 over the corpus: " + json.dumps(score))
    edge = agreement("EDGE")
    print("agreement on the made-up parsing edges: " + json.dumps(edge))
    for key in ("unjustified_errors_on_accepted", "exit_70", "exit_2_elsewhere"):
        score[key] += edge[key]
    score["refused"] += edge["refused"] + edge["unparsable"]
    score["refused_caught"] += edge["refused_caught"] + edge["unparsable_exit_2"]
    ok = rss <= TARGET_MB and score["unjustified_errors_on_accepted"] == 0 and score["exit_70"] == 0 \
        and score["refused_caught"] == score["refused"] and score["exit_2_elsewhere"] == 0
    ok = ok and all(r is None or r <= TARGET_RATIO for r in (example_ratio, corpus_ratio))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
