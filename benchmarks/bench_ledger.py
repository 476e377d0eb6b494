"""Import and export of a generated 10,000-failure document (issue 2's targets: <= 2 s wall each,
peak memory <= 200 MB), against a peer measured in the same run: the same rows written and read
with the plain sqlite3 module (no parsing, no ORM) — the floor any ledger on SQLite pays.

Each measurement runs in a fresh subprocess so peak RSS (ru_maxrss) belongs to that step alone.

Run: .venv/bin/python benchmarks/bench_ledger.py [--failures 10000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "quoteviral" / "FAILURES.md"

BLOCK = """### Failure #{n}: Generated failure {n} in {component}
- **Date**: {date}
- **Time**: {hour:02d}:{minute:02d} UTC
- **Component**: {component} (Cloudflare Worker)
- **Deployment Step**: Worker deployment
- **Error Message**: `R2 bucket 'bucket-{n}' not found. Please use a different name and try again. [code: 10085]`
- **Root Cause**: The bucket bucket-{n} was not created in the account before deploying.
- **Resolution**: Created the bucket:
  ```bash
  wrangler r2 bucket create bucket-{n}
  ```
- **Status**: {status}
- **Lessons Learned**: Verify that every bound resource exists before deploying ({n}).
"""

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def generate(count: int) -> str:
    seed = SEED.read_text(encoding="utf-8")
    head, rest = seed.split("## Current Failures\n", 1)
    _, tail = rest.split("## Potential Future Failures\n", 1)
    blocks = []
    for n in range(1, count + 1):
        blocks.append(
            BLOCK.format(
                n=n,
                component=("Backend", "Frontend", "Assets", "DNS")[n % 4],
                date=f"{MONTHS[n % 12]} {1 + n % 28}, {2020 + n % 6}",
                hour=n % 24,
                minute=n % 60,
                status=("✅ Resolved", "🔴 Open", "⚠️ Workaround")[n % 3],
            )
        )
    return head + "## Current Failures\n\n" + "\n".join(blocks) + "\n## Potential Future Failures\n" + tail


CHILD = r"""
import json, resource, sys, time
kind, url, path, out = sys.argv[1:5]
start = time.perf_counter()
if kind == "import":
    from faultbook.cli.app import main
    import os
    code = main(["import", path])
    assert code == 0, code
elif kind == "export":
    from faultbook.cli.app import main
    code = main(["export", "-o", out])
    assert code == 0, code
elif kind == "peer-write":
    import sqlite3
    rows = json.load(open(path))
    con = sqlite3.connect(url)
    con.execute("create table f (number int, title text, occurred_at text, component text, detail text, step text,"
                " error_message text, root_cause text, resolution text, status text, lessons text)")
    con.executemany("insert into f values (?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
elif kind == "peer-read":
    import sqlite3
    con = sqlite3.connect(url)
    text = "\n".join("|".join(map(str, r)) for r in con.execute("select * from f order by number"))
    open(out, "w").write(text)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(kind: str, url: str, path: str, out: str, env: dict[str, str]) -> dict[str, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, kind, url, path, out], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["wall"] = wall
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--failures", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        doc = Path(tmp) / "FAILURES.md"
        doc.write_text(generate(args.failures), encoding="utf-8")
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        env = {**os.environ, "FAULTBOOK_DATABASE_URL": url, "FAULTBOOK_PROJECT": f"bench-{os.getpid()}",
               "PYTHONPATH": str(ROOT / "src")}
        size_mb = doc.stat().st_size / 1024 / 1024
        print(f"document: {args.failures} failures, {size_mb:.1f} MB; database {url.split('://')[0]}")

        imp = measure("import", url, str(doc), "", env)
        exp = measure("export", url, "", str(Path(tmp) / "out.md"), env)
        exported = (Path(tmp) / "out.md").read_text(encoding="utf-8")
        same = [l.rstrip() for l in exported.splitlines()] == [l.rstrip() for l in doc.read_text().splitlines()]

        rows = [
            [n, f"Generated failure {n}", "2025-08-20T14:15:00+00:00", "Backend", "Cloudflare Worker",
             "Worker deployment", f"R2 bucket 'bucket-{n}' not found. [code: 10085]", "cause " * 10,
             "resolution " * 12, "resolved", "lessons " * 8]
            for n in range(1, args.failures + 1)
        ]
        rows_path = Path(tmp) / "rows.json"
        rows_path.write_text(json.dumps(rows))
        peer_db = str(Path(tmp) / "peer.db")
        pw = measure("peer-write", peer_db, str(rows_path), "", env)
        pr = measure("peer-read", peer_db, "", str(Path(tmp) / "peer.txt"), env)

    def line(name: str, ours: dict[str, float], peer: dict[str, float]) -> None:
        verdict = "OK" if ours["wall"] <= 2.0 and ours["peak_mb"] <= 200 else "OVER"
        print(
            f"{name:7s} wall {ours['wall']:.2f} s (in-process {ours['seconds']:.2f} s), peak {ours['peak_mb']:.0f} MB"
            f"  | peer sqlite3 {peer['wall']:.2f} s, {peer['peak_mb']:.0f} MB"
            f"  | ratio {ours['wall'] / peer['wall']:.1f}x  [{verdict}: <= 2 s, <= 200 MB]"
        )

    line("import", imp, pw)
    line("export", exp, pr)
    print(f"round trip identical (trailing whitespace aside): {same}")


if __name__ == "__main__":
    main()
