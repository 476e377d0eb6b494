#!/usr/bin/env bash
# Install the pinned wrangler (examples/quoteviral/package-lock.json) for the e2e tests.
# Idempotent: does nothing when node_modules already holds the pinned version.
# The lock file carries no registry URLs, so npm ci uses whatever registry npm is configured with.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$root/examples/quoteviral"
want="$(node -p "require('$project/package.json').devDependencies.wrangler")"
installed="$project/node_modules/wrangler/package.json"

if [[ -f "$installed" ]] && [[ "$(node -p "require('$installed').version")" == "$want" ]]; then
    echo "wrangler $want already installed in $project/node_modules" >&2
    exit 0
fi

echo "installing wrangler $want in $project (npm ci)" >&2
(cd "$project" && npm ci --no-audit --no-fund --loglevel=error)
version="$("$project/node_modules/.bin/wrangler" --version 2>/dev/null | tail -n 1)"
if [[ "$version" != "$want" ]]; then
    echo "expected wrangler $want, got '$version'" >&2
    exit 1
fi
echo "wrangler $version installed" >&2
