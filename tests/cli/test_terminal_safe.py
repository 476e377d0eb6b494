"""Stored escape sequences never reach a terminal raw (issue 14); piped and JSON output keep the data."""

from __future__ import annotations

import json

import pytest

from faultbook.cli.app import main

PLANTED = "Deploy \x1b]0;owned\x07failed\x1b[2J\x9b31m here\rover"


@pytest.fixture
def run(db_url, project, monkeypatch, tmp_path, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAULTBOOK_PROJECT", project.key)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, tty: bool):  # type: ignore[no-untyped-def]
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

    return invoke


def test_stored_control_characters_are_escaped_on_a_terminal(run):
    code, _, _ = run("record", "--title", PLANTED, "--component", "Backend", "--error-message", PLANTED, tty=False)
    assert code == 0
    for args in (("show", "1"), ("list",)):
        code, out, err = run(*args, tty=True)
        assert code == 0
        shown = out + err
        for raw in ("\x1b", "\x07", "\x9b", "\r"):
            assert raw not in shown, (args, raw)
        assert "\\x1b" in shown
    # Piped and JSON output are data: kept as stored (tab-separated fields stay one line).
    code, out, _ = run("show", "1", "--json", tty=False)
    assert json.loads(out)["title"] == PLANTED
