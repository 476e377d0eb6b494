"""``faultbook run`` around the REAL wrangler 4.86 against the local Cloudflare API emulator.

Every test runs on SQLite and PostgreSQL (``db_url`` via FAULTBOOK_DATABASE_URL)
and runs faultbook as a real process, exactly as a user would:
``faultbook run -- wrangler deploy --no-x-provision``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "quoteviral"
BUCKETS = ("quoteviral-uploads", "quoteviral-generated", "quoteviral-templates")
NO_PROVISION = "--no-x-provision"
IMAGES_MESSAGE = "binding IMAGES has an unknown type Images [code: 10021]"
BUCKET_MESSAGE = "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]"


def copy_example(target: Path, *, images_type: str = "Images") -> Path:
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("node_modules", ".faultbook", ".wrangler"))
    config = target / "wrangler.toml"
    config.write_text(config.read_text().replace('type = "Images"', f'type = "{images_type}"'))
    return target


@pytest.fixture
def faultbook(cf_api, wrangler_bin, db_url, project, tmp_path):
    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
        env = cf_api.env(
            PYTHONPATH=str(ROOT / "src"),
            FAULTBOOK_DATABASE_URL=db_url,
            FAULTBOOK_PROJECT=project.key,
            PATH=f"{wrangler_bin.parent}{os.pathsep}{os.environ['PATH']}",
        )
        return subprocess.run(
            [sys.executable, "-m", "faultbook", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
        )

    return run


def failures(faultbook, cwd: Path) -> list[dict]:
    done = faultbook("list", "--json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def deployments(faultbook, cwd: Path) -> list[dict]:
    done = faultbook("deployments", "--json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_images_type_gives_the_seeds_exact_error_message(cf_api, faultbook, tmp_path):
    qv = copy_example(tmp_path / "qv")
    for name in BUCKETS:
        cf_api.state.create_r2_bucket(name)

    done = faultbook("run", "--", "wrangler", "deploy", NO_PROVISION, cwd=qv)

    assert done.returncode == 1  # wrangler's own exit code
    assert IMAGES_MESSAGE in done.stderr  # wrangler's output streamed through
    [failure] = failures(faultbook, qv)
    assert failure["error_message"] == IMAGES_MESSAGE
    assert failure["title"] == "binding IMAGES has an unknown type Images"
    assert (failure["component"], failure["component_detail"], failure["step"]) == (
        "Backend", "Cloudflare Worker", "Worker deployment",
    )
    [deployment] = deployments(faultbook, qv)
    assert deployment["outcome"] == "failed" and deployment["exit_code"] == 1
    assert deployment["failure_number"] == failure["number"]
    assert deployment["command"] == "wrangler deploy --no-x-provision"
    assert deployment["config_hash"].startswith("sha256:")


def test_missing_bucket_gives_the_seeds_10085_message(cf_api, faultbook, tmp_path):
    qv = copy_example(tmp_path / "qv", images_type="images")

    done = faultbook("run", "--", "wrangler", "deploy", NO_PROVISION, cwd=qv)

    assert done.returncode == 1
    [failure] = failures(faultbook, qv)
    assert failure["error_message"] == BUCKET_MESSAGE
    assert failure["title"] == "R2 bucket 'quoteviral-uploads' not found"


def test_good_config_is_a_successful_deployment_with_its_version(cf_api, faultbook, tmp_path):
    qv = copy_example(tmp_path / "qv", images_type="images")
    for name in BUCKETS:
        cf_api.state.create_r2_bucket(name)

    done = faultbook("run", "--", "wrangler", "deploy", NO_PROVISION, cwd=qv)

    assert done.returncode == 0, done.stderr
    [version] = cf_api.state.scripts["quoteviral-api"].versions
    assert f"Current Version ID: {version.id}" in done.stdout  # stdout passed through untouched
    [deployment] = deployments(faultbook, qv)
    assert deployment["outcome"] == "succeeded"
    assert deployment["version_id"] == version.id
    assert deployment["url"] == "https://quoteviral-api.quoteviral.workers.dev"
    assert failures(faultbook, qv) == []
    assert cf_api.token not in json.dumps(deployment)


def test_the_same_failure_twice_is_one_failure_with_two_occurrences(cf_api, faultbook, tmp_path):
    pytest.importorskip("faultbook.services.recognition")
    qv = copy_example(tmp_path / "qv")
    for name in BUCKETS:
        cf_api.state.create_r2_bucket(name)

    first = faultbook("run", "--", "wrangler", "deploy", NO_PROVISION, cwd=qv)
    second = faultbook("run", "--", "wrangler", "deploy", NO_PROVISION, cwd=qv)

    assert first.returncode == second.returncode == 1
    [failure] = failures(faultbook, qv)
    shown = json.loads(faultbook("show", str(failure["number"]), "--json", cwd=qv).stdout)
    assert shown["error_message"] == IMAGES_MESSAGE
    listed = deployments(faultbook, qv)
    assert [d["failure_number"] for d in listed] == [failure["number"]] * 2
    assert f"#{failure['number']}" in second.stderr


def test_a_resolved_failure_that_recurs_is_a_regression_with_its_fix_printed(cf_api, faultbook, tmp_path):
    pytest.importorskip("faultbook.services.recognition")
    qv = copy_example(tmp_path / "qv")
    for name in BUCKETS:
        cf_api.state.create_r2_bucket(name)
    first = faultbook("run", "--", "wrangler", "deploy", NO_PROVISION, cwd=qv)
    [failure] = failures(faultbook, qv)
    number = str(failure["number"])
    updated = faultbook(
        "update", number, "--status", "resolved",
        "--root-cause", "The Images binding type was Images instead of images",
        "--resolution", "Changed the binding type to images",
        "--lessons-learned", "Binding types are case-sensitive",
        cwd=qv,
    )
    assert first.returncode == 1 and updated.returncode == 0, updated.stderr

    again = faultbook("run", "--", "wrangler", "deploy", NO_PROVISION, cwd=qv)

    assert again.returncode == 1
    assert "REGRESSION" in again.stderr
    assert "Changed the binding type to images" in again.stderr  # the fix, from the ledger, at once
    shown = json.loads(faultbook("show", number, "--json", cwd=qv).stdout)
    assert shown["status"] == "open"
