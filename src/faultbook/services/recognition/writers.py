"""Where recognition's decisions go: written at once (``ImmediateWriter``) or at the end of a batch
(``BatchWriter``, the team server's ingest).

The caller picks the writer and passes it in; ``record_occurrence`` does the same thing with either.  A
writer is good for one transaction: it also keeps what holds for the rest of that transaction (the
project's knowledge index, "every failure has its fingerprint").

Every write is a plain SQL statement (no ORM unit of work): a CI report on a team server is a handful of
indexed statements inside the project's write lock, which is what bounds ingest throughput.  The batch
defers the occurrence rows, timeline events, occurrence counts and deployment links — and, after
``prefetch``, the new failures themselves — and sends them as one multi-row statement each at ``flush``:
a handful of round trips per batch instead of several per report.  Failures it creates before the flush
are referred to by a ``Pending`` handle, replaced by their ids when inserted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence, cast

from sqlalchemy import Row
from sqlalchemy.orm import Session

from faultbook.knowledge.fingerprint import extract_code, fingerprints
from faultbook.domain import Failure, Status, TimelineEvent
from faultbook.knowledge.match import KnowledgeIndex, Match
from faultbook.services.recognition.backfill import backfill_fingerprints
from faultbook.services.recognition.knowledge_cache import KnowledgeCache
from faultbook.services.recognition.statements import DEPLOYMENTS, EVENTS, FAILURES, OCCURRENCES
from faultbook.services.recognition.statements import STATEMENTS as SQL
from faultbook.store import repo
from faultbook.store.tables import DeploymentRow, FailureRow

#: Statuses whose failures are "its own resolved failures" for the knowledge base.
KNOWN_FIXED = (Status.RESOLVED, Status.WORKAROUND)


class Pending:
    """A failure created in a batch and not inserted yet (its id is known at ``flush``)."""

    __slots__ = ("number", "values")

    def __init__(self, number: int, values: dict[str, Any]) -> None:
        self.number = number
        self.values = values


FailureRef = int | Pending


@dataclass(frozen=True)
class Owner:
    """The stored (or pending) failure owning a fingerprint."""

    ref: FailureRef
    project_id: int
    failure: Failure


def code_of(draft: Failure) -> int | None:
    """The draft's API error code: as given, else as written in its message."""
    return draft.error_code if draft.error_code is not None else extract_code(draft.error_message)


def fingerprints_of(draft: Failure, endpoint: str | None = None) -> list[str]:
    """The fingerprints a draft is looked up by: its own (with the API family of ``endpoint``) first, then the
    family-less one a failure whose API was never known is stored under."""
    return list(fingerprints(draft.error_message, code=code_of(draft), component=draft.component, endpoint=endpoint))


def _owner(row: Row[Any]) -> Owner:
    return Owner(ref=row.id, project_id=row.project_id, failure=repo.row_to_failure(cast(FailureRow, row)))  # a row of FailureRow's columns


def new_row(failure: Failure, *, project_id: int, now: datetime) -> dict[str, Any]:
    """A new failure's columns, but for its number and position."""
    return {
        **repo.failure_values(failure),
        "project_id": project_id,
        "created_at": now,
        "updated_at": now,
        "resolved_at": now if failure.status is Status.RESOLVED else None,
        "occurrence_count": max(failure.occurrence_count, 1),
        "first_seen": failure.first_seen,
        "last_seen": failure.last_seen,
    }


def _forget(session: Session, model: type, ident: int) -> None:
    """Expire an ORM copy of a row changed with plain SQL, so the session reads it afresh."""
    obj = session.identity_map.get(session.identity_key(model, ident))  
    if obj is not None:
        session.expire(obj)


def _write(
    session: Session,
    *,
    occurrences: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    links: Sequence[dict[str, Any]],
    counts: Sequence[dict[str, Any]] = (),
) -> None:
    """The writes (for a batch: all of them), one statement each whatever their number on PostgreSQL."""
    repo.update_many(session, FAILURES, counts, keys=("id",))
    repo.insert_many(session, OCCURRENCES, occurrences, returning=())
    repo.insert_many(session, EVENTS, events, returning=())
    repo.update_many(session, DEPLOYMENTS, links, keys=("id", "project_id"))


class Writer:
    """What both writers share: reading under the lock, and what holds for the rest of the transaction."""

    def __init__(self, knowledge: KnowledgeCache | None = None) -> None:
        #: The long-lived knowledge cache (the app's); a fresh one for a one-shot caller.
        self.knowledge = knowledge if knowledge is not None else KnowledgeCache()
        #: Within one transaction the known failures change only through it (a regression reopens one and
        #: forgets this), so a batch of reports reads each project's index once.
        self._known: dict[int, KnowledgeIndex] = {}
        #: Projects whose failures all have their fingerprints (recognition never stores one without).
        self._fingerprinted: set[int] = set()

    # -- reads
    def lookup(self, session: Session, *, project_id: int, keys: Sequence[str]) -> Owner | None:
        """The failure owning one of ``keys``, directly or through a merge alias; one query."""
        row = session.execute(SQL.lookup, {"pid": project_id, "keys": list(keys)}).first()
        return None if row is None else _owner(row)

    def find(self, session: Session, *, project_id: int, keys: Sequence[str], unfingerprinted: bool | None) -> Owner | None:
        """The owner, read under the project lock; on a miss, fingerprint hand-recorded failures first."""
        found = self.lookup(session, project_id=project_id, keys=keys)
        if found is None:
            if unfingerprinted is None:
                unfingerprinted = self.has_unfingerprinted(session, project_id=project_id)
            if unfingerprinted and backfill_fingerprints(session, project_id=project_id, keys=keys) is not None:
                found = self.lookup(session, project_id=project_id, keys=keys)
        return found

    def has_unfingerprinted(self, session: Session, *, project_id: int) -> bool:
        if project_id in self._fingerprinted:
            return False
        found = session.execute(SQL.unfingerprinted, {"pid": project_id}).first() is not None
        if not found:
            self._fingerprinted.add(project_id)
        return found

    def known_index(self, session: Session, *, project_id: int) -> KnowledgeIndex:
        index = self._known.get(project_id)
        if index is None:
            index = self._known[project_id] = self.knowledge.index(session, project_id=project_id, statuses=KNOWN_FIXED)
        return index

    def matches(self, session: Session, *, project_id: int, draft: Failure, endpoint: str | None) -> list[Match]:
        """The knowledge base's matches for a draft nobody owns."""
        return self.known_index(session, project_id=project_id).match(
            message=draft.error_message, code=code_of(draft), component=draft.component, endpoint=endpoint
        )

    def counted(self, owner: Owner) -> Failure:
        """The owner as counted so far (a batch continues from its unwritten counts)."""
        return owner.failure

    # -- writes
    def reopened(self, project_id: int) -> None:
        """A known failure left the knowledge index (a regression reopened it)."""
        self._known.pop(project_id, None)

    def create(self, session: Session, *, project_id: int, failure: Failure, now: datetime) -> tuple[FailureRef, int]:
        """Insert a new failure with the next number and position, computed inside the INSERT (the caller
        holds the project lock, so numbers are gapless; one statement keeps that lock short)."""
        values = {**new_row(failure, project_id=project_id, now=now), "b_project": project_id}
        failure_id, number = session.execute(SQL.insert_failure, values).one()
        return failure_id, number

    def count(self, session: Session, *, owner: Owner, counted: dict[str, Any]) -> None:
        raise NotImplementedError

    def attach(
        self, session: Session, *, ref: FailureRef, project_id: int, events: Sequence[TimelineEvent],
        occurrence: dict[str, Any], deployment_id: int | None,
    ) -> None:
        raise NotImplementedError

    def flush(self, session: Session) -> None:
        """Send what was deferred (nothing for the immediate writer)."""


def _event_rows(ref: FailureRef, events: Sequence[TimelineEvent]) -> list[dict[str, Any]]:
    return [
        {"failure_id": ref, "at": e.at, "kind": e.kind, "actor": e.actor, "description": e.description,
         "details": e.details}
        for e in events
    ]


class ImmediateWriter(Writer):
    """Each decision written as it is made (``faultbook run``, the CLI, tests)."""

    def count(self, session: Session, *, owner: Owner, counted: dict[str, Any]) -> None:
        assert isinstance(owner.ref, int)
        repo.update_many(session, FAILURES, [{"id": owner.ref, **counted}], keys=("id",))
        _forget(session, FailureRow, owner.ref)

    def attach(
        self, session: Session, *, ref: FailureRef, project_id: int, events: Sequence[TimelineEvent],
        occurrence: dict[str, Any], deployment_id: int | None,
    ) -> None:
        link = [{"id": deployment_id, "project_id": project_id, "failure_id": ref}] if deployment_id else []
        _write(session, occurrences=[{**occurrence, "failure_id": ref}], events=_event_rows(ref, events), links=link)
        if deployment_id is not None:
            _forget(session, DeploymentRow, deployment_id)


@dataclass
class _Prefetched:
    """The failures owning a batch's fingerprints, read once under the lock: fingerprint -> rows."""

    direct: dict[str, list[Row[Any]]] = field(default_factory=dict)
    aliased: dict[str, list[Row[Any]]] = field(default_factory=dict)
    #: The highest failure number and position so far (new failures follow them).
    numbers: tuple[int, int] = (0, 0)


class BatchWriter(Writer):
    """Writes deferred to ``flush`` (nothing is written if the caller fails before it)."""

    def __init__(self, knowledge: KnowledgeCache | None = None) -> None:
        super().__init__(knowledge)
        self.occurrences: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        #: failure -> its counted columns (what a later recurrence in the batch continues from).
        self.updates: dict[FailureRef, dict[str, Any]] = {}
        self.prefetched: _Prefetched | None = None
        self.pending: list[Pending] = []
        self.pending_by_fp: dict[str, Owner] = {}

    def find(self, session: Session, *, project_id: int, keys: Sequence[str], unfingerprinted: bool | None) -> Owner | None:
        """As ``lookup`` would answer with this batch's failures already stored: a direct fingerprint match
        with the lowest number (stored ones number below this batch's), else an alias."""
        p = self.prefetched
        if p is None:
            return super().find(session, project_id=project_id, keys=keys, unfingerprinted=unfingerprinted)
        rows = [r for k in keys for r in p.direct.get(k, ())]
        if rows:
            return _owner(min(rows, key=lambda r: r.number))
        pending = [self.pending_by_fp[k] for k in keys if k in self.pending_by_fp]
        if pending:
            return min(pending, key=lambda o: o.failure.number or 0)
        rows = [r for k in keys for r in p.aliased.get(k, ())]
        return _owner(min(rows, key=lambda r: r.number)) if rows else None

    def counted(self, owner: Owner) -> Failure:
        counted = self.updates.get(owner.ref)
        if counted is None:
            return owner.failure
        return owner.failure.with_changes(**{**counted, "status": Status(counted["status"])})

    def create(self, session: Session, *, project_id: int, failure: Failure, now: datetime) -> tuple[FailureRef, int]:
        p = self.prefetched
        if p is None:
            return super().create(session, project_id=project_id, failure=failure, now=now)
        number, position = p.numbers[0] + 1, p.numbers[1] + 1
        p.numbers = (number, position)
        pending = Pending(number, {**new_row(failure, project_id=project_id, now=now), "number": number,
                                   "position": position})
        self.pending.append(pending)
        if failure.fingerprint:
            stored = failure.with_changes(number=number, created_at=now, updated_at=now,
                                          resolved_at=now if failure.status is Status.RESOLVED else None)
            self.pending_by_fp.setdefault(failure.fingerprint, Owner(ref=pending, project_id=project_id, failure=stored))
        return pending, number

    def count(self, session: Session, *, owner: Owner, counted: dict[str, Any]) -> None:
        self.updates[owner.ref] = counted
        if isinstance(owner.ref, int):
            _forget(session, FailureRow, owner.ref)

    def attach(
        self, session: Session, *, ref: FailureRef, project_id: int, events: Sequence[TimelineEvent],
        occurrence: dict[str, Any], deployment_id: int | None,
    ) -> None:
        self.occurrences.append({**occurrence, "failure_id": ref})
        self.events.extend(_event_rows(ref, events))
        if deployment_id:
            self.links.append({"id": deployment_id, "project_id": project_id, "failure_id": ref})
            _forget(session, DeploymentRow, deployment_id)

    def prefetch(self, session: Session, *, project_id: int, keys: Sequence[str]) -> bool:
        """Take the project lock and read under it the failures owning any of ``keys``, with the numbers new
        failures follow — one round trip for a batch's fingerprints (up to 500 per chunk).

        Returns False (and leaves the batch reading the database per report) when the project has failures
        without a fingerprint: the first miss fingerprints them, which a prefetched answer would not see.
        """
        repo.lock_project(session, project_id)
        p = _Prefetched()
        for n, chunk in enumerate(_chunks(keys) or [[]]):
            rows = session.execute(SQL.prefetch if n == 0 else SQL.lookup_all, {"pid": project_id, "keys": chunk}).all()
            if n == 0:
                first = rows[0]
                if first.unfingerprinted:
                    return False
                self._fingerprinted.add(project_id)
                p.numbers = (first.max_number or 0, first.max_position or 0)
            for row in rows:
                if row.via == 0:
                    p.direct.setdefault(row.matched, []).append(row)
                elif row.via == 1:
                    p.aliased.setdefault(row.matched, []).append(row)
        self.prefetched = p
        return True

    def suggest(
        self, session: Session, *, project_id: int, drafts: Sequence[Failure],
        endpoints: Sequence[str | None] | None = None,
    ) -> list[list[Match] | None]:
        """The knowledge base's matches for each draft no failure owns yet (None for the others).

        On PostgreSQL this reads without the project lock (one query for all the drafts' fingerprints, which
        also brings the cached index's changes), so a batch does its matching while other writers hold the
        lock; ``record_occurrence`` decides again under the lock.  After ``prefetch`` (SQLite, whose lock is
        held from BEGIN) the prefetched owners answer.
        """
        ends = list(endpoints) if endpoints is not None else [None] * len(drafts)
        prints = [fingerprints_of(d, e) for d, e in zip(drafts, ends)]
        owned: set[str] = set()
        if self.prefetched is not None:
            owned.update(self.prefetched.direct)
            owned.update(self.prefetched.aliased)
        else:
            since = None if project_id in self._known else self.knowledge.watermark(session, project_id, KNOWN_FIXED)
            changed: list[Any] = []
            for n, chunk in enumerate(_chunks(sorted({k for keys in prints for k in keys}))):
                if n == 0 and since is not None:
                    rows = session.execute(SQL.owners_and_changed, {"pid": project_id, "keys": chunk, "since": since})
                else:
                    rows = session.execute(SQL.lookup_all, {"pid": project_id, "keys": chunk})
                for r in rows:
                    if r.via == 2:
                        changed.append(r)
                    else:
                        owned.add(r.matched)
            if since is not None and drafts:
                self._known[project_id] = self.knowledge.index(
                    session, project_id=project_id, statuses=KNOWN_FIXED, changed_rows=changed
                )
        return [
            None if owned.intersection(keys) else self.matches(session, project_id=project_id, draft=draft, endpoint=end)
            for draft, keys, end in zip(drafts, prints, ends)
        ]

    def flush(self, session: Session) -> None:
        ids: dict[Pending, int] = {}
        if self.pending:
            rows = []
            for pending in self.pending:
                later = self.updates.pop(pending, None)
                # Seen again within the batch: insert the counted state.
                rows.append({**pending.values, **later} if later is not None else pending.values)
            by_number = dict(repo.insert_many(session, FAILURES, rows, returning=("number", "id")))
            ids = {pending: by_number[pending.number] for pending in self.pending}

        def real(ref: FailureRef) -> int:
            return ids[ref] if isinstance(ref, Pending) else ref

        _write(
            session,
            counts=[{"id": real(ref), **counted} for ref, counted in self.updates.items()],
            occurrences=[{**o, "failure_id": real(o["failure_id"])} for o in self.occurrences],
            events=[{**e, "failure_id": real(e["failure_id"])} for e in self.events],
            links=[{**d, "failure_id": real(d["failure_id"])} for d in self.links],
        )
        self.occurrences, self.events, self.links, self.updates, self.pending = [], [], [], {}, []
        self.pending_by_fp = {}


def _chunks(keys: Sequence[str], size: int = 500) -> list[list[str]]:
    """``keys`` in lists of at most ``size`` (an IN list of bounded length)."""
    return [list(keys[start : start + size]) for start in range(0, len(keys), size)]
