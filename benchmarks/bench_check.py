"""Benchmark: offline `faultbook check examples/quoteviral` vs `wrangler deploy --dry-run`, same run.

Run on demand (not a test):  python benchmarks/bench_check.py [--runs N]
Prints median wall time of each, the ratio (target <= 0.15x), and faultbook's peak RSS measured in
a fresh subprocess via resource.getrusage(RUSAGE_CHILDREN) (target <= 60 MB).  wrangler must be
installed in examples/quoteviral (scripts/install-wrangler.sh); without it only faultbook is timed.
Note: wrangler's dry-run needs no network; its update check and metrics are turned off here.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "quoteviral"
WRANGLER = EXAMPLE / "node_modules" / ".bin" / "wrangler"

FAULTBOOK = (
    "from faultbook.cli.check_cmd import check_command\n"
    "out, err, code = check_command('examples/quoteviral', offline=True)\n"
    "assert 'FB101' in out, out\n"
)


def timed(cmd: list[str], *, env: dict, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def peak_rss_mb(cmd: list[str], *, env: dict, cwd: Path) -> float:
    """Peak RSS of one fresh child (the benchmark runs it in its own process so no other child counts)."""
    code = (
        "import resource, subprocess, sys, json\n"
        f"subprocess.run({cmd!r}, cwd={str(cwd)!r}, env={env!r}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out.strip()) / 1024  # Linux reports KiB


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    fb_env = {"PYTHONPATH": str(ROOT / "src"), "PATH": os.environ.get("PATH", "")}
    fb_cmd = [sys.executable, "-c", FAULTBOOK]
    fb_times = [timed(fb_cmd, env=fb_env, cwd=ROOT) for _ in range(args.runs)]
    fb = statistics.median(fb_times)
    rss = peak_rss_mb(fb_cmd, env=fb_env, cwd=ROOT)
    print(f"faultbook check (offline): median {fb * 1000:.0f} ms over {args.runs} runs; peak RSS {rss:.1f} MB "
          f"(target <= 60 MB: {'ok' if rss <= 60 else 'OVER'})")

    if not WRANGLER.exists():
        print(f"wrangler not installed at {WRANGLER}: run scripts/install-wrangler.sh to compare")
        return 0
    with tempfile.TemporaryDirectory() as home:
        wr_env = {
            "PATH": os.environ.get("PATH", ""), "HOME": home, "WRANGLER_SEND_METRICS": "false",
            "WRANGLER_SEND_ERROR_REPORTS": "false", "NO_UPDATE_NOTIFIER": "1", "CI": "true",
            "XDG_CONFIG_HOME": home,
        }
        outdir = Path(home) / "out"
        wr_cmd = [str(WRANGLER), "deploy", "--dry-run", "--outdir", str(outdir)]
        wr_times = [timed(wr_cmd, env=wr_env, cwd=EXAMPLE) for _ in range(args.runs)]
        wr_rss = peak_rss_mb(wr_cmd, env=wr_env, cwd=EXAMPLE)
    wr = statistics.median(wr_times)
    ratio = fb / wr
    print(f"wrangler deploy --dry-run:  median {wr * 1000:.0f} ms; peak RSS {wr_rss:.1f} MB")
    print(f"ratio faultbook / wrangler: {ratio:.3f}x (target <= 0.15x: {'ok' if ratio <= 0.15 else 'OVER'})")
    print("note: the dry-run does not report the Images type (the seed's Failure #1); faultbook does.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
