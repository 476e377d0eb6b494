"""The real wrangler 4.86 against the emulated Cloudflare API: the seed's two failures and a good deploy.

These pin the emulator to wrangler's actual behaviour: if wrangler starts
calling an endpoint the emulator lacks, the runs below fail with 7000 and the
fixture prints the unrouted call.
"""

from __future__ import annotations

import re

import pytest

from cfapi.wrangler import copy_quoteviral, run_wrangler

pytestmark = pytest.mark.e2e

BUCKETS = ("quoteviral-uploads", "quoteviral-generated", "quoteviral-templates")
NO_PROVISION = "--no-x-provision"  # wrangler 4.86: hidden flag "experimental-provision", alias "x-provision"


def create_buckets(cf_api) -> None:
    for name in BUCKETS:
        cf_api.state.create_r2_bucket(name)


def test_unknown_binding_type_fails_with_10021(cf_api, wrangler_bin, tmp_path):
    project = copy_quoteviral(tmp_path / "qv")
    create_buckets(cf_api)

    run = run_wrangler(wrangler_bin, "deploy", NO_PROVISION, cwd=project, api=cf_api)

    assert run.returncode != 0
    assert "binding IMAGES has an unknown type Images [code: 10021]" in run.text
    failed = run.entries("command-failed")
    assert [e["code"] for e in failed] == [10021]
    assert "/workers/scripts/quoteviral-api" in failed[0]["message"]
    assert run.entries("deploy") == []
    assert cf_api.state.scripts == {}, "a rejected upload must not create the Worker"


def test_missing_bucket_fails_with_10085_when_provisioning_is_off(cf_api, wrangler_bin, tmp_path):
    project = copy_quoteviral(tmp_path / "qv", images_type="images")

    run = run_wrangler(wrangler_bin, "deploy", NO_PROVISION, cwd=project, api=cf_api)

    assert run.returncode != 0
    assert (
        "R2 bucket 'quoteviral-uploads' not found. Please use a different name and try again. [code: 10085]"
        in run.text
    )
    assert [e["code"] for e in run.entries("command-failed")] == [10085]
    assert cf_api.calls("GET", "/r2/buckets") == [], "--no-x-provision must not look buckets up"
    assert cf_api.state.account().r2_buckets == []


def test_fixed_config_with_buckets_deploys_and_reports_the_version(cf_api, wrangler_bin, tmp_path):
    project = copy_quoteviral(tmp_path / "qv", images_type="images")
    create_buckets(cf_api)

    run = run_wrangler(wrangler_bin, "deploy", NO_PROVISION, cwd=project, api=cf_api)

    assert run.returncode == 0, run.text
    script = cf_api.state.scripts["quoteviral-api"]
    [version] = script.versions
    assert f"Current Version ID: {version.id}" in run.stdout
    assert "https://quoteviral-api.quoteviral.workers.dev" in run.stdout
    [deploy] = run.entries("deploy")
    assert deploy["version_id"] == version.id
    assert deploy["worker_name"] == "quoteviral-api"
    assert deploy["targets"] == ["https://quoteviral-api.quoteviral.workers.dev"]
    assert script.active_deployment.versions == [{"version_id": version.id, "percentage": 100}]
    assert {b["name"]: b["type"] for b in version.bindings}["IMAGES"] == "images"
    assert cf_api.emulator.unrouted == []
    # The token never lands in the request log.
    assert all("authorization" not in r.headers for r in cf_api.requests)


def test_second_deploy_uses_versions_and_deployments_api(cf_api, wrangler_bin, tmp_path):
    project = copy_quoteviral(tmp_path / "qv", images_type="images")
    create_buckets(cf_api)
    first = run_wrangler(wrangler_bin, "deploy", NO_PROVISION, cwd=project, api=cf_api)
    assert first.returncode == 0, first.text

    second = run_wrangler(wrangler_bin, "deploy", NO_PROVISION, cwd=project, api=cf_api)

    assert second.returncode == 0, second.text
    script = cf_api.state.scripts["quoteviral-api"]
    assert len(script.versions) == 2
    assert second.entries("deploy")[0]["version_id"] == script.versions[1].id
    assert len(cf_api.calls("POST", "/workers/scripts/quoteviral-api/versions")) == 1
    assert script.active_deployment.versions == [{"version_id": script.versions[1].id, "percentage": 100}]


def test_auto_provisioning_creates_a_missing_bucket_so_a_typo_deploys(cf_api, wrangler_bin, tmp_path):
    project = copy_quoteviral(tmp_path / "qv", images_type="images")
    create_buckets(cf_api)
    config = project / "wrangler.toml"
    config.write_text(config.read_text().replace('"quoteviral-uploads"', '"quoteviral-uplaods"'))

    run = run_wrangler(wrangler_bin, "deploy", cwd=project, api=cf_api)

    assert run.returncode == 0, run.text
    assert 'Creating new R2 Bucket "quoteviral-uplaods"' in run.text
    names = [b.name for b in cf_api.state.account().r2_buckets]
    assert names == [*BUCKETS, "quoteviral-uplaods"]
    lookups = [r.path.rsplit("/", 1)[1] for r in cf_api.calls("GET", "/r2/buckets/")]
    assert "quoteviral-uplaods" in lookups
    [create] = cf_api.calls("POST", "/r2/buckets")
    assert create.body_summary == {"name": "quoteviral-uplaods"}


def test_future_compatibility_date_is_rejected_by_the_api(cf_api, wrangler_bin, tmp_path):
    project = copy_quoteviral(tmp_path / "qv", images_type="images")
    create_buckets(cf_api)
    cf_api.state.today = "2025-08-01"  # the example's 2025-08-15 is then in the future

    run = run_wrangler(wrangler_bin, "deploy", NO_PROVISION, cwd=project, api=cf_api)

    assert run.returncode != 0
    assert "Can't set compatibility date in the future: 2025-08-15 [code: 10021]" in run.text


def test_server_errors_are_retried_by_wrangler(cf_api, wrangler_bin, tmp_path):
    project = copy_quoteviral(tmp_path / "qv", images_type="images")
    create_buckets(cf_api)
    cf_api.state.inject_fault("/workers/scripts/quoteviral-api", method="PUT", status=500, times=1)

    run = run_wrangler(wrangler_bin, "deploy", NO_PROVISION, cwd=project, api=cf_api)

    assert run.returncode == 0, run.text
    statuses = [r.status for r in cf_api.calls("PUT", "/workers/scripts/quoteviral-api")]
    assert statuses == [500, 200]


def test_invalid_token_fails_before_any_upload(cf_api, wrangler_bin, tmp_path):
    project = copy_quoteviral(tmp_path / "qv", images_type="images")

    run = run_wrangler(wrangler_bin, "deploy", NO_PROVISION, cwd=project, api=cf_api,
                       CLOUDFLARE_API_TOKEN="not-a-known-token")

    assert run.returncode != 0
    assert re.search(r"Invalid API Token \[code: 1000\]", run.text)
    assert cf_api.calls("PUT") == []


def test_dry_run_needs_no_api_and_misses_the_bad_binding_type(cf_api, wrangler_bin, tmp_path):
    project = copy_quoteviral(tmp_path / "qv")

    run = run_wrangler(wrangler_bin, "deploy", "--dry-run", cwd=project, api=cf_api)

    # Measured fact: --dry-run does not catch unsafe.bindings type "Images" — only the API does.
    assert run.returncode == 0, run.text
    assert "--dry-run: exiting now." in run.text
    assert "env.IMAGES (Images)" in run.text
    assert [r for r in cf_api.requests if r.path.startswith("/accounts") or r.path.startswith("/user")] == []
