"""The pre-commit hook `faultbook-check`, run by the real pre-commit in a temporary repository.

pre-commit builds the hook's environment from this repository exactly as a
user's `.pre-commit-config.yaml` would (a pip install of faultbook), so this
also proves the package installs with its data files.  The environment is
built once for the module (about a minute and a half).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    if not PRE_COMMIT.exists():
        pytest.fail("pre-commit is not installed (it is in the test extras)")
    return tmp_path_factory.mktemp("pre-commit-home")


def _repo(tmp_path: Path, config: str) -> Path:
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "src").mkdir()
    (repo / "src" / "index.js").write_text("export default { fetch() { return new Response('ok') } }\n")
    (repo / "wrangler.toml").write_text(config)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    return repo


def _try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTBOOK_")}
    env.update({"PRE_COMMIT_HOME": str(home), "PYTHONPATH": ""})
    return subprocess.run([str(PRE_COMMIT), "try-repo", str(ROOT), "faultbook-check", "--all-files"], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)


GOOD = 'name = "shop-api"\nmain = "src/index.js"\ncompatibility_date = "2025-06-01"\n'


def test_the_hook_stops_a_commit_of_a_config_that_would_fail_to_deploy(tmp_path, home):
    bad = GOOD.replace('name = "shop-api"', 'name = "Shop API"')
    result = _try_repo(_repo(tmp_path, bad), home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "faultbook check (wrangler config preflight)" in result.stdout
    assert "Failed" in result.stdout and "wrangler.toml" in result.stdout


def test_the_hook_passes_a_config_that_deploys(tmp_path, home):
    result = _try_repo(_repo(tmp_path, GOOD), home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout
