"""repo.insert_many / update_many: many rows in one statement, stored exactly as the ORM would store them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from faultbook.store import repo
from faultbook.store.tables import DeploymentRow, FailureRow, ProjectRow, TimelineRow

T0 = datetime(2025, 8, 20, 14, 10, tzinfo=timezone(timedelta(hours=2)))  # not UTC on purpose


def deployment(project_id: int, key: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    return {"project_id": project_id, "key": key, "started_at": T0, "finished_at": None, "command": "npx wrangler deploy",
            "outcome": "failed", "git_dirty": extra.get("git_dirty"), "exit_code": extra.get("exit_code"),
            "output_tail": extra.get("output_tail")}


def test_rows_go_in_with_their_types_and_conflicts_are_skipped(database, project) -> None:  # type: ignore[no-untyped-def]
    table = DeploymentRow.__table__
    with database.session(write=True) as s:
        pid = repo.project_id(s, key=project.key, name=project.name)
        rows = [deployment(pid, "a", git_dirty=True, exit_code=1, output_tail='quote " and \\ and ✓'),
                deployment(pid, "b", git_dirty=False)]
        first = repo.insert_many(s, table, rows, returning=("id", "key"), skip_conflicts_on=("project_id", "key"))
        assert sorted(k for _, k in first) == ["a", "b"]
        again = repo.insert_many(s, table, [deployment(pid, "b"), deployment(pid, "c")], returning=("id", "key"),
                                 skip_conflicts_on=("project_id", "key"))
        assert [k for _, k in again] == ["c"]  # "b" exists: skipped, not returned
    with database.session() as s:
        stored = {d.key: d for d in s.scalars(select(DeploymentRow).where(DeploymentRow.project_id == pid))}
    assert sorted(stored) == ["a", "b", "c"]
    a = stored["a"]
    assert a.started_at == T0 and a.started_at.utcoffset() == timedelta(0)  # the same instant, read back in UTC
    assert (a.git_dirty, a.exit_code, a.output_tail, a.finished_at) == (True, 1, 'quote " and \\ and ✓', None)
    assert stored["b"].git_dirty is False and stored["c"].git_dirty is None


def test_update_many_changes_only_the_rows_whose_keys_match(database, project) -> None:  # type: ignore[no-untyped-def]
    table = DeploymentRow.__table__
    with database.session(write=True) as s:
        pid = repo.project_id(s, key=project.key, name=project.name)
        ids = dict((k, i) for i, k in repo.insert_many(s, table, [deployment(pid, "x"), deployment(pid, "y")],
                                                          returning=("id", "key")))
        repo.update_many(s, table, [
            {"id": ids["x"], "project_id": pid, "outcome": "succeeded"},
            {"id": ids["y"], "project_id": pid + 1000, "outcome": "succeeded"},  # another project: untouched
        ], keys=("id", "project_id"))
    with database.session() as s:
        outcomes = {d.key: d.outcome for d in s.scalars(select(DeploymentRow).where(DeploymentRow.project_id == pid))}
    assert outcomes == {"x": "succeeded", "y": "failed"}


def test_json_columns_and_insertion_order(database, project) -> None:  # type: ignore[no-untyped-def]
    from faultbook.domain import Failure
    from faultbook.services import ledger

    with database.session(write=True) as s:
        failure = ledger.record_failure(s, project=project, failure=Failure(number=None, title="t", component="Backend",
                                                                          occurred_at=None))
    with database.session(write=True) as s:
        fid = s.scalar(select(FailureRow.id).where(FailureRow.number == failure.number)
                       .join(ProjectRow).where(ProjectRow.key == project.key))
        events = [{"failure_id": fid, "at": T0, "kind": f"k{i}", "actor": None, "description": f"event {i}",
                   "details": {"n": i, "nested": {"list": [1, "two", None]}}} for i in range(5)]
        assert repo.insert_many(s, TimelineRow.__table__, events, returning=()) == []
    with database.session() as s:
        stored = s.scalars(select(TimelineRow).where(TimelineRow.failure_id == fid, TimelineRow.kind.like("k%"))
                           .order_by(TimelineRow.id)).all()
    assert [e.kind for e in stored] == ["k0", "k1", "k2", "k3", "k4"]  # ids follow the rows' order
    assert stored[3].details == {"n": 3, "nested": {"list": [1, "two", None]}}
