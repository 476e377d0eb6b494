"""Every setting is declared once (faultbook.config) and documented in docs/settings.md; faultbook.toml is checked.

The docs test fails both ways: a declared key missing from the reference tables, or a key in the tables
that no section declares (a renamed or removed setting must leave the docs too).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faultbook.config import Settings, load_settings
from faultbook.config.environment import ENVIRONMENT_KEYS, Environment
from faultbook.config.sections import ALL_KEYS
from faultbook.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "settings.md"


def documented_keys(text: str) -> set[tuple[str, str]]:
    """(section, key) for every row of the reference tables, the section taken from the ### heading above."""
    reference = text.split("## Reference", 1)[1].split("\n## ", 1)[0]
    found, section = set(), None
    for line in reference.splitlines():
        heading = re.match(r"^### (.+)$", line)
        if heading:
            title = heading.group(1).strip()
            section = {"Top level": "", "Environment variables": "environment"}.get(title)
            if section is None:
                section = title.strip("`[]")
            continue
        row = re.match(r"^\| `([^`]+)` \|", line)
        if row and section is not None:
            found.add((section, row.group(1)))
    return found


def test_docs_document_every_declared_setting_and_nothing_else():
    declared = {(k.section, k.name) for k in (*ALL_KEYS, *ENVIRONMENT_KEYS)}
    documented = documented_keys(DOC.read_text(encoding="utf-8"))
    assert sorted(declared - documented) == [], "declared but not in docs/settings.md"
    assert sorted(documented - declared) == [], "in docs/settings.md but not declared in faultbook.config"


def test_the_docs_check_can_fail():
    text = DOC.read_text(encoding="utf-8").replace("| `force_on_changed_secrets` |", "| `force_on_changed_secret` |")
    documented = documented_keys(text)
    assert ("rollback", "force_on_changed_secrets") not in documented
    assert ("rollback", "force_on_changed_secret") in documented


def _project(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "faultbook.toml").write_text(toml, encoding="utf-8")
    return tmp_path


TYPED = """project = "qv"

[server]
url = "https://team.example"
anonymous = "none"

[rollback]
worker = "quoteviral-api"
force_on_changed_secrets = true

[pages]
project = "quoteviral"

[support]
zone_id = "z1"

[check]
select = "FB1, FB2"
ignore = ["FB105"]

[capture.components]
"npm run deploy:*" = "Frontend"

[network]
timeout = 3

[[network.dns]]
host = "www.quoteviral.com"

[[smoke]]
url = "https://api.quoteviral.com/health"
headers = { Authorization = "Bearer x" }

[checks.health]
url = "https://api.quoteviral.com/health"
"""


def test_sections_are_typed_values(tmp_path):
    s = load_settings(cwd=_project(tmp_path, TYPED), environ={"CLOUDFLARE_ACCOUNT_ID": "acc", "FAULTBOOK_ACTOR": ""})
    assert s.server.url == "https://team.example" and s.server.anonymous_setting == "none"
    assert s.rollback.worker == "quoteviral-api" and s.rollback.force_on_changed_secrets is True
    assert s.pages.project == "quoteviral" and s.support.zone_id == "z1"
    assert s.check.select == ("FB1", "FB2") and s.check.ignore == ("FB105",)
    assert s.capture.components == {"npm run deploy:*": "Frontend"}
    assert s.env == Environment(CLOUDFLARE_ACCOUNT_ID="acc")  # empty values count as unset


@pytest.mark.parametrize(
    ("toml", "line", "words"),
    [
        ('project = "qv"\n\n[rollback]\nworker = "w"\nforce_on_changed_secret = true\n', 5,
         "unknown setting 'rollback.force_on_changed_secret'"),
        ('project = "qv"\ndatabse_url = "sqlite://"\n', 2, "unknown setting 'databse_url'"),
        ('[[smoke]]\nurl = "https://a.example"\n\n[[smoke]]\nurl = "https://b.example"\nexpect_stauts = 200\n', 6,
         "unknown setting 'smoke.expect_stauts'"),
        ('[network]\ntimeout = 2\n\n[[network.dns]]\nhots = "x"\n', 5, "unknown setting 'network.dns.hots'"),
        ('[checks.health]\nurl = "https://a.example"\nmethods = "GET"\n', 3, "unknown setting 'checks.health.methods'"),
        ('[serve]\nurl = "https://team.example"\n', 1, "unknown setting 'serve'"),
        ('[rollback]\nforce_on_changed_secrets = "yes"\n', 2, "'rollback.force_on_changed_secrets' must be true or false"),
        ('[server]\nurl = 8000\n', 2, "'server.url' must be a non-empty string"),
        ('[check]\nselect = [1, 2]\n', 2, "'check.select' must be a string or an array of strings"),
    ],
)
def test_a_bad_or_unknown_key_is_an_error_naming_file_and_line(tmp_path, toml, line, words):
    root = _project(tmp_path, toml)
    with pytest.raises(InputError) as caught:
        load_settings(cwd=root, environ={})
    assert caught.value.path == str(root / "faultbook.toml")
    assert caught.value.line == line
    assert words in str(caught.value)


def test_the_cli_reports_a_bad_key_without_a_traceback(tmp_path, monkeypatch, capsys):
    from faultbook.cli.app import main
    from faultbook.cli import app as app_module

    root = _project(tmp_path, 'project = "qv"\n[pages]\nprojekt = "x"\n')
    monkeypatch.chdir(root)
    monkeypatch.delenv("FAULTBOOK_DATABASE_URL", raising=False)
    app_module.state.__init__()  # fresh, as a new process would be
    app_module.state._settings = None
    app_module.state._db = None
    app_module.state.project = None
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "faultbook.toml:3" in err and "unknown setting 'pages.projekt'" in err and "Traceback" not in err


def test_settings_survive_pickling_for_server_workers(tmp_path):
    import pickle

    s = load_settings(cwd=_project(tmp_path, TYPED), environ={})
    assert s.rollback.worker  # cached before pickling
    copy = pickle.loads(pickle.dumps(s))
    assert copy == s and copy.rollback == s.rollback and isinstance(copy, Settings)


def test_only_the_config_package_reads_the_process_environment():
    import ast

    src = ROOT / "src" / "faultbook"
    readers = []
    for path in sorted(src.rglob("*.py")):
        if path.is_relative_to(src / "config"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "chdir") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{path.relative_to(src)}:{node.lineno}: os.{node.attr}")
    assert readers == []
