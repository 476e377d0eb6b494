"""The seed's example: Failure #1 at wrangler.toml line 25, --fix changes only that line,
golden output in every format, parse errors are one finding with exit code 2."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from faultbook.cli.check_cmd import check_command

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
TODAY = date(2026, 1, 1)


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _normalise(text: str) -> str:
    return re.sub(r'"version": "[^"]+"', '"version": "X"', text)


@pytest.mark.parametrize("fmt,ext", [("text", "txt"), ("json", "json"), ("sarif", "sarif"), ("github", "github")])
def test_golden_output(in_root, fmt: str, ext: str) -> None:
    stdout, _, code = check_command("examples/quoteviral", offline=True, output_format=fmt, today=TODAY)
    assert code == 1
    golden = GOLDEN / f"quoteviral.{ext}"
    if os.environ.get("FAULTBOOK_UPDATE_GOLDEN"):  # regenerate, then review the diff before committing
        golden.write_text(_normalise(stdout))
    assert _normalise(stdout) == golden.read_text()


def test_images_binding_reported_at_line_25_with_code_10021(in_root) -> None:
    stdout, _, code = check_command("examples/quoteviral", offline=True, output_format="json", today=TODAY)
    data = json.loads(stdout)
    errors = [d for d in data["diagnostics"] if d["severity"] == "error"]
    assert [(d["rule"], d["range"]["start"]["line"]) for d in errors] == [("FB101", 25)]
    assert "10021" in errors[0]["summary"] and '"images"' in errors[0]["summary"]
    assert ROOT.joinpath("examples/quoteviral/wrangler.toml").read_text().splitlines()[24] == 'type = "Images"'
    assert code == 1 and data["valid"] is False


def test_fix_removes_the_finding_and_changes_only_that_line(tmp_path: Path) -> None:
    project = tmp_path / "quoteviral"
    shutil.copytree(ROOT / "examples" / "quoteviral", project, ignore=shutil.ignore_patterns("node_modules"))
    before = (project / "wrangler.toml").read_text()
    stdout, stderr, code = check_command(str(project), offline=True, fix=True, output_format="json", today=TODAY)
    after = (project / "wrangler.toml").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert changed == [('type = "Images"', 'type = "images"')]
    assert len(before.splitlines()) == len(after.splitlines()) and before.endswith("\n") == after.endswith("\n")
    rules = {d["rule"] for d in json.loads(stdout)["diagnostics"]}
    assert "FB101" not in rules and "FB102" in rules  # now suggests the first-class [images] key
    assert code == 0 and "fixed 1 finding" in stderr


def test_sarif_validates_against_the_official_schema(in_root) -> None:
    schema = json.loads((Path(__file__).parent / "schema" / "sarif-schema-2.1.0.json").read_text())
    for path in ("examples/quoteviral", str(Path(__file__).parent / "configs" / "planted_jsonc")):
        stdout, _, _ = check_command(path, offline=True, output_format="sarif", today=TODAY)
        data = json.loads(stdout)
        jsonschema.Draft4Validator(schema).validate(data)
        results = data["runs"][0]["results"]
        assert results and all(r["level"] in ("error", "warning", "note") for r in results)


@pytest.mark.parametrize("name,content,line,column", [
    ("wrangler.toml", 'name = "x"\n[vars\nA = 1\n', 2, 6),
    ("wrangler.jsonc", '{\n  // c\n  "name": "x"\n  "main": "y"\n}\n', 4, 3),
])
def test_parse_error_is_one_finding_and_exit_2(tmp_path: Path, name, content, line, column) -> None:
    (tmp_path / name).write_text(content)
    stdout, stderr, code = check_command(str(tmp_path), offline=True)
    assert code == 2 and stdout == ""
    assert stderr.startswith(f"{tmp_path / name}:{line}:") and "FB000" in stderr and "Traceback" not in stderr
    stdout, _, code = check_command(str(tmp_path), offline=True, output_format="json")
    diagnostics = json.loads(stdout)["diagnostics"]
    assert code == 2 and [(d["rule"], d["range"]["start"]["line"]) for d in diagnostics] == [("FB000", line)]


def test_usage_errors_exit_2(in_root) -> None:
    assert check_command("examples/quoteviral", select=["FB999"])[2] == 2
    assert check_command("examples/quoteviral", env="nope", offline=True)[2] == 2
    assert check_command("does/not/exist")[2] == 2
    assert check_command("examples/quoteviral", output_format="xml")[2] == 2


def test_fail_on_warning_and_selection(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(
        'name = "w"\nmain = "i.js"\ncompatibility_date = "2025-01-01"\n'
        '[[unsafe.bindings]]\nname = "IMAGES"\ntype = "images"\n'
    )
    (tmp_path / "i.js").write_text("")
    assert check_command(str(tmp_path), offline=True, today=TODAY)[2] == 0
    assert check_command(str(tmp_path), offline=True, today=TODAY, fail_on="warning")[2] == 1
    assert check_command(str(tmp_path), offline=True, today=TODAY, fail_on="warning", ignore=["FB102"])[2] == 0
    # faultbook.toml [check] ignore applies too
    (tmp_path / "faultbook.toml").write_text('[check]\nignore = ["unsafe-binding-has-first-class-key"]\n')
    assert check_command(str(tmp_path), offline=True, today=TODAY, fail_on="warning")[2] == 0


def test_checklist_marks_manual_practices(in_root) -> None:
    stdout, _, _ = check_command("examples/quoteviral", offline=True, checklist=True, today=TODAY)
    checklist = stdout.split("Prevention checklist", 1)[1]
    assert " 1. [MANUAL]" in checklist and "10. [FAIL]" in checklist and " 9. [PASS (OFFLINE PART ONLY)]" in checklist
    assert " 2. [NOT CHECKED]" in checklist
    # Practice 8 is automated by FB506 (network smoke checks), not checked without --network and [[smoke]].
    assert " 8. [NOT CHECKED]" in checklist and "add [[smoke]] endpoints to faultbook.toml" in checklist
    assert "Manual (faultbook cannot check these): 1, 3, 4, 6." in checklist
