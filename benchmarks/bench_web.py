"""Team-server benchmarks (run on demand, not in the test suite).

    python benchmarks/bench_web.py [--backend sqlite|postgresql|both] [--rows 100000] [--ingest 3000] [--concurrency 8,32]

1. List and search over N failures through the HTTP API (in-process TestClient):
   p50/p95 per request, target p95 <= 100 ms, compared with a raw SQL SELECT of
   the same page (the peer).
2. Ingest: `faultbook serve --workers 2` as a real process on loopback; a second
   process POSTs /api/v1/reports (each a new failure) over N keep-alive
   connections (--concurrency, default 8 and 32 CI runners reporting at once):
   failures/s (target >= 300) and the row count afterwards (nothing lost),
   compared with GET /health through the same sender (the peer).  When Debian's
   wrk is installed the same reports are sent by it too: a C load generator
   leaves the two cores to the server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def seed(database, project, rows: int) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from faultbook.store import repo
    from faultbook.store.tables import FailureRow

    words = ["worker", "pages", "dns", "kv", "r2", "d1", "route", "binding", "timeout", "quota", "token", "build"]
    comps = ["Backend", "Frontend", "Assets", "DNS"]
    base = datetime(2024, 1, 1, tzinfo=timezone.utc)
    with database.session(write=True) as s:
        pid = repo.get_or_create_project(s, key=project.key, name=project.name).id
    for start in range(0, rows, 10_000):
        batch = []
        for i in range(start, min(rows, start + 10_000)):
            t = base + timedelta(minutes=7 * i)
            w = words[i % len(words)], words[(i * 7) % len(words)]
            batch.append({
                "project_id": pid, "number": i + 1, "position": i + 1, "title": f"{w[0]} {w[1]} failure {i}",
                "occurred_at": t, "component": comps[i % 4], "component_detail": None, "step": "deploy",
                "error_message": f"Error {1000 + i % 97}: {w[0]} {w[1]} failed on attempt {i % 13}",
                "root_cause": "", "resolution": "", "status": ("open", "resolved", "workaround")[i % 3],
                "lessons_learned": "", "created_at": t, "updated_at": t, "resolved_at": None, "fingerprint": None,
                "error_code": None, "occurrence_count": 1, "first_seen": t, "last_seen": t, "suggested_fields": [],
            })
        with database.session(write=True) as s:
            s.execute(insert(FailureRow), batch)


def bench_reads(backend: str, rows: int) -> None:
    import dbfixtures
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from faultbook.config import Settings
    from faultbook.services.ledger import ProjectRef
    from faultbook.store.db import Database
    from faultbook.web.app import create_app

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.db'}" if backend == "sqlite" else dbfixtures.create_pg_database()
    try:
        db = Database(url)
        project = ProjectRef(key="bench", name="bench")
        t0 = time.perf_counter()
        seed(db, project, rows)
        if backend == "postgresql":
            with db.engine.connect() as c:
                c.execute(text("ANALYZE"))
                c.commit()
        print(f"[{backend}] seeded {rows} failures in {time.perf_counter() - t0:.1f} s")
        settings = Settings(project_root=tmp, project_key="bench", project_name="bench", database_url=url)
        client = TestClient(create_app(database=db, settings=settings, project=project, host="127.0.0.1"))
        cases = {
            "list (last seen first)": "/api/v1/failures?limit=50",
            "list status+component": "/api/v1/failures?status=open&component=DNS&limit=50",
            "list page 100": "/api/v1/failures?limit=50&offset=5000",
            # A search is ranked best-first up to 5,000 matches (search.RANK_LIMIT), newest first beyond.
            "search one word": "/api/v1/failures?q=binding&limit=50",
            "search two words": "/api/v1/failures?q=quota+timeout&limit=50",
            "search rare": "/api/v1/failures?q=attempt+Error+1042&limit=50",
            "search one word, newest": "/api/v1/failures?q=binding&sort=-occurred_at&limit=50",
            "search one word, last seen": "/api/v1/failures?q=binding&sort=-last_seen&limit=50",
            "search ranked (3,000)": "/api/v1/failures?q=binding+2&limit=50",
            "HTML list": "/failures?limit=50",
            "HTML search": "/failures?q=binding",
        }
        for name, path in cases.items():
            client.get(path)  # warm
            times = []
            for _ in range(40):
                t = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
            verdict = "OK" if p(times, 0.95) <= 100 else "SLOW"
            print(f"[{backend}] {name:24s} p50 {p(times, .5):6.1f} ms  p95 {p(times, .95):6.1f} ms  {verdict}")
        peer = []
        with db.engine.connect() as c:
            for _ in range(40):
                t = time.perf_counter()
                c.execute(text("SELECT * FROM failures WHERE project_id = (SELECT id FROM projects WHERE key = 'bench') "
                               "ORDER BY occurred_at DESC LIMIT 50")).all()
                peer.append((time.perf_counter() - t) * 1000)
        api = []
        for _ in range(40):
            t = time.perf_counter()
            client.get("/api/v1/failures?limit=50")
            api.append((time.perf_counter() - t) * 1000)
        print(f"[{backend}] peer raw SELECT page p95 {p(peer, .95):.2f} ms; API list / raw = {p(api, .95) / max(p(peer, .95), 1e-6):.1f}x")
        db.dispose()
    finally:
        if backend == "postgresql":
            dbfixtures.drop_pg_database(url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_ingest(backend: str, count: int, concurrency: list[int]) -> None:
    import dbfixtures
    import httpx
    from sqlalchemy import func, select

    from faultbook.services import tokens
    from faultbook.store.db import Database
    from faultbook.store.tables import DeploymentRow, FailureRow

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'ingest.db'}" if backend == "sqlite" else dbfixtures.create_pg_database()
    proc = None
    try:
        db = Database(url)
        with db.session(write=True) as s:
            secret = tokens.create_token(s, role="writer", project="ingest").secret
        port = _free_port()
        env = {**os.environ, "FAULTBOOK_DATABASE_URL": url, "FAULTBOOK_PROJECT": "ingest", "PYTHONPATH": str(ROOT / "src")}
        proc = subprocess.Popen([sys.executable, "-m", "faultbook", "serve", "--port", str(port), "--workers", "2"],
                                cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(base + "/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        sent = 0
        for clients in concurrency:
            # The sender is a second process (this script is the first only for setup).
            sender = subprocess.run([sys.executable, "-c", SENDER, base, secret, str(count), str(clients), str(sent)],
                                    capture_output=True, text=True, env=env)
            print(f"[{backend}] " + (sender.stdout.strip() or sender.stderr[-2000:]))
            sent += count
        if shutil.which("wrk"):
            # The same reports from a C load generator (Debian's wrk), which leaves the two cores to the server.
            for run, clients in enumerate(concurrency, start=1):
                sent += wrk_ingest(base, secret, clients, backend, run)
        with db.session() as s:
            failures = s.scalar(select(func.count()).select_from(FailureRow))
            deployments = s.scalar(select(func.count()).select_from(DeploymentRow))
        # wrk stops counting at its deadline while the server still answers the reports in flight: those are
        # stored too, so the check is "at least every answered report, each once".
        lost = sent - failures
        verdict = "nothing lost" if lost <= 0 and deployments == failures else f"LOST {lost}"
        print(f"[{backend}] stored {failures} failures, {deployments} deployments; {sent} answered: {verdict}")
        db.dispose()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        if backend == "postgresql":
            dbfixtures.drop_pg_database(url)


WRK_SCRIPT = r'''
local n = 0
local threads = 0
setup = function(thread) thread:set("tno", threads); threads = threads + 1 end
local function word(i)
  local letters = ""
  local abc = "abcdefghijklmnopqrstuvwxyz"
  repeat
    local r = i % 26
    i = (i - r) / 26
    letters = letters .. abc:sub(r + 1, r + 1)
  until i == 0
  return "wrkmodule" .. letters
end
request = function()
  n = n + 1
  local run = tonumber(os.getenv("FAULTBOOK_BENCH_RUN"))
  local i = tno * 10000000 + n
  local key = string.format("wrk-%d-%d-%d", run, tno, n)
  local body = string.format('{"deployment":{"key":"%s","started_at":"2025-08-20T14:10:00Z","command":"deploy",'
    .. '"outcome":"failed"},"failure":{"title":"failure %d","component":"Backend","error_message":"boom %s"}}',
    key, i, word(run) .. "x" .. word(i))
  return wrk.format("POST", "/api/v1/reports", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("FAULTBOOK_BENCH_TOKEN")}, body)
end
'''


def wrk_ingest(base: str, secret: str, clients: int, backend: str, run: int, seconds: int = 10) -> int:
    """Run wrk for ``seconds``; returns how many reports it got answered (all must be 2xx)."""
    import re

    script = Path(tempfile.mkdtemp()) / "report.lua"
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), base],
        capture_output=True, text=True,
        env={**os.environ, "FAULTBOOK_BENCH_TOKEN": secret, "FAULTBOOK_BENCH_RUN": str(run)},
    ).stdout
    done = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(f"[{backend}] {clients:3d} senders (wrk): ingest {done} reports in {seconds} s = {rate:.0f} failures/s "
          f"({'OK' if rate >= 300 else 'SLOW'} vs 300){'; NON-2xx: ' + bad.group(1) if bad else ''}")
    return done


# A lean sender (http.client, one keep-alive connection per thread), so that the machine's two cores go
# to the server rather than to the load generator; each report is a distinct new failure.
SENDER = r'''
import http.client, json, sys, threading, time, uuid
from urllib.parse import urlsplit
base, secret, count, clients, offset = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
where = urlsplit(base)
def word(i):
    # Distinct failures need messages that stay distinct after fingerprint normalisation (numbers are masked).
    letters = ""
    while True:
        i, r = divmod(i, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[r]
        if i == 0:
            return "module" + letters
def run(jobs, make, ok):
    def worker(part):
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
        for i in part:
            for attempt in range(5):
                method, path, body, headers = make(i)
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    if response.status in ok:
                        break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
                time.sleep(0.05)
            else:
                raise SystemExit(f"request {i} failed")
    threads = [threading.Thread(target=worker, args=(jobs[n::clients],)) for n in range(clients)]
    t = time.perf_counter()
    for th in threads: th.start()
    for th in threads: th.join()
    return time.perf_counter() - t
auth = {"Authorization": "Bearer " + secret}
def health(i):
    return "GET", "/health", None, auth
def report(i):
    key = str(uuid.uuid4())
    body = {"deployment": {"key": key, "started_at": "2025-08-20T14:10:00Z", "command": "deploy", "outcome": "failed"},
            "failure": {"title": f"failure {i}", "component": "Backend", "error_message": "boom " + word(i)}}
    return "POST", "/api/v1/reports", json.dumps(body), {**auth, "Content-Type": "application/json", "Idempotency-Key": key}
th = run(list(range(count)), health, (200,))
ti = run(list(range(offset, offset + count)), report, (200, 201))
rate = count / ti
print(f"{clients:3d} senders: ingest {count} reports in {ti:.2f} s = {rate:.0f} failures/s "
      f"({'OK' if rate >= 300 else 'SLOW'} vs 300); peer GET /health {count / th:.0f} req/s; ingest/health = {rate / (count / th):.2f}")
'''


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--ingest", type=int, default=3000)
    parser.add_argument("--concurrency", default="8,32", help="concurrent senders, comma-separated")
    parser.add_argument("--skip-reads", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        if not args.skip_reads:
            bench_reads(backend, args.rows)
        if not args.skip_ingest:
            bench_ingest(backend, args.ingest, [int(c) for c in args.concurrency.split(",")])


if __name__ == "__main__":
    main()
