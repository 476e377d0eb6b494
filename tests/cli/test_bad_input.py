"""Bad input never breaks the ledger: a one-line message and exit 2, on SQLite and PostgreSQL.

Each case is what an attack on the CLI found answering exit 70 (a traceback's
worth of "unexpected ...") or storing something the ledger could not use later.
"""

from __future__ import annotations

import io
import json

import pytest

from conftest import ROOT
from faultbook.cli.app import main
from faultbook.domain.limits import MAX_NUMBER

SEED = ROOT / "examples" / "quoteviral" / "FAILURES.md"  # the seed, byte for byte


@pytest.fixture
def cli(db_url, project, monkeypatch, tmp_path, capsys):
    """``faultbook ARGS`` in-process on the parametrised backend; returns (code, stdout, stderr)."""
    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAULTBOOK_PROJECT", project.key)
    monkeypatch.chdir(tmp_path)

    def run(*args: str, stdin: bytes | None = None):
        from faultbook.cli import app as app_module

        app_module.state.__init__()
        app_module.state._settings = None
        app_module.state._db = None
        app_module.state.project = None
        if stdin is not None:
            fake = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
            monkeypatch.setattr("sys.stdin", fake)
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def record(cli, *extra: str, stdin: bytes | None = None):
    return cli("record", "--title", "T", "--component", "Backend", *extra, stdin=stdin)


def assert_clean_error(result, *needles: str) -> None:
    code, out, err = result
    assert code == 2, err
    assert "unexpected" not in err and "Traceback" not in err
    assert err.startswith("error: ") or "Error:" in err, err
    for needle in needles:
        assert needle in err, err


HUGE = ["2147483648", "9223372036854775807", "9223372036854775808", "99999999999999999999999", "0", "-1"]


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(
    "command",
    [
        ["show", "{n}"],
        ["show", "--potential", "{n}"],
        ["update", "{n}", "--title", "x"],
        ["merge", "{n}", "1"],
        ["merge", "1", "{n}"],
        ["bundle", "{n}"],
        ["followups", "done", "{n}"],
        ["token", "revoke", "{n}"],
        ["rollback", "--failure", "{n}", "--yes"],
        ["explain", "x", "--code", "{n}"],
    ],
)
def test_numbers_outside_the_documented_range_are_a_usage_error(cli, command, number):
    if command[0] == "explain" and number == "0":
        return  # code 0 is a valid API error code
    args = [part.replace("{n}", number) for part in command]
    code, out, err = cli(*args)
    assert code == 2, err
    assert "unexpected" not in err
    assert "Invalid value" in err or "No such option" in err


def test_the_highest_number_works_and_allocation_stops_there(cli, tmp_path):
    doc = tmp_path / "top.md"
    doc.write_text(
        f"## Current Failures\n\n### Failure #{MAX_NUMBER}: Top\n- **Date**: 2025-08-20\n- **Time**: 14:15 UTC\n"
        "- **Component**: Backend\n- **Deployment Step**: Deploy\n- **Error Message**: boom\n- **Status**: 🔴 Open\n",
        encoding="utf-8",
    )
    assert cli("import", str(doc))[0] == 0
    code, out, err = cli("show", str(MAX_NUMBER), "--json")
    assert code == 0, err
    assert json.loads(out)["number"] == MAX_NUMBER
    assert_clean_error(record(cli), "highest there is")
    assert cli("export")[0] == 0


@pytest.mark.parametrize("number", ["0", str(MAX_NUMBER + 1), "9223372036854775807", "9" * 40])
def test_import_refuses_a_number_outside_the_range_with_its_line(cli, tmp_path, number):
    doc = tmp_path / "big.md"
    doc.write_text(f"## Current Failures\n\n### Failure #{number}: Big\n- **Date**: 2025-08-20\n", encoding="utf-8")
    assert_clean_error(cli("import", str(doc)), f"{doc}:3:", "numbers go from 1 to 2147483647")


def test_non_ascii_digits_are_not_numbers(cli, tmp_path):
    doc = tmp_path / "arabic.md"
    doc.write_text("## Current Failures\n\n### Failure #٢: Two\n- **Date**: 2025-08-20\n", encoding="utf-8")
    assert_clean_error(cli("import", str(doc)), ":3:", "needs a number")
    doc.write_text(
        "## Current Failures\n\n### Failure #2: Two\n- **Date**: ٢٠٢٥-08-20\n- **Component**: B\n"
        "- **Deployment Step**: s\n- **Error Message**: e\n- **Status**: 🔴 Open\n",
        encoding="utf-8",
    )
    assert_clean_error(cli("import", str(doc)), ":4:", "unrecognised date")
    code, out, err = cli("show", "٢")
    assert code == 2 and "unexpected" not in err


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "1899-12-31", "9999-12-31"])
def test_times_outside_the_range_are_refused(cli, when):
    assert_clean_error(record(cli, "--occurred-at", when), "out of range")
    assert cli("record", "--title", "T", "--component", "B")[0] == 0
    assert_clean_error(cli("update", "1", "--occurred-at", when), "out of range")


@pytest.mark.parametrize("date,time", [("0001-01-01", "00:00 UTC+5"), ("9999-12-31", "23:00 UTC-5"), ("1066-10-14", "09:00 UTC")])
def test_import_refuses_times_outside_the_range(cli, tmp_path, date, time):
    doc = tmp_path / "old.md"
    doc.write_text(
        f"## Current Failures\n\n### Failure #1: Old\n- **Date**: {date}\n- **Time**: {time}\n- **Component**: B\n"
        "- **Deployment Step**: s\n- **Error Message**: e\n- **Status**: 🔴 Open\n",
        encoding="utf-8",
    )
    assert_clean_error(cli("import", str(doc)), f"{doc}:4:")


def test_error_message_file_that_is_a_folder(cli, tmp_path):
    (tmp_path / "folder").mkdir()
    assert_clean_error(record(cli, "--error-message-file", str(tmp_path / "folder")), "is a folder")


def test_random_bytes_on_stdin_are_refused_not_stored(cli):
    garbage = bytes(range(256)) * 4
    assert_clean_error(record(cli, "--error-message", "-", stdin=garbage), "stdin", "not UTF-8")
    assert_clean_error(record(cli, "--error-message-file", "-", stdin=garbage), "not UTF-8")


def test_stdin_is_read_up_to_a_cap(cli):
    from faultbook.domain.limits import MAX_TEXT_BYTES

    assert_clean_error(record(cli, "--error-message", "-", stdin=b"x" * (MAX_TEXT_BYTES + 1)), "larger than 4 MB")


def test_import_of_an_endless_file_stops_at_the_cap(cli):
    assert_clean_error(cli("import", "/dev/zero"), "/dev/zero", "larger than 32 MB")


def test_a_50000_character_search(cli):
    assert cli("record", "--title", "T", "--component", "B")[0] == 0
    assert_clean_error(cli("list", "--text", "x" * 50_000), "at most 1,000")
    code, out, err = cli("list", "--text", "%_\\" * 300)
    assert code == 0, err


def test_nul_is_kept_escaped_and_round_trips(cli, tmp_path):
    code, out, err = record(cli, "--error-message", "before\x00after", "--json")
    assert code == 0, err
    assert json.loads(out)["error_message"] == "before\\x00after"
    code, exported, err = cli("export")
    assert code == 0 and "\x00" not in exported and "before\\x00after" in exported
    (tmp_path / "again.md").write_text(exported, encoding="utf-8")
    assert cli("import", "--update", str(tmp_path / "again.md"))[0] == 0
    code, out, err = cli("show", "1", "--json")
    assert json.loads(out)["error_message"] == "before\\x00after"


@pytest.mark.parametrize("option", ["--component", "--step", "--component-detail", "--title"])
def test_one_line_fields_refuse_a_line_break(cli, option):
    args = {"--title": "T", "--component": "Backend"}
    args[option] = "two\nlines"
    flat = [item for pair in args.items() for item in pair]
    assert_clean_error(cli("record", *flat), "one line")


def test_a_component_that_would_read_back_differently_is_refused(cli):
    assert_clean_error(cli("record", "--title", "T", "--component", "Back (end)"), "--component-detail")
    assert_clean_error(cli("record", "--title", "T", "--component", "B", "--component-detail", "x)"), "balanced")
    code, out, err = cli("record", "--title", "T", "--component", "Back (end)", "--component-detail", "Worker", "--json")
    assert code == 0, err
    code, exported, err = cli("export")
    assert "- **Component**: Back (end) (Worker)\n" in exported


def test_export_to_a_folder_or_no_name(cli, tmp_path):
    assert_clean_error(cli("export", "-o", str(tmp_path)), "is a folder")
    assert_clean_error(cli("export", "-o", ""), "is a folder")


def test_seed_comes_back_byte_for_byte(cli, tmp_path):
    assert cli("import", str(SEED))[0] == 0
    out = tmp_path / "out.md"
    assert cli("export", "-o", str(out))[0] == 0
    assert out.read_bytes() == SEED.read_bytes()
    code, stdout, err = cli("export")
    assert stdout.encode("utf-8") == SEED.read_bytes()


def test_a_cr_only_file_imports_its_failures(cli, tmp_path):
    doc = tmp_path / "mac.md"
    doc.write_bytes(SEED.read_bytes().replace(b"\n", b"\r"))
    code, out, err = cli("import", str(doc))
    assert code == 0, err
    assert "2 new and 0 updated failures, 3 new" in err
