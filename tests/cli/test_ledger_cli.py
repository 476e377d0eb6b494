"""The ledger commands as a user runs them: real arguments, stdout/stderr, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from faultbook.cli.app import main


@pytest.fixture
def cli(db_url, project, monkeypatch, tmp_path):
    """Run `faultbook ARGS` in-process against the parametrised backend; returns (code, stdout, stderr)."""
    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAULTBOOK_PROJECT", project.key)
    monkeypatch.chdir(tmp_path)

    def run(*args: str, stdin: str | None = None):
        import io

        from faultbook.cli import app as app_module

        app_module.state.__init__()  # fresh per invocation, as a new process would be
        app_module.state._settings = None
        app_module.state._db = None
        app_module.state.project = None
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys = run.capsys
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(autouse=True)
def _bind_capsys(request, capsys):
    if "cli" in request.fixturenames:
        request.getfixturevalue("cli").capsys = capsys


SEED_ERROR = "binding IMAGES has an unknown type Images [code: 10021]"


def record_seed(cli):
    return cli(
        "record",
        "--title", "Incorrect Images Binding Type",
        "--occurred-at", "2025-08-20T14:15:00Z",
        "--component", "Backend",
        "--component-detail", "Cloudflare Worker",
        "--step", "Worker deployment",
        "--error-message", SEED_ERROR,
        "--root-cause", 'The Images binding type was "Images"',
        "--resolution", "Changed it:\n```toml\ntype = \"images\"\n```",
        "--status", "resolved",
        "--lessons-learned", "Binding types are case-sensitive.",
    )


def test_record_then_show_json_has_the_contract_keys(cli):
    code, out, err = record_seed(cli)
    assert code == 0, err
    assert "Recorded failure #1" in err
    code, out, err = cli("show", "1", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == [
        "number", "title", "occurred_at", "component", "component_detail", "step", "error_message",
        "root_cause", "resolution", "status", "lessons_learned", "suspect_changes",
    ]
    assert data["suspect_changes"] == []  # recorded by hand: no deployment to compare
    assert data["occurred_at"] == "2025-08-20T14:15:00+00:00"
    assert data["status"] == "resolved"
    assert data["error_message"] == SEED_ERROR
    assert data["resolution"].endswith('```toml\ntype = "images"\n```')


def test_list_filters_and_json(cli):
    record_seed(cli)
    cli("record", "--title", "Pages project missing", "--component", "Frontend",
        "--error-message", "Project not found. [code: 8000007]")
    code, out, _ = cli("list", "--json", "--status", "open")
    assert code == 0
    assert [f["title"] for f in json.loads(out)] == ["Pages project missing"]
    code, out, _ = cli("list", "--json", "--component", "backend")
    assert [f["number"] for f in json.loads(out)] == [1]
    code, out, _ = cli("list", "--json", "--text", "8000007")
    assert [f["number"] for f in json.loads(out)] == [2]
    code, out, _ = cli("list")
    assert "Incorrect Images Binding Type" in out and "Pages project missing" in out


def test_list_and_deployments_print_tab_separated_lines_when_piped_and_a_table_on_a_terminal(
    cli, database, project, monkeypatch
):
    from datetime import datetime, timezone

    from faultbook.cli import output
    from faultbook.domain import DeploymentOutcome
    from faultbook.services import deployments

    record_seed(cli)
    with database.session(write=True) as s:
        for minute, command, outcome, code in (
            (10, "npx wrangler deploy\t--env production\nsecond line", DeploymentOutcome.FAILED, 1),
            (20, "npx wrangler deploy", DeploymentOutcome.SUCCEEDED, 0),
        ):
            started = datetime(2025, 8, 20, 14, minute, tzinfo=timezone.utc)
            d = deployments.start_deployment(s, project=project, command=command, cwd=None, component="Backend",
                                             step="Worker deployment", started_at=started)
            deployments.finish_deployment(s, project=project, deployment_id=d.id, outcome=outcome, exit_code=code,
                                          version_id="v-1" if code == 0 else None)
    # Piped (capsys is no terminal): one line per item, tab-separated, newest deployment first, no header.
    code, out, _ = cli("list")
    assert (code, out) == (0, "1\tresolved\t2025-08-20T14:15Z\tBackend\tIncorrect Images Binding Type\n")
    code, out, _ = cli("deployments")
    assert code == 0
    assert [line.split("\t")[1:] for line in out.splitlines()] == [
        ["2025-08-20T14:20:00Z", "succeeded", "0", "Backend", "Worker deployment", "npx wrangler deploy", "v-1", "",
         "deploy"],
        ["2025-08-20T14:10:00Z", "failed", "1", "Backend", "Worker deployment",
         "npx wrangler deploy --env production second line", "", "", "deploy"],
    ]
    # On a terminal: a table with a header, the command shortened to its first line.
    monkeypatch.setattr(output, "stdout_is_tty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = cli("deployments")
    assert code == 0 and "\t" not in out
    assert "Started (UTC)" in out and "2025-08-20 14:20:00" in out and "second line" not in out
    code, out, _ = cli("list")
    assert "Occurred (UTC)" in out and "Incorrect Images Binding Type" in out and "\t" not in out


def test_long_error_message_from_stdin_keeps_every_line(cli):
    message = "deploy stopped half way\nthe second worker never started\nno output after that"
    code, _, err = cli("record", "--title", "multi", "--component", "Backend", "--error-message", "-", stdin=message)
    assert code == 0, err
    _, out, _ = cli("show", "1", "--json")
    assert json.loads(out)["error_message"] == message


def test_pasted_output_is_stored_as_the_error_run_would_store(cli):
    """record reads a paste with the extractor run and explain use (a CI log line prefix and all)."""
    pasted = (
        "14:18:37.337 | ✘ [ERROR] A request to the Cloudflare API (/accounts/a/pages/projects/p) failed.\n"
        "14:18:37.338 |  \n"
        "14:18:37.338 | Project not found. The specified project name does not match any of your existing projects."
        " [code: 8000007]\n"
        "14:18:37.461 | Failed: error occurred while running deploy command\n"
    )
    code, _, err = cli("record", "--title", "t", "--component", "Frontend", "--error-message", "-", stdin=pasted)
    assert code == 0, err
    _, out, _ = cli("show", "1", "--json")
    assert json.loads(out)["error_message"] == (
        "Project not found. The specified project name does not match any of your existing projects. [code: 8000007]"
    )


def test_error_message_from_file(cli, tmp_path):
    path = tmp_path / "err.txt"
    path.write_text("first\nsecond\n", encoding="utf-8")
    code, _, err = cli("record", "--title", "t", "--component", "DNS", "--error-message-file", str(path))
    assert code == 0, err
    _, out, _ = cli("show", "1", "--json")
    assert json.loads(out)["error_message"] == "first\nsecond"


def test_update_status_goes_on_the_timeline(cli):
    record_seed(cli)
    code, _, err = cli("update", "1", "--status", "workaround")
    assert code == 0, err
    _, out, _ = cli("show", "1")
    assert "Status changed from ✅ Resolved to ⚠️ Workaround" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (("record", "--component", "Backend"), "missing --title"),
        (("record", "--title", "x", "--component", "Backend", "--status", "done"), "unknown status 'done'"),
        (("record", "--title", "x", "--component", "Backend", "--occurred-at", "2025-02-30T10:00"),
         "not an ISO 8601 time"),
        (("show", "42"), "no failure #42"),
        (("update", "1"), "nothing to change"),
        # A byte that is not UTF-8 (a Latin-1 terminal) reaches Python as a lone surrogate.
        (("record", "--title", "caf\udce9", "--component", "Backend"), 'argument "caf\\xe9" is not UTF-8 text'),
    ],
)
def test_bad_input_is_a_message_and_exit_2(cli, args, message):
    record_seed(cli)
    code, out, err = cli(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out
    _, out, _ = cli("list", "--json")
    assert len(json.loads(out)) == 1  # nothing else was written


def test_unreachable_database_names_the_url_without_the_password(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "FAULTBOOK_DATABASE_URL": "postgresql://faultbook:s3cretpass@127.0.0.1:1/ledger",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "faultbook", "list"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "postgresql+psycopg://faultbook:***@127.0.0.1:1/ledger" in proc.stderr
    assert "s3cretpass" not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


def test_malformed_database_url_is_a_clear_error(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "FAULTBOOK_DATABASE_URL": "nosuchdb://x"}
    proc = subprocess.run(
        [sys.executable, "-m", "faultbook", "list"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "nosuchdb://x" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_init_creates_config_and_database(tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / ".git").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTBOOK_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    proc = subprocess.run(
        [sys.executable, "-m", "faultbook", "init"], cwd=tmp_path / "proj", env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert 'project = "proj"' in (tmp_path / "proj" / "faultbook.toml").read_text()
    assert (tmp_path / "proj" / ".faultbook" / "faultbook.db").is_file()
    assert ".faultbook/" in (tmp_path / "proj" / ".gitignore").read_text()
    # from a subfolder, the project root is found by walking up
    (tmp_path / "proj" / "src").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "faultbook", "record", "--title", "t", "--component", "Backend"],
        cwd=tmp_path / "proj" / "src", env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "proj" / "src" / ".faultbook").exists()


def test_bad_faultbook_toml_names_file_and_line(tmp_path):
    (tmp_path / "faultbook.toml").write_text('project = "x"\nname = \n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTBOOK_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    proc = subprocess.run(
        [sys.executable, "-m", "faultbook", "list"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert f"{tmp_path / 'faultbook.toml'}:2" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_delete_asks_for_yes_when_piped_then_deletes_and_keeps_an_audit_row(cli, database, project):
    from faultbook.services import triage

    record_seed(cli)
    code, _, err = cli("delete", "1")
    assert code != 0 and "--yes" in err
    code, _, err = cli("delete", "1", "--yes")
    assert code == 0 and "Deleted failure #1" in err
    code, _, err = cli("show", "1")
    assert code != 0
    with database.session() as s:
        (event,) = triage.list_audit(s, project=project)
    assert (event.action, event.subject) == ("delete", "failure #1")
    assert event.details["failure"]["title"] == "Incorrect Images Binding Type"
