"""Markdown through the database, on SQLite and PostgreSQL: import, export, merge rules, all-or-nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from conftest import ROOT
from faultbook.domain import Failure, Status
from faultbook.errors import ConflictError, InputError
from faultbook.services import ledger

SEED = (ROOT / "examples" / "quoteviral" / "FAILURES.md").read_text(encoding="utf-8")
FIXTURES = ROOT / "tests" / "markdown" / "fixtures"


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def import_text(database, project, text, **kw):
    with database.session(write=True) as s:
        return ledger.import_document(s, project=project, text=text, path="FAILURES.md", **kw)


def export(database, project) -> str:
    with database.session() as s:
        return ledger.export_document(s, project=project)


def test_seed_round_trips_through_the_database(database, project):
    result = import_text(database, project, SEED)
    assert result.created == (1, 2)
    assert result.potential_created == (1, 2, 3)
    assert lines(export(database, project)) == lines(SEED)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.md")))
def test_other_documents_round_trip_through_the_database(database, project, name):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    import_text(database, project, text)
    assert lines(export(database, project)) == lines(text)


def test_numbers_and_fields_are_kept_as_written(database, project):
    import_text(database, project, SEED)
    with database.session() as s:
        failures = ledger.list_failures(s, project=project)
        potential = ledger.list_potential_failures(s, project=project)
    assert [f.number for f in failures] == [1, 2]
    second = failures[1]
    assert second.occurred_at == datetime(2025, 8, 20, 14, 5, tzinfo=timezone.utc)
    assert second.error_message == (
        "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]"
    )
    assert "wrangler r2 bucket create quoteviral-templates" in second.resolution
    assert second.status is Status.RESOLVED
    assert potential[0].to_json()["possible_error_messages"] == [
        "DNS resolution failed", "SSL certificate provisioning failed", "Domain not pointing to correct target",
    ]


def test_a_failure_recorded_after_import_is_exported_under_current_failures(database, project):
    import_text(database, project, SEED)
    with database.session(write=True) as s:
        new = ledger.record_failure(
            s,
            project=project,
            failure=Failure(
                number=None, title="Pages project missing in CI",
                occurred_at=datetime(2025, 8, 21, 9, 30, tzinfo=timezone.utc), component="Frontend",
                component_detail="Cloudflare Pages", step="Pages deployment",
                error_message="Project not found. [code: 8000007]",
            ),
        )
    assert new.number == 3
    text = export(database, project)
    current = text.split("## Current Failures", 1)[1].split("## Potential Future Failures", 1)[0]
    assert current.index("### Failure #2:") < current.index("### Failure #3: Pages project missing in CI")
    assert "- **Status**: 🔴 Open" in current
    # the rest of the document is untouched
    assert lines(text.split("## Potential Future Failures", 1)[1]) == lines(SEED.split("## Potential Future Failures", 1)[1])


def test_export_of_a_ledger_that_never_imported_has_the_full_layout(database, project):
    with database.session(write=True) as s:
        ledger.record_failure(
            s, project=project,
            failure=Failure(number=None, title="First", occurred_at=datetime(2025, 1, 2, 3, 4, tzinfo=timezone.utc),
                            component="DNS", step="Custom domain configuration", error_message="DNS resolution failed"),
        )
    text = export(database, project)
    for heading in ("# QuoteViral Deployment Failure Tracking", "## Purpose", "## Failure Tracking Format",
                    "## Current Failures", "## Potential Future Failures", "## Recovery Procedures",
                    "## Prevention Best Practices"):
        assert heading in text
    assert "### Failure #1: First" in text
    # and it parses back
    from faultbook.markdown import parse_document

    assert [f.title for f in parse_document(text).failures] == ["First"]


def test_existing_numbers_conflict_unless_update(database, project):
    import_text(database, project, SEED)
    with pytest.raises(ConflictError) as caught:
        import_text(database, project, SEED)
    assert "failures #1, #2" in str(caught.value) and "potential failures #1, #2, #3" in str(caught.value)
    edited = SEED.replace("- **Status**: ✅ Resolved", "- **Status**: ⚠️ Workaround", 1)
    result = import_text(database, project, edited, update=True)
    assert result.updated == (1, 2) and result.created == ()
    with database.session() as s:
        assert ledger.get_failure(s, project=project, number=1).status is Status.WORKAROUND
    assert lines(export(database, project)) == lines(edited)


def test_a_bad_block_imports_nothing(database, project):
    import_text(database, project, SEED)
    before = export(database, project)
    broken = SEED.replace("### Failure #2: Missing R2 Buckets", "### Failure #3: New one", 1).replace(
        "- **Date**: August 20, 2025\n- **Time**: 14:05 UTC", "- **Date**: February 30, 2025\n- **Time**: 14:05 UTC"
    )
    with pytest.raises(InputError) as caught:
        import_text(database, project, broken, update=True)
    assert caught.value.line == SEED.splitlines().index("- **Date**: August 20, 2025", 30) + 1
    assert export(database, project) == before


def cli(tmp_path, db_url, project, *args, stdin=None):
    env = {**os.environ, "FAULTBOOK_DATABASE_URL": db_url, "FAULTBOOK_PROJECT": project.key,
           "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "faultbook", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, input=stdin)


def test_cli_import_export_byte_for_byte(tmp_path, db_url, project):
    seed = tmp_path / "FAILURES.md"
    seed.write_text(SEED, encoding="utf-8")
    proc = cli(tmp_path, db_url, project, "import", str(seed))
    assert proc.returncode == 0, proc.stderr
    assert "2 new and 0 updated failures" in proc.stderr
    proc = cli(tmp_path, db_url, project, "export", "-o", str(tmp_path / "out.md"))
    assert proc.returncode == 0, proc.stderr
    assert lines((tmp_path / "out.md").read_text(encoding="utf-8")) == lines(SEED)
    stdout = cli(tmp_path, db_url, project, "export").stdout
    assert lines(stdout) == lines(SEED)
    listing = json.loads(cli(tmp_path, db_url, project, "list", "--potential", "--json").stdout)
    assert [p["title"] for p in listing] == ["DNS Configuration Issues", "Asset Upload Failures",
                                            "Frontend Integration Issues"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        ("# Log\n\n## Current Failures\n\n### Failure #1: x\n- **Date**: August 20, 2025\n".encode(), "missing"),
        (SEED.replace("✅ Resolved", "Fixed", 1).encode(), "unknown status 'Fixed'"),
        ((SEED.split("## Potential")[0].replace("#2: Missing", "#1: Missing") + "## Recovery Procedures\n").encode(),
         "appears twice"),
    ],
)
def test_cli_bad_documents_exit_2_with_file_and_line_and_write_nothing(tmp_path, db_url, project, content, message):
    bad = tmp_path / "bad.md"
    bad.write_bytes(content)
    proc = cli(tmp_path, db_url, project, "import", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:" in proc.stderr, proc.stderr
    assert message.lower() in proc.stderr.lower(), proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(cli(tmp_path, db_url, project, "list", "--json").stdout) == []


def test_cli_refuses_a_50_mb_file(tmp_path, db_url, project):
    big = tmp_path / "big.md"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    proc = cli(tmp_path, db_url, project, "import", str(big))
    assert proc.returncode == 2
    assert f"{big}: is larger than 32 MB, the most faultbook reads for a Markdown document" in proc.stderr
    assert "Traceback" not in proc.stderr
