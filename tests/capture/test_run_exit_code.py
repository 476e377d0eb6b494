"""``faultbook run`` exits with the wrapped command's code whatever happens to the ledger or the server.

Each fault is injected for real: a malformed ``--server``, a server answering
200 with HTML, PostgreSQL terminating faultbook's connections while the
command runs, a SQLite database on a full disk, a NUL byte in the output.
The command always runs, ``run`` always exits with its code, and faultbook's
own trouble is a warning on stderr (never a traceback, never exit 70).
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
CODES = [0, 1, 3]


def runner(folder: Path, db_url: str, project_key: str):
    env = {**os.environ, "PYTHONPATH": SRC, "FAULTBOOK_DATABASE_URL": db_url, "FAULTBOOK_PROJECT": project_key}

    def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "faultbook", *args], cwd=folder, env=env, capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    return run


@pytest.fixture
def cli(tmp_path, db_url, project):
    folder = tmp_path / "proj"
    folder.mkdir()
    return runner(folder, db_url, project.key)


def command(code: int, *, marker: Path | None = None, output: str = "") -> list[str]:
    script = "import sys, pathlib\n"
    if marker is not None:
        script += f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
    if output:
        script += f"sys.stdout.write({output!r}); sys.stdout.flush()\n"
    if code:
        script += "print('✘ [ERROR] A request to the Cloudflare API failed. [code: 10021]', file=sys.stderr)\n"
    script += f"sys.exit({code})\n"
    return ["--", sys.executable, "-c", script]


def assert_sacred(done: subprocess.CompletedProcess, code: int) -> str:
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == code, err
    assert "Traceback" not in err and "FAULTBOOK_DEBUG" not in err, err
    return err


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("server", ["ht!tp://[::1", "http://[::1", "https://", "http://x:99999/", "ftp://h/", "http://a b/"])
def test_a_malformed_server_url_is_a_warning(cli, code, server):
    err = assert_sacred(cli("run", "--server", server, "--token", "t", *command(code)), code)
    assert "warning" in err and "server" in err


class _Html(http.server.BaseHTTPRequestHandler):
    def _answer(self):  # noqa: ANN202
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<!doctype html><html><body>Sign in to the proxy</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):  # noqa: ANN002
        pass


@pytest.fixture
def html_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("code", CODES)
def test_a_server_answering_200_with_html_is_a_warning_and_the_report_stays_queued(cli, html_server, code):
    err = assert_sacred(cli("run", "--server", html_server, "--token", "t", *command(code)), code)
    assert "not the team server's JSON" in err
    assert "1 report(s) queued" in err


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_going_away_mid_deploy(tmp_path, fresh_db_url, code):
    folder = tmp_path / "proj"
    folder.mkdir()
    run = runner(folder, fresh_db_url, "p-" + uuid.uuid4().hex[:8])
    assert run("db", "upgrade").returncode == 0
    name = fresh_db_url.rsplit("/", 1)[1]
    admin = fresh_db_url.rsplit("/", 1)[0] + "/test"
    marker = tmp_path / "ran"
    kill = (
        "import sqlalchemy, sys, pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        f"e = sqlalchemy.create_engine({admin!r}, isolation_level='AUTOCOMMIT')\n"
        "with e.connect() as c:\n"
        f"    c.execute(sqlalchemy.text('ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false'))\n"
        "    c.execute(sqlalchemy.text('SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = :d AND pid <> pg_backend_pid()'), {{'d': {name!r}}})\n"
        + ("print('✘ [ERROR] boom [code: 10021]', file=sys.stderr)\n" if code else "")
        + f"sys.exit({code})\n"
    )
    try:
        err = assert_sacred(run("run", "--", sys.executable, "-c", kill), code)
    finally:
        import sqlalchemy

        engine = sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        engine.dispose()
    assert marker.exists()
    assert "warning" in err and "database" in err
    # The ledger is usable again afterwards, and the run is not left "running" for ever.
    done = run("deployments", "--json")
    assert done.returncode == 0, done.stderr
    outcomes = [d["outcome"] for d in json.loads(done.stdout)]
    assert "running" not in outcomes


def _full_disk(folder: Path) -> Path | None:
    """A 1 MB tmpfs at ``folder`` (root only); None where mounting is not allowed."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True)
    return folder if done.returncode == 0 else None


@pytest.mark.parametrize("code", CODES)
def test_a_full_sqlite_disk_still_runs_the_command(tmp_path, code):
    disk = _full_disk(tmp_path / "disk")
    if disk is None:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        folder = tmp_path / "proj"
        folder.mkdir()
        run = runner(folder, f"sqlite:///{disk / 'ledger.db'}", "full")
        assert run("db", "upgrade").returncode == 0
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        try:  # fill the disk to the last byte
            while True:
                os.write(fd, b"\0" * 512)
        except OSError:
            pass
        finally:
            os.close(fd)
        marker = tmp_path / "ran"
        err = assert_sacred(run("run", *command(code, marker=marker)), code)
        assert marker.read_text() == "ran"
        assert "warning" in err
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


@pytest.mark.parametrize("code", CODES)
def test_a_nul_byte_in_the_output_is_kept_escaped_and_the_deployment_finishes(cli, code):
    err = assert_sacred(cli("run", *command(code, output="before\x00after\n")), code)
    done = cli("deployments", "--json")
    assert done.returncode == 0, done.stderr
    [deployment] = json.loads(done.stdout)
    assert deployment["outcome"] == ("succeeded" if code == 0 else "failed")


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("toml", ['project = "x\n', "\xff\xfe", 'database_url = 5\n', '[[smoke]]\nurl = "http://[::1"\n'])
def test_a_broken_faultbook_toml_still_runs_the_command(tmp_path, code, toml):
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "faultbook.toml").write_bytes(toml.encode("utf-8", "surrogateescape") if toml != "\xff\xfe" else b"\xff\xfe")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTBOOK_")}
    env["PYTHONPATH"] = SRC
    marker = tmp_path / "ran"
    done = subprocess.run([sys.executable, "-m", "faultbook", "run", *command(code, marker=marker)], cwd=folder,
                          env=env, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert_sacred(done, code)
    assert marker.read_text() == "ran"


@pytest.mark.parametrize("code", CODES)
def test_a_database_file_that_is_not_one_is_a_warning(tmp_path, code):
    # Every write to the ledger fails; the command runs and its code is kept.
    bad = tmp_path / "not-a-db"
    bad.write_bytes(b"not a database at all\n" * 100)
    (tmp_path / "proj").mkdir()
    run = runner(tmp_path / "proj", f"sqlite:///{bad}", "x")
    marker = tmp_path / "ran"
    err = assert_sacred(run("run", *command(code, marker=marker)), code)
    assert marker.read_text() == "ran" and "warning" in err
