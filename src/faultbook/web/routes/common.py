"""Request parsing shared by the routers (filters, dates, paging)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Optional

from fastapi import HTTPException, Query, Request

from faultbook.capture.scrub import storable
from faultbook.domain import Status, ensure_aware, limits
from faultbook.services import search


def parse_when(value: Optional[str], *, name: str, end: bool = False) -> Optional[datetime]:
    """``2025-08-20`` or an ISO 8601 time; a bare date as an upper bound means the end of that day."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            moment = moment + timedelta(days=1) if end else moment
        else:
            moment = ensure_aware(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        raise HTTPException(422, f"{name}: {value[:80]!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from None
    if not limits.in_time_range(moment):
        raise HTTPException(
            422, f"{name}: {text[:40]} is out of range ({limits.MIN_TIME:%Y-%m-%d} to {limits.MAX_TIME:%Y-%m-%d} UTC)"
        )
    return moment


def clean(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    value = value.strip()
    return storable(value) or None


def parse_statuses(values: list[str]) -> list[Status]:
    out = []
    for value in values:
        for part in value.split(","):
            if not part.strip():
                continue
            try:
                out.append(Status.parse(part))
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
    return out


class FailureFilters:
    """The list/search parameters, identical for /failures and /api/v1/failures."""

    def __init__(
        self,
        q: Optional[str] = Query(None, max_length=500, description="Full-text search (all words, prefix match)."),
        status: list[str] = Query([], description="open, resolved, workaround (repeat or comma-separate)."),
        component: Optional[str] = Query(None, max_length=200),
        since: Optional[str] = Query(None, description="Occurred at or after (YYYY-MM-DD or ISO 8601)."),
        until: Optional[str] = Query(None, description="Occurred before; a date includes that whole day."),
        sort: str = Query(
            "", max_length=30,
            description="relevance, number, last_seen, occurred_at, title, status, component, occurrences; "
            "'-' reverses. Default: relevance when searching (q), else -last_seen (most recently seen first, "
            "so a failure that came back today is on top).",
        ),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=10_000_000),
    ) -> None:
        self.q = clean(q)
        self.status = parse_statuses(status)
        self.component = clean(component)
        self.since = parse_when(since, name="since")
        self.until = parse_when(until, name="until", end=True)
        self.sort = sort.strip() or (search.RELEVANCE if search.search_terms(self.q or "") else "-last_seen")
        self.limit = limit
        self.offset = offset
        self.raw_since = since or ""
        self.raw_until = until or ""

    def kwargs(self) -> dict:
        return {
            "query": self.q,
            "status": self.status,
            "component": self.component,
            "since": self.since,
            "until": self.until,
            "sort": self.sort,
            "limit": self.limit,
            "offset": self.offset,
        }


def json_twin(request: Request, api_path: str) -> str:
    query = request.url.query
    return "/api/v1" + api_path + ("?" + query if query else "")
