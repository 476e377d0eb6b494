"""wrangler's ND-JSON output file (``WRANGLER_OUTPUT_FILE_PATH``): the version id, URL and error code of a run.

Read after the command by ``services/run``; kept apart from the text extractor because it parses wrangler's
own structured record, not its printed output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence


@dataclass(frozen=True)
class WranglerOutput:
    """What wrangler's ND-JSON output file said about this run."""

    version_id: str | None = None
    urls: tuple[str, ...] = ()
    deployment_id: str | None = None
    failed_code: int | None = None
    failed_message: str | None = None
    retry_after_ms: int | None = None
    entry_types: tuple[str, ...] = ()

    @property
    def url(self) -> str | None:
        return self.urls[0] if self.urls else None



# ---------------------------------------------------------------- WRANGLER_OUTPUT_FILE_PATH


def read_wrangler_output(paths: Sequence[Path], *, offsets: dict[Path, int] | None = None) -> WranglerOutput:
    """Read wrangler's ND-JSON entries (only what was appended after ``offsets``); bad lines are skipped."""
    entries: list[dict] = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                handle.seek((offsets or {}).get(path, 0))
                data = handle.read(16 * 1024 * 1024)
        except OSError:
            continue
        for raw in data.decode("utf-8", "replace").splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return summarise_entries(entries)


def summarise_entries(entries: Sequence[dict]) -> WranglerOutput:
    version_id = deployment_id = failed_message = None
    failed_code = retry_after = None
    urls: list[str] = []
    for entry in entries:
        kind = entry.get("type")
        if kind in ("deploy", "version-upload"):
            version_id = _str(entry.get("version_id")) or version_id
            urls.extend(u for u in (entry.get("targets") or []) if isinstance(u, str))
            for key in ("preview_url", "preview_alias_url"):
                if isinstance(entry.get(key), str):
                    urls.append(entry[key])
        elif kind == "version-deploy":
            deployment_id = _str(entry.get("deployment_id")) or deployment_id
            traffic = entry.get("version_traffic")
            if isinstance(traffic, dict) and traffic:
                version_id = max(traffic.items(), key=lambda kv: kv[1] if isinstance(kv[1], (int, float)) else 0)[0]
        elif kind in ("pages-deploy", "pages-deploy-detailed"):
            deployment_id = _str(entry.get("deployment_id")) or deployment_id
            version_id = version_id or deployment_id
            for key in ("url", "alias"):
                if isinstance(entry.get(key), str):
                    urls.append(entry[key])
        elif kind == "command-failed":
            code = entry.get("code")
            failed_code = code if isinstance(code, int) else failed_code
            failed_message = _str(entry.get("message")) or failed_message
            retry = entry.get("retry_after_ms")
            retry_after = retry if isinstance(retry, int) else retry_after
    return WranglerOutput(
        version_id=version_id,
        urls=tuple(dict.fromkeys(urls)),
        deployment_id=deployment_id,
        failed_code=failed_code,
        failed_message=failed_message,
        retry_after_ms=retry_after,
        entry_types=tuple(str(e.get("type")) for e in entries),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
