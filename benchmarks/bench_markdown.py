"""Parse and render of a generated 10,000-failure document, against peers measured in the same run.

Targets (issue 2): a full import and export, database included, each take <= 2 s; so the Markdown half
should stay well under 0.5 s each way for 10,000 blocks.  Peers, on the same text and the same values:
``str.splitlines`` over the document (the least any line-based reader pays) and ``json.dumps`` /
``json.loads`` of the same records (a C-accelerated serialiser).  Peak memory is tracemalloc's.

Run: .venv/bin/python benchmarks/bench_markdown.py [--failures 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from faultbook.markdown import fields, parse_document, render_document  # noqa: E402

SEED = ROOT / "examples" / "quoteviral" / "FAILURES.md"

BLOCK = """### Failure #{n}: Generated failure {n} in {component}
- **Date**: {month} {day}, {year}
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

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def generate(count: int) -> str:
    seed = SEED.read_text(encoding="utf-8")
    head, rest = seed.split("## Current Failures\n", 1)
    _, tail = rest.split("## Potential Future Failures\n", 1)
    blocks = [
        BLOCK.format(
            n=n,
            component=("Backend", "Frontend", "Assets", "DNS")[n % 4],
            month=MONTHS[n % 12],
            day=1 + n % 28,
            year=2020 + n % 6,
            hour=n % 24,
            minute=n % 60,
            status=("✅ Resolved", "🔴 Open", "⚠️ Workaround")[n % 3],
        )
        for n in range(1, count + 1)
    ]
    return head + "## Current Failures\n\n" + "\n".join(blocks) + "\n## Potential Future Failures\n" + tail


def best_of(repeat: int, func) -> tuple[float, object]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_of(func) -> int:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    text = generate(args.failures)

    def parse():
        # Cold caches each time: an import parses a document once.
        fields.parse_date.cache_clear()
        fields.parse_time.cache_clear()
        return parse_document(text, path="bench.md")

    parse_s, document = best_of(args.repeat, parse)
    assert len(document.failures) == args.failures

    def render() -> str:
        return render_document(
            layout=document.layout, failures=document.failures, potential_failures=document.potential_failures
        )

    render_s, rendered = best_of(args.repeat, render)
    assert rendered == text  # byte for byte, the seed's trailing space included

    records = [f.to_json() for f in document.failures]
    split_s, _ = best_of(args.repeat, text.splitlines)
    dumps_s, dumped = best_of(args.repeat, lambda: json.dumps(records, ensure_ascii=False))
    loads_s, _ = best_of(args.repeat, lambda: json.loads(dumped))

    parse_peak = peak_of(parse)
    render_peak = peak_of(render)

    mib = 1024 * 1024
    print(f"document: {args.failures} failures, {len(text) / mib:.1f} MiB, {text.count(chr(10)) + 1} lines")
    print(f"parse : {parse_s * 1000:8.1f} ms  peak {parse_peak / mib:6.1f} MiB  (target < 500 ms)")
    print(f"render: {render_s * 1000:8.1f} ms  peak {render_peak / mib:6.1f} MiB  (target < 500 ms)")
    print(f"peer str.splitlines: {split_s * 1000:8.1f} ms   parse / splitlines = {parse_s / split_s:6.1f}x")
    print(f"peer json.loads    : {loads_s * 1000:8.1f} ms   parse / json.loads = {parse_s / loads_s:6.1f}x")
    print(f"peer json.dumps    : {dumps_s * 1000:8.1f} ms   render / json.dumps = {render_s / dumps_s:6.1f}x")
    ok = parse_s < 0.5 and render_s < 0.5
    print("within target" if ok else "OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
