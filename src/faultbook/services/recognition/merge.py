"""Merging two failures, and explaining an error without a deploy.

Merging (``merge_failures``) is permanent: B's fingerprint becomes an alias of A, so later occurrences of B
land on A.  B stays in the ledger (numbers are never reused and the Markdown log keeps it) with status
Resolved and a "merged into #A" event; its resolution, if empty or only suggested, becomes
"Merged into Failure #A.".
"""

from __future__ import annotations

import typing
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from faultbook.knowledge.fingerprint import extract_code
from faultbook.domain import Failure, Status, TimelineKind, utcnow
from faultbook.errors import ConflictError, InputError
from faultbook.knowledge.match import Match
from faultbook.services.ledger import ProjectRef
from faultbook.services.recognition.backfill import computed_fingerprint, merged_into
from faultbook.services.recognition.knowledge_cache import KnowledgeCache
from faultbook.services.recognition.rule import earliest, latest
from faultbook.store import repo
from faultbook.store.tables import DeploymentRow, FingerprintAliasRow, OccurrenceRow, ProjectRow


def explain(
    session: Session,
    *,
    project: ProjectRef,
    text: str,
    code: int | None = None,
    component: str | None = None,
    endpoint: str | None = None,
    limit: int = 3,
    knowledge: KnowledgeCache | None = None,
) -> list[Match]:
    """What is known about an error text, without a deploy (``faultbook explain``).

    The text is read by the extractor ``run`` uses (``capture.extract.extract_text``): a whole deploy
    log may be pasted, CI prefixes and all, and the error ``run`` would have stored is what is matched,
    with its code and API path.  ``knowledge``: the app's cache (a fresh one when not given).
    """
    message = (text or "").strip()
    if not message:
        raise InputError("no error text to explain")
    from faultbook.capture import extract

    found = extract.extract_text(message)
    if found is not None:
        message = found.message
        code = code if code is not None else found.code
        endpoint = endpoint or found.endpoint
    if code is None:
        code = extract_code(message)
    cache = knowledge if knowledge is not None else KnowledgeCache()
    row_project = session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))
    if row_project is None:
        index = cache.catalog()
    else:
        index = cache.index(session, project_id=row_project.id, statuses=())
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

    B's occurrences and deployments move to A; B's fingerprint (and any alias of B) becomes an alias of A, so
    B's error landing later counts on A.  B is kept, Resolved, with a "merged into #A" event; A gets a
    "merged" event.
    """
    if into == other:
        raise InputError(f"cannot merge failure #{into} into itself")
    row_project = repo.get_or_create_project(session, key=project.key, name=project.name)
    repo.lock_project(session, row_project)
    target = repo.get_failure_row(session, project_id=row_project.id, number=into)
    source = repo.get_failure_row(session, project_id=row_project.id, number=other)
    for row, role in ((source, other), (target, into)):
        done = merged_into(row)
        if done is not None:
            raise ConflictError(
                f"failure #{role} was already merged into failure #{done}",
                hint=f"merge into #{done} instead" if row is target else None,
            )
    now = utcnow()
    moved = typing.cast(
        "CursorResult[Any]",
        session.execute(update(OccurrenceRow).where(OccurrenceRow.failure_id == source.id).values(failure_id=target.id)),
    ).rowcount or 0
    session.execute(update(DeploymentRow).where(DeploymentRow.failure_id == source.id).values(failure_id=target.id))
    session.execute(
        update(FingerprintAliasRow).where(FingerprintAliasRow.failure_id == source.id).values(failure_id=target.id)
    )
    source_fp = source.fingerprint or computed_fingerprint(source)
    if source_fp and source_fp != target.fingerprint:
        exists = session.scalar(
            select(FingerprintAliasRow.id).where(
                FingerprintAliasRow.project_id == row_project.id, FingerprintAliasRow.fingerprint == source_fp
            )
        )
        if exists is None:
            session.add(FingerprintAliasRow(project_id=row_project.id, fingerprint=source_fp, failure_id=target.id))
    source.fingerprint = None
    source.merged_into = into
    target.occurrence_count = (target.occurrence_count or 1) + (source.occurrence_count or 1)
    target.first_seen = earliest(target.first_seen, source.first_seen)
    target.last_seen = latest(target.last_seen, source.last_seen)
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
        kind=TimelineKind.MERGED_INTO,
        actor=actor,
        at=now,
        description=f"Merged into Failure #{into}: later occurrences land on #{into}",
        details={"into": into, "from_status": previous_status.value, "fingerprint": source_fp},
    )
    repo.add_event(
        session,
        target,
        kind=TimelineKind.MERGED,
        actor=actor,
        at=now,
        description=f"Failure #{other} merged into this one ({source.occurrence_count} occurrences, "
        f"{moved} occurrence records moved)",
        details={"from": other, "fingerprint": source_fp, "occurrences_moved": moved},
    )
    session.flush()
    session.refresh(target)
    return repo.row_to_failure(target, with_timeline=True)
