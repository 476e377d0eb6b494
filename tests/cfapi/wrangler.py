"""Running the real wrangler against the emulator, and reading what it said.

Shared by every e2e test that shells out to wrangler (capture, preflight,
rollback): one place that sets the timeout, the ND-JSON output file, and the
text clean-up (ANSI colours off, wrapped lines joined) that assertions need.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fixtures import QUOTEVIRAL, WRANGLER_TIMEOUT, CfApi

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def joined(text: str) -> str:
    """ANSI removed and every run of whitespace (line wraps included) made one space."""
    return " ".join(strip_ansi(text).split())


@dataclass(frozen=True)
class WranglerRun:
    args: tuple[str, ...]
    returncode: int
    stdout: str  # ANSI removed
    stderr: str  # ANSI removed
    #: The ND-JSON entries wrangler appended to WRANGLER_OUTPUT_FILE_PATH.
    output: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """stdout + stderr, joined across line wraps: what to assert messages on."""
        return joined(self.stdout + "\n" + self.stderr)

    def entries(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.output if e.get("type") == type_]


def copy_quoteviral(dest: Path, *, images_type: str | None = None) -> Path:
    """A fresh copy of examples/quoteviral (no node_modules) at ``dest``.

    ``images_type`` rewrites the seed's ``type = "Images"`` line, e.g. to the
    fixed ``"images"``.
    """
    shutil.copytree(
        QUOTEVIRAL, dest,
        ignore=shutil.ignore_patterns("node_modules", ".wrangler", "package-lock.json"),
    )
    if images_type is not None:
        config = dest / "wrangler.toml"
        text = config.read_text()
        assert 'type = "Images"' in text
        config.write_text(text.replace('type = "Images"', f'type = "{images_type}"'))
    return dest


def run_wrangler(
    wrangler: Path, *args: str, cwd: Path, api: CfApi, timeout: float = WRANGLER_TIMEOUT, **env: str
) -> WranglerRun:
    """Run ``wrangler args...`` in ``cwd`` against ``api``; never raises on a non-zero exit."""
    output_file = api.home / f"wrangler-output-{len(api.requests)}-{id(args)}.ndjson"
    environment = api.env(WRANGLER_OUTPUT_FILE_PATH=str(output_file), **env)
    completed = subprocess.run(
        [str(wrangler), *args], cwd=cwd, env=environment, capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL,
    )
    entries = []
    if output_file.exists():
        entries = [json.loads(line) for line in output_file.read_text().splitlines() if line.strip()]
    return WranglerRun(
        args=tuple(args),
        returncode=completed.returncode,
        stdout=strip_ansi(completed.stdout),
        stderr=strip_ansi(completed.stderr),
        output=entries,
    )
