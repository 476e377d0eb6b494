#!/usr/bin/env bash
# Build faultbook as a wheel and an sdist, check both, install the wheel into a fresh virtual environment
# outside the repository, and run the end-to-end QuoteViral demo with that install (not the checkout's src/).
# Called by .ci/run after the tests; needs scripts/test.sh's .venv (build, twine) and the pinned wrangler.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '\n==> %s\n' "$*" >&2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log "building the wheel and the sdist"
.venv/bin/python -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
.venv/bin/twine check --strict "$work"/dist/*

log "checking that both carry the data files"
.venv/bin/python - "$work/dist" <<'PY'
import sys, tarfile, zipfile
from pathlib import Path
dist = Path(sys.argv[1])
needed = ["faultbook/web/templates/base.html", "faultbook/web/static/style.css",
          "faultbook/store/migrations/script.py.mako", "faultbook/knowledge/catalog/workers.toml"]
wheel = zipfile.ZipFile(next(dist.glob("*.whl"))).namelist()
sdist = tarfile.open(next(dist.glob("*.tar.gz"))).getnames()
missing = [n for n in needed if n not in wheel] + [n for n in needed if not any(s.endswith("src/" + n) for s in sdist)]
versions = [n for n in wheel if n.startswith("faultbook/store/migrations/versions/") and n.endswith(".py")]
if missing or len(versions) < 2:
    sys.exit(f"package-check: missing from the packages: {missing or 'migrations'}")
print(f"wheel: {len(wheel)} files, sdist: {len(sdist)} files, {len(versions)} migrations")
PY

log "installing the wheel into a fresh virtual environment outside the repository"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$work"/dist/*.whl
(cd "$work" && "$work/venv/bin/faultbook" --version)

log "installing it as a tool with pipx, from the checkout (as README's 'Use it on your project' says)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check pipx
PIPX_HOME="$work/pipx" PIPX_BIN_DIR="$work/pipx-bin" PIPX_MAN_DIR="$work/pipx-man" .venv/bin/pipx install --quiet "$ROOT"
(cd "$work" && "$work/pipx-bin/faultbook" --version)

log "running the demo with the installed faultbook"
FAULTBOOK_DEMO_FROM_INSTALL=1 "$work/venv/bin/python" scripts/demo.py
