#!/usr/bin/env bash
# Set up faultbook and run it on the bundled QuoteViral example, on the embedded default (SQLite).
# Works on a copy in .demo/quoteviral so the example in git stays as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }

if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
FB="$ROOT/.venv/bin/faultbook"

rm -rf .demo && mkdir -p .demo && cp -r examples/quoteviral .demo/quoteviral
rm -rf .demo/quoteviral/node_modules .demo/quoteviral/.faultbook
cd .demo/quoteviral
unset FAULTBOOK_DATABASE_URL FAULTBOOK_PROJECT

step "faultbook import FAILURES.md        # the hand-kept log becomes a database"
"$FB" import FAILURES.md
step "faultbook list"
"$FB" list
step "faultbook show 1"
"$FB" show 1
step "faultbook export -o exported.md && diff FAILURES.md exported.md   # byte for byte"
"$FB" export -o exported.md
diff FAILURES.md exported.md && echo "identical: the log round-trips through the database" >&2
