#!/usr/bin/env bash
# Screenshots of every dashboard page, phone (390x844) and desktop (1280x900), into docs/screenshots/.
# They come from the browser test that checks the layout (tests/web/test_responsive.py), so what is shown is
# what is tested.  PNGs are reduced to a palette with pngquant (apt-get install pngquant) to keep them small.
set -euo pipefail
cd "$(dirname "$0")/.."
out="docs/screenshots"
mkdir -p "$out"
rm -f "$out"/*.png
FAULTBOOK_SCREENSHOTS="$PWD/$out" python -m pytest -p no:xdist -q \
    "tests/web/test_responsive.py::test_every_page_fits_phone_and_desktop_light_and_dark"
if command -v pngquant >/dev/null; then
    pngquant --force --skip-if-larger --strip --quality 60-90 --ext .png "$out"/*.png || true
else
    echo "pngquant is not installed: screenshots left uncompressed" >&2
fi
du -sh "$out"
