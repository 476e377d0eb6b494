"""Benchmark ``faultbook run``: wall-time overhead and faultbook's peak memory vs the bare command.

Run: ``python benchmarks/bench_run.py`` (from the repository root).  Prints
ratios against running the same command bare, in the same run:

* a command printing 100 MB to stdout (into /dev/null): wall overhead
  (target <= 10 %) and faultbook's peak RSS (target <= 80 MB);
* ``true``: milliseconds added (target <= 80 ms).

Peak RSS is faultbook's own (``ru_maxrss`` of the faultbook process, read by
a tiny wrapper that execs it), never the wrapped command's.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PRINT_100MB = (
    "import sys\n"
    "w = sys.stdout.write\n"
    "line = 'x' * 99 + '\\n'\n"
    "for _ in range(1_000_000): w(line)\n"
)
#: Runs faultbook in-process and reports its own peak RSS on stderr's last line.
RSS_WRAPPER = (
    "import resource, sys\n"
    "from faultbook.cli.app import main\n"
    "code = main(sys.argv[1:])\n"
    "print(f'PEAK_RSS_KB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, bytes]:
    with open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=devnull, stderr=subprocess.PIPE, env=env, cwd=cwd)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed: {done.stderr.decode()[-500:]}")
    return elapsed, done.stderr


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "faultbook.toml").write_text('project = "bench"\n')
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        faultbook = [PY, "-c", RSS_WRAPPER, "run", "--"]
        # Warm up (creates the database, fills the page cache).
        timed(faultbook + ["true"], env, folder)

        results = {}
        for name, command in (("print 100 MB", [PY, "-c", PRINT_100MB]), ("true", ["true"])):
            bare, wrapped, rss = [], [], []
            for _ in range(rounds):
                bare.append(timed(command, env, folder)[0])
                elapsed, err = timed(faultbook + command, env, folder)
                wrapped.append(elapsed)
                rss.append(int(err.decode().rsplit("PEAK_RSS_KB", 1)[1].split()[0]) / 1024)
            results[name] = (statistics.median(bare), statistics.median(wrapped), max(rss))

    print(f"{'command':<14} {'bare s':>8} {'wrapped s':>10} {'ratio':>7} {'added ms':>9} {'peak RSS MB':>12}")
    for name, (bare, wrapped, rss) in results.items():
        print(
            f"{name:<14} {bare:>8.3f} {wrapped:>10.3f} {wrapped / bare:>7.2f} "
            f"{(wrapped - bare) * 1000:>9.0f} {rss:>12.1f}"
        )
    big_bare, big_wrapped, big_rss = results["print 100 MB"]
    true_bare, true_wrapped, _ = results["true"]
    print()
    print(f"100 MB wall overhead: {100 * (big_wrapped / big_bare - 1):.1f} % (target <= 10 %)")
    print(f"100 MB faultbook peak RSS: {big_rss:.1f} MB (target <= 80 MB)")
    print(f"'true' added: {(true_wrapped - true_bare) * 1000:.0f} ms (target <= 80 ms)")


if __name__ == "__main__":
    main()
