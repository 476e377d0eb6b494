"""`faultbook list --text` and the dashboard/API search are one search: the same words, the same failures.

Both backends (the ``database`` fixture is SQLite and PostgreSQL): SQLite answers from FTS5, PostgreSQL from
its tsvector, and the CLI must not drift to a LIKE of its own again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from faultbook.cli.app import main
from faultbook.domain import Failure, Status
from faultbook.services import ledger
from webfixtures import bearer

FAILURES = (
    ("Worker deployment failed: KV namespace binding", "Backend", "KV namespace 'abc' is not valid. [code: 10041]"),
    ("Pages build failed", "Frontend", "Project not found 100%_done [code: 8000007]"),
    ("DNS record missing", "DNS", "no CNAME for api.example.com"),
    ("Deploy blocked by unknown binding type", "Backend", "binding IMAGES has an unknown type Images [code: 10021]"),
)
QUERIES = ("worker deploy", "failed", "8000007", "100%_", "unknown type", "Pages 4", "KV", "namespace binding",
           "nothing-like-this", "deploy", "%")


@pytest.fixture
def recorded(database, project):
    with database.session(write=True) as s:
        for day, (title, component, message) in enumerate(FAILURES, start=1):
            ledger.record_failure(
                s,
                project=project,
                failure=Failure(number=None, occurred_at=datetime(2025, 8, day, 10, tzinfo=UTC), title=title,
                                component=component, error_message=message, status=Status.OPEN),
            )


def _cli_numbers(db_url, project, monkeypatch, capsys, tmp_path, *args: str) -> list[int]:
    from faultbook.cli import app as app_module

    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAULTBOOK_PROJECT", project.key)
    monkeypatch.chdir(tmp_path)
    app_module.state.__init__()  # fresh, as a new process would be
    app_module.state._settings = None
    app_module.state._db = None
    app_module.state.project = None
    capsys.readouterr()
    assert main(["list", "--json", *args]) == 0
    return [f["number"] for f in json.loads(capsys.readouterr().out)]


@pytest.mark.parametrize("query", QUERIES)
def test_list_text_and_the_api_search_find_the_same_failures(
    query, recorded, client, token, db_url, project, monkeypatch, capsys, tmp_path
):
    api = client.get("/api/v1/failures", params={"q": query, "limit": 500}, headers=bearer(token("reader")))
    assert api.status_code == 200, api.text
    from_api = [f["number"] for f in api.json()["items"]]
    from_cli = _cli_numbers(db_url, project, monkeypatch, capsys, tmp_path, "--text", query)
    assert from_cli == from_api  # same failures, same (relevance) order


def test_the_search_finds_words_not_substrings(recorded, db_url, project, monkeypatch, capsys, tmp_path):
    found = _cli_numbers(db_url, project, monkeypatch, capsys, tmp_path, "--text", "worker deploy")
    assert found == [1]  # every word, each a prefix: "deploy" finds "deployment"
    assert _cli_numbers(db_url, project, monkeypatch, capsys, tmp_path, "--text", "orker") == []
    found = _cli_numbers(db_url, project, monkeypatch, capsys, tmp_path, "--text", "binding", "--component", "backend")
    assert sorted(found) == [1, 4]
