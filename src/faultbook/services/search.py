"""Failure search for the dashboard and the CLI: filters, full text, sorting, pages.

``ledger.list_failures`` answers "show me the log"; this answers "find it":
one call returns a page of results *and* the total, so a list view can draw
its pager.  It is THE text search: the dashboard, the API and ``faultbook list
--text`` (``matching_failures``, every page) all come here, so the same words
find the same failures everywhere (``tests/web/test_one_search.py``).  Full text uses what the backend has, set up by migration
``0002_web``: SQLite's FTS5 external-content table ``failures_fts`` and a GIN
index over PostgreSQL's ``to_tsvector('simple', ...)``.  The user's words are
never passed through as query syntax: each becomes a quoted prefix term, all
required ("worker deploy" finds "Worker deployment failed").  A search is ordered by relevance
unless a sort is asked for: SQLite's bm25 with the title and the error message weighted above the
other columns, PostgreSQL's ``ts_rank`` (normalised by document length); newest first among equals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import Float, Integer, func, select, text
from sqlalchemy.orm import Session

from faultbook.domain import Failure, Status
from faultbook.errors import InputError
from faultbook.services.ledger import ProjectRef
from faultbook.store import repo
from faultbook.store.tables import FailureRow, ProjectRow
from sqlalchemy import and_, or_

T = TypeVar("T")

#: Must equal the expression indexed by migration 0002_web (a test compares them).
PG_TSVECTOR = (
    "to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(error_message, '') || ' ' || "
    "coalesce(root_cause, '') || ' ' || coalesce(resolution, '') || ' ' || coalesce(lessons_learned, '') "
    "|| ' ' || coalesce(step, '') || ' ' || coalesce(component, ''))"
)

#: Public sort keys: a leading "-" means descending.
SORTS = {
    "number": (FailureRow.number,),
    "occurred_at": (FailureRow.occurred_at, FailureRow.number),
    "last_seen": (FailureRow.last_seen, FailureRow.number),
    "title": (FailureRow.title, FailureRow.number),
    "status": (FailureRow.status, FailureRow.number),
    "component": (FailureRow.component, FailureRow.number),
    "occurrences": (FailureRow.occurrence_count, FailureRow.number),
    "position": (FailureRow.position, FailureRow.number),
}
#: ``sort=relevance`` (the default when searching): best match first.
RELEVANCE = "relevance"
#: bm25 weights for the FTS5 columns, in migration 0002_web's order: title, error_message, root_cause,
#: resolution, lessons_learned, step, component.
BM25_WEIGHTS = (4.0, 2.0, 1.0, 1.0, 1.0, 0.5, 0.5)
#: Searches matching more failures than this are ordered newest first instead (``Page.sort`` says so):
#: ranking costs ~6-8 µs a match, and a page must come back within 100 ms at 100,000 failures.
RANK_LIMIT = 5_000
MAX_LIMIT = 500
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    total: int
    limit: int
    offset: int
    #: The order the items are in: ``relevance`` or a column (``-`` descending).
    sort: str = "-occurred_at"

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def search_terms(query: str) -> list[str]:
    """The words of a free-text query (punctuation and query operators dropped)."""
    return _WORD.findall(query or "")[:16]


def search_failures(
    session: Session,
    *,
    project: ProjectRef,
    query: str | None = None,
    status: Sequence[Status] = (),
    component: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sort: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Failure]:
    """One page of the project's failures matching every given filter, plus the total.

    ``sort``: a column (``-`` for descending) or ``relevance``; None or empty means relevance when
    ``query`` has words, else newest first.  Relevance without words is newest first too.
    """
    from faultbook.domain.limits import MAX_SEARCH_CHARS

    for name, value in (("text", query), ("component", component)):
        if value is not None and len(value) > MAX_SEARCH_CHARS:
            raise InputError(f"the {name} to look for is {len(value):,} characters; at most {MAX_SEARCH_CHARS:,}")
    terms = search_terms(query or "")
    sort = sort or (RELEVANCE if terms else "-occurred_at")
    if sort == RELEVANCE and not terms:
        sort = "-occurred_at"
    key = sort[1:] if sort.startswith("-") else sort
    if key not in SORTS and sort != RELEVANCE:
        raise InputError(
            f"cannot sort by {sort!r}: use one of {', '.join(sorted([*SORTS, RELEVANCE]))} (prefix - to reverse)"
        )
    if limit < 1 or limit > MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise InputError("offset must not be negative")
    project_id = session.scalar(select(ProjectRow.id).where(ProjectRow.key == project.key))
    if project_id is None:
        return Page(items=(), total=0, limit=limit, offset=offset, sort=sort)

    conditions = [FailureRow.project_id == project_id]
    if status:
        conditions.append(FailureRow.status.in_([s.value for s in status]))
    if component:
        conditions.append(func.lower(FailureRow.component) == component.lower())
    if since:
        conditions.append(FailureRow.occurred_at >= since)
    if until:
        conditions.append(FailureRow.occurred_at < until)
    filters = list(conditions)
    if terms:
        conditions.append(_fulltext_condition(session, terms))

    total = session.scalar(select(func.count()).select_from(FailureRow).where(*conditions)) or 0
    if sort == RELEVANCE and total > RANK_LIMIT:
        sort = "-occurred_at"  # too many to rank within the page's time budget: newest first, and say so
        key = "occurred_at"
    if sort == RELEVANCE:
        statement = _by_relevance(session, terms, filters, conditions)
    else:
        columns = SORTS[key]
        ordering = [c.desc() for c in columns] if sort.startswith("-") else list(columns)
        statement = select(FailureRow).where(*conditions).order_by(*ordering)
    rows = session.scalars(statement.limit(limit).offset(offset)).all()
    return Page(items=tuple(repo.row_to_failure(r) for r in rows), total=total, limit=limit, offset=offset, sort=sort)


def matching_failures(
    session: Session,
    *,
    project: ProjectRef,
    query: str,
    status: Sequence[Status] = (),
    component: str | None = None,
) -> list[Failure]:
    """Every failure ``search_failures`` finds for ``query`` (all its pages), in its order."""
    found: list[Failure] = []
    offset = 0
    while True:
        page = search_failures(
            session, project=project, query=query, status=status, component=component, limit=MAX_LIMIT, offset=offset
        )
        found.extend(page.items)
        if not page.has_next or not page.items:
            return found
        offset += len(page.items)


def _by_relevance(session: Session, terms: list[str], filters: list, conditions: list) -> Any:
    """Best match first.  ``filters``: the conditions besides the full-text one (SQLite's ranked join
    applies that itself; running the MATCH twice doubled the time of a search on common words)."""
    newest = (FailureRow.occurred_at.desc(), FailureRow.number.desc())
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        ranked = (
            text(f"SELECT rowid AS id, bm25(failures_fts, {weights}) AS rank FROM failures_fts "
                 "WHERE failures_fts MATCH :rank_query")
            .bindparams(rank_query=_fts_query(terms))
            .columns(id=Integer, rank=Float)
            .subquery("ranked")
        )
        # bm25: lower is better.
        return (select(FailureRow).join(ranked, ranked.c.id == FailureRow.id).where(*filters)
                .order_by(ranked.c.rank, *newest))
    if dialect == "postgresql":
        rank = text("ts_rank(failures.search_vector, to_tsquery('simple', :rank_query), 1) DESC").bindparams(
            rank_query=_ts_query(terms)
        )
        return select(FailureRow).where(*conditions).order_by(rank, *newest)
    return select(FailureRow).where(*conditions).order_by(*newest)


def _fts_query(terms: list[str]) -> str:
    return " ".join('"' + t.replace('"', "") + '"*' for t in terms)


def _ts_query(terms: list[str]) -> str:
    return " & ".join(re.sub(r"[^\w]", "", t) + ":*" for t in terms)


def _fulltext_condition(session: Session, terms: list[str]):
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return FailureRow.id.in_(
            text("SELECT rowid FROM failures_fts WHERE failures_fts MATCH :fts_query").bindparams(
                fts_query=_fts_query(terms)
            )
        )
    if dialect == "postgresql":
        tsquery = _ts_query(terms)
        # search_vector is the stored PG_TSVECTOR (migration 0003_search), indexed with GIN.
        return text("failures.search_vector @@ to_tsquery('simple', :ts_query)").bindparams(ts_query=tsquery)
    # Any other backend: substring match on the same columns.

    cols = (FailureRow.title, FailureRow.error_message, FailureRow.root_cause, FailureRow.resolution)
    return and_(*(or_(*(func.lower(c).contains(t.lower()) for c in cols)) for t in terms))
