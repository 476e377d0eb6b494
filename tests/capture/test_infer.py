"""Component and step inference, as a table."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from faultbook.capture.infer import config_hash, git_info, infer, is_wrangler

TABLE = [
    ("wrangler deploy", "Backend", "Worker deployment", "Cloudflare Worker"),
    ("npx wrangler deploy --env production", "Backend", "Worker deployment", "Cloudflare Worker"),
    ("npx -y wrangler@4 deploy", "Backend", "Worker deployment", "Cloudflare Worker"),
    ("bunx wrangler versions upload", "Backend", "Worker deployment", "Cloudflare Worker"),
    ("pnpm exec wrangler versions deploy", "Backend", "Worker deployment", "Cloudflare Worker"),
    ("wrangler pages deploy ./dist --project-name quoteviral", "Frontend", "Pages deployment", "Cloudflare Pages"),
    ("wrangler r2 object put quoteviral-templates/a.png --file a.png", "Assets", "Template asset upload", "Cloudflare R2"),
    ("wrangler r2 bucket create quoteviral-uploads", "Assets", "R2 bucket setup", "Cloudflare R2"),
    ("wrangler kv key put --binding CACHE k v", "Assets", "KV upload", "Workers KV"),
    ("wrangler d1 migrations apply DB --remote", "Backend", "Database migration", "Cloudflare D1"),
    ("wrangler pages project domain add quoteviral quoteviral.app", "DNS", "Custom domain configuration", "Cloudflare Pages"),
    ("wrangler triggers deploy", "DNS", "Custom domain configuration", "Cloudflare Worker routes"),
    ("./scripts/update-dns.sh", "DNS", "Custom domain configuration", None),
    ("npm run deploy", "Backend", "Worker deployment", "Cloudflare Worker"),
    ("pnpm deploy:pages", "Frontend", "Pages deployment", "Cloudflare Pages"),
    ("yarn upload", "Assets", "Template asset upload", "Cloudflare R2"),
    ("make all", "Unknown", "Deployment", None),
]


@pytest.fixture
def project_dir(tmp_path):
    (tmp_path / "package.json").write_text(
        json.dumps(
            {
                "scripts": {
                    "deploy": "npm run build && wrangler deploy",
                    "build": "tsc",
                    "deploy:pages": "vite build && wrangler pages deploy dist",
                    "upload": "wrangler r2 object put quoteviral-templates/x --file x",
                }
            }
        )
    )
    return tmp_path


@pytest.mark.parametrize("line, component, step, detail", TABLE, ids=[t[0] for t in TABLE])
def test_inference_table(project_dir, line, component, step, detail):
    got = infer(line.split(), cwd=project_dir)
    assert (got.component, got.step, got.component_detail) == (component, step, detail)


def test_project_patterns_win(project_dir):
    patterns = {
        "wrangler deploy --env staging*": {"component": "Backend", "step": "Staging deployment", "detail": "Staging"},
        "./scripts/upload-*": "Assets",
    }
    got = infer("wrangler deploy --env staging".split(), cwd=project_dir, patterns=patterns)
    assert (got.component, got.step, got.component_detail) == ("Backend", "Staging deployment", "Staging")
    assert infer(["./scripts/upload-templates.sh"], cwd=project_dir, patterns=patterns).component == "Assets"


def test_is_wrangler_sees_through_scripts(project_dir):
    assert is_wrangler("npm run deploy".split(), cwd=project_dir)
    assert not is_wrangler("make all".split(), cwd=project_dir)


def test_config_hash_follows_wrangler_lookup_order(tmp_path):
    assert config_hash(["wrangler", "deploy"], tmp_path) is None
    (tmp_path / "wrangler.toml").write_text('name = "a"\n')
    toml_hash = config_hash(["wrangler", "deploy"], tmp_path)
    (tmp_path / "wrangler.json").write_text('{"name": "a"}')
    assert config_hash(["wrangler", "deploy"], tmp_path) != toml_hash  # wrangler.json comes first
    assert config_hash(["wrangler", "deploy", "-c", "wrangler.toml"], tmp_path) == toml_hash
    assert toml_hash.startswith("sha256:") and len(toml_hash) == 7 + 64


def test_git_info(tmp_path):
    assert git_info(tmp_path).commit is None
    run = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("init", "-q", "-b", "main")
    (tmp_path / "f").write_text("1")
    run("add", "f")
    run("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x")
    info = git_info(tmp_path)
    assert len(info.commit) == 40 and info.branch == "main" and info.dirty is False
    (tmp_path / "f").write_text("2")
    assert git_info(tmp_path).dirty is True
