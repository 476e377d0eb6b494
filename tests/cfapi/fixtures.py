"""pytest fixtures for the emulated Cloudflare API and the pinned wrangler.

Registered from ``tests/conftest.py`` (``pytest_plugins``).  ``cf_api`` gives
each test its own emulator on a free loopback port; ``wrangler_bin`` is the
wrangler that ``scripts/install-wrangler.sh`` installs, and a missing one is a
failure under CI (CI=true) so the e2e suite can never silently skip there.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator, Mapping

import pytest

from .app import Emulator

ROOT = Path(__file__).resolve().parents[2]
QUOTEVIRAL = ROOT / "examples" / "quoteviral"
WRANGLER_BIN = QUOTEVIRAL / "node_modules" / ".bin" / "wrangler"
WRANGLER_VERSION = "4.86.0"
#: Every wrangler run gets this many seconds; a deploy here takes 2-4 s.
WRANGLER_TIMEOUT = 60


class CfApi:
    """What ``cf_api`` yields: the running emulator plus a per-test home directory."""

    def __init__(self, emulator: Emulator, home: Path) -> None:
        self.emulator = emulator
        self.home = home

    @property
    def base_url(self) -> str:
        return self.emulator.base_url

    @property
    def state(self):
        return self.emulator.state

    @property
    def requests(self):
        return self.emulator.requests

    @property
    def account_id(self) -> str:
        return self.emulator.account_id

    @property
    def token(self) -> str:
        return self.emulator.token

    def calls(self, method: str | None = None, path_contains: str = ""):
        return self.emulator.calls(method, path_contains)

    def env(self, **extra: str) -> dict[str, str]:
        """The full environment for a child process: os.environ + the emulator's variables + ``extra``.

        CI is removed so wrangler behaves as in a non-interactive shell,
        not as in its own CI mode, whatever the outer runner sets.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "CF_", "WRANGLER_"))}
        env.pop("CI", None)
        env.update(self.emulator.env(home=str(self.home)))
        env.update(extra)
        return env


@pytest.fixture
def cf_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CfApi]:
    home = tmp_path_factory.mktemp("cfhome")
    for sub in (".config", ".cache", "tmp", "wrangler-logs"):
        (home / sub).mkdir()
    emulator = Emulator().start()
    try:
        yield CfApi(emulator, home)
    finally:
        emulator.stop()
        if emulator.unrouted:
            # Make a new, unemulated wrangler call visible in the test report.
            lines = ", ".join(r.line for r in emulator.unrouted)
            print(f"cfapi: unrouted requests: {lines}")


def require_wrangler(path: Path = WRANGLER_BIN, environ: Mapping[str, str] = os.environ) -> Path:
    """``path`` if it is the pinned wrangler; else fail under CI=true, skip elsewhere."""
    if not path.exists():
        message = f"wrangler {WRANGLER_VERSION} is not installed at {path}: run scripts/install-wrangler.sh"
        if environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message)
        pytest.skip(message)
    version = subprocess.run(
        [str(path), "--version"], capture_output=True, text=True, timeout=WRANGLER_TIMEOUT,
        env={**environ, "WRANGLER_SEND_METRICS": "false"}, stdin=subprocess.DEVNULL,
    ).stdout.strip()
    if version != WRANGLER_VERSION:
        pytest.fail(f"{path} is wrangler {version!r}, expected {WRANGLER_VERSION}: run scripts/install-wrangler.sh")
    return path


@pytest.fixture(scope="session")
def wrangler_bin() -> Path:
    """The pinned wrangler; fails under CI=true when missing, skips elsewhere."""
    return require_wrangler()
