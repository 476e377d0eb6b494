"""Queries and the mapping between rows and domain values.

Services call these with a session they were given; nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from faultbook.domain import (
    TimelineKind,
    Deployment,
    DeploymentOutcome,
    DocumentPart,
    Failure,
    FailuresSlot,
    PotentialFailure,
    PotentialFailuresSlot,
    Section,
    Status,
    TimelineEvent,
    ensure_aware,
    utcnow,
)
from faultbook.domain.classify import classify_command
from faultbook.errors import NotFoundError
from faultbook.store.tables import (
    DeploymentRow,
    FailureRow,
    PotentialFailureRow,
    ProjectRow,
    TimelineRow,
)

# ---------------------------------------------------------------- projects


def get_or_create_project(session: Session, *, key: str, name: str | None = None) -> ProjectRow:
    # Several services ask for the project within one transaction (a CI report: ingest, recognise, record);
    # the row is remembered on the session, which lives exactly as long as the transaction.
    cache = session.info.setdefault("faultbook_projects", {})
    project = cache.get(key)
    if project is not None:
        return project
    project = _get_or_create_project(session, key=key, name=name)
    cache[key] = project
    return project


def _get_or_create_project(session: Session, *, key: str, name: str | None) -> ProjectRow:
    project = session.scalar(select(ProjectRow).where(ProjectRow.key == key))
    if project is None:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            # Two first writers of a project race here; ON CONFLICT lets the loser read the winner's row.
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            session.execute(
                pg_insert(ProjectRow)
                .values(key=key, name=name or key, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["key"])
            )
            project = session.scalar(select(ProjectRow).where(ProjectRow.key == key))
            assert project is not None
            return project
        project = ProjectRow(key=key, name=name or key, created_at=utcnow())
        session.add(project)
        session.flush()
    return project


def project_id(session: Session, *, key: str, name: str | None = None) -> int:
    """The project's id, created if need be (remembered for the transaction, like ``get_or_create_project``)."""
    known = session.info.setdefault("faultbook_project_ids", {})
    found = known.get(key)
    if found is None:
        found = session.scalar(_PROJECT_ID, {"key": key})
        if found is None:
            found = get_or_create_project(session, key=key, name=name).id
        known[key] = found
    return found


def remember_project_id(session: Session, *, key: str, project_id: int) -> None:
    """Tell ``project_id`` the id a long-running caller already knows (saves this transaction a query)."""
    session.info.setdefault("faultbook_project_ids", {})[key] = project_id


_PROJECT_ID = select(ProjectRow.id).where(ProjectRow.key == bindparam("key"))


def lock_project(session: Session, project: ProjectRow | int) -> None:
    """Serialise writers that allocate numbers (PostgreSQL; SQLite holds BEGIN IMMEDIATE).

    Taken once per transaction: a row lock lasts until the transaction ends.
    """
    if session.get_bind().dialect.name == "postgresql":
        pid = project if isinstance(project, int) else project.id
        held = session.info.setdefault("faultbook_locked_projects", set())
        if pid in held:
            return
        # FOR NO KEY UPDATE, not FOR UPDATE: rows inserted with a foreign key to the project (a report's
        # deployment, before recognition takes this lock) hold FOR KEY SHARE on it, which FOR UPDATE would
        # wait for — two such reports would deadlock.  NO KEY UPDATE still excludes every other writer here.
        session.execute(select(ProjectRow.id).where(ProjectRow.id == pid).with_for_update(key_share=True))
        held.add(pid)


def holds_project_lock(session: Session, project_id: int) -> bool:
    return project_id in session.info.get("faultbook_locked_projects", ())


def next_number(session: Session, model: "type[FailureRow] | type[PotentialFailureRow]", project_id: int) -> int:
    """The number after the highest; never past ``limits.MAX_NUMBER`` (an InputError says the ledger is full)."""
    from faultbook.domain.limits import MAX_NUMBER
    from faultbook.errors import InputError

    current = session.scalar(select(func.max(model.number)).where(model.project_id == project_id))
    if (current or 0) >= MAX_NUMBER:
        raise InputError(
            f"the ledger already has number {current}, the highest there is ({MAX_NUMBER}): "
            "give the new one a free number below it"
        )
    return (current or 0) + 1


def next_position(session: Session, model: "type[FailureRow] | type[PotentialFailureRow]", project_id: int) -> int:
    current = session.scalar(select(func.max(model.position)).where(model.project_id == project_id))
    return (current or 0) + 1


def layout_to_json(layout: Sequence[DocumentPart]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in layout:
        if isinstance(part, Section):
            out.append({"section": part.text})
        elif isinstance(part, (FailuresSlot, PotentialFailuresSlot)):
            slot: dict[str, Any] = {"slot": "failures" if isinstance(part, FailuresSlot) else "potential_failures"}
            if part.verbatim:
                slot["verbatim"] = [list(pair) for pair in part.verbatim]
            out.append(slot)
    return out


def layout_from_json(data: Iterable[dict[str, Any]]) -> tuple[DocumentPart, ...]:
    parts: list[DocumentPart] = []
    for item in data:
        if "section" in item:
            parts.append(Section(item["section"]))
        elif item.get("slot") in ("failures", "potential_failures"):
            verbatim = tuple((str(a), str(b)) for a, b in item.get("verbatim", ()))
            slot_type = FailuresSlot if item["slot"] == "failures" else PotentialFailuresSlot
            parts.append(slot_type(verbatim))
    return tuple(parts)


# ---------------------------------------------------------------- failures


def failure_values(failure: Failure) -> dict[str, Any]:
    """The row columns a Failure sets (numbering, position and times are the caller's)."""
    return {
        "title": failure.title,
        "occurred_at": failure.occurred_at,
        "component": failure.component,
        "component_detail": failure.component_detail,
        "step": failure.step or "",
        "error_message": failure.error_message or "",
        "root_cause": failure.root_cause or "",
        "resolution": failure.resolution or "",
        "status": failure.status.value,
        "lessons_learned": failure.lessons_learned or "",
        "fingerprint": failure.fingerprint,
        "error_code": failure.error_code,
        "suggested_fields": list(failure.suggested_fields),
    }


def row_to_failure(row: FailureRow, *, with_timeline: bool = False, recent_events: int | None = None) -> Failure:
    """``recent_events``: only the newest N timeline events (a failure seen 10,000 times has 10,000 of them)."""
    timeline: tuple[TimelineEvent, ...] = ()
    if with_timeline:
        if recent_events is None:
            events = list(row.events)
        else:
            from sqlalchemy.orm import object_session

            session = object_session(row)
            assert session is not None
            events = list(
                session.scalars(
                    select(TimelineRow)
                    .where(TimelineRow.failure_id == row.id)
                    .order_by(TimelineRow.id.desc())
                    .limit(recent_events)
                )
            )[::-1]
        timeline = tuple(
            TimelineEvent(at=e.at, kind=e.kind, description=e.description, actor=e.actor, details=e.details or {})
            for e in events
        )
    return Failure(
        number=row.number,
        title=row.title,
        occurred_at=row.occurred_at,
        component=row.component,
        component_detail=row.component_detail,
        step=row.step,
        error_message=row.error_message,
        root_cause=row.root_cause,
        resolution=row.resolution,
        status=Status(row.status),
        lessons_learned=row.lessons_learned,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        occurrence_count=row.occurrence_count,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        fingerprint=row.fingerprint,
        error_code=row.error_code,
        suggested_fields=tuple(row.suggested_fields or ()),
        timeline=timeline,
    )


def get_failure_row(session: Session, *, project_id: int, number: int) -> FailureRow:
    row = session.scalar(
        select(FailureRow).where(FailureRow.project_id == project_id, FailureRow.number == number)
    )
    if row is None:
        raise NotFoundError(f"there is no failure #{number}")
    return row


def existing_numbers(session: Session, model: "type[FailureRow] | type[PotentialFailureRow]", project_id: int, numbers: Iterable[int]) -> set[int]:
    wanted = list(set(numbers))
    found: set[int] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            session.scalars(select(model.number).where(model.project_id == project_id, model.number.in_(chunk)))
        )
    return found


def query_failures(
    session: Session,
    *,
    project_id: int,
    status: Sequence[Status] = (),
    component: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    order: str = "position",
    limit: int | None = None,
    offset: int = 0,
) -> list[FailureRow]:
    stmt = select(FailureRow).where(FailureRow.project_id == project_id)
    if status:
        stmt = stmt.where(FailureRow.status.in_([s.value for s in status]))
    if component:
        stmt = stmt.where(func.lower(FailureRow.component) == component.lower())
    if since:
        stmt = stmt.where(FailureRow.occurred_at >= since)
    if until:
        stmt = stmt.where(FailureRow.occurred_at < until)
    ordering = {
        "position": (FailureRow.position, FailureRow.number),
        "number": (FailureRow.number,),
        "occurred_at": (FailureRow.occurred_at, FailureRow.number),
        "-occurred_at": (FailureRow.occurred_at.desc(), FailureRow.number.desc()),
        "-number": (FailureRow.number.desc(),),
    }[order]
    stmt = stmt.order_by(*ordering).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def add_event(
    session: Session,
    row: FailureRow,
    *,
    kind: TimelineKind,
    description: str,
    actor: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        TimelineRow(
            failure_id=row.id,
            at=at or utcnow(),
            kind=TimelineKind(kind).value,
            actor=actor,
            description=description,
            details=details or {},
        )
    )


# ---------------------------------------------------------------- potential failures


def potential_values(item: PotentialFailure) -> dict[str, Any]:
    return {
        "title": item.title,
        "component": item.component,
        "step": item.step,
        "possible_error_messages": list(item.possible_error_messages),
        "likely_root_causes": list(item.likely_root_causes),
        "planned_resolution": list(item.planned_resolution),
        "prevention": list(item.prevention),
    }


def row_to_potential(row: PotentialFailureRow) -> PotentialFailure:
    return PotentialFailure(
        number=row.number,
        title=row.title,
        component=row.component,
        step=row.step,
        possible_error_messages=tuple(row.possible_error_messages or ()),
        likely_root_causes=tuple(row.likely_root_causes or ()),
        planned_resolution=tuple(row.planned_resolution or ()),
        prevention=tuple(row.prevention or ()),
    )


def query_potential(session: Session, *, project_id: int) -> list[PotentialFailureRow]:
    return list(
        session.scalars(
            select(PotentialFailureRow)
            .where(PotentialFailureRow.project_id == project_id)
            .order_by(PotentialFailureRow.position, PotentialFailureRow.number)
        )
    )


# ---------------------------------------------------------------- deployments


def row_to_deployment(row: DeploymentRow, *, failure_number: int | None = None) -> Deployment:
    return Deployment(
        id=row.id,
        key=row.key,
        started_at=row.started_at,
        finished_at=row.finished_at,
        command=row.command,
        outcome=DeploymentOutcome(row.outcome),
        component=row.component,
        step=row.step,
        environment=row.environment,
        cwd=row.cwd,
        exit_code=row.exit_code,
        git_commit=row.git_commit,
        git_branch=row.git_branch,
        git_dirty=row.git_dirty,
        config_hash=row.config_hash,
        version_id=row.version_id,
        url=row.url,
        failure_number=failure_number,
        kind=row.kind or classify_command(row.command),
    )


# ---------------------------------------------------------------- many rows in one statement (PostgreSQL)


def insert_many(
    session: Session,
    table: Any,
    rows: Sequence[dict[str, Any]],
    *,
    returning: Sequence[str],
    skip_conflicts_on: Sequence[str] = (),
) -> list[Any]:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one statement; returns the
    ``returning`` columns of the inserted rows, in no particular order.

    On PostgreSQL the rows travel as one JSON parameter (``json_to_recordset``), so the statement's
    text is the same whatever the number of rows: psycopg parses it once and prepares it once (a
    multi-row VALUES list changes with every batch size, and psycopg re-parses a text over 4 KB on
    every execution: 0.5 ms of CPU for a batch of four reports).  Elsewhere SQLAlchemy's multi-row
    insert.  ``skip_conflicts_on``: the unique columns of ``ON CONFLICT (...) DO NOTHING``.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    columns = tuple(rows[0])
    key = ("insert", dialect, table.name, columns, tuple(returning), tuple(skip_conflicts_on))
    statement = _MANY.get(key)
    if dialect != "postgresql":
        if statement is None:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(table)
            if skip_conflicts_on:
                statement = statement.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
            if returning:
                statement = statement.returning(*(table.c[c] for c in returning))
            _MANY[key] = statement
        result = session.execute(statement, list(rows))
        return list(result.all()) if returning else []
    if statement is None:
        from sqlalchemy import text

        names = ", ".join(f'"{c}"' for c in columns)
        conflict = f" ON CONFLICT ({', '.join(skip_conflicts_on)}) DO NOTHING" if skip_conflicts_on else ""
        back = f" RETURNING {', '.join(returning)}" if returning else ""
        statement = _MANY[key] = text(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {_recordset(table, columns)}{conflict}{back}"
        )
    result = session.execute(statement, {"rows": _payload(rows, columns)})
    return list(result.all()) if returning else []


def update_many(session: Session, table: Any, rows: Sequence[dict[str, Any]], *, keys: Sequence[str]) -> None:
    """Set each row's other columns where its ``keys`` columns match, in one statement on PostgreSQL
    (``UPDATE ... FROM json_to_recordset``, see ``insert_many``); elsewhere one UPDATE per row."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    columns = tuple(rows[0])
    values = [c for c in columns if c not in keys]
    key = ("update", dialect, table.name, columns, tuple(keys))
    statement = _MANY.get(key)
    if dialect != "postgresql":
        if statement is None:
            from sqlalchemy import update

            statement = _MANY[key] = (
                update(table)
                .where(*(table.c[k] == bindparam("k_" + k, type_=table.c[k].type) for k in keys))
                .values({c: bindparam("v_" + c, type_=table.c[c].type) for c in values})
            )
        session.execute(
            statement, [{("k_" if c in keys else "v_") + c: v for c, v in row.items()} for row in rows]
        )
        return
    if statement is None:
        from sqlalchemy import text

        assignments = ", ".join(f'"{c}" = r."{c}"' for c in values)
        match = " AND ".join(f't."{k}" = r."{k}"' for k in keys)
        statement = _MANY[key] = text(
            f"UPDATE {table.name} AS t SET {assignments} FROM {_recordset(table, columns)} WHERE {match}"
        )
    session.execute(statement, {"rows": _payload(rows, columns)})


_MANY: dict[tuple, Any] = {}


def _recordset(table: Any, columns: Sequence[str]) -> str:
    """``json_to_recordset(:rows) AS r(<column> <type>, ...)`` with the table's own column types."""
    from sqlalchemy.dialects import postgresql

    pg = postgresql.dialect()
    types = ", ".join(f'"{c}" {table.c[c].type.compile(dialect=pg)}' for c in columns)
    return f"json_to_recordset(CAST(:rows AS json)) AS r({types})"


def _payload(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    import json

    return json.dumps([{c: _jsonable(row[c]) for c in columns} for row in rows])


def _jsonable(value: Any) -> Any:
    return ensure_aware(value).isoformat() if isinstance(value, datetime) else value
