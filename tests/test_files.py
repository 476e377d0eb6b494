"""Writing the user's files: ``export -o``, ``bundle -o`` and ``check --fix`` through ``files.write_atomic``.

Special files are refused, an existing file keeps its mode, a symlink is
written through (the link stays), temporaries are never fixed names (a planted
symlink cannot redirect them) and none is left behind when writing fails.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import zipfile
from datetime import date
from pathlib import Path

import pytest

from conftest import ROOT
from faultbook.errors import InputError
from faultbook.files import read_capped, write_atomic

TODAY = date(2026, 1, 1)


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name not in keep)


def test_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.md", b"hello\n")
    finally:
        os.umask(old)
    assert (tmp_path / "new.md").read_bytes() == b"hello\n"
    assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o644


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_existing_file_keeps_its_mode(tmp_path, mode):
    target = tmp_path / "ledger.md"
    target.write_bytes(b"old")
    target.chmod(mode)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert leftovers(tmp_path, {"ledger.md"}) == []


def test_symlink_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "real.md"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link = tmp_path / "link.md"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new" and stat.S_IMODE(real.stat().st_mode) == 0o640


@pytest.mark.parametrize("kind", ["dir", "fifo", "device", "socket"])
def test_special_files_are_refused_and_left_alone(tmp_path, kind):
    if kind == "dir":
        target = tmp_path / "folder"
        target.mkdir()
    elif kind == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    elif kind == "device":
        target = Path(os.devnull)
    else:
        import socket

        target = tmp_path / "sock"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(target))
    before = os.stat(target)
    with pytest.raises(InputError) as caught:
        write_atomic(target, b"data")
    assert "folder" in str(caught.value) or "special file" in str(caught.value)
    after = os.stat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    if kind != "device":
        assert leftovers(tmp_path, {target.name}) == []


def test_empty_name_is_refused(tmp_path):
    with pytest.raises(InputError, match="no file name"):
        write_atomic("", b"x")


@pytest.mark.parametrize("failing", ["fsync", "writer"])
def test_a_failed_write_leaves_the_target_and_no_temporary(tmp_path, monkeypatch, failing):
    target = tmp_path / "out.zip"
    target.write_bytes(b"previous")
    if failing == "fsync":  # the disk fills up while writing
        def full(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr("faultbook.files.os.fsync", full)
        with pytest.raises(InputError, match="the disk is full; nothing was written"):
            write_atomic(target, b"new")
    else:
        def writer(handle):
            handle.write(b"half")
            raise OSError(errno.EIO, "Input/output error")

        with pytest.raises(InputError, match="Input/output error"):
            write_atomic(target, writer)
    assert target.read_bytes() == b"previous"
    assert leftovers(tmp_path, {"out.zip"}) == []


def test_a_planted_symlink_at_the_old_fixed_temporary_names_is_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    for name in (".out.zip.tmp", ".wrangler.toml.faultbook-fix.toml", ".ledger.md.tmp"):
        (tmp_path / name).symlink_to(victim)
    write_atomic(tmp_path / "out.zip", b"zip")
    write_atomic(tmp_path / "ledger.md", b"md")
    assert victim.read_bytes() == b"precious"


def test_reads_are_capped_by_what_is_read(tmp_path):
    with pytest.raises(InputError, match="larger than 1 KB"):
        read_capped(Path("/dev/zero"), limit=1024)
    with pytest.raises(InputError, match="is a folder"):
        read_capped(tmp_path, limit=1024)
    with pytest.raises(InputError, match="no such file"):
        read_capped(tmp_path / "missing", limit=1024)
    assert read_capped(Path(os.devnull), limit=10) == b""


# ---------------------------------------------------------------- through the commands


def test_export_to_a_fifo_or_device_is_refused(tmp_path, monkeypatch, capsys):
    from conftest import faultbook_main as main

    monkeypatch.setenv("FAULTBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'l.db'}")
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe")
    for target in (str(tmp_path / "pipe"), os.devnull):
        assert main(["export", "-o", target]) == 2
        assert "special file" in capsys.readouterr().err
    existing = tmp_path / "FAILURES.md"
    existing.write_text("old")
    existing.chmod(0o644)
    assert main(["export", "-o", str(existing)]) == 0
    assert stat.S_IMODE(existing.stat().st_mode) == 0o644 and existing.read_text().startswith("# ")


def test_check_fix_on_a_symlinked_config_writes_the_target(tmp_path):
    from faultbook.cli.check_cmd import check_command

    project = tmp_path / "quoteviral"
    shutil.copytree(ROOT / "examples" / "quoteviral", project, ignore=shutil.ignore_patterns("node_modules"))
    shared = tmp_path / "shared-wrangler.toml"
    (project / "wrangler.toml").rename(shared)
    shared.chmod(0o640)
    (project / "wrangler.toml").symlink_to(shared)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (project / ".wrangler.toml.faultbook-fix.toml").symlink_to(victim)
    stdout, stderr, code = check_command(str(project), offline=True, fix=True, output_format="json", today=TODAY)
    assert "fixed 1 finding" in stderr, stderr
    assert (project / "wrangler.toml").is_symlink()
    assert 'type = "images"' in shared.read_text() and stat.S_IMODE(shared.stat().st_mode) == 0o640
    assert victim.read_text() == "precious"
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".wrangler.toml")) == [
        ".wrangler.toml.faultbook-fix.toml"
    ]
