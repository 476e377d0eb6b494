"""Reading and writing the user's files safely: bounded reads, atomic writes.

Why one helper: ``export -o``, ``bundle -o`` and ``check --fix`` each wrote
their own way, and each got it wrong somewhere: ``os.replace`` turned a
device node into a regular file and an existing file's mode into 0600, fixed
temporary names (``.x.zip.tmp``) followed a planted symlink and overwrote
another file, ``--fix`` replaced a symlinked config with a copy, and
``import /dev/zero`` read until memory ran out (its size is 0, so a check of
``st_size`` never fires).  The rules, in one place:

- Reads are capped by what is read, not by what ``stat`` says: ``read_capped``
  reads at most ``limit + 1`` bytes and refuses more.
- ``write_atomic`` writes the whole file or nothing:

  * the target may be a new path or an existing regular file; a directory,
    device node, FIFO or socket is refused (nothing is written);
  * a symlink is followed to its final target, which is replaced (so the link
    stays a link), as editors do;
  * the temporary file is created next to that target with ``mkstemp``
    (``O_CREAT | O_EXCL``, a random name: never through a planted symlink,
    never over another file), gets the existing file's permission bits (or
    the umask's for a new file), is flushed to disk, then renamed over the
    target; on any failure it is removed, so none is left behind.

Errors are ``InputError`` (exit 2) naming the file, never a traceback; a
full disk says so.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from faultbook.errors import InputError


def read_capped(source: Path | BinaryIO, *, limit: int, what: str = "a file") -> bytes:
    """At most ``limit`` bytes of a file (or an open binary stream); more is an InputError.

    Special files are read as streams (``/dev/stdin`` and a FIFO are fine), so
    ``/dev/zero`` stops at ``limit + 1`` bytes with an error.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = str(path)
        try:
            if path.is_dir():
                raise InputError("is a folder, not a file", path=name)
            handle: BinaryIO = open(path, "rb")
        except FileNotFoundError:
            raise InputError("no such file", path=name) from None
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from None
        with handle:
            return _read_bounded(handle, limit, name, what)
    return _read_bounded(source, limit, None, what)


def _read_bounded(handle: BinaryIO, limit: int, name: str | None, what: str) -> bytes:
    try:
        data = handle.read(limit + 1)
    except IsADirectoryError:
        raise InputError("is a folder, not a file", path=name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from None
    if data is None:  # pragma: no cover - a non-blocking stream with nothing ready
        data = b""
    if len(data) > limit:
        raise InputError(f"is larger than {_size(limit)}, the most faultbook reads for {what}", path=name or "stdin")
    return data


def is_file(path: Path) -> bool:
    """``Path.is_file`` that answers False instead of raising for a name no file can have (too long, ...)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def is_dir(path: Path) -> bool:
    """``Path.is_dir`` that answers False instead of raising for a name no folder can have."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def decode_utf8(data: bytes, *, path: str | None) -> str:
    """``data`` as UTF-8 text, or an InputError naming the line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError("not UTF-8 text", path=path or "stdin", line=line) from None


def write_atomic(path: Path | str, data: bytes | Callable[[BinaryIO], None], *, what: str = "file") -> Path:
    """Replace ``path`` with ``data`` (bytes, or a function writing to a binary file) all at once.

    Returns the path written (a symlink's final target).  See the module docstring for the rules.
    """
    if str(path) == "":
        raise InputError(f"no file name given for the {what}")
    target = Path(os.path.realpath(path))
    shown = str(path)
    mode: int | None = None
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", path=shown) from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"is a folder: give a file name for the {what}", path=shown)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"is a special file ({_kind(info.st_mode)}), not a regular file: faultbook will not replace it",
                path=shown,
            )
        mode = stat.S_IMODE(info.st_mode)
    if not target.parent.is_dir():
        raise InputError("cannot write: the folder does not exist", path=shown)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".faultbook-tmp")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", path=shown) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(data):
                data(handle)
            else:
                handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode if mode is not None else _default_mode())
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            raise InputError(f"cannot write: {reason}; nothing was written", path=shown) from None
        raise
    return target


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit // (1024 * 1024)} MB"
    if limit >= 1024:
        return f"{limit // 1024} KB"
    return f"{limit} bytes"
