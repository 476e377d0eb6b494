"""The ledger's verbs on SQLite and PostgreSQL (the `backend` fixture parametrises every test)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect

from faultbook.domain import Failure, Status
from faultbook.errors import ConflictError, InputError, NotFoundError
from faultbook.services import ledger

UTC = timezone.utc


def make_failure(**overrides):
    values = dict(
        number=None,
        title="Incorrect Images Binding Type",
        occurred_at=datetime(2025, 8, 20, 14, 15, tzinfo=UTC),
        component="Backend",
        component_detail="Cloudflare Worker",
        step="Worker deployment",
        error_message="binding IMAGES has an unknown type Images [code: 10021]",
        root_cause='The Images binding type was "Images"',
        resolution='Changed the type:\n```toml\ntype = "images"\n```',
        status=Status.OPEN,
        lessons_learned="Binding types are case-sensitive.",
    )
    values.update(overrides)
    return Failure(**values)


def test_record_allocates_numbers_and_keeps_every_field(database, project):
    with database.session(write=True) as s:
        first = ledger.record_failure(s, project=project, failure=make_failure())
        second = ledger.record_failure(s, project=project, failure=make_failure(title="Missing R2 Buckets"))
    assert (first.number, second.number) == (1, 2)
    with database.session() as s:
        stored = ledger.get_failure(s, project=project, number=1)
    assert stored.to_json() == make_failure(number=1).to_json()
    assert stored.occurred_at == datetime(2025, 8, 20, 14, 15, tzinfo=UTC)
    assert stored.occurred_at.tzinfo is not None
    assert [e.kind for e in stored.timeline] == ["created"]


def test_time_with_offset_is_stored_as_the_same_instant(database, project):
    cest = timezone(timedelta(hours=2))
    with database.session(write=True) as s:
        f = ledger.record_failure(
            s, project=project, failure=make_failure(occurred_at=datetime(2025, 8, 20, 16, 15, tzinfo=cest))
        )
    with database.session() as s:
        stored = ledger.get_failure(s, project=project, number=f.number)
    assert stored.occurred_at == datetime(2025, 8, 20, 14, 15, tzinfo=UTC)
    assert stored.to_json()["occurred_at"] == "2025-08-20T14:15:00+00:00"


def test_status_change_goes_on_the_timeline_and_sets_resolved_at(database, project):
    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=make_failure())
    with database.session(write=True) as s:
        f = ledger.update_failure(s, project=project, number=1, changes={"status": "✅ Resolved"}, actor="ana")
    assert f.status is Status.RESOLVED
    assert f.resolved_at is not None
    status_events = [e for e in f.timeline if e.kind == "status"]
    assert len(status_events) == 1
    assert status_events[0].actor == "ana"
    assert status_events[0].details == {"from": "open", "to": "resolved"}
    with database.session(write=True) as s:
        f = ledger.update_failure(s, project=project, number=1, changes={"status": Status.OPEN})
    assert f.resolved_at is None
    assert [e.kind for e in f.timeline] == ["created", "status", "status"]


def test_update_of_unknown_field_or_number_is_refused(database, project):
    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=make_failure())
    with pytest.raises(InputError, match="not an editable field: colour"):
        with database.session(write=True) as s:
            ledger.update_failure(s, project=project, number=1, changes={"colour": "red"})
    with pytest.raises(NotFoundError, match="no failure #7"):
        with database.session(write=True) as s:
            ledger.update_failure(s, project=project, number=7, changes={"title": "x"})
    with pytest.raises(InputError, match="unknown status 'fixed'"):
        with database.session(write=True) as s:
            ledger.update_failure(s, project=project, number=1, changes={"status": "fixed"})


def test_list_filters_by_status_component_and_text(database, project):
    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=make_failure())
        ledger.record_failure(
            s,
            project=project,
            failure=make_failure(
                title="Pages 404", component="Frontend", error_message="Project not found 100%_done", status=Status.RESOLVED
            ),
        )
        ledger.record_failure(s, project=project, failure=make_failure(title="DNS", component="DNS", status=Status.WORKAROUND))
    with database.session() as s:
        def numbers(**kw):
            return [f.number for f in ledger.list_failures(s, project=project, **kw)]

        assert numbers() == [1, 2, 3]
        assert numbers(status=[Status.RESOLVED, Status.WORKAROUND]) == [2, 3]
        assert numbers(component="frontend") == [2]
        # Text is the one search (services.search), shared with the dashboard: tests/web/test_one_search.py.


def test_projects_in_one_database_do_not_see_each_other(database, project):
    other = ledger.ProjectRef(key=project.key + "-other", name="Other")
    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=make_failure())
        ledger.record_failure(s, project=other, failure=make_failure(title="Other's"))
    with database.session() as s:
        assert [f.title for f in ledger.list_failures(s, project=other)] == ["Other's"]
        assert ledger.get_failure(s, project=other, number=1).title == "Other's"


def test_a_failed_transaction_leaves_nothing(database, project):
    with pytest.raises(RuntimeError):
        with database.session(write=True) as s:
            ledger.record_failure(s, project=project, failure=make_failure())
            raise RuntimeError("boom")
    with database.session() as s:
        assert ledger.list_failures(s, project=project) == []


def test_explicit_number_that_exists_is_a_conflict(database, project):
    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=make_failure(number=5))
    with pytest.raises(ConflictError, match="#5 already exists"):
        with database.session(write=True) as s:
            ledger.record_failure(s, project=project, failure=make_failure(number=5))
    with database.session(write=True) as s:
        assert ledger.record_failure(s, project=project, failure=make_failure()).number == 6


def test_schema_after_migrating_an_empty_database(fresh_db_url):
    """The migrations create exactly the tables and columns the code maps (no drift)."""
    from faultbook.store.db import Database
    from faultbook.store.migrations import HEAD
    from faultbook.store.tables import Base

    db = Database(fresh_db_url)
    try:
        assert db.current_revision() == HEAD
        inspector = inspect(db.engine)
        # SQLite's FTS5 index (failures_fts and its shadow tables) is maintained by triggers, not mapped.
        tables = {t for t in inspector.get_table_names() if not t.startswith("failures_fts")} - {"alembic_version"}
        assert tables == set(Base.metadata.tables)
        # PostgreSQL's stored full-text column (0003_search) is written by the database, not mapped.
        unmapped = {"failures": {"search_vector"}} if db.dialect == "postgresql" else {}
        for name, table in Base.metadata.tables.items():
            columns = {c["name"] for c in inspector.get_columns(name)} - unmapped.get(name, set())
            assert columns == {c.name for c in table.columns}, name
        assert {c["name"] for c in inspector.get_columns("failures")} >= {
            "number", "title", "occurred_at", "component", "component_detail", "step", "error_message",
            "root_cause", "resolution", "status", "lessons_learned", "created_at", "updated_at", "resolved_at",
        }
        assert db.upgrade() is False  # already current: a no-op
    finally:
        db.dispose()


def test_head_constant_matches_alembic():
    from alembic.script import ScriptDirectory

    from faultbook.store.db import alembic_config
    from faultbook.store.migrations import HEAD

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


def test_timeline_kinds_are_stored_as_their_readable_names(database, project):
    from faultbook.domain import TimelineKind

    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=make_failure())
        ledger.update_failure(s, project=project, number=1, changes={"status": Status.RESOLVED})
    with database.session() as s:
        kinds = [e.kind for e in ledger.get_failure(s, project=project, number=1).timeline]
    assert kinds == ["created", "status"]  # the stored strings, as the API shows them
    assert kinds == [TimelineKind.CREATED, TimelineKind.STATUS]
    assert TimelineKind("merged-into") is TimelineKind.MERGED_INTO  # older rows' spellings stay valid
