"""The wrangler_bin contract: a missing wrangler fails under CI and skips elsewhere."""

from pathlib import Path

import pytest

from cfapi.fixtures import require_wrangler


def test_missing_wrangler_fails_under_ci(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="scripts/install-wrangler.sh"):
        require_wrangler(tmp_path / "wrangler", {"CI": "true"})


def test_missing_wrangler_skips_outside_ci(tmp_path):
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require_wrangler(tmp_path / "wrangler", {})


def test_cf_api_env_points_everything_at_loopback(cf_api):
    env = cf_api.env()
    assert env["CLOUDFLARE_API_BASE_URL"] == cf_api.base_url
    assert env["CLOUDFLARE_API_BASE_URL"].startswith("http://127.0.0.1:")
    assert env["CLOUDFLARE_API_BASE_URL"].endswith("/client/v4")
    assert env["CLOUDFLARE_API_TOKEN"] == cf_api.token
    assert env["CLOUDFLARE_ACCOUNT_ID"] == cf_api.account_id
    assert env["WRANGLER_SEND_METRICS"] == "false"
    assert env["npm_registry"].startswith("http://127.0.0.1:")
    assert "CI" not in env
    assert Path(env["HOME"]) == cf_api.home
