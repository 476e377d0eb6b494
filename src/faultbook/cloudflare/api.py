"""A thin wrapper over the official ``cloudflare`` SDK for the few calls faultbook makes.

Why a wrapper: the SDK costs ~0.35 s to import, so it is imported here, lazily,
only when a command actually talks to the API; the base URL is always passed
explicitly (wrangler's ``CLOUDFLARE_API_BASE_URL`` is not the SDK's own
variable); and API errors are turned into (status, code, message) so callers do
not depend on SDK exception classes.

``ApiError`` is an ``OperationFailed`` (exit code 3), so an error that reaches
the CLI is printed as a clear sentence: what was asked, what Cloudflare said
(with its code), or that the API could not be reached at all
(``status is None`` — a connection error is not an answer, and callers that
changed something must find out for themselves whether the change landed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from faultbook.errors import InputError, OperationFailed
from faultbook.knowledge.codes import AUTH_CODES

if TYPE_CHECKING:
    from faultbook.config import Settings

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
TOKEN_VAR = "CLOUDFLARE_API_TOKEN"
BASE_URL_VAR = "CLOUDFLARE_API_BASE_URL"
ACCOUNT_VAR = "CLOUDFLARE_ACCOUNT_ID"

#: Codes with which the API refuses the credentials themselves (missing, invalid, or not allowed here).


class ApiError(OperationFailed):
    """One failed API call: HTTP ``status`` (None = no answer), Cloudflare ``code``, its ``message``."""

    def __init__(
        self, status: int | None, code: int | None, message: str, *, action: str | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.reason = message
        self.action = action
        hint = None
        if self.refused_token:
            hint = (
                f"check {TOKEN_VAR}: the token must be valid and allowed to act on this account "
                "(a custom API token needs the permission for this product, e.g. Workers Scripts: Edit)"
            )
        elif self.connection_error:
            hint = f"check the network and {BASE_URL_VAR}"
        super().__init__(self._text(), hint=hint)

    def _text(self) -> str:
        code = f" [code: {self.code}]" if self.code is not None else ""
        head = f"{self.action}: " if self.action else ""
        if self.refused_token:
            return f"{head}the Cloudflare API refused the token: {self.reason}{code}"
        return f"{head}{self.reason}{code}"

    def __str__(self) -> str:
        return self._text()

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def connection_error(self) -> bool:
        """No answer at all (refused, reset, timed out): a change may or may not have been made."""
        return self.status is None

    @property
    def refused_token(self) -> bool:
        return self.code in AUTH_CODES or self.status == 401


def make_client(
    settings: "Settings | None" = None,
    *,
    api_token: str | None = None,
    base_url: str | None = None,
    http_client: Any = None,
    max_retries: int = 0,
) -> Any:
    """A ``cloudflare.Cloudflare`` client: token and base URL from ``settings.env`` unless given.

    ``max_retries`` is 0 by default: a retried POST that had landed would
    deploy twice; callers that only read may ask for retries.
    """
    api_token = api_token or (settings.env.CLOUDFLARE_API_TOKEN if settings is not None else None)
    if not api_token:
        raise OperationFailed(
            f"{TOKEN_VAR} is not set: faultbook needs an API token to talk to Cloudflare",
            hint="create one under My Profile > API Tokens and export it (as wrangler uses it)",
        )
    base_url = check_base_url(base_url or (settings.env.CLOUDFLARE_API_BASE_URL if settings is not None else None) or DEFAULT_BASE_URL)
    import cloudflare

    kwargs: dict[str, Any] = {"api_token": api_token, "base_url": base_url, "max_retries": max_retries}
    if http_client is not None:
        kwargs["http_client"] = http_client
    return cloudflare.Cloudflare(**kwargs)


def check_base_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host and a valid port; else an InputError naming the variable."""
    from faultbook.domain.limits import check_http_url

    try:
        import httpx

        httpx.URL(url)
    except Exception:  # httpx.InvalidURL: what httpx would fail on at the first request
        raise InputError(f"{BASE_URL_VAR}={url[:100]!r} is not a URL httpx can use") from None
    return check_http_url(url, what=f"{BASE_URL_VAR}=")


def call(function: Any, *args: Any, action: str | None = None, **kwargs: Any) -> Any:
    """Run one SDK call; SDK errors become ``ApiError`` (status None = could not connect)."""
    import cloudflare

    try:
        return function(*args, **kwargs)
    except cloudflare.APIStatusError as exc:
        code, message = error_of(exc)
        raise ApiError(exc.status_code, code, message, action=action) from None
    except cloudflare.APIConnectionError as exc:
        kind = "timed out" if isinstance(exc, cloudflare.APITimeoutError) else "no answer"
        raise ApiError(None, None, f"cannot reach the Cloudflare API ({kind}: {exc})", action=action) from None
    except (cloudflare.APIResponseValidationError, AttributeError, TypeError, ValueError, KeyError):
        # A 200 that is not the API's JSON envelope (an HTML page from a proxy or a captive portal): the
        # SDK's unwrapping fails on it.  Treated as no answer from the API, never as a crash.
        raise ApiError(
            None, None, "the Cloudflare API answered with something that is not its JSON (an HTML page?)", action=action
        ) from None


def error_of(exc: Any) -> tuple[int | None, str]:
    """The first ``errors[]`` entry of an SDK status error: (code, message)."""
    code, message = None, str(exc)
    try:
        body = exc.response.json()
        first = (body.get("errors") or [{}])[0]
        code, message = first.get("code"), first.get("message") or message
    except Exception:
        pass
    return code, message


def account_id_for(settings: "Settings", wrangler_data: Mapping[str, Any] | None = None) -> str:
    """``CLOUDFLARE_ACCOUNT_ID``, else the wrangler config's ``account_id``."""
    account = settings.env.CLOUDFLARE_ACCOUNT_ID or (wrangler_data or {}).get("account_id")
    if not account or not isinstance(account, str):
        raise OperationFailed(
            f"no Cloudflare account id: set {ACCOUNT_VAR} or account_id in the wrangler config"
        )
    return account


@dataclass
class OnlineContext:
    """What online rules need: a client, the account, and where the API is (for messages)."""

    client: Any
    account_id: str
    base_url: str = DEFAULT_BASE_URL
