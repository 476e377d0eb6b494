#!/usr/bin/env bash
# Set up faultbook and run it on the bundled QuoteViral example, on the embedded default (SQLite).
# Works on a copy in .demo/quoteviral so the example in git stays as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
if command -v npm >/dev/null 2>&1; then
  bash scripts/install-wrangler.sh
else
  echo "npm not found: the demo skips the wrangler deploys" >&2
fi
exec .venv/bin/python scripts/demo.py
