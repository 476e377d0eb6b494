"""The ledger's verbs: record, list, show, update, import, export.

Each function takes a session (one transaction, owned by the caller) and the
project key, and returns domain values.  None of them prints or commits: the
CLI and the web layer share these exact code paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from faultbook.capture.scrub import scrub_fields
from faultbook.domain import (
    Failure,
    PotentialFailure,
    Status,
    ensure_aware,
    utcnow,
    TimelineKind,
)
from faultbook.capture.extract import clean_message
from faultbook.errors import ConflictError, InputError
from faultbook.services.project import ProjectRef  # re-exported: callers import it from here
from faultbook.store import repo
from faultbook.store.tables import FailureRow, PotentialFailureRow, ProjectRow, TimelineRow

if TYPE_CHECKING:
    from faultbook.capture.scrub import Scrubber

#: Larger documents are refused before parsing (a 10,000-failure log is about 10 MB).
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024


def record_failure(
    session: Session,
    *,
    project: ProjectRef,
    failure: Failure,
    actor: str | None = None,
    source: str = "recorded",
    pasted: bool = False,
    scrubber: "Scrubber | None" = None,
) -> Failure:
    """Store a new failure; allocates the next number unless ``failure.number`` is set.

    ``pasted``: the error message is what a person pasted or typed (``record``, the dashboard's form):
    raw output (a wrangler block, a CI log with its timestamps) is reduced to its error the way ``run``
    and ``explain`` read it; what a person typed as the message is kept as written
    (``capture.extract.clean_message``).

    Numbers are gapless and unique under concurrency: the project row is
    locked (PostgreSQL) or the write lock held from BEGIN (SQLite) while the
    next number is computed and inserted.  Its texts are scrubbed first (a token pasted into a failure
    recorded by hand is not kept): with ``scrubber`` (the caller's environment) or the shape rules.
    """
    if pasted:
        failure = with_clean_message(failure)
    failure = failure.with_changes(**scrub_fields(_texts(failure), scrubber=scrubber))
    failure = validate_failure(failure)
    row_project = repo.get_or_create_project(session, key=project.key, name=project.name)
    repo.lock_project(session, row_project)
    number = failure.number
    if number is None:
        number = repo.next_number(session, FailureRow, row_project.id)
    elif repo.existing_numbers(session, FailureRow, row_project.id, [number]):
        raise ConflictError(f"failure #{number} already exists")
    now = utcnow()
    occurred = ensure_aware(failure.occurred_at) if failure.occurred_at else now
    row = FailureRow(
        project_id=row_project.id,
        number=number,
        position=repo.next_position(session, FailureRow, row_project.id),
        created_at=now,
        updated_at=now,
        resolved_at=now if failure.status is Status.RESOLVED else None,
        occurrence_count=max(failure.occurrence_count, 1),
        first_seen=failure.first_seen or occurred,
        last_seen=failure.last_seen or occurred,
        **{**repo.failure_values(failure), "occurred_at": occurred},
    )
    session.add(row)
    session.flush()
    repo.add_event(
        session,
        row,
        kind=TimelineKind.CREATED,
        actor=actor,
        description=f"Failure #{number} {source}: {failure.title}",
        details={"status": failure.status.value},
    )
    session.flush()
    session.refresh(row)
    return repo.row_to_failure(row, with_timeline=True)


def with_clean_message(failure: Failure) -> Failure:
    """``failure`` with its error message as faultbook stores it (``capture.extract.clean_message``).

    Raw output sent in a team report or found in an imported ledger is reduced to its error the
    way ``run`` would have; a message is kept as written, so importing a ledger again changes nothing.
    """
    message = clean_message(failure.error_message or "")
    return failure if message == (failure.error_message or "") else failure.with_changes(error_message=message)


def _texts(failure: Failure) -> dict[str, str]:
    return {name: value for name in Failure.EDITABLE if type(value := getattr(failure, name)) is str}


def list_failures(
    session: Session,
    *,
    project: ProjectRef,
    status: Sequence[Status] = (),
    component: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    order: str = "position",
    limit: int | None = None,
    offset: int = 0,
) -> list[Failure]:
    from faultbook.domain.limits import MAX_SEARCH_CHARS

    if component is not None and len(component) > MAX_SEARCH_CHARS:
        raise InputError(f"the component to look for is {len(component):,} characters; at most {MAX_SEARCH_CHARS:,}")
    row_project = _find_project(session, project)
    if row_project is None:
        return []
    rows = repo.query_failures(
        session,
        project_id=row_project.id,
        status=status,
        component=component,
        since=since,
        until=until,
        order=order,
        limit=limit,
        offset=offset,
    )
    return [repo.row_to_failure(r) for r in rows]


def get_failure(session: Session, *, project: ProjectRef, number: int) -> Failure:
    row_project = _require_project(session, project)
    row = repo.get_failure_row(session, project_id=row_project.id, number=number)
    return repo.row_to_failure(row, with_timeline=True)


def update_failure(
    session: Session,
    *,
    project: ProjectRef,
    number: int,
    changes: Mapping[str, Any],
    actor: str | None = None,
    scrubber: "Scrubber | None" = None,
) -> Failure:
    """Change any editable field; a status change goes on the timeline with who and when.

    Editing a field that was pre-filled as a suggestion confirms it.  New texts are scrubbed (see
    ``record_failure``).
    """
    unknown = set(changes) - set(Failure.EDITABLE)
    if unknown:
        raise InputError(f"not an editable field: {', '.join(sorted(unknown))}")
    changes = scrub_fields(changes, scrubber=scrubber)
    row_project = _require_project(session, project)
    row = repo.get_failure_row(session, project_id=row_project.id, number=number)
    current = repo.row_to_failure(row)
    values = dict(changes)
    if "status" in values and not isinstance(values["status"], Status):
        try:
            values["status"] = Status.parse(str(values["status"]))
        except ValueError as exc:
            raise InputError(str(exc)) from None
    if "occurred_at" in values and values["occurred_at"] is not None:
        values["occurred_at"] = ensure_aware(values["occurred_at"])
    updated = current.with_changes(**values)
    updated = validate_failure(updated)
    changed = [name for name in values if getattr(current, name) != getattr(updated, name)]
    if not changed:
        return repo.row_to_failure(row, with_timeline=True)
    now = utcnow()
    for name in changed:
        value = getattr(updated, name)
        setattr(row, name, value.value if isinstance(value, Status) else value)
    row.suggested_fields = [f for f in (row.suggested_fields or []) if f not in changed]
    row.updated_at = now
    if "status" in changed:
        row.resolved_at = now if updated.status is Status.RESOLVED else None
        repo.add_event(
            session,
            row,
            kind=TimelineKind.STATUS,
            actor=actor,
            at=now,
            description=f"Status changed from {current.status.label} to {updated.status.label}",
            details={"from": current.status.value, "to": updated.status.value},
        )
    other = [name for name in changed if name != "status"]
    if other:
        repo.add_event(
            session,
            row,
            kind=TimelineKind.EDITED,
            actor=actor,
            at=now,
            description="Edited " + ", ".join(other),
            details={"fields": other},
        )
    session.flush()
    session.refresh(row)
    return repo.row_to_failure(row, with_timeline=True)


def list_potential_failures(session: Session, *, project: ProjectRef) -> list[PotentialFailure]:
    row_project = _find_project(session, project)
    if row_project is None:
        return []
    return [repo.row_to_potential(r) for r in repo.query_potential(session, project_id=row_project.id)]


# ---------------------------------------------------------------- Markdown


@dataclass(frozen=True)
class ImportResult:
    path: str | None
    created: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    potential_created: tuple[int, ...] = ()
    potential_updated: tuple[int, ...] = ()
    warnings: tuple[str, ...] = field(default=())


def read_document(path: Path) -> str:
    """Read a Markdown log, refusing what cannot be one (larger than ``MAX_DOCUMENT_BYTES`` as read,
    not as ``stat`` says: ``/dev/zero`` has size 0; binary; not UTF-8)."""
    from faultbook.files import read_capped

    data = read_capped(path, limit=MAX_DOCUMENT_BYTES, what="a Markdown document")
    return decode_document(data, path=str(path))


def decode_document(data: bytes, *, path: str | None) -> str:
    nul = data.find(b"\x00")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError("binary data (a NUL byte), not a Markdown document", path=path, line=line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError("not UTF-8 text", path=path, line=line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n")


def import_document(
    session: Session,
    *,
    project: ProjectRef,
    text: str,
    path: str | None = None,
    update: bool = False,
    actor: str | None = None,
) -> ImportResult:
    """Merge a Markdown document into the ledger, all or nothing.

    The document's prose becomes the project's layout.  A failure or
    potential-failure number that already exists is a conflict (nothing is
    written) unless ``update`` is set, in which case those records are
    overwritten from the document.
    """
    from faultbook.markdown import parse_document

    document = parse_document(text, path=path)
    row_project = repo.get_or_create_project(session, key=project.key, name=project.name)
    repo.lock_project(session, row_project)

    failure_numbers = [f.number for f in document.failures if f.number is not None]
    potential_numbers = [p.number for p in document.potential_failures if p.number is not None]
    clash = repo.existing_numbers(session, FailureRow, row_project.id, failure_numbers)
    clash_potential = repo.existing_numbers(session, PotentialFailureRow, row_project.id, potential_numbers)
    if (clash or clash_potential) and not update:
        parts = []
        if clash:
            parts.append("failures " + ", ".join(f"#{n}" for n in sorted(clash)))
        if clash_potential:
            parts.append("potential failures " + ", ".join(f"#{n}" for n in sorted(clash_potential)))
        raise ConflictError(
            f"{path or 'the document'}: the ledger already has {' and '.join(parts)}; nothing was imported",
            hint="use --update to overwrite them from the document",
        )

    now = utcnow()
    source = Path(path).name if path else "a document"
    created, updated = _import_failures(session, row_project, document.failures, clash, now, source, actor)
    p_created, p_updated = _import_potential(session, row_project, document.potential_failures, clash_potential)
    row_project.document_layout = repo.layout_to_json(document.layout)
    session.flush()
    return ImportResult(
        path=path,
        created=tuple(created),
        updated=tuple(updated),
        potential_created=tuple(p_created),
        potential_updated=tuple(p_updated),
    )


def _import_failures(
    session: Session,
    project: ProjectRow,
    failures: Sequence[Failure],
    clash: set[int],
    now: datetime,
    source: str,
    actor: str | None,
) -> tuple[list[int], list[int]]:
    created: list[int] = []
    updated: list[int] = []
    position = repo.next_position(session, FailureRow, project.id)
    new_rows: list[dict[str, Any]] = []
    for failure in failures:
        values = repo.failure_values(with_clean_message(failure))
        if failure.number in clash:
            row = repo.get_failure_row(session, project_id=project.id, number=failure.number)
            old_status = row.status
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
            if old_status != row.status:
                row.resolved_at = now if row.status == Status.RESOLVED.value else None
            repo.add_event(
                session, row, kind=TimelineKind.IMPORTED, actor=actor, at=now, description=f"Updated from {source}"
            )
            updated.append(failure.number)
            continue
        occurred = failure.occurred_at
        new_rows.append(
            {
                **values,
                "project_id": project.id,
                "number": failure.number,
                "position": position,
                "created_at": now,
                "updated_at": now,
                "resolved_at": (occurred or now) if failure.status is Status.RESOLVED else None,
                "occurrence_count": 1,
                "first_seen": occurred,
                "last_seen": occurred,
            }
        )
        position += 1
    if new_rows:
        # Bulk path: one executemany for 10,000 rows instead of 10,000 ORM flushes.  No RETURNING:
        # SQLAlchemy's ordered insertmanyvalues is quadratic on SQLite; the new rows are the ones at
        # or after the first new position, so one SELECT finds their ids.
        connection = session.connection()  # Core executemany: the ORM bulk path splits into many statements
        connection.execute(insert(cast(Table, FailureRow.__table__)), new_rows)
        ids = session.execute(
            select(FailureRow.id, FailureRow.number)
            .where(FailureRow.project_id == project.id, FailureRow.position >= new_rows[0]["position"])
            .order_by(FailureRow.position)
        ).all()
        connection.execute(
            insert(cast(Table, TimelineRow.__table__)),
            [
                {
                    "failure_id": fid,
                    "at": now,
                    "kind": TimelineKind.IMPORTED,
                    "actor": actor,
                    "description": f"Imported from {source}",
                    "details": {},
                }
                for fid, _ in ids
            ],
        )
        created = [number for _, number in ids]
    return created, updated


def _import_potential(
    session: Session,
    project: ProjectRow,
    items: Sequence[PotentialFailure],
    clash: set[int],
) -> tuple[list[int], list[int]]:
    created: list[int] = []
    updated: list[int] = []
    position = repo.next_position(session, PotentialFailureRow, project.id)
    for item in items:
        number = item.number if item.number is not None else repo.next_number(session, PotentialFailureRow, project.id)
        if number in clash:
            row = session.scalar(
                select(PotentialFailureRow).where(
                    PotentialFailureRow.project_id == project.id, PotentialFailureRow.number == number
                )
            )
            assert row is not None
            for key, value in repo.potential_values(item).items():
                setattr(row, key, value)
            updated.append(number)
            continue
        session.add(
            PotentialFailureRow(project_id=project.id, number=number, position=position, **repo.potential_values(item))
        )
        position += 1
        created.append(number)
    session.flush()
    return created, updated


def export_document(session: Session, *, project: ProjectRef) -> str:
    """The whole ledger in the seed's Markdown layout.

    Prose comes from the last imported document (or the default layout);
    failures and potential failures are rendered from the database in
    document order, new ones after the imported ones.
    """
    from faultbook.markdown import default_layout, render_document

    row_project = _find_project(session, project)
    if row_project is None or row_project.document_layout is None:
        layout = default_layout(project.name)
    else:
        layout = repo.layout_from_json(row_project.document_layout)
    failures: list[Failure] = []
    potential: list[PotentialFailure] = []
    if row_project is not None:
        failures = [repo.row_to_failure(r) for r in repo.query_failures(session, project_id=row_project.id)]
        potential = [repo.row_to_potential(r) for r in repo.query_potential(session, project_id=row_project.id)]
    return render_document(layout=layout, failures=failures, potential_failures=potential)


# ---------------------------------------------------------------- helpers


def _find_project(session: Session, project: ProjectRef) -> ProjectRow | None:
    return session.scalar(select(ProjectRow).where(ProjectRow.key == project.key))


def _require_project(session: Session, project: ProjectRef) -> ProjectRow:
    from faultbook.errors import NotFoundError

    row = _find_project(session, project)
    if row is None:
        raise NotFoundError(f"the ledger of project '{project.key}' is empty")
    return row


#: Text fields kept on one line by the Markdown block (a heading, ``Component``, ``Deployment Step``).
ONE_LINE_FIELDS = ("title", "component", "component_detail", "step")
TEXT_FIELDS = ONE_LINE_FIELDS + ("error_message", "root_cause", "resolution", "lessons_learned")


def validate_failure(failure: Failure) -> Failure:
    """``failure`` as the ledger stores it, or an InputError saying what cannot be stored.

    Every way in (``record``, ``update``, the API, ``run``) passes here, so the
    rules are the same everywhere: the number and times inside ``domain.limits``;
    NUL and undecodable bytes escaped (``storable``); one-line fields on one line
    and trimmed; a component and detail that the Markdown log reads back as they
    were (``Back (end)`` without a detail would come back as "Back" + "end").
    """
    from faultbook.capture.scrub import storable
    from faultbook.domain import limits
    from faultbook.markdown.fields import format_component, parse_component

    if failure.number is not None:
        limits.check_number(failure.number)
    for name in ("occurred_at", "first_seen", "last_seen"):
        value = getattr(failure, name)
        if value is not None:
            limits.check_time(value, what=name.replace("_", " "))
    changes: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = getattr(failure, name)
        if value is None:
            continue
        clean = storable(value)
        if name in ONE_LINE_FIELDS:
            if "\n" in clean or "\r" in clean:
                raise InputError(f"a failure's {name.replace('_', ' ')} is one line (it has a line break)")
            clean = clean.strip()
        if clean != value:
            changes[name] = clean
    if changes:
        failure = failure.with_changes(**changes)
    if not failure.title:
        raise InputError("a failure needs a title")
    if not failure.component:
        raise InputError("a failure needs a component (Backend, Frontend, Assets, DNS or your own)")
    detail = failure.component_detail or None
    if parse_component(format_component(failure.component, detail)) != (failure.component, detail):
        raise InputError(
            f"component {failure.component!r}"
            + (f" with detail {detail!r}" if detail else "")
            + " would read back differently from the Markdown log: give the part in parentheses as the "
            "component detail (--component-detail), with balanced parentheses"
        )
    return failure
