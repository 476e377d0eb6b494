"""A thin wrapper over the official ``cloudflare`` SDK for the few calls faultbook makes.

Why a wrapper: the SDK costs ~0.35 s to import, so it is imported here, lazily,
only when a command actually talks to the API; the base URL is always passed
explicitly (wrangler's ``CLOUDFLARE_API_BASE_URL`` is not the SDK's own
variable); and API errors are turned into (status, code, message) so callers do
not depend on SDK exception classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"


@dataclass(frozen=True)
class ApiError(Exception):
    status: int | None
    code: int | None
    message: str

    def __str__(self) -> str:
        code = f" [code: {self.code}]" if self.code is not None else ""
        return f"{self.message}{code}"

    @property
    def not_found(self) -> bool:
        return self.status == 404


def make_client(*, api_token: str, base_url: str | None = None, http_client: Any = None, max_retries: int = 0) -> Any:
    import cloudflare

    kwargs: dict[str, Any] = {"api_token": api_token, "base_url": base_url or DEFAULT_BASE_URL, "max_retries": max_retries}
    if http_client is not None:
        kwargs["http_client"] = http_client
    return cloudflare.Cloudflare(**kwargs)


def call(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one SDK call; SDK errors become ``ApiError`` (status None = could not connect)."""
    import cloudflare

    try:
        return function(*args, **kwargs)
    except cloudflare.APIStatusError as exc:
        code, message = None, str(exc)
        try:
            body = exc.response.json()
            first = (body.get("errors") or [{}])[0]
            code, message = first.get("code"), first.get("message") or message
        except Exception:
            pass
        raise ApiError(exc.status_code, code, message) from None
    except cloudflare.APIConnectionError as exc:
        raise ApiError(None, None, f"cannot reach the Cloudflare API: {exc}") from None


@dataclass
class OnlineContext:
    """What online rules need: a client, the account, and where the API is (for messages)."""

    client: Any
    account_id: str
    base_url: str = DEFAULT_BASE_URL
