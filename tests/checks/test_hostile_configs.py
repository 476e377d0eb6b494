"""Configs and environments built to break ``faultbook check``: each is exit 2 (or findings) with a message, never 70."""

from __future__ import annotations

import http.server
import threading
from datetime import date
from pathlib import Path

import pytest

from conftest import faultbook_main as main

TODAY = date(2026, 1, 1)
VALID_TOML = 'name = "x"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n'

HOSTILE = {
    "json nested 10,000 levels": ("wrangler.json", '{"name":"x","a":' + "[" * 10_000 + "]" * 10_000 + "}", "nested deeper than 64"),
    "toml nested 10,000 levels": ("wrangler.toml", 'name="x"\na=' + "[" * 10_000 + "]" * 10_000 + "\n", "nested"),
    "json 5,000-digit number": ("wrangler.json", '{"name":"x","limits":{"cpu_ms":' + "9" * 5000 + "}}", "5,000 characters"),
    "toml 5,000-digit number": ("wrangler.toml", 'name="x"\n[limits]\ncpu_ms=' + "9" * 5000 + "\n", "TOML parse error"),
    "json lone surrogate": ("wrangler.json", '{"name":"\\ud800"}', "lone surrogate"),
    "jsonc lone surrogate key": ("wrangler.jsonc", '{"\\udfff": 1}', "lone surrogate"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_config_is_a_parse_error_with_a_short_snippet(tmp_path, monkeypatch, capsys, case):
    name, text, needle = HOSTILE[case]
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    monkeypatch.chdir(tmp_path)
    code = main(["check", str(tmp_path), "--offline"])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "unexpected" not in err and needle in out + err
    assert max(len(line) for line in (out + err).splitlines()) < 400  # the snippet is cut around the column


def test_a_config_file_larger_than_the_cap_is_refused(tmp_path, monkeypatch, capsys):
    (tmp_path / "wrangler.toml").write_text(VALID_TOML + "# " + "x" * (6 * 1024 * 1024) + "\n")
    assert main(["check", str(tmp_path), "--offline"]) == 2
    assert "larger than 5 MB" in capsys.readouterr().err


@pytest.mark.parametrize("timeout", ["1e308", "inf", "nan", "-1", "1e400", '"soon"'])
@pytest.mark.parametrize(
    "url", ["https://quoteviral.com/", "ht!tp://[::1", "http://[::1", "https://", "http://x:99999/", "file:///etc/passwd"]
)
def test_hostile_faultbook_toml_never_crashes_check(tmp_path, monkeypatch, capsys, timeout, url):
    (tmp_path / "wrangler.toml").write_text(VALID_TOML)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text("export default {}\n")
    (tmp_path / "faultbook.toml").write_text(f'project = "x"\n[network]\ntimeout = {timeout}\n[[smoke]]\nurl = "{url}"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'l.db'}")
    code = main(["check", str(tmp_path), "--offline"])
    err = capsys.readouterr().err
    assert code in (0, 1, 2), err
    assert "unexpected" not in err


@pytest.mark.parametrize("base", ["ht!tp://[::1", "http://[::1", "https://", "http://x:0/", "ftp://example.com/"])
def test_a_malformed_api_base_url_is_a_usage_error(tmp_path, monkeypatch, capsys, base):
    (tmp_path / "wrangler.toml").write_text(VALID_TOML)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "t")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "a")
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", base)
    assert main(["check", str(tmp_path)]) == 2
    assert "CLOUDFLARE_API_BASE_URL" in capsys.readouterr().err


class _Html(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def html_api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/client/v4"
    server.shutdown()
    server.server_close()


def test_an_api_answering_200_with_html_is_a_finding_not_a_crash(tmp_path, monkeypatch, capsys, html_api):
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "wrangler.toml").write_text((root / "examples" / "quoteviral" / "wrangler.toml").read_text())
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "t")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "a")
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", html_api)
    code = main(["check", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "not its JSON (an HTML page?)" in out
