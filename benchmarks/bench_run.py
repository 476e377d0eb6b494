"""Benchmark ``faultbook run``: what wrapping a command adds, measured against the bare command.

Run: ``python benchmarks/bench_run.py`` (from the repository root;
``BENCH_ROUNDS`` sets the rounds, default 7).  Each round runs every variant
once, interleaved, so a machine shared with other work slows them alike;
medians are printed with the ratio.

The peers, and why:

* ``true``: ``faultbook run -- true`` against bare ``true``.  The difference
  is faultbook's fixed cost (start-up, the deployment row written before and
  after, git and config inspection).  Target: at most 80 ms added.
* a command printing 100 MB, in two styles: ``8 KiB writes`` (block
  buffered, what most programs do into a pipe) and ``line per write``
  (unbuffered, like Node's ``console.log``).  The user-facing question is
  "how much slower is my deploy with faultbook in front?", so the peer is
  the bare command writing into the same sink, /dev/null:
  ``faultbook run -- CMD > /dev/null`` against ``CMD > /dev/null``.
  Target: at most 10 % slower.  Writing into /dev/null costs nothing while
  any wrapper must read the output through a pipe, so the cost of the pipe
  itself is shown too: ``CMD | cat > /dev/null`` (ratio "vs pipe").
  faultbook's peak memory must stay at most 80 MB.

The project folder is a git repository with a faultbook.toml and a
``wrangler.toml`` (so git and config hashing are on the path, as in a real
deploy), and its SQLite ledger exists before timing starts (the first run
creates it).  Sources are byte-compiled first, as an installed package is.
Peak RSS is faultbook's own (``ru_maxrss`` of the faultbook process),
never the wrapped command's.
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
#: The installed ``faultbook`` script (what pip generates), reporting its own peak RSS on stderr's last line.
FAULTBOOK = (
    "import sys\n"
    "from faultbook.cli.app import main\n"
    "code = main(sys.argv[1:])\n"
    "import resource\n"
    "print(f'PEAK_RSS_KB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _check(done: subprocess.CompletedProcess | subprocess.Popen, argv: list[str], stderr: bytes) -> None:
    if done.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({done.returncode}): {stderr.decode(errors='replace')[-500:]}")


def into_devnull(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, bytes]:
    with open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=devnull, stderr=subprocess.PIPE, env=env, cwd=cwd)
        elapsed = time.perf_counter() - start
    _check(done, argv, done.stderr)
    return elapsed, done.stderr


def through_cat(argv: list[str], env: dict[str, str], cwd: str) -> float:
    with open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        producer = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, cwd=cwd)
        cat = subprocess.Popen(["cat"], stdin=producer.stdout, stdout=devnull)
        producer.stdout.close()
        cat.wait()
        producer.wait()
        elapsed = time.perf_counter() - start
    _check(producer, argv, b"")
    return elapsed


def project(folder: Path) -> None:
    (folder / "faultbook.toml").write_text('project = "bench"\n')
    (folder / "wrangler.toml").write_text('name = "bench-api"\nmain = "src/index.ts"\n')
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "bench"]):
        subprocess.run([*git, *args], cwd=folder, check=True, capture_output=True)


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "7"))
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src" / "faultbook")], check=True)
    base_env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for name in ("PYTHONUNBUFFERED", "FAULTBOOK_DATABASE_URL", "FAULTBOOK_PROJECT"):
        base_env.pop(name, None)
    cases = {
        "true": (["true"], base_env),
        "100 MB, 8 KiB writes": ([PY, "-c", PRINT_100MB], base_env),
        "100 MB, line per write": ([PY, "-c", PRINT_100MB], {**base_env, "PYTHONUNBUFFERED": "1"}),
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        project(folder)
        faultbook = [PY, "-c", FAULTBOOK, "run", "--"]
        into_devnull(faultbook + ["true"], base_env, tmp)  # creates the ledger; later runs take the fast path

        samples: dict[str, dict[str, list[float]]] = {name: {"bare": [], "pipe": [], "faultbook": [], "rss": []}
                                                      for name in cases}
        for _ in range(rounds):
            for name, (command, env) in cases.items():
                got = samples[name]
                got["bare"].append(into_devnull(command, env, tmp)[0])
                if name != "true":
                    got["pipe"].append(through_cat(command, env, tmp))
                elapsed, err = into_devnull(faultbook + command, env, tmp)
                got["faultbook"].append(elapsed)
                got["rss"].append(int(err.decode().rsplit("PEAK_RSS_KB", 1)[1].split()[0]) / 1024)

    median = statistics.median
    print(f"{rounds} rounds, medians; peers write into /dev/null (bare) or through '| cat > /dev/null' (pipe)")
    print(f"{'command':<24} {'bare s':>8} {'pipe s':>8} {'faultbook s':>12} {'vs bare':>8} {'vs pipe':>8} "
          f"{'added ms':>9} {'peak RSS MB':>12}")
    for name, got in samples.items():
        bare, wrapped = median(got["bare"]), median(got["faultbook"])
        pipe = median(got["pipe"]) if got["pipe"] else None
        print(
            f"{name:<24} {bare:>8.3f} {'' if pipe is None else f'{pipe:.3f}':>8} {wrapped:>12.3f} "
            f"{wrapped / bare:>8.2f} {'' if pipe is None else f'{wrapped / pipe:.2f}':>8} "
            f"{(wrapped - bare) * 1000:>9.0f} {max(got['rss']):>12.1f}"
        )
    print()
    true = samples["true"]
    print(f"'true' added: {(median(true['faultbook']) - median(true['bare'])) * 1000:.0f} ms (target <= 80 ms)")
    for name in ("100 MB, 8 KiB writes", "100 MB, line per write"):
        got = samples[name]
        bare, pipe, wrapped = median(got["bare"]), median(got["pipe"]), median(got["faultbook"])
        print(
            f"{name}: wall overhead {100 * (wrapped / bare - 1):.1f} % vs bare (target <= 10 %), "
            f"{100 * (wrapped / pipe - 1):+.1f} % vs a bare pipe; peak RSS {max(got['rss']):.1f} MB (target <= 80 MB)"
        )


if __name__ == "__main__":
    main()
