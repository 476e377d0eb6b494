#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run them all.
# Usage: bash scripts/test.sh [pytest args...]
# Idempotent: a second run reuses .venv, node_modules and the installed Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

log() { printf '\n==> %s\n' "$*" >&2; }

# 1. Python environment with the package and its test extras.
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
log "installing faultbook and test dependencies into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"

# 2. The real wrangler CLI, pinned by examples/quoteviral/package-lock.json.
if [ -f scripts/install-wrangler.sh ]; then
  log "installing the pinned wrangler"
  bash scripts/install-wrangler.sh
fi

# 3. Chromium for the browser tests (Debian's package; Playwright cannot download browsers here).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: /usr/bin/chromium is missing and cannot be installed (not root); browser tests will skip" >&2
  fi
fi

# 4. PostgreSQL: every storage test runs against it too. Start the local cluster if it is down.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    log "starting the local PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: PostgreSQL is not reachable at 127.0.0.1:5432 and CI requires it" >&2
    exit 1
  fi
  echo "warning: PostgreSQL is not reachable at 127.0.0.1:5432; its half of the storage tests will skip" >&2
fi

# 5. Architecture contracts, types (mypy, zero errors), then the tests (two workers: this machine has two cores).
log "checking import contracts"
.venv/bin/lint-imports --config pyproject.toml
log "type-checking"
.venv/bin/python -m mypy
log "running the tests"
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
