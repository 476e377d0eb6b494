"""Extraction of the exact error text, one parametrised test over data cases (see extract_cases.py)."""

from __future__ import annotations

import json

import pytest
from extract_cases import CASES

from faultbook.capture.extract import extract_error
from faultbook.capture.wrangler_output import read_wrangler_output


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_extract(case):
    found = extract_error(
        stdout=case.get("stdout", ""), stderr=case.get("stderr", ""), exit_code=case["exit_code"]
    )
    if case["message"] is None:
        assert found is None
        return
    assert found is not None
    assert found.message == case["message"]
    assert found.title == case["title"]
    assert found.code == case["code"]
    assert found.endpoint == case["endpoint"]


def test_kept_error_blocks_win_over_the_tail():
    block = "✘ [ERROR] A request to the Cloudflare API (/accounts/a/workers/scripts/w) failed.\n\n  bad [code: 10021]\n"
    found = extract_error(stdout="", stderr="unrelated noise\n", blocks=[block], exit_code=1)
    assert found.message == "bad [code: 10021]"


def test_wrangler_output_file(tmp_path):
    path = tmp_path / "out.ndjson"
    old = {"version": 1, "type": "deploy", "version_id": "old-run", "targets": []}
    entries = [
        {"version": 1, "type": "wrangler-session", "wrangler_version": "4.86.0"},
        {
            "version": 1,
            "type": "deploy",
            "worker_name": "quoteviral-api",
            "version_id": "9a8b7c6d-0000-4000-8000-000000000001",
            "targets": ["https://quoteviral-api.example.workers.dev"],
        },
    ]
    path.write_text(json.dumps(old) + "\n")
    offset = path.stat().st_size
    with path.open("a") as handle:
        for entry in entries:
            handle.write(json.dumps(entry) + "\n")
        handle.write("{not json\n")
    out = read_wrangler_output([path], offsets={path: offset})
    assert out.version_id == "9a8b7c6d-0000-4000-8000-000000000001"
    assert out.url == "https://quoteviral-api.example.workers.dev"
    assert out.entry_types == ("wrangler-session", "deploy")


def test_wrangler_output_file_command_failed_and_pages(tmp_path):
    path = tmp_path / "out.ndjson"
    lines = [
        {"version": 1, "type": "pages-deploy", "pages_project": "qv", "deployment_id": "d-1", "url": "https://d-1.qv.pages.dev"},
        {"version": 1, "type": "command-failed", "code": 10085, "message": "A request to the Cloudflare API (/x) failed.", "retry_after_ms": None},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = read_wrangler_output([path])
    assert out.deployment_id == "d-1"
    assert out.url == "https://d-1.qv.pages.dev"
    assert out.failed_code == 10085
    assert out.retry_after_ms is None


def test_missing_output_file_is_empty(tmp_path):
    out = read_wrangler_output([tmp_path / "nope"])
    assert out.version_id is None and out.failed_code is None
