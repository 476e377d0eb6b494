"""Stored escape sequences never reach a terminal raw (issue 14); piped and JSON output keep the data."""

from __future__ import annotations

import json

import pytest

from faultbook.cli.app import main

PLANTED = "Deploy \x1b]0;owned\x07failed\x1b[2J\x9b31m here\x08over"


@pytest.fixture
def run(db_url, project, monkeypatch, tmp_path, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAULTBOOK_PROJECT", project.key)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, tty: bool):  # type: ignore[no-untyped-def]
        invoke.capsys = capsys
        from faultbook.cli import app as app_module
        from faultbook.cli import output

        app_module.state.__init__()
        app_module.state._settings = None
        app_module.state._db = None
        app_module.state.project = None
        monkeypatch.setattr(output, "stdout_is_tty", lambda: tty)
        monkeypatch.setattr(output, "stderr_is_tty", lambda: tty)
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    invoke.capsys = capsys
    return invoke


def test_stored_control_characters_are_escaped_on_a_terminal(run, database, project):
    from faultbook.domain import Failure
    from faultbook.services import ledger

    # Stored as a report or an import would store it (the CLI's own input cleans what it is given).
    with database.session(write=True) as s:
        ledger.record_failure(s, project=project, failure=Failure(
            number=None, title=PLANTED, component="Backend", error_message=PLANTED, occurred_at=None))
    code, out, err = run("show", "1", tty=True)
    assert code == 0
    from faultbook.cli import output

    with database.session() as s:
        stored = ledger.get_failure(s, project=project, number=1)
    output.failure_table([stored])  # what `list` draws on a terminal
    table, _ = run.capsys.readouterr()
    for args, shown in ((("show", "1"), out + err), (("list",), table)):
        for raw in ("\x1b", "\x07", "\x9b", "\x08"):
            assert raw not in shown, (args, raw)
        assert "\\x1b" in shown
    # Piped and JSON output are data: kept as stored (tab-separated fields stay one line).
    code, out, _ = run("show", "1", "--json", tty=False)
    assert json.loads(out)["error_message"] == PLANTED
