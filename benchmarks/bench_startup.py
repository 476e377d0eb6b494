"""Cold start of `faultbook --help` against a bare `python -c pass` (the peer), same run.

Target (issue 2): faultbook --help <= 150 ms wall. Also lists the heaviest imports, so a
regression (an SDK or the ORM imported at start-up) is visible at once.

Run: .venv/bin/python benchmarks/bench_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 15


def wall(argv: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def heaviest_imports(argv: list[str], n: int = 8) -> list[tuple[int, str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            try:
                rows.append((int(cumulative), name.strip()))
            except ValueError:
                pass
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    bare = wall([sys.executable, "-c", "pass"])
    help_ = wall([sys.executable, "-m", "faultbook", "--help"])
    print(f"python -c pass        : {bare * 1000:7.1f} ms (median of {RUNS})")
    print(f"faultbook --help      : {help_ * 1000:7.1f} ms  (target <= 150 ms) -> {'OK' if help_ <= 0.150 else 'OVER'}")
    print(f"ratio to bare python  : {help_ / bare:5.2f}x; faultbook's own cost {((help_ - bare) * 1000):.1f} ms")
    forbidden = ("sqlalchemy", "cloudflare", "fastapi", "httpx", "alembic", "uvicorn", "rich")
    imports = heaviest_imports(["-m", "faultbook", "--help"], n=400)
    loaded = {name.split(".")[0] for _, name in imports}
    print("heavy modules loaded by --help:", sorted(loaded & set(forbidden)) or "none")
    for micros, name in imports[:8]:
        print(f"  {micros / 1000:6.1f} ms  {name}")


if __name__ == "__main__":
    main()
