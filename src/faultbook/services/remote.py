"""Reporting to a team server from CI, with an outbox so nothing is lost.

``report_run(settings, payload)`` is what ``faultbook run`` calls after a
wrapped deploy when a server is configured (``--server URL --token T``, or
``FAULTBOOK_SERVER_URL`` / ``FAULTBOOK_SERVER_TOKEN``, or ``[server] url`` in
faultbook.toml).  The report is first written to the outbox
(``.faultbook/outbox/<key>.json``, one file per report, written atomically)
and then the whole outbox is flushed, oldest first.  A report leaves the
outbox only when the server has acknowledged it, so a crash, a timeout or a
server that is down loses nothing; and because the server stores reports
idempotently by the deployment's key, sending one twice (the reply was lost
after the server stored it) creates no duplicate.

A report the server *rejects* (HTTP 4xx other than auth/rate limits) would
fail forever; it is moved to ``outbox/rejected/`` with the server's answer
instead of blocking the queue.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from faultbook.errors import InputError

if TYPE_CHECKING:
    from faultbook.config import Settings

API_PREFIX = "/api/v1"
#: Statuses that mean "try again later", not "this report is wrong".
RETRY_STATUSES = {401, 403, 408, 425, 429}


@dataclass(frozen=True)
class ServerConfig:
    url: str
    token: str | None = None


@dataclass(frozen=True)
class SendResult:
    sent: int = 0
    queued: int = 0
    rejected: int = 0
    #: Why sending stopped (server unreachable, auth refused ...); None when the outbox is empty.
    problem: str | None = None


class ServerUnavailable(Exception):
    """The server could not be reached or asked us to retry later; keep the report queued."""


class ReportRejected(Exception):
    """The server refused the report itself (it would fail again)."""


class ServerClient:
    """A small client for the team server's REST API."""

    def __init__(self, url: str, token: str | None = None, *, http: Any = None, timeout: float = 10.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.token = token
        self._http = http or httpx.Client(timeout=timeout)
        self._owns_http = http is None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> "ServerClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def report(self, payload: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        """POST one report; returns the server's JSON.  Raises ServerUnavailable / ReportRejected."""
        import httpx

        try:
            response = self._http.post(
                self.url + API_PREFIX + "/reports",
                json=dict(payload),
                headers=self._headers({"Idempotency-Key": idempotency_key}),
            )
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # (InvalidURL is no HTTPError)
            raise ServerUnavailable(f"cannot reach {self.url}: {exc or type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code in RETRY_STATUSES:
            raise ServerUnavailable(f"{self.url} answered HTTP {response.status_code}: {_detail(response)}")
        if response.status_code >= 400:
            raise ReportRejected(f"HTTP {response.status_code}: {_detail(response)}")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):  # a proxy's or a login page's 200: not the team server; keep it queued
            raise ServerUnavailable(
                f"{self.url} answered HTTP {response.status_code} with something that is not the team server's "
                f"JSON ({response.headers.get('content-type', 'no content type')}): is --server the right URL?"
            )
        return answer

    def health(self) -> bool:
        import httpx

        try:
            return self._http.get(self.url + "/health").status_code == 200
        except (httpx.HTTPError, httpx.InvalidURL, ValueError):
            return False


def _detail(response: Any) -> str:
    try:
        return str(response.json().get("detail"))[:500]
    except Exception:
        return response.text[:200]


# ---------------------------------------------------------------- configuration


def server_config(settings: "Settings", *, url: str | None = None, token: str | None = None) -> ServerConfig | None:
    """Flags, then environment (via settings), then ``[server]`` in faultbook.toml; None = no server."""
    url = url or settings.env.FAULTBOOK_SERVER_URL or settings.server.url
    token = token or settings.env.FAULTBOOK_SERVER_TOKEN or settings.server.token
    if not url:
        return None
    from faultbook.domain.limits import check_http_url

    check_http_url(str(url), what="the server URL")
    return ServerConfig(url=str(url), token=str(token) if token else None)


# ---------------------------------------------------------------- outbox


def outbox_dir(settings: Any) -> Path:
    return Path(settings.data_dir) / "outbox"


def enqueue(folder: Path, payload: Mapping[str, Any]) -> str:
    """Write a report to the outbox atomically; returns its idempotency key."""
    key = report_key(payload)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{key}.json"
    if target.exists():  # already queued: the same report
        return key
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dict(payload), handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return key


def report_key(payload: Mapping[str, Any]) -> str:
    deployment = payload.get("deployment")
    key = deployment.get("key") if isinstance(deployment, Mapping) else None
    if not key:
        raise InputError("a report needs deployment.key (its idempotency key)")
    if not all(c.isalnum() or c in "-_." for c in str(key)) or len(str(key)) > 100:
        raise InputError(f"deployment.key {key!r} must be letters, digits, '-', '_' or '.' (at most 100)")
    return str(key)


def pending(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob("*.json") if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime)


def flush_outbox(folder: Path, client: ServerClient) -> SendResult:
    """Send every queued report, oldest first; stop at the first sign the server is unavailable."""
    sent = rejected = 0
    for path in pending(folder):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being written by another process, or vanished: a later flush gets it
        try:
            client.report(payload, report_key(payload))
        except ServerUnavailable as exc:
            return SendResult(sent=sent, queued=len(pending(folder)), rejected=rejected, problem=str(exc))
        except (ReportRejected, InputError) as exc:
            dead = folder / "rejected"
            dead.mkdir(exist_ok=True)
            (dead / (path.stem + ".reason.txt")).write_text(str(exc) + "\n", encoding="utf-8")
            os.replace(path, dead / path.name)
            rejected += 1
            continue
        path.unlink(missing_ok=True)
        sent += 1
    return SendResult(sent=sent, queued=len(pending(folder)), rejected=rejected)


def report_run(
    settings: Any,
    payload: Mapping[str, Any],
    *,
    url: str | None = None,
    token: str | None = None,
    http: Any = None,
) -> SendResult | None:
    """Queue this run's report and flush the outbox; None when no server is configured.

    ``payload`` is the body of ``POST /api/v1/reports``: ``{"deployment": {...
    "key": uuid ...}, "failure": {...} | null, "output_tail": str | null}``.
    Never raises because the server is down: the result says what is queued.
    """
    config = server_config(settings, url=url, token=token)
    if config is None:
        return None
    folder = outbox_dir(settings)
    enqueue(folder, payload)
    with ServerClient(config.url, config.token, http=http) as client:
        return flush_outbox(folder, client)


def new_key() -> str:
    return str(uuid.uuid4())

