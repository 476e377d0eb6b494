"""The documented limits of what the ledger takes: numbers, times, text.

Why one module: each limit used to be implied by whichever layer broke
first.  SQLite stores integers up to 2^63-1 and PostgreSQL's ``integer``
column up to 2^31-1, so a failure number of 2^63-1 was accepted on SQLite and
then broke every later ``record`` (``max + 1`` overflows) while 2^31 crashed
PostgreSQL; a year-1 time with a positive offset is not a datetime at all in
UTC.  The CLI (Typer ``min``/``max``), the Markdown import and the web schemas
all read these constants, so the range is the same on every surface and
every backend, and the error is a message (exit 2, HTTP 422), never a crash.

- Failure, potential-failure, deployment, token and follow-up numbers/ids:
  ``1 .. MAX_NUMBER`` (2^31-1, PostgreSQL's ``integer``).  Allocation refuses
  to go past it (``next_number``) rather than overflow.
- Times: ``MIN_TIME .. MAX_TIME`` in UTC (1900-01-01 to 9000-01-01, so that
  any UTC offset and the dashboard's date arithmetic stay inside Python's
  years 1..9999).
- NUL characters: a text value (a field given to ``record``/``update``, the
  API, a deploy's output, a team-server report) is stored with each NUL
  written as the four characters ``\\x00`` (``capture.scrub.storable``):
  PostgreSQL cannot store NUL, and an escape keeps the rest of the text
  instead of refusing it, so export writes ``\\x00`` and import reads it back.
  A whole Markdown *document* holding a raw NUL byte is refused with its line
  (it is UTF-16 or binary, not the UTF-8 text it claims to be).
"""

from __future__ import annotations

from datetime import datetime, timezone

from faultbook.errors import InputError

#: The largest failure number (and any other id a user types): PostgreSQL's ``integer``.
MAX_NUMBER = 2**31 - 1
#: The earliest and latest time the ledger keeps (UTC).
MIN_TIME = datetime(1900, 1, 1, tzinfo=timezone.utc)
MAX_TIME = datetime(9000, 1, 1, tzinfo=timezone.utc)
#: Text searched with ``list --text`` / ``?text=``: longer is not a search (SQLite's LIKE stops at 50,000 bytes).
MAX_SEARCH_CHARS = 1000
#: A failure's error message (or any long text field) read from a file or stdin.
MAX_TEXT_BYTES = 4 * 1024 * 1024


def check_number(value: int, *, what: str = "failure number") -> int:
    """``value`` if it is inside ``1..MAX_NUMBER``; an InputError naming the range otherwise."""
    if not 1 <= value <= MAX_NUMBER:
        raise InputError(f"{what} {value} is out of range: numbers go from 1 to {MAX_NUMBER}")
    return value


def in_time_range(value: datetime) -> bool:
    """Whether ``value`` (aware, or naive = UTC) lies inside ``MIN_TIME..MAX_TIME``."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    try:
        return MIN_TIME <= aware <= MAX_TIME
    except OverflowError:  # pragma: no cover - comparing never converts, but be sure
        return False


def check_time(value: datetime, *, what: str = "time") -> datetime:
    """``value`` if it is inside the documented range; an InputError otherwise."""
    if not in_time_range(value):
        raise InputError(
            f"{what} {value.isoformat()} is out of range: faultbook keeps times from "
            f"{MIN_TIME:%Y-%m-%d} to {MAX_TIME:%Y-%m-%d} (UTC)"
        )
    return value


def parse_time(text: str, *, what: str) -> datetime:
    """An ISO 8601 time (``Z`` allowed, naive = UTC) inside the range, or an InputError naming ``what``."""
    from faultbook.domain.models import ensure_aware

    try:
        value = ensure_aware(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise InputError(f"{what}: {text[:80]!r} is not an ISO 8601 time (e.g. 2025-08-20T14:15:00+00:00)") from None
    return check_time(value, what=what)


def check_http_url(url: str, *, what: str) -> str:
    """``url`` if it is an http(s) URL with a host and a valid port; else an InputError naming ``what``."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # a bad port, an unclosed "[" of an IPv6 address
        ok = False
    if ok and any(ch in url for ch in " \t\r\n\x00"):
        ok = False
    if not ok:
        raise InputError(f"{what} {url[:100]!r} is not an http:// or https:// URL with a host")
    return url
