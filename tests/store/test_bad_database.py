"""A database file that is not (or no longer) a SQLite database: a message and exit 2, never 70."""

from __future__ import annotations

import os

import pytest

from conftest import faultbook_main as main


def _valid_database(tmp_path, monkeypatch):
    path = tmp_path / "good.db"
    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", f"sqlite:///{path}")
    assert main(["record", "--title", "T", "--component", "B", "--error-message", "x" * 20_000]) == 0
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["text", "random", "header then garbage", "truncated", "page overwritten"])
def test_a_corrupt_database_file_is_a_usage_error(tmp_path, monkeypatch, capsys, kind):
    monkeypatch.chdir(tmp_path)
    good = _valid_database(tmp_path, monkeypatch)
    data = {
        "text": b"this is not a database\n",
        "random": os.urandom(8192),
        "header then garbage": good[:100] + b"\xff" * (len(good) - 100),
        "truncated": good[: len(good) // 2],
        "page overwritten": good[:4096] + os.urandom(4096) + good[8192:],
    }[kind]
    bad = tmp_path / "bad.db"
    bad.write_bytes(data)
    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", f"sqlite:///{bad}")
    capsys.readouterr()
    for args in (["list"], ["record", "--title", "T", "--component", "B"], ["export"]):
        code = main(args)
        err = capsys.readouterr().err
        assert code == 2, err
        assert f"cannot use the database sqlite:///{bad}" in err and "unexpected" not in err
