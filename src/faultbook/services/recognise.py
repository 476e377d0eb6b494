"""Recognition: is this failure new, again, or back after being resolved — and what is known about it.

``record_occurrence`` is called once per failed deployment with a draft
failure (exact message, code, component).  It fingerprints the draft
(``capture.fingerprint``) and looks the key up in the project's failures and
then in ``fingerprint_aliases`` (merges), both by index:

- found: one more occurrence row on that failure (count, first/last seen,
  the deployment); a Resolved failure is reopened and a ``regression`` event
  with the previous resolution goes on its timeline;
- not found: the knowledge base is consulted (the built-in catalog, the
  project's potential failures, its resolved failures) and a new failure is
  recorded with root cause and resolution pre-filled from the best match,
  listed in ``suggested_fields`` until a person confirms them by editing.

Concurrency: the lookup and the insert happen under the project lock that
``ledger.record_failure`` also takes (``SELECT ... FOR UPDATE`` on
PostgreSQL; the write lock taken at BEGIN on SQLite, so callers must use
``db.session(write=True)``).  Ten processes hitting the same new error at
once therefore queue; the first creates the failure and the other nine find
it — one failure, ten occurrences.

Failures recorded by hand or imported from Markdown have no fingerprint yet;
the first recognition that misses computes and stores theirs (once), so the
seed's Failure #1 is recognised when its error comes back.

Merging (``merge_failures``) is permanent: B's fingerprint becomes an alias
of A, so later occurrences of B land on A.  B stays in the ledger (numbers
are never reused and the Markdown log keeps it) with status Resolved and a
"merged into #A" event; its resolution, if empty or only suggested, becomes
"Merged into Failure #A.".
"""

from __future__ import annotations

import contextlib
import time
from types import SimpleNamespace
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

from sqlalchemy import String, bindparam, cast, exists, func, insert, literal, null, select, true, union_all, update
from sqlalchemy.orm import Session

from faultbook.capture.fingerprint import extract_code, fingerprint, fingerprints
from faultbook.domain import Failure, Status, TimelineEvent, ensure_aware, utcnow
from faultbook.errors import ConflictError, InputError
from faultbook.knowledge.catalog import load_catalog
from faultbook.knowledge.match import KnowledgeIndex, Match, ledger_match, render_match
from faultbook.services import ledger
from faultbook.services.ledger import ProjectRef
from faultbook.store import repo
from faultbook.store.tables import (
    DeploymentRow,
    FailureRow,
    FingerprintAliasRow,
    OccurrenceRow,
    PotentialFailureRow,
    ProjectRow,
    TimelineRow,
)

__all__ = [
    "Recognition",
    "batched",
    "prefetch",
    "fingerprints_of",
    "suggest",
    "record_occurrence",
    "explain",
    "merge_failures",
    "render_match",
]

#: The fields a match may pre-fill on a new failure (marked suggested, not confirmed).
SUGGESTED = ("root_cause", "resolution")
#: Statuses whose failures are "its own resolved failures" for the knowledge base.
KNOWN_FIXED = (Status.RESOLVED, Status.WORKAROUND)


@dataclass(frozen=True)
class Recognition:
    """What recording one failed deployment's error came to."""

    failure: Failure
    is_new: bool
    is_regression: bool
    matches: list[Match] = field(default_factory=list)


def record_occurrence(
    session: Session,
    *,
    project: ProjectRef,
    draft: Failure,
    deployment_id: int | None,
    endpoint: str | None = None,
    actor: str | None = None,
    source: str = "captured",
    detailed: bool = True,
    matches: list[Match] | None = None,
) -> Recognition:
    """Count this error on its failure (reopening a resolved one) or record a new failure with suggestions.

    ``source`` names where a new failure came from on its "created" event: ``captured`` by a local
    ``faultbook run``, ``reported`` to a team server.  ``detailed=False`` (the team server's ingest) skips
    what only a person at a terminal reads: the recurring failure's recent timeline and the catalog's view
    of a known error.  ``matches``: the knowledge base's matches for the draft, when the caller consulted
    it already (``suggest``), before taking the lock.

    Every write here is a plain SQL statement (no ORM unit of work): a CI report on a team server is a
    handful of indexed statements inside the project's write lock, which is what bounds ingest throughput.
    """
    project_id = repo.project_id(session, key=project.key, name=project.name)
    postgres = session.get_bind().dialect.name == "postgresql"
    unfingerprinted: bool | None = None
    code = _code_of(draft)
    keys = fingerprints_of(draft)
    at = _utc(ensure_aware(draft.occurred_at) if draft.occurred_at else utcnow())
    batch: _Batch | None = session.info.get(_BATCH)
    early = postgres and not repo.holds_project_lock(session, project_id)
    found = _lookup(session, project_id=project_id, keys=keys) if early else None
    if found is None and early and matches is None:
        # Most likely new: do the reading before taking the project lock, so that other reports wait only
        # for the insert.  (SQLite holds its write lock from BEGIN anyway.)  A failure recorded by hand in
        # between is fingerprinted on the next miss.
        unfingerprinted = _has_unfingerprinted(session, project_id=project_id)
        matches = _new_matches(session, project_id=project_id, draft=draft, code=code, endpoint=endpoint)
    repo.lock_project(session, project_id)
    if batch is not None and batch.prefetched is not None:
        found = batch.find(keys)  # (prefetched under the lock by ``prefetch``)
    else:
        found = _lookup(session, project_id=project_id, keys=keys)  # (again) now that writers are serialised
    if found is None and (batch is None or batch.prefetched is None):
        if unfingerprinted is None:
            unfingerprinted = _has_unfingerprinted(session, project_id=project_id)
        if unfingerprinted and _backfill_fingerprints(session, project_id=project_id, keys=keys) is not None:
            found = _lookup(session, project_id=project_id, keys=keys)
    if found is not None:
        return _recur(session, row=found, draft=draft, fp=keys[0], at=at, deployment_id=deployment_id,
                      endpoint=endpoint, code=code, actor=actor, detailed=detailed)

    if matches is None:
        matches = _new_matches(session, project_id=project_id, draft=draft, code=code, endpoint=endpoint)
    best = next((m for m in matches if m.root_cause or m.resolution), None)
    filled: dict[str, str] = {}
    if best is not None:
        for name, value in (("root_cause", best.root_cause), ("resolution", best.resolution)):
            if not getattr(draft, name) and value:
                filled[name] = value
    new = draft.with_changes(
        number=None,
        fingerprint=keys[0],
        error_code=code,
        occurrence_count=1,
        first_seen=at,
        last_seen=at,
        occurred_at=at,
        suggested_fields=tuple(name for name in SUGGESTED if name in filled),
        **filled,
    )
    new = ledger.validate_failure(new)
    now = _utc(utcnow())
    if batch is not None and batch.prefetched is not None:
        failure_id, number = batch.defer_failure(project_id=project_id, failure=new, now=now)
    else:
        failure_id, number = _insert_failure(session, project_id=project_id, failure=new, now=now)
    events = [
        TimelineEvent(
            at=now, kind="created", actor=actor, description=f"Failure #{number} {source}: {new.title}",
            details={"status": new.status.value},
        )
    ]
    if filled and best is not None:
        events.append(
            TimelineEvent(
                at=now,
                kind="suggested",
                actor="faultbook",
                description=f"Suggested {' and '.join(n.replace('_', ' ') for n in filled)} from "
                f"{_describe(best)} (not confirmed)",
                details={"fields": list(filled), "source": best.source, "known_error_id": best.known_error_id,
                         "failure_number": best.failure_number, "score": round(best.score, 3)},
            )
        )
    _attach(session, failure_id=failure_id, project_id=project_id, events=events, draft=draft, fp=keys[0], at=at,
            deployment_id=deployment_id)
    stored = new.with_changes(
        number=number,
        created_at=now,
        updated_at=now,
        resolved_at=now if new.status is Status.RESOLVED else None,
        timeline=tuple(events),
    )
    return Recognition(failure=stored, is_new=True, is_regression=False, matches=matches)


def _new_matches(
    session: Session, *, project_id: int, draft: Failure, code: int | None, endpoint: str | None
) -> list[Match]:
    # Within one transaction the known failures change only through this transaction (a regression
    # reopens one: ``_recur`` forgets the memo), so a batch of reports reads the index once.
    memo = session.info.setdefault("faultbook_known_index", {})
    index = memo.get(project_id)
    if index is None:
        index = memo[project_id] = _index(session, project_id=project_id, failure_statuses=KNOWN_FIXED)
    return index.match(message=draft.error_message, code=code, component=draft.component, endpoint=endpoint)


_F = FailureRow.__table__
_ALIASES = FingerprintAliasRow.__table__
_EVENTS = TimelineRow.__table__
_OCCURRENCES = OccurrenceRow.__table__
_DEPLOYMENTS = DeploymentRow.__table__
_POTENTIAL = PotentialFailureRow.__table__


def _statements() -> dict[str, Any]:
    """The statements of the recognition path, built once with bind parameters.

    Building a SQLAlchemy statement costs more than running it on SQLite; a team server runs these for
    every report, so they are made once and only executed afterwards (SQLAlchemy then also reuses the
    compiled SQL from its cache).
    """
    pid = bindparam("pid")
    keys = bindparam("keys", expanding=True)
    # Every failure owning one of the keys: directly (via 0) or through a merge alias (via 1), with the key.
    owner_selects = (
        select(_F, literal(0).label("via"), _F.c.fingerprint.label("matched")).where(
            _F.c.project_id == pid, _F.c.fingerprint.in_(keys)
        ),
        select(_F, literal(1).label("via"), _ALIASES.c.fingerprint.label("matched"))
        .join(_ALIASES, _ALIASES.c.failure_id == _F.c.id)
        .where(_ALIASES.c.project_id == pid, _ALIASES.c.fingerprint.in_(keys)),
    )
    owners = union_all(*owner_selects)
    first_owner = owners.subquery()
    by_project = _F.c.project_id == pid
    _prior = _F.alias("prior")
    since = bindparam("since", type_=_F.c.updated_at.type)
    # The batch's prefetch under the lock: the owners, and on one row beside them what a new failure's
    # number and position follow and whether any failure still lacks its fingerprint — one round trip.
    stats = select(
        select(func.max(_F.c.number)).where(by_project).scalar_subquery().label("max_number"),
        select(func.max(_F.c.position)).where(by_project).scalar_subquery().label("max_position"),
        exists().where(by_project, _F.c.fingerprint.is_(None), _F.c.error_message != "").label("unfingerprinted"),
    ).subquery("stats")
    all_owners = owners.subquery("owners")
    return {
        "lookup": select(first_owner).order_by(first_owner.c.via, first_owner.c.number).limit(1),
        "lookup_all": owners,
        "prefetch": select(stats, all_owners).select_from(stats.outerjoin(all_owners, true())),
        # Before the lock (PostgreSQL): the owners, and the failures changed since the cached knowledge
        # index was read (via 2), in one round trip.
        "owners_and_changed": union_all(
            *owner_selects,
            select(_F, literal(2).label("via"), cast(null(), String).label("matched")).where(
                by_project, _F.c.updated_at >= since
            ),
        ),
        "unfingerprinted": select(_F.c.id)
        .where(by_project, _F.c.fingerprint.is_(None), _F.c.error_message != "")
        .limit(1),
        "insert_failure": insert(_F)
        .values(
            number=select(func.coalesce(func.max(_prior.c.number), 0) + 1)
            .where(_prior.c.project_id == bindparam("b_project"))
            .scalar_subquery(),
            position=select(func.coalesce(func.max(_prior.c.position), 0) + 1)
            .where(_prior.c.project_id == bindparam("b_project"))
            .scalar_subquery(),
        )
        .returning(_F.c.id, _F.c.number),
        "recent_events": select(_EVENTS)
        .where(_EVENTS.c.failure_id == bindparam("fid"))
        .order_by(_EVENTS.c.id.desc())
        .limit(RECENT_EVENTS),
        "potential": select(_POTENTIAL)
        .where(_POTENTIAL.c.project_id == pid)
        .order_by(_POTENTIAL.c.position, _POTENTIAL.c.number),
        "watermark": select(func.max(_F.c.updated_at)).where(by_project),
        "all_failures": select(_F).where(by_project),
        "failures_in": select(_F).where(by_project, _F.c.status.in_(bindparam("statuses", expanding=True))),
        "changed_since": select(_F).where(by_project, _F.c.updated_at >= since),
    }


def _lookup(session: Session, *, project_id: int, keys: Sequence[str]) -> Any:
    """The failure (a row of every column) owning one of ``keys``, directly or through a merge alias; one query."""
    return session.execute(_SQL["lookup"], {"pid": project_id, "keys": list(keys)}).first()


def _has_unfingerprinted(session: Session, *, project_id: int) -> bool:
    """Failures recorded by hand or imported carry no fingerprint until the first miss computes theirs.

    A "no" holds for the rest of the transaction (recognition never stores a failure without one).
    """
    none_left = session.info.setdefault("faultbook_all_fingerprinted", set())
    if project_id in none_left:
        return False
    found = session.execute(_SQL["unfingerprinted"], {"pid": project_id}).first() is not None
    if not found:
        none_left.add(project_id)
    return found


def _insert_failure(session: Session, *, project_id: int, failure: Failure, now: datetime) -> tuple[int, int]:
    """Insert a new failure with the next number and position, computed inside the INSERT itself.

    The caller holds the project lock, so the numbers are gapless; one statement instead of two keeps that
    lock short.
    """
    values = {**_new_row(failure, project_id=project_id, now=now), "b_project": project_id}
    failure_id, number = session.execute(_SQL["insert_failure"], values).one()
    return failure_id, number


def _new_row(failure: Failure, *, project_id: int, now: datetime) -> dict[str, Any]:
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


def explain(
    session: Session,
    *,
    project: ProjectRef,
    text: str,
    code: int | None = None,
    component: str | None = None,
    endpoint: str | None = None,
    limit: int = 3,
) -> list[Match]:
    """What is known about an error text, without a deploy (``faultbook explain``).

    A whole wrangler ``[ERROR]`` block may be pasted: its message, code and API
    path are pulled out first.  Otherwise the code comes from ``[code: N]`` in
    the text.
    """
    message = (text or "").strip()
    if not message:
        raise InputError("no error text to explain")
    from faultbook.capture import extract

    block = extract.extract_wrangler_error(message) if "[ERROR]" in message else None
    if block is not None:
        message = block.message
        code = code if code is not None else block.code
        endpoint = endpoint or block.endpoint
    if code is None:
        code = extract_code(message)
    row_project = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if row_project is None:
        index = KnowledgeIndex(catalog=load_catalog())
    else:
        index = _index(session, project_id=row_project.id, failure_statuses=())
    return index.match(message=message, code=code, component=component, endpoint=endpoint, limit=limit)


def merge_failures(
    session: Session,
    *,
    project: ProjectRef,
    into: int,
    other: int,
    actor: str | None = None,
) -> Failure:
    """Merge failure ``other`` (B) into ``into`` (A), permanently; returns A.

    B's occurrences and deployments move to A; B's fingerprint (and any alias
    of B) becomes an alias of A, so B's error landing later counts on A.  B
    is kept, Resolved, with a "merged into #A" event; A gets a "merged" event.
    """
    if into == other:
        raise InputError(f"cannot merge failure #{into} into itself")
    row_project = repo.get_or_create_project(session, key=project.key, name=project.name)
    repo.lock_project(session, row_project)
    target = repo.get_failure_row(session, project_id=row_project.id, number=into)
    source = repo.get_failure_row(session, project_id=row_project.id, number=other)
    for row, role in ((source, other), (target, into)):
        done = _merged_into(row)
        if done is not None:
            raise ConflictError(
                f"failure #{role} was already merged into failure #{done}",
                hint=f"merge into #{done} instead" if row is target else None,
            )
    now = utcnow()
    moved = session.execute(
        update(OccurrenceRow).where(OccurrenceRow.failure_id == source.id).values(failure_id=target.id)
    ).rowcount or 0
    session.execute(update(DeploymentRow).where(DeploymentRow.failure_id == source.id).values(failure_id=target.id))
    session.execute(
        update(FingerprintAliasRow).where(FingerprintAliasRow.failure_id == source.id).values(failure_id=target.id)
    )
    source_fp = source.fingerprint or _computed(source)
    if source_fp and source_fp != target.fingerprint:
        exists = session.scalar(
            select(FingerprintAliasRow.id).where(
                FingerprintAliasRow.project_id == row_project.id, FingerprintAliasRow.fingerprint == source_fp
            )
        )
        if exists is None:
            session.add(FingerprintAliasRow(project_id=row_project.id, fingerprint=source_fp, failure_id=target.id))
    source.fingerprint = None
    target.occurrence_count = (target.occurrence_count or 1) + (source.occurrence_count or 1)
    target.first_seen = _min(target.first_seen, source.first_seen)
    target.last_seen = _max(target.last_seen, source.last_seen)
    target.updated_at = now
    previous_status = Status(source.status)
    if previous_status is not Status.RESOLVED:
        source.status = Status.RESOLVED.value
        source.resolved_at = now
    suggested = list(source.suggested_fields or [])
    if not (source.resolution or "").strip() or "resolution" in suggested:
        # An unconfirmed suggestion is no resolution: the merge is.
        source.resolution = f"Merged into Failure #{into}."
        source.suggested_fields = [name for name in suggested if name != "resolution"]
    source.updated_at = now
    repo.add_event(
        session,
        source,
        kind="merged-into",
        actor=actor,
        at=now,
        description=f"Merged into Failure #{into}: later occurrences land on #{into}",
        details={"into": into, "from_status": previous_status.value, "fingerprint": source_fp},
    )
    repo.add_event(
        session,
        target,
        kind="merged",
        actor=actor,
        at=now,
        description=f"Failure #{other} merged into this one ({source.occurrence_count} occurrences, "
        f"{moved} occurrence records moved)",
        details={"from": other, "fingerprint": source_fp, "occurrences_moved": moved},
    )
    session.flush()
    session.refresh(target)
    return repo.row_to_failure(target, with_timeline=True)


# ---------------------------------------------------------------- internals


def _recur(
    session: Session,
    *,
    row: Any,
    draft: Failure,
    fp: str,
    at: datetime,
    deployment_id: int | None,
    endpoint: str | None,
    code: int | None,
    actor: str | None,
    detailed: bool = True,
) -> Recognition:
    batch: _Batch | None = session.info.get(_BATCH)
    previous = repo.row_to_failure(row)
    if batch is not None and row.id in batch.updates:
        # Counted earlier in this batch, not yet written: continue from there.
        counted = batch.updates[row.id]
        previous = previous.with_changes(**{**counted, "status": Status(counted["status"])})
    regression = previous.status is Status.RESOLVED
    count = (previous.occurrence_count or 1) + 1
    now = _utc(utcnow())
    changes: dict[str, Any] = {
        "occurrence_count": count,
        "first_seen": _min(previous.first_seen, at),
        "last_seen": _max(previous.last_seen, at),
        "updated_at": now,
    }
    if previous.error_code is None and code is not None:
        changes["error_code"] = code
    details = {"deployment_id": deployment_id, "occurrence": count, "error_message": draft.error_message}
    if regression:
        session.info.pop("faultbook_known_index", None)  # a known failure left the index
        changes["status"] = Status.OPEN.value
        changes["resolved_at"] = None
        event = TimelineEvent(
            at=now,
            kind="regression",
            actor=actor,
            description=f"REGRESSION: resolved failure #{row.number} happened again"
            + (f" in deployment {deployment_id}" if deployment_id is not None else "")
            + "; reopened",
            details={
                **details,
                "previous_status": previous.status.value,
                "previous_resolved_at": previous.resolved_at.isoformat() if previous.resolved_at else None,
                "previous_resolution": previous.resolution,
            },
        )
    else:
        event = TimelineEvent(
            at=now,
            kind="occurrence",
            actor=actor,
            description=f"Seen again (occurrence {count})"
            + (f" in deployment {deployment_id}" if deployment_id is not None else ""),
            details=details,
        )
    counted = {
        "occurrence_count": count,
        "first_seen": changes["first_seen"],
        "last_seen": changes["last_seen"],
        "updated_at": now,
        "error_code": changes.get("error_code", previous.error_code),
        "status": changes.get("status", previous.status.value),
        "resolved_at": changes["resolved_at"] if "resolved_at" in changes else previous.resolved_at,
    }
    if batch is not None:
        batch.updates[row.id] = counted
    else:
        repo.update_many(session, _F, [{"id": row.id, **counted}], keys=("id",))
    _forget(session, FailureRow, row.id)
    _attach(session, failure_id=row.id, project_id=row.project_id, events=[event], draft=draft, fp=fp, at=at,
            deployment_id=deployment_id)
    failure = previous.with_changes(
        occurrence_count=count,
        first_seen=changes["first_seen"],
        last_seen=changes["last_seen"],
        updated_at=now,
        error_code=changes.get("error_code", previous.error_code),
        status=Status.OPEN if regression else previous.status,
        resolved_at=None if regression else previous.resolved_at,
    )
    if not detailed:
        return Recognition(failure=failure, is_new=False, is_regression=regression, matches=[])
    recent = session.execute(_SQL["recent_events"], {"fid": row.id}).all()[::-1]
    failure = failure.with_changes(
        timeline=tuple(
            TimelineEvent(at=e.at, kind=e.kind, description=e.description, actor=e.actor, details=e.details or {})
            for e in recent
        )
    )
    # What was known before this occurrence: the failure itself first, then the catalog's view.
    matches = [ledger_match(previous)]
    catalog = _catalog_index().match(
        message=draft.error_message, code=code, component=draft.component, endpoint=endpoint, limit=2
    )
    matches.extend(m for m in catalog if m.source == "catalog")
    return Recognition(failure=failure, is_new=False, is_regression=regression, matches=matches)


def _attach(
    session: Session,
    *,
    failure_id: int,
    project_id: int,
    events: Sequence[TimelineEvent],
    draft: Failure,
    fp: str,
    at: datetime,
    deployment_id: int | None,
) -> None:
    """The occurrence row, the timeline events, and the deployment pointed at the failure.

    Deferred to the end of the batch inside ``batched`` (the team server); written at once otherwise.
    """
    occurrence = {
        "failure_id": failure_id, "deployment_id": deployment_id, "occurred_at": at,
        "error_message": draft.error_message or "", "fingerprint": fp,
    }
    rows = [
        {"failure_id": failure_id, "at": e.at, "kind": e.kind, "actor": e.actor, "description": e.description,
         "details": e.details}
        for e in events
    ]
    link = [{"id": deployment_id, "project_id": project_id, "failure_id": failure_id}] if deployment_id else []
    batch: _Batch | None = session.info.get(_BATCH)
    if batch is not None:
        batch.occurrences.append(occurrence)
        batch.events.extend(rows)
        batch.deployments.extend(link)
    else:
        _write(session, occurrences=[occurrence], events=rows, links=link)
    if deployment_id is not None:
        _forget(session, DeploymentRow, deployment_id)


def _write(
    session: Session,
    *,
    occurrences: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    links: Sequence[dict[str, Any]],
    counts: Sequence[dict[str, Any]] = (),
) -> None:
    """An occurrence's writes (for a batch: all of them), one statement each whatever their number on
    PostgreSQL (``repo.insert_many``/``update_many``)."""
    repo.update_many(session, _F, counts, keys=("id",))
    repo.insert_many(session, _OCCURRENCES, occurrences, returning=())
    repo.insert_many(session, _EVENTS, events, returning=())
    repo.update_many(session, _DEPLOYMENTS, links, keys=("id", "project_id"))


_BATCH = "faultbook_recognition_batch"


@dataclass
class _Batch:
    """Writes deferred to the end of a batch (``updates`` also tells what they will make of each failure).

    After ``prefetch``, lookups are answered from memory (the failures owning the batch's fingerprints,
    read once under the lock, and the failures this batch creates) and new failures are inserted at the
    end too, under negative stand-in ids that the flush replaces with the real ones.
    """

    occurrences: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    #: failure id -> its counted columns (what ``_recur`` continues from when it recurs again).
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: fingerprint -> failure rows, (direct, through an alias); None until ``prefetch``.
    prefetched: tuple[dict[str, list[Any]], dict[str, list[Any]]] | None = None
    #: Failures created in this batch, in order: (stand-in row, insert values).
    pending: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    pending_by_fp: dict[str, Any] = field(default_factory=dict)
    numbers: tuple[int, int] | None = None

    def find(self, keys: Sequence[str]) -> Any:
        """As ``_lookup`` would answer with this batch's failures already stored: a direct fingerprint
        match with the lowest number (stored ones number below this batch's), else an alias."""
        assert self.prefetched is not None
        direct, aliased = self.prefetched
        rows = [r for k in keys for r in direct.get(k, ())]
        if rows:
            return min(rows, key=lambda r: r.number)
        pending = [self.pending_by_fp[k] for k in keys if k in self.pending_by_fp]
        if pending:
            return min(pending, key=lambda r: r.number)
        rows = [r for k in keys for r in aliased.get(k, ())]
        return min(rows, key=lambda r: r.number) if rows else None

    def defer_failure(self, *, project_id: int, failure: Failure, now: datetime) -> tuple[int, int]:
        assert self.numbers is not None  # (read by ``prefetch``, under the lock)
        number, position = self.numbers[0] + 1, self.numbers[1] + 1
        self.numbers = (number, position)
        values = {**_new_row(failure, project_id=project_id, now=now), "number": number, "position": position}
        stand_in = -(len(self.pending) + 1)
        row = SimpleNamespace(id=stand_in, **values)
        self.pending.append((row, values))
        if failure.fingerprint:
            self.pending_by_fp.setdefault(failure.fingerprint, row)
        return stand_in, number

    def flush(self, session: Session) -> None:
        ids: dict[int, int] = {}
        if self.pending:
            rows = []
            for row, values in self.pending:
                later = self.updates.pop(row.id, None)
                if later is not None:  # seen again within the batch: insert the counted state
                    values = {**values, **later}
                rows.append(values)
            by_number = dict(repo.insert_many(session, _F, rows, returning=("number", "id")))
            ids = {row.id: by_number[row.number] for row, _ in self.pending}

        def real(failure_id: int) -> int:
            """A failure's id: a stand-in (negative) one replaced by the id it was inserted under."""
            return ids[failure_id] if failure_id < 0 else failure_id

        _write(
            session,
            counts=[{"id": failure_id, **counted} for failure_id, counted in self.updates.items()],
            occurrences=[{**o, "failure_id": real(o["failure_id"])} for o in self.occurrences],
            events=[{**e, "failure_id": real(e["failure_id"])} for e in self.events],
            links=[{**d, "failure_id": real(d["failure_id"])} for d in self.deployments],
        )


def suggest(session: Session, *, project_id: int, drafts: Sequence[Failure]) -> list[list[Match] | None]:
    """The knowledge base's matches for each draft that no failure owns yet (None for the others).

    On PostgreSQL this reads without the project lock (one query for all the drafts' fingerprints), so
    that a batch does its matching while other writers hold the lock; ``record_occurrence`` decides
    again under the lock.  After ``prefetch`` (SQLite, whose lock is held from BEGIN) the prefetched
    owners answer.
    """
    batch: _Batch | None = session.info.get(_BATCH)
    prints = [fingerprints_of(d) for d in drafts]
    owned: set[str] = set()
    if batch is not None and batch.prefetched is not None:
        owned.update(batch.prefetched[0])
        owned.update(batch.prefetched[1])
    else:
        memo = session.info.setdefault("faultbook_known_index", {})
        # The cached knowledge index's changes are read with the first chunk's owners (one round trip).
        since = None if project_id in memo else _cached_watermark(session, project_id, KNOWN_FIXED)
        changed: list[Any] = []
        for n, chunk in enumerate(_chunks(sorted({k for keys in prints for k in keys}))):
            if n == 0 and since is not None:
                rows = session.execute(_SQL["owners_and_changed"], {"pid": project_id, "keys": chunk, "since": since})
            else:
                rows = session.execute(_SQL["lookup_all"], {"pid": project_id, "keys": chunk})
            for r in rows:
                if r.via == 2:
                    changed.append(r)
                else:
                    owned.add(r.matched)
        if since is not None and drafts:
            memo[project_id] = _index(session, project_id=project_id, failure_statuses=KNOWN_FIXED, changed_rows=changed)
    return [
        None if owned.intersection(keys)
        else _new_matches(session, project_id=project_id, draft=draft, code=_code_of(draft), endpoint=None)
        for draft, keys in zip(drafts, prints)
    ]


def fingerprints_of(draft: Failure) -> list[str]:
    """The fingerprints ``record_occurrence`` looks this draft up by."""
    return fingerprints(draft.error_message, code=_code_of(draft), component=draft.component)


def _code_of(draft: Failure) -> int | None:
    """The draft's API error code: as given, else as written in its message."""
    return draft.error_code if draft.error_code is not None else extract_code(draft.error_message)


def prefetch(session: Session, *, project_id: int, keys: Sequence[str]) -> bool:
    """Take the project lock and read under it the failures owning any of ``keys`` for the batch's lookups,
    with the numbers new failures follow — one round trip for a batch's fingerprints (up to 500).

    Returns False (and leaves the batch reading the database per report) when the project has failures
    without a fingerprint: the first miss fingerprints them (``_backfill_fingerprints``), which a
    prefetched answer would not see.
    """
    batch: _Batch | None = session.info.get(_BATCH)
    if batch is None:
        return False
    repo.lock_project(session, project_id)
    direct: dict[str, list[Any]] = {}
    aliased: dict[str, list[Any]] = {}
    for n, chunk in enumerate(_chunks(keys) or [[]]):
        rows = session.execute(_SQL["prefetch" if n == 0 else "lookup_all"], {"pid": project_id, "keys": chunk}).all()
        if n == 0:
            first = rows[0]
            if first.unfingerprinted:
                return False
            session.info.setdefault("faultbook_all_fingerprinted", set()).add(project_id)
            batch.numbers = (first.max_number or 0, first.max_position or 0)
        for row in rows:
            if row.via == 0:
                direct.setdefault(row.matched, []).append(row)
            elif row.via == 1:
                aliased.setdefault(row.matched, []).append(row)
    batch.prefetched = (direct, aliased)
    return True


def _chunks(keys: Sequence[str], size: int = 500) -> list[list[str]]:
    """``keys`` in lists of at most ``size`` (an IN list of bounded length)."""
    return [list(keys[start : start + size]) for start in range(0, len(keys), size)]


@contextlib.contextmanager
def batched(session: Session) -> Iterator[_Batch]:
    """Record many occurrences in this transaction with their writes sent together at the end.

    Inside the block ``record_occurrence`` defers the occurrence rows, timeline events, occurrence
    counts and deployment links — and, after ``prefetch``, the new failures themselves — and they go
    out as one multi-row statement each when the block ends: a handful of round trips per batch
    instead of several per report.  Nothing is written if the block raises (the caller's transaction
    is rolled back anyway).
    """
    existing = session.info.get(_BATCH)
    if existing is not None:
        yield existing
        return
    batch = session.info[_BATCH] = _Batch()
    try:
        yield batch
        batch.flush(session)
    finally:
        session.info.pop(_BATCH, None)


def _forget(session: Session, model: type, ident: int) -> None:
    """Expire an ORM copy of a row this module changed with plain SQL, so the session reads it afresh."""
    obj = session.identity_map.get(session.identity_key(model, ident))  # type: ignore[arg-type]
    if obj is not None:
        session.expire(obj)


_CATALOG_INDEX: list[KnowledgeIndex] = []


def _catalog_index() -> KnowledgeIndex:
    if not _CATALOG_INDEX:
        _CATALOG_INDEX.append(KnowledgeIndex(catalog=load_catalog()))
    return _CATALOG_INDEX[0]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def _backfill_fingerprints(session: Session, *, project_id: int, keys: Sequence[str]) -> FailureRow | None:
    """Fingerprint failures that have none (recorded by hand, imported); return one matching ``keys``."""
    rows = session.scalars(
        select(FailureRow)
        .where(FailureRow.project_id == project_id, FailureRow.fingerprint.is_(None), FailureRow.error_message != "")
        .order_by(FailureRow.number)
    ).all()
    if not rows:  # the common case: every failure already has its fingerprint
        return None
    found: FailureRow | None = None
    aliased = set(
        session.scalars(select(FingerprintAliasRow.fingerprint).where(FingerprintAliasRow.project_id == project_id))
    )
    taken = set(
        session.scalars(
            select(FailureRow.fingerprint).where(FailureRow.project_id == project_id, FailureRow.fingerprint.is_not(None))
        )
    )
    for row in rows:
        if _merged_into(row) is not None:
            continue  # a merged failure's fingerprint lives on as an alias
        fp = _computed(row)
        if fp is None or fp in aliased or fp in taken:
            continue
        row.fingerprint = fp
        taken.add(fp)
        if row.error_code is None:
            row.error_code = extract_code(row.error_message)
        if found is None and fp in keys:
            found = row
    session.flush()
    return found


def _merged_into(row: FailureRow) -> int | None:
    for event in row.events:
        if event.kind == "merged-into":
            return (event.details or {}).get("into")
    return None


def _computed(row: FailureRow) -> str | None:
    if not row.error_message:
        return None
    return fingerprint(row.error_message, code=row.error_code, component=row.component)


def _index_key(session: Session, project_id: int, statuses: set[str]) -> tuple:
    return (str(session.get_bind().url), project_id, tuple(sorted(statuses)))


def _cached_watermark(session: Session, project_id: int, failure_statuses: Sequence[Status]) -> datetime | None:
    """The watermark of the cached index ``_index`` would update (None when it would read from scratch)."""
    entry = _INDEXES.get(_index_key(session, project_id, {s.value for s in failure_statuses}))
    if entry is None or entry.index is None or time.monotonic() - entry.built_at > FULL_REBUILD_SECONDS:
        return None
    return entry.watermark


def _index(
    session: Session, *, project_id: int, failure_statuses: Sequence[Status], changed_rows: Sequence[Any] | None = None
) -> KnowledgeIndex:
    """The knowledge index over the catalog, the potential failures and the known failures.

    Building it reads every resolved failure (about 250 ms at 10,000), so a long-lived process (the team
    server) keeps it and, on each use, reads only what changed: the potential failures (few; compared by
    value) and the failures whose ``updated_at`` is at or after the newest one it has seen (an indexed
    query that usually returns the one or two failures recorded since).  It is rebuilt only when a failure
    entered, left or changed within ``failure_statuses``, and from scratch every ``FULL_REBUILD_SECONDS`` in
    case a writer on another machine stamps ``updated_at`` from a clock running behind this one.
    ``changed_rows``: those failures, when the caller read them already (``suggest``, with its lookup) from the
    cached index's watermark (``_cached_watermark``).
    """
    potential_rows = session.execute(_SQL["potential"], {"pid": project_id}).all()
    potential_values = [tuple(r) for r in potential_rows]
    statuses = {s.value for s in failure_statuses}
    key = _index_key(session, project_id, statuses)
    entry = _INDEXES.get(key)
    now = time.monotonic()
    changed = False
    if entry is None or now - entry.built_at > FULL_REBUILD_SECONDS:
        # The watermark first: whatever changes after it is read again next time (>=).
        watermark = session.execute(_SQL["watermark"], {"pid": project_id}).scalar()
        rows = (
            session.execute(_SQL["failures_in"], {"pid": project_id, "statuses": sorted(statuses)})
            if statuses
            else session.execute(_SQL["all_failures"], {"pid": project_id})
        )
        failures = {r.number: repo.row_to_failure(r) for r in rows}
        entry = _CachedIndex(index=None, failures=failures, potential=None, watermark=watermark, built_at=now)
        changed = True
    else:
        if changed_rows is not None and entry.watermark is not None:
            rows = changed_rows
        elif entry.watermark is not None:
            rows = session.execute(_SQL["changed_since"], {"pid": project_id, "since": entry.watermark})
        else:
            rows = session.execute(_SQL["all_failures"], {"pid": project_id})
        for r in rows:
            if entry.watermark is None or r.updated_at > entry.watermark:
                entry.watermark = r.updated_at
            if not statuses or r.status in statuses:
                failure = repo.row_to_failure(r)
                if entry.failures.get(r.number) != failure:
                    entry.failures[r.number] = failure
                    changed = True
            elif entry.failures.pop(r.number, None) is not None:
                changed = True
    if entry.potential != potential_values:
        entry.potential = potential_values
        changed = True
    if changed or entry.index is None:
        potential = [repo.row_to_potential(r) for r in potential_rows]
        entry.index = KnowledgeIndex(catalog=load_catalog(), potential=potential, failures=entry.failures.values())
    _INDEXES.pop(key, None)
    _INDEXES[key] = entry
    while len(_INDEXES) > 8:
        _INDEXES.pop(next(iter(_INDEXES)))
    return entry.index


@dataclass
class _CachedIndex:
    index: KnowledgeIndex | None
    #: The failures in the index by number (the ledger's failures in the wanted statuses).
    failures: dict[int, Failure]
    potential: list[tuple] | None
    #: The newest ``updated_at`` read so far.
    watermark: datetime | None
    built_at: float


_INDEXES: dict[tuple, _CachedIndex] = {}
#: The cached index is rebuilt from scratch at least this often (see ``_index``).
FULL_REBUILD_SECONDS = 60.0

#: A recognised occurrence returns the failure with only its newest events: the timeline of a failure seen
#: thousands of times would otherwise be read in full on every occurrence.
RECENT_EVENTS = 20


def _describe(match: Match) -> str:
    if match.source == "ledger":
        return f"Failure #{match.failure_number}"
    if match.source == "catalog":
        code = f" {match.code}" if match.code is not None else ""
        return f"known Cloudflare error{code} ({match.title})"
    return f"Potential Failure #{match.failure_number} ({match.title})"


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


_SQL = _statements()
