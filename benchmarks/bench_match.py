"""Benchmark recognition: one error against 10,000 known fingerprints (target <= 5 ms).

Run: ``python benchmarks/bench_match.py [--url DATABASE_URL] [--n 10000]``
from the repository root (default: a temporary SQLite file).  Prints, in the
same run and against a plain dict lookup of a precomputed key as the peer:

* in memory: fingerprint + ``KnowledgeIndex.lookup`` (the recurrence check),
  and the full ranked ``KnowledgeIndex.match`` (ledger + catalog + similarity);
* in the database: fingerprint + ``recognition.Writer.lookup`` (one query over
  failures and merge aliases) inside one read transaction, for a hit and for a
  miss.

Building the index is reported separately (it is done once per process).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGET_MS = 5.0


def word(i: int) -> str:
    letters = ""
    i += 26 * 26
    while i:
        i, r = divmod(i, 26)
        letters += chr(ord("a") + r)
    return letters


def message(i: int) -> str:
    # Letters only in the varying part: the normaliser must not fold them together.
    return f"binding {word(i).upper()} has an unknown type {word(i).capitalize()}x [code: 10021]"


def timed(fn, *, repeat: int) -> float:
    """Median milliseconds per call."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    from datetime import datetime, timezone

    from faultbook.knowledge.fingerprint import fingerprint, fingerprints
    from faultbook.domain import Failure, Status
    from faultbook.knowledge.catalog import load_catalog
    from faultbook.knowledge.match import KnowledgeIndex

    now = datetime.now(timezone.utc)
    failures = [
        Failure(number=i + 1, title=f"f{i}", occurred_at=now, component="Backend", error_message=message(i),
                error_code=10021, status=Status.RESOLVED, root_cause="cause", resolution="fix",
                fingerprint=fingerprint(message(i), code=10021, component="Backend"))
        for i in range(args.n)
    ]
    probe = message(args.n // 2)
    probe_key = fingerprint(probe, code=10021, component="Backend")
    plain = {f.fingerprint: f for f in failures}
    peer = timed(lambda: plain[probe_key], repeat=args.repeat)
    print(f"peer: plain dict lookup of a precomputed key: {peer * 1000:.2f} us")

    start = time.perf_counter()
    index = KnowledgeIndex(catalog=load_catalog(), failures=failures)
    print(f"in memory: building the index over {args.n} failures: {(time.perf_counter() - start) * 1000:.0f} ms (once)")
    assert index.lookup(probe, code=10021, component="Backend").number == args.n // 2 + 1
    lookup = timed(lambda: index.lookup(probe, code=10021, component="Backend"), repeat=args.repeat)
    full = timed(lambda: index.match(message=probe, code=10021, component="Backend", endpoint=None),
                 repeat=max(20, args.repeat // 10))
    report("in memory: fingerprint + lookup", lookup, peer)
    report("in memory: full ranked match (ledger + catalog + similarity)", full, peer)

    url = args.url
    tmp = None
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="faultbook-bench-")
        url = f"sqlite:///{tmp.name}/bench.db"
    db_hit, db_miss = bench_db(url, failures, probe, repeat=args.repeat, fingerprints=fingerprints)
    report(f"database ({url.split(':', 1)[0]}): fingerprint + indexed lookup, hit", db_hit, peer)
    report(f"database ({url.split(':', 1)[0]}): fingerprint + indexed lookup, miss", db_miss, peer)
    if tmp is not None:
        tmp.cleanup()
    worst = max(lookup, full, db_hit, db_miss)  # the full ranked match too: it is what a new error costs
    print(f"target: <= {TARGET_MS} ms per error: {'met' if worst <= TARGET_MS else 'NOT met'} (worst {worst:.3f} ms)")
    return 0 if worst <= TARGET_MS else 1


def bench_db(url, failures, probe, *, repeat, fingerprints):  # type: ignore[no-untyped-def]
    import uuid

    from sqlalchemy import insert

    from faultbook.services.recognition import ImmediateWriter
    from faultbook.store import repo
    from faultbook.store.db import Database
    from faultbook.store.tables import FailureRow

    db = Database(url)
    key = "bench-" + uuid.uuid4().hex[:8]
    with db.session(write=True) as s:
        project_id = repo.get_or_create_project(s, key=key, name=key).id
        rows = []
        for i, f in enumerate(failures):
            values = repo.failure_values(f)
            rows.append({**values, "project_id": project_id, "number": f.number, "position": i + 1,
                         "created_at": f.occurred_at, "updated_at": f.occurred_at, "occurrence_count": 1})
        s.execute(insert(FailureRow), rows)
    writer = ImmediateWriter()
    try:
        with db.session() as s:
            def hit():  # type: ignore[no-untyped-def]
                keys = fingerprints(probe, code=10021, component="Backend")
                assert writer.lookup(s, project_id=project_id, keys=keys) is not None

            def miss():  # type: ignore[no-untyped-def]
                keys = fingerprints("nothing like it [code: 10085]", code=10085, component="Backend")
                assert writer.lookup(s, project_id=project_id, keys=keys) is None

            hit()
            return timed(hit, repeat=repeat), timed(miss, repeat=repeat)
    finally:
        with db.session(write=True) as s:
            from sqlalchemy import delete

            from faultbook.store.tables import ProjectRow

            s.execute(delete(FailureRow).where(FailureRow.project_id == project_id))
            s.execute(delete(ProjectRow).where(ProjectRow.id == project_id))
        db.dispose()


def report(label: str, ms: float, peer_ms: float) -> None:
    print(f"{label}: {ms:.3f} ms ({ms / peer_ms:,.0f}x the dict lookup)")


if __name__ == "__main__":
    sys.exit(main())
