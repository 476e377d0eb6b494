"""The knowledge index over the catalog, a project's potential failures and its known failures, kept warm.

Building the index reads every resolved failure (about 250 ms at 10,000), so a long-lived process (the team
server) keeps one ``KnowledgeCache`` on its app context and passes it to recognition; a one-shot command
(``faultbook run``) makes one per call and pays the build once.  On each use the cache reads only what changed:
the potential failures (few; compared by value) and the failures whose ``updated_at`` is at or after the newest
one it has seen (an indexed query that usually returns the one or two failures recorded since).  The index is
rebuilt only when a failure entered, left or changed within the wanted statuses, and from scratch every
``FULL_REBUILD_SECONDS`` in case a writer on another machine stamps ``updated_at`` from a clock running behind.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Sequence, cast

from sqlalchemy.orm import Session

from faultbook.domain import Failure, Status
from faultbook.knowledge.catalog import load_catalog
from faultbook.knowledge.match import KnowledgeIndex
from faultbook.services.recognition.statements import STATEMENTS as SQL
from faultbook.store import repo

if TYPE_CHECKING:
    from faultbook.store.tables import FailureRow, PotentialFailureRow

#: The cached index is rebuilt from scratch at least this often.
FULL_REBUILD_SECONDS = 60.0
#: Indexes kept (database, project, statuses); the least recently used goes first.
MAX_ENTRIES = 8


@dataclass
class _Entry:
    index: KnowledgeIndex | None
    #: The failures in the index by number (the ledger's failures in the wanted statuses).
    failures: dict[int, Failure]
    potential: list[tuple[Any, ...]] | None
    #: The newest ``updated_at`` read so far.
    watermark: datetime | None
    built_at: float


class KnowledgeCache:
    """Knowledge indexes by (database, project, statuses), and the catalog's own index."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int, tuple[str, ...]], _Entry] = {}
        self._catalog: KnowledgeIndex | None = None
        self._lock = threading.Lock()

    def catalog(self) -> KnowledgeIndex:
        """The built-in catalog alone (what a recurring failure's catalog view is matched against)."""
        if self._catalog is None:
            self._catalog = KnowledgeIndex(catalog=load_catalog())
        return self._catalog

    @staticmethod
    def _key(session: Session, project_id: int, statuses: Sequence[Status]) -> tuple[str, int, tuple[str, ...]]:
        return (str(session.get_bind().engine.url), project_id, tuple(sorted(s.value for s in statuses)))

    def watermark(self, session: Session, project_id: int, statuses: Sequence[Status]) -> datetime | None:
        """The watermark ``index`` would update from (None when it would read from scratch)."""
        entry = self._entries.get(self._key(session, project_id, statuses))
        if entry is None or entry.index is None or time.monotonic() - entry.built_at > FULL_REBUILD_SECONDS:
            return None
        return entry.watermark

    def index(
        self,
        session: Session,
        *,
        project_id: int,
        statuses: Sequence[Status],
        changed_rows: Sequence[Any] | None = None,
    ) -> KnowledgeIndex:
        """The index for the project's failures in ``statuses`` (all failures when empty).

        ``changed_rows``: the failures changed since ``watermark``, when the caller read them already (the team
        server's batch reads them with its lookup, one round trip).
        """
        with self._lock:
            return self._index(session, project_id=project_id, statuses=statuses, changed_rows=changed_rows)

    def _index(
        self, session: Session, *, project_id: int, statuses: Sequence[Status], changed_rows: Sequence[Any] | None
    ) -> KnowledgeIndex:
        potential_rows = session.execute(SQL.potential, {"pid": project_id}).all()
        potential_values = [tuple(r) for r in potential_rows]
        wanted = {s.value for s in statuses}
        key = self._key(session, project_id, statuses)
        entry = self._entries.get(key)
        now = time.monotonic()
        changed = False
        # The statements select FailureRow's columns: their result rows are read as FailureRows (the casts).
        rows: Iterable[Any]
        if entry is None or now - entry.built_at > FULL_REBUILD_SECONDS:
            # The watermark first: whatever changes after it is read again next time (>=).
            watermark = session.execute(SQL.watermark, {"pid": project_id}).scalar()
            rows = (
                session.execute(SQL.failures_in, {"pid": project_id, "statuses": sorted(wanted)})
                if wanted
                else session.execute(SQL.all_failures, {"pid": project_id})
            )
            failures = {r.number: repo.row_to_failure(cast("FailureRow", r)) for r in rows}
            entry = _Entry(index=None, failures=failures, potential=None, watermark=watermark, built_at=now)
            changed = True
        else:
            if changed_rows is not None and entry.watermark is not None:
                rows = changed_rows
            elif entry.watermark is not None:
                rows = session.execute(SQL.changed_since, {"pid": project_id, "since": entry.watermark})
            else:
                rows = session.execute(SQL.all_failures, {"pid": project_id})
            for r in rows:
                if entry.watermark is None or r.updated_at > entry.watermark:
                    entry.watermark = r.updated_at
                if not wanted or r.status in wanted:
                    failure = repo.row_to_failure(cast("FailureRow", r))
                    if entry.failures.get(r.number) != failure:
                        entry.failures[r.number] = failure
                        changed = True
                elif entry.failures.pop(r.number, None) is not None:
                    changed = True
        if entry.potential != potential_values:
            entry.potential = potential_values
            changed = True
        if changed or entry.index is None:
            potential = [repo.row_to_potential(cast("PotentialFailureRow", r)) for r in potential_rows]
            entry.index = KnowledgeIndex(catalog=load_catalog(), potential=potential, failures=entry.failures.values())
        self._entries.pop(key, None)
        self._entries[key] = entry
        while len(self._entries) > MAX_ENTRIES:
            self._entries.pop(next(iter(self._entries)))
        return entry.index
