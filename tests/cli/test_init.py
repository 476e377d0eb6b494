"""`faultbook init` on a project of one's own: finds what is there, offers the import, writes nothing outside."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "quoteviral"


def _faultbook(*args, cwd, env=None):
    base = {k: v for k, v in os.environ.items() if k not in ("FAULTBOOK_DATABASE_URL", "FAULTBOOK_PROJECT")}
    env = {**base, "PYTHONPATH": str(ROOT / "src"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "faultbook", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def _monorepo(tmp_path):
    root = tmp_path / "shop"
    (root / "apps" / "api").mkdir(parents=True)
    (root / "apps" / "site").mkdir(parents=True)
    (root / "node_modules" / "x").mkdir(parents=True)
    shutil.copy(EXAMPLE / "wrangler.toml", root / "apps" / "api" / "wrangler.toml")
    (root / "apps" / "site" / "wrangler.jsonc").write_text(
        '{\n  // the site\n  "name": "shop-site",\n  "pages_build_output_dir": "./dist",\n}\n')
    (root / "node_modules" / "x" / "wrangler.toml").write_text('name = "not-ours"\n')
    shutil.copy(EXAMPLE / "FAILURES.md", root / "docs-failures.md")
    (root / "README.md").write_text("# Shop\n\nNothing about failures here.\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_init_finds_the_worker_and_pages_configs_and_the_failure_log(tmp_path):
    root = _monorepo(tmp_path)
    result = _faultbook("init", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "Found apps/api/wrangler.toml: Worker 'quoteviral-api'" in result.stderr
    assert "Found apps/site/wrangler.jsonc: Pages project 'shop-site'" in result.stderr
    assert "not-ours" not in result.stderr
    assert "Found a failure log: docs-failures.md (2 failures, 3 potential)" in result.stderr
    # No terminal: the exact command is printed instead of asking.
    assert "To import it: faultbook import docs-failures.md" in result.stderr
    config = (root / "faultbook.toml").read_text()
    assert tomllib.loads(config) == {"project": "shop"}  # everything else is commented
    assert "#   apps/site/wrangler.jsonc: Pages project 'shop-site'" in config
    assert ".faultbook/" in (root / ".gitignore").read_text()
    # The printed command works as printed.
    imported = _faultbook("import", "docs-failures.md", cwd=root)
    assert imported.returncode == 0, imported.stderr
    assert "2 new" in imported.stderr


def test_outside_a_project_commands_refuse_and_create_nothing(tmp_path):
    outside = tmp_path / "somewhere"
    outside.mkdir()
    for args in (["record", "--title", "t", "--component", "Backend"], ["list"], ["import", str(EXAMPLE / "FAILURES.md")],
                 ["db", "upgrade"]):
        result = _faultbook(*args, cwd=outside)
        assert result.returncode == 2, (args, result.stderr)
        assert "faultbook init" in result.stderr
    assert list(outside.iterdir()) == []
    # A configured database needs no project folder.
    url = f"sqlite:///{tmp_path / 'team.db'}"
    result = _faultbook("list", cwd=outside, env={"FAULTBOOK_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr


def test_version_is_printed():
    from faultbook import __version__

    result = _faultbook("--version", cwd=ROOT)
    assert (result.returncode, result.stdout.strip()) == (0, f"faultbook {__version__}")


def test_run_outside_a_project_runs_the_command_unrecorded_with_its_exit_code(tmp_path):
    outside = tmp_path / "somewhere"
    outside.mkdir()
    result = _faultbook("run", "--", "sh", "-c", "echo deployed; exit 3", cwd=outside)
    assert (result.returncode, result.stdout) == (3, "deployed\n")
    assert "without recording it" in result.stderr and "faultbook init" in result.stderr
    assert _faultbook("run", "--", "no-such-command-xyz", cwd=outside).returncode == 127
    assert list(outside.iterdir()) == []
