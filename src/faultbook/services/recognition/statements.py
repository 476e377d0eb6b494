"""The SQL statements of the recognition path, built once with bind parameters.

Building a SQLAlchemy statement costs more than running it on SQLite; a team server runs these for every
report, so they are made once at import (``STATEMENTS``, immutable) and only executed afterwards — SQLAlchemy
then also reuses the compiled SQL from its cache.
"""

from __future__ import annotations

from dataclasses import dataclass
import typing
from typing import Any

from sqlalchemy import String, Table, bindparam, cast, exists, func, insert, literal, null, select, true, union_all
from sqlalchemy.sql.elements import BindParameter

from faultbook.store.tables import (
    DeploymentRow,
    FailureRow,
    FingerprintAliasRow,
    OccurrenceRow,
    PotentialFailureRow,
    TimelineRow,
)

FAILURES = typing.cast(Table, FailureRow.__table__)
ALIASES = typing.cast(Table, FingerprintAliasRow.__table__)
EVENTS = typing.cast(Table, TimelineRow.__table__)
OCCURRENCES = typing.cast(Table, OccurrenceRow.__table__)
DEPLOYMENTS = typing.cast(Table, DeploymentRow.__table__)
POTENTIAL = typing.cast(Table, PotentialFailureRow.__table__)

#: A recognised occurrence returns the failure with only its newest events: the timeline of a failure seen
#: thousands of times would otherwise be read in full on every occurrence.
RECENT_EVENTS = 20


@dataclass(frozen=True)
class Statements:
    #: The failure (every column, plus ``via`` and ``matched``) owning one of ``keys``: direct first, lowest number.
    lookup: Any
    #: Every failure owning one of ``keys``, directly (via 0) or through a merge alias (via 1).
    lookup_all: Any
    #: ``lookup_all`` beside one row of what new failures' numbers follow and whether any lacks a fingerprint.
    prefetch: Any
    #: ``lookup_all`` plus the failures changed since a watermark (via 2), in one round trip.
    owners_and_changed: Any
    unfingerprinted: Any
    #: A new failure, numbered inside the INSERT itself (the caller holds the project lock).
    insert_failure: Any
    recent_events: Any
    potential: Any
    watermark: Any
    all_failures: Any
    failures_in: Any
    changed_since: Any


def _build() -> Statements:
    _F = FAILURES
    pid: BindParameter[int] = bindparam("pid")
    keys: BindParameter[list[str]] = bindparam("keys", expanding=True)
    owner_selects = (
        select(_F, literal(0).label("via"), _F.c.fingerprint.label("matched")).where(
            _F.c.project_id == pid, _F.c.fingerprint.in_(keys)
        ),
        select(_F, literal(1).label("via"), ALIASES.c.fingerprint.label("matched"))
        .join(ALIASES, ALIASES.c.failure_id == _F.c.id)
        .where(ALIASES.c.project_id == pid, ALIASES.c.fingerprint.in_(keys)),
    )
    owners = union_all(*owner_selects)
    first_owner = owners.subquery()
    by_project = _F.c.project_id == pid
    prior = _F.alias("prior")
    since = bindparam("since", type_=_F.c.updated_at.type)
    stats = select(
        select(func.max(_F.c.number)).where(by_project).scalar_subquery().label("max_number"),
        select(func.max(_F.c.position)).where(by_project).scalar_subquery().label("max_position"),
        exists().where(by_project, _F.c.fingerprint.is_(None), _F.c.error_message != "").label("unfingerprinted"),
    ).subquery("stats")
    all_owners = owners.subquery("owners")
    return Statements(
        lookup=select(first_owner).order_by(first_owner.c.via, first_owner.c.number).limit(1),
        lookup_all=owners,
        prefetch=select(stats, all_owners).select_from(stats.outerjoin(all_owners, true())),
        owners_and_changed=union_all(
            *owner_selects,
            select(_F, literal(2).label("via"), cast(null(), String).label("matched")).where(
                by_project, _F.c.updated_at >= since
            ),
        ),
        unfingerprinted=select(_F.c.id).where(by_project, _F.c.fingerprint.is_(None), _F.c.error_message != "").limit(1),
        insert_failure=insert(_F)
        .values(
            number=select(func.coalesce(func.max(prior.c.number), 0) + 1)
            .where(prior.c.project_id == bindparam("b_project"))
            .scalar_subquery(),
            position=select(func.coalesce(func.max(prior.c.position), 0) + 1)
            .where(prior.c.project_id == bindparam("b_project"))
            .scalar_subquery(),
        )
        .returning(_F.c.id, _F.c.number),
        recent_events=select(EVENTS)
        .where(EVENTS.c.failure_id == bindparam("fid"))
        .order_by(EVENTS.c.id.desc())
        .limit(RECENT_EVENTS),
        potential=select(POTENTIAL).where(POTENTIAL.c.project_id == pid).order_by(POTENTIAL.c.position, POTENTIAL.c.number),
        watermark=select(func.max(_F.c.updated_at)).where(by_project),
        all_failures=select(_F).where(by_project),
        failures_in=select(_F).where(by_project, _F.c.status.in_(bindparam("statuses", expanding=True))),
        changed_since=select(_F).where(by_project, _F.c.updated_at >= since),
    )


STATEMENTS = _build()
