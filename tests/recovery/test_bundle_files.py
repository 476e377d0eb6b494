"""``bundle -o`` writes through ``files.write_atomic``: special files refused, modes kept, no planted symlink followed."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from faultbook.errors import InputError


def test_bundle_refuses_special_files_and_keeps_modes(qv, tmp_path):
    from faultbook.domain import Failure
    from faultbook.services import ledger
    from faultbook.services.bundle import build_bundle

    with qv.database.session(write=True) as session:
        stored = ledger.record_failure(session, project=qv.project, failure=Failure(
            number=None, title="DNS not resolving", occurred_at=None, component="DNS"))
    settings = qv.settings()

    def bundle(out):
        with qv.database.session() as session:
            return build_bundle(session, settings=settings, project=qv.project, number=stored.number, out=out)

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "dir").mkdir()
    for target in (tmp_path / "pipe", tmp_path / "dir", Path(os.devnull)):
        with pytest.raises(InputError):
            bundle(target)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (tmp_path / ".support.zip.tmp").symlink_to(victim)
    existing = tmp_path / "support.zip"
    existing.write_bytes(b"old")
    existing.chmod(0o644)
    bundle(existing)
    assert zipfile.ZipFile(existing).read("SUPPORT.md")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o644
    assert victim.read_bytes() == b"precious"
    assert not [name for name in os.listdir(tmp_path) if "faultbook-tmp" in name or name.endswith(".tmp") and name != ".support.zip.tmp"]
