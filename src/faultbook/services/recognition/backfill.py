"""Fingerprints for failures recorded by hand or imported from Markdown, computed on the first miss.

Such failures carry no fingerprint until recognition misses once; then every one of them gets its
fingerprint (once), so the seed's Failure #1 is recognised when its error comes back.  A merged failure's
fingerprint lives on as an alias of the failure it was merged into, so it is skipped.
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from faultbook.knowledge.fingerprint import extract_code, fingerprint
from faultbook.store.tables import FailureRow, FingerprintAliasRow


def backfill_fingerprints(session: Session, *, project_id: int, keys: Sequence[str]) -> FailureRow | None:
    """Fingerprint failures that have none; return one matching ``keys`` (None if none does)."""
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
        if merged_into(row) is not None:
            continue
        fp = computed_fingerprint(row)
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


def merged_into(row: FailureRow) -> int | None:
    """The number of the failure this one was merged into, if it was (the ``merged_into`` column)."""
    return row.merged_into


def computed_fingerprint(row: FailureRow) -> str | None:
    if not row.error_message:
        return None
    return fingerprint(row.error_message, code=row.error_code, component=row.component)
