"""The support bundle: SUPPORT.md (golden, volatile fields normalised) and no planted secret anywhere."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from faultbook.services.bundle import build_bundle
from recovery.helpers import WORKER, WRANGLER_TOML

GOLDEN = Path(__file__).parent / "golden" / "SUPPORT.md"
ENV_SECRET = "planted-env-secret-4f9a2c7e"
VARS_SECRET = "planted-vars-secret-81b3d5"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@example.com",
    "GIT_COMMITTER_NAME": "Ann", "GIT_COMMITTER_EMAIL": "ann@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def git(root: Path, *args: str, date: str = "2025-08-19T10:00:00+00:00") -> str:
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def arrange(qv, cf_api):
    """Good deploy at commit A, config changed at commit B, failed deploy at B, then a rollback."""
    root = qv.root
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "wrangler.toml")
    git(root, "commit", "-q", "-m", "QuoteViral API with R2 uploads")
    good = git(root, "rev-parse", "HEAD")
    text = WRANGLER_TOML.replace(
        'FRONTEND_ORIGIN = "https://quoteviral.com"\n',
        f'FRONTEND_ORIGIN = "https://quoteviral.com"\nAPI_KEY = "{VARS_SECRET}"\n',
    ) + '\n[[unsafe.bindings]]\nname = "IMAGES"\ntype = "Images"\n'
    (root / "wrangler.toml").write_text(text, encoding="utf-8")
    git(root, "commit", "-q", "-am", "Add the Images binding", date="2025-08-20T14:00:00+00:00")
    bad = git(root, "rev-parse", "HEAD")
    qv.record_good_deploy(at=datetime(2025, 8, 19, 10, 5, tzinfo=timezone.utc), commit=good)
    token = cf_api.token
    output = (
        "⛅️ wrangler 4.86.0\n"
        f"Using token {token} (Authorization: Bearer {token})\n"
        f"MY_SERVICE_SECRET={ENV_SECRET}\n"
        "✘ [ERROR] A request to the Cloudflare API (/accounts/x/workers/scripts/quoteviral-api) failed.\n"
        "  binding IMAGES has an unknown type Images [code: 10021]\n"
    )
    number = qv.record_failed_deploy(output=output, commit=bad,
                                     error=f"binding IMAGES has an unknown type Images [code: 10021] ({ENV_SECRET})")
    cf_api.state.add_version(WORKER)
    cf_api.state.add_version(WORKER)
    qv.rollback(failure_number=number, settings=qv.settings(MY_SERVICE_SECRET=ENV_SECRET))
    return number


def make_bundle(qv, number, tmp_path):
    settings = qv.settings(MY_SERVICE_SECRET=ENV_SECRET)
    with qv.database.session() as session:
        return build_bundle(session, settings=settings, project=qv.project, number=number,
                            out=tmp_path / "support.zip")


def normalise(text: str, qv) -> str:
    text = text.replace(str(qv.root), "<ROOT>").replace(qv.project.name, "<PROJECT>")
    text = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<UUID>", text)
    text = re.sub(r"(bundle made|at) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", r"\1 <NOW>", text)
    text = re.sub(r"by faultbook \d+\.\d+\.\d+\S*", "by faultbook <VERSION>", text)
    text = re.sub(r"(deployment[ -]|preserved-)\d+", r"\1<ID>", text)
    text = re.sub(r"^index [0-9a-f]+\.\.[0-9a-f]+", "index <BLOBS>", text, flags=re.M)
    return text


def test_support_md_matches_the_golden_file(qv, cf_api, tmp_path):
    number = arrange(qv, cf_api)
    path = make_bundle(qv, number, tmp_path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        support = archive.read("SUPPORT.md").decode()
    assert names[0] == "SUPPORT.md"
    assert sorted(names[1:]) == sorted(
        n for n in names[1:] if re.fullmatch(r"config/wrangler\.toml|config/preserved-\d+-wrangler\.toml|"
                                             r"failure\.json|suspect_changes\.json|output/deployment-\d+\.txt", n))
    assert len(names) == 6  # SUPPORT.md, two configs, failure.json, suspect_changes.json, the output
    actual = normalise(support, qv)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(actual, encoding="utf-8")
    assert actual == GOLDEN.read_text(encoding="utf-8")


def test_no_planted_secret_anywhere_in_the_bundle(qv, cf_api, tmp_path):
    number = arrange(qv, cf_api)
    path = make_bundle(qv, number, tmp_path)
    secrets = [cf_api.token, ENV_SECRET, VARS_SECRET]
    forms = {s: [s, base64.b64encode(s.encode()).decode(), base64.urlsafe_b64encode(s.encode()).decode(),
                 quote(s, safe="")] for s in secrets}
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    assert contents["output/" + next(n.split("/")[1] for n in contents if n.startswith("output/"))].count(
        b"[REDACTED]") >= 3
    for secret, variants in forms.items():
        for form in variants:
            needle = form.encode()
            assert needle not in raw, f"{secret!r} as {form!r} in the raw zip"
            for name, data in contents.items():
                assert needle not in data, f"{secret!r} as {form!r} in {name}"
    # The rest of the config survives scrubbing.
    assert b'bucket_name = "quoteviral-uploads"' in contents["config/wrangler.toml"]


def test_bundle_of_a_hand_recorded_failure(qv, tmp_path):
    from faultbook.domain import Failure
    from faultbook.services import ledger

    with qv.database.session(write=True) as session:
        stored = ledger.record_failure(session, project=qv.project, failure=Failure(
            number=None, title="DNS not resolving", occurred_at=None, component="DNS", error_message="DNS resolution failed"))
    path = make_bundle(qv, stored.number, tmp_path)
    support = zipfile.ZipFile(path).read("SUPPORT.md").decode()
    assert "No captured command: the failure was recorded by hand." in support
    assert "No successful deployment is on record before this failure." in support
    assert "- Worker name: quoteviral-api" in support
