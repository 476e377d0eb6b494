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

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from faultbook.capture.fingerprint import extract_code, fingerprint, fingerprints
from faultbook.domain import Failure, PotentialFailure, Status, ensure_aware, utcnow
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
    ProjectRow,
)

__all__ = [
    "Recognition",
    "record_occurrence",
    "explain",
    "merge_failures",
    "render_match",
    "find_by_fingerprint",
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
) -> Recognition:
    """Count this error on its failure (reopening a resolved one) or record a new failure with suggestions.

    ``source`` names where a new failure came from on its "created" event: ``captured`` by a local
    ``faultbook run``, ``reported`` to a team server.
    """
    row_project = repo.get_or_create_project(session, key=project.key, name=project.name)
    repo.lock_project(session, row_project)
    code = draft.error_code if draft.error_code is not None else extract_code(draft.error_message)
    keys = fingerprints(draft.error_message, code=code, component=draft.component)
    at = ensure_aware(draft.occurred_at) if draft.occurred_at else utcnow()

    row = find_by_fingerprint(session, project_id=row_project.id, keys=keys)
    if row is None:
        row = _backfill_fingerprints(session, project_id=row_project.id, keys=keys)
    if row is not None:
        return _recur(session, row=row, draft=draft, fp=keys[0], at=at, deployment_id=deployment_id,
                      endpoint=endpoint, code=code, actor=actor)

    index = _index(session, project_id=row_project.id, failure_statuses=KNOWN_FIXED)
    matches = index.match(message=draft.error_message, code=code, component=draft.component, endpoint=endpoint)
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
    stored = ledger.record_failure(session, project=project, failure=new, actor=actor, source=source)
    row = repo.get_failure_row(session, project_id=row_project.id, number=stored.number)
    _add_occurrence(session, row=row, draft=draft, fp=keys[0], at=at, deployment_id=deployment_id)
    if filled and best is not None:
        repo.add_event(
            session,
            row,
            kind="suggested",
            actor="faultbook",
            description=f"Suggested {' and '.join(n.replace('_', ' ') for n in filled)} from "
            f"{_describe(best)} (not confirmed)",
            details={"fields": list(filled), "source": best.source, "known_error_id": best.known_error_id,
                     "failure_number": best.failure_number, "score": round(best.score, 3)},
        )
    session.flush()
    session.refresh(row)
    return Recognition(failure=repo.row_to_failure(row, with_timeline=True), is_new=True, is_regression=False,
                       matches=matches)


def find_by_fingerprint(session: Session, *, project_id: int, keys: Sequence[str]) -> FailureRow | None:
    """The failure owning one of these fingerprints, directly or through a merge alias (two index lookups)."""
    keys = list(keys)
    row = session.scalars(
        select(FailureRow)
        .where(FailureRow.project_id == project_id, FailureRow.fingerprint.in_(keys))
        .order_by(FailureRow.number)
        .limit(1)
    ).first()
    if row is not None:
        return row
    failure_id = session.scalar(
        select(FingerprintAliasRow.failure_id).where(
            FingerprintAliasRow.project_id == project_id, FingerprintAliasRow.fingerprint.in_(keys)
        ).limit(1)
    )
    return session.get(FailureRow, failure_id) if failure_id is not None else None


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
    row: FailureRow,
    draft: Failure,
    fp: str,
    at: datetime,
    deployment_id: int | None,
    endpoint: str | None,
    code: int | None,
    actor: str | None,
) -> Recognition:
    previous = repo.row_to_failure(row)
    regression = previous.status is Status.RESOLVED
    row.occurrence_count = (row.occurrence_count or 1) + 1
    row.first_seen = _min(row.first_seen, at)
    row.last_seen = _max(row.last_seen, at)
    row.updated_at = utcnow()
    if row.error_code is None and code is not None:
        row.error_code = code
    _add_occurrence(session, row=row, draft=draft, fp=fp, at=at, deployment_id=deployment_id)
    details = {"deployment_id": deployment_id, "occurrence": row.occurrence_count, "error_message": draft.error_message}
    if regression:
        row.status = Status.OPEN.value
        row.resolved_at = None
        repo.add_event(
            session,
            row,
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
        repo.add_event(
            session,
            row,
            kind="occurrence",
            actor=actor,
            description=f"Seen again (occurrence {row.occurrence_count})"
            + (f" in deployment {deployment_id}" if deployment_id is not None else ""),
            details=details,
        )
    session.flush()
    session.refresh(row)
    failure = repo.row_to_failure(row, with_timeline=True, recent_events=RECENT_EVENTS)
    # What was known before this occurrence: the failure itself first, then the catalog's view.
    matches = [ledger_match(previous)]
    catalog = KnowledgeIndex(catalog=load_catalog()).match(
        message=draft.error_message, code=code, component=draft.component, endpoint=endpoint, limit=2
    )
    matches.extend(m for m in catalog if m.source == "catalog")
    return Recognition(failure=failure, is_new=False, is_regression=regression, matches=matches)


def _add_occurrence(
    session: Session, *, row: FailureRow, draft: Failure, fp: str, at: datetime, deployment_id: int | None
) -> None:
    session.add(
        OccurrenceRow(
            failure_id=row.id,
            deployment_id=deployment_id,
            occurred_at=at,
            error_message=draft.error_message or "",
            fingerprint=fp,
        )
    )
    if deployment_id is not None:
        deployment = session.get(DeploymentRow, deployment_id)
        if deployment is not None and deployment.project_id == row.project_id:
            deployment.failure_id = row.id


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


def _index(session: Session, *, project_id: int, failure_statuses: Sequence[Status]) -> KnowledgeIndex:
    """The knowledge index over the catalog, the potential failures and the known failures.

    Building it reads every resolved failure (about 250 ms at 10,000), so a long-lived process (the team
    server) keeps the last few and reuses one while its inputs are unchanged: the potential failures (few,
    read each time and compared by value) and the failures' count and newest ``updated_at``.
    """
    potential: list[PotentialFailure] = [
        repo.row_to_potential(r) for r in repo.query_potential(session, project_id=project_id)
    ]
    stmt = select(func.count(FailureRow.id), func.max(FailureRow.updated_at)).where(FailureRow.project_id == project_id)
    if failure_statuses:
        stmt = stmt.where(FailureRow.status.in_([s.value for s in failure_statuses]))
    count, newest = session.execute(stmt).one()
    key = (str(session.get_bind().url), project_id, tuple(failure_statuses), count, newest, tuple(potential))
    cached = _INDEXES.get(key)
    if cached is not None:
        return cached
    failures = [repo.row_to_failure(r) for r in repo.query_failures(session, project_id=project_id,
                                                                      status=failure_statuses, order="number")]
    index = KnowledgeIndex(catalog=load_catalog(), potential=potential, failures=failures)
    if len(_INDEXES) >= 8:
        _INDEXES.pop(next(iter(_INDEXES)))
    _INDEXES[key] = index
    return index


_INDEXES: dict[tuple, KnowledgeIndex] = {}

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
