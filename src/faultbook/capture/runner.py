"""Run a deploy command transparently while keeping a bounded record of what it printed.

Transparency is the contract of ``faultbook run``: a user who puts it in front
of ``wrangler deploy`` must not notice it, so

* stdout and stderr are copied live, each to its own stream, unbuffered (two
  reader threads, raw ``os.read``/``os.write``, no line buffering);
* colours survive on a terminal: when our stdout (or stderr) is a TTY the
  child gets a pseudo-terminal of the same window size for that stream, so it
  sees ``isatty()`` and the same width it would see bare (a separate pty per
  stream keeps them separate); pipes are used otherwise, with no FORCE_COLOR
  tricks;
* stdin is inherited as is (prompts work), the child stays in our process
  group (a terminal's Ctrl-C or a CI runner killing the group reaches it as
  it would bare), SIGTERM is forwarded, and SIGINT is forwarded unless the
  terminal has already delivered it to the whole foreground group;
* the exit code is the child's, or 128+n when a signal ended it;
* when our stdout is closed (``faultbook run -- cmd | head``) the child's pipe
  is closed too, so it gets SIGPIPE exactly as it would bare.

Memory stays bounded whatever the command prints: a tail of each stream
(``tail_bytes``, at most ``tail_lines`` lines) and the first few "error
windows" (a window of output starting at a line holding ``ERROR`` or an API
error code) are kept; everything else is streamed through and forgotten.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

DEFAULT_TAIL_BYTES = 256 * 1024
DEFAULT_TAIL_LINES = 2000
BLOCK_BYTES = 16 * 1024
MAX_BLOCKS = 8
READ_SIZE = 256 * 1024
#: Markers that open an error window (esbuild's "[ERROR]" has ANSI inside the brackets, so match the word).
BLOCK_MARKERS = (b"ERROR", b"[code: ", b"(Code: ")
#: After the child exits, wait at most this long for a grandchild that still holds the pipes.
DRAIN_GRACE_SECONDS = 3.0
_F_SETPIPE_SZ = 1031


@dataclass(frozen=True)
class CommandResult:
    """What a wrapped command did; the tails and blocks are raw (unscrubbed) text."""

    argv: tuple[str, ...]
    exit_code: int
    #: The signal that ended the child, if one did.
    signal: int | None
    duration: float
    stdout_tail: str
    stderr_tail: str
    #: Windows of output that start at an error marker, from anywhere in the output.
    error_blocks: tuple[str, ...]
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    #: A signal faultbook received and passed on (the user interrupted the run).
    interrupted_by: int | None = None
    #: True when the command could not be started at all (not found, not executable).
    not_started: bool = False


class _Capture:
    """Copies one stream through and keeps its tail and error windows."""

    def __init__(self, *, out_fd: int, tail_bytes: int, carry: int = 16) -> None:
        self.out_fd = out_fd
        self.tail_bytes = tail_bytes
        self.tail = bytearray()
        self.blocks: list[bytearray] = []
        self._open_block: bytearray | None = None
        self._carry = b""
        self._carry_len = carry
        self.total = 0
        self.sink_broken = False
        self.last_data = time.monotonic()

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.last_data = time.monotonic()
        tail = self.tail
        tail += chunk
        if len(tail) > 2 * self.tail_bytes:
            del tail[: len(tail) - self.tail_bytes]
        self._scan(chunk)

    def _scan(self, chunk: bytes) -> None:
        block = self._open_block
        if block is not None:
            room = BLOCK_BYTES - len(block)
            block += chunk[:room]
            if len(block) < BLOCK_BYTES:
                return
            self._open_block = None
            chunk = chunk[room:]
            self._carry = b""
        if len(self.blocks) >= MAX_BLOCKS:
            return
        window = self._carry + chunk
        self._carry = window[-self._carry_len :]
        at = -1
        for marker in BLOCK_MARKERS:
            found = window.find(marker)
            if found >= 0 and (at < 0 or found < at):
                at = found
        if at < 0:
            return
        start = window.rfind(b"\n", 0, at) + 1
        block = bytearray(window[start : start + BLOCK_BYTES])
        self.blocks.append(block)
        self._carry = b""
        if len(block) < BLOCK_BYTES:
            self._open_block = block

    def write_through(self, chunk: bytes) -> bool:
        """Copy to our stream; False once our stream is gone (EPIPE)."""
        if self.sink_broken:
            return False
        view = memoryview(chunk)
        while view:
            try:
                written = os.write(self.out_fd, view)
            except InterruptedError:  # pragma: no cover - PEP 475 retries for us
                continue
            except BrokenPipeError:
                self.sink_broken = True
                return False
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    time.sleep(0.001)
                    continue
                self.sink_broken = True
                return False
            view = view[written:]
        return True

    def tail_text(self, max_lines: int) -> str:
        data = bytes(self.tail[-self.tail_bytes :])
        text = data.decode("utf-8", "replace")
        if len(self.tail) > self.tail_bytes or self.total > len(data):
            # We cut into the middle of a line: drop the partial first line.
            newline = text.find("\n")
            if newline >= 0:
                text = text[newline + 1 :]
        lines = text.split("\n")
        if len(lines) > max_lines + 1:
            text = "\n".join(lines[-(max_lines + 1) :])
        return text

    def block_texts(self) -> tuple[str, ...]:
        return tuple(bytes(b).decode("utf-8", "replace") for b in self.blocks)


def _pump(fd: int, capture: _Capture) -> None:
    try:
        while True:
            try:
                chunk = os.read(fd, READ_SIZE)
            except OSError as exc:
                if exc.errno == errno.EIO:  # a pty whose other side has closed
                    break
                if exc.errno == errno.EINTR:  # pragma: no cover
                    continue
                raise
            if not chunk:
                break
            capture.feed(chunk)
            if not capture.write_through(chunk):
                break  # our stream is gone: close the pipe so the child gets SIGPIPE, as it would bare
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _open_pty_like(our_fd: int) -> tuple[int, int]:
    import pty
    import termios

    master, slave = pty.openpty()
    try:
        size = fcntl.ioctl(our_fd, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
    except OSError:
        pass
    try:
        # Our own terminal translates "\n" to "\r\n" already; doing it in the inner pty too would
        # double the carriage returns.  The child's bytes pass through unchanged.
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.ONLCR
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
    except (OSError, termios.error):
        pass
    return master, slave


def _open_pipe() -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    try:
        fcntl.fcntl(read_fd, _F_SETPIPE_SZ, 1024 * 1024)
    except OSError:
        pass
    return read_fd, write_fd


def terminal_delivers_sigint() -> bool:
    """True when a Ctrl-C on our terminal reaches the child directly (it shares our foreground group)."""
    for fd in (0, 1, 2):
        if _isatty(fd):
            try:
                return os.tcgetpgrp(fd) == os.getpgrp()
            except OSError:
                return False
    return False


def run_command(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdout_fd: int = 1,
    stderr_fd: int = 2,
    use_pty: bool | None = None,
    tail_bytes: int = DEFAULT_TAIL_BYTES,
    tail_lines: int = DEFAULT_TAIL_LINES,
    forward_signals: bool = True,
    on_start: Callable[[int], None] | None = None,
) -> CommandResult:
    """Run ``argv``, copying its output through live, and return what it did.

    ``use_pty`` None means "when that stream of ours is a terminal".
    ``on_start`` is called with the child's pid once it runs.
    """
    argv = tuple(argv)
    started = time.monotonic()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    fds: list[tuple[int, int]] = []
    for our_fd in (stdout_fd, stderr_fd):
        pty_wanted = _isatty(our_fd) if use_pty is None else use_pty
        fds.append(_open_pty_like(our_fd) if pty_wanted else _open_pipe())
    (out_read, out_write), (err_read, err_write) = fds
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=None,
            stdout=out_write,
            stderr=err_write,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            close_fds=True,
        )
    except OSError as exc:
        for fd in (out_read, out_write, err_read, err_write):
            os.close(fd)
        return _not_started(argv, exc, stderr_fd=stderr_fd, started=started)
    os.close(out_write)
    os.close(err_write)
    if on_start is not None:
        on_start(proc.pid)

    captures = (
        _Capture(out_fd=stdout_fd, tail_bytes=tail_bytes),
        _Capture(out_fd=stderr_fd, tail_bytes=tail_bytes),
    )
    threads = [
        threading.Thread(target=_pump, args=(fd, cap), name=f"faultbook-pump-{fd}", daemon=True)
        for fd, cap in zip((out_read, err_read), captures)
    ]
    for thread in threads:
        thread.start()

    received: list[int] = []
    restore = _install_forwarding(proc, received, fds) if forward_signals else {}
    try:
        returncode = proc.wait()
    finally:
        for signum, handler in restore.items():
            signal.signal(signum, handler)
    _drain(threads, captures)

    duration = time.monotonic() - started
    ended_by = -returncode if returncode < 0 else None
    exit_code = 128 + ended_by if ended_by else returncode
    out_cap, err_cap = captures
    return CommandResult(
        argv=argv,
        exit_code=exit_code,
        signal=ended_by,
        duration=duration,
        stdout_tail=out_cap.tail_text(tail_lines),
        stderr_tail=err_cap.tail_text(tail_lines),
        error_blocks=err_cap.block_texts() + out_cap.block_texts(),
        stdout_bytes=out_cap.total,
        stderr_bytes=err_cap.total,
        interrupted_by=received[0] if received else None,
    )


def _drain(threads: list[threading.Thread], captures: Sequence[_Capture]) -> None:
    """Wait for the pumps to reach EOF; give up on a grandchild that keeps the pipes open and silent."""
    while any(t.is_alive() for t in threads):
        for thread in threads:
            thread.join(0.2)
        idle = time.monotonic() - max(c.last_data for c in captures)
        if idle > DRAIN_GRACE_SECONDS:
            break


def _install_forwarding(
    proc: subprocess.Popen, received: list[int], fds: list[tuple[int, int]]
) -> dict[int, object]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    terminal_sigint = terminal_delivers_sigint()

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        if signum == signal.SIGINT and terminal_sigint:
            return  # the terminal sent it to the child already; do not double it
        try:
            proc.send_signal(signum)
        except ProcessLookupError:  # pragma: no cover - already gone
            pass

    def resize(_signum: int, _frame: object) -> None:
        _copy_window_sizes(fds)

    restore: dict[int, object] = {}
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        restore[signum] = signal.signal(signum, forward)
    restore[signal.SIGWINCH] = signal.signal(signal.SIGWINCH, resize)
    return restore


def _copy_window_sizes(fds: list[tuple[int, int]]) -> None:  # pragma: no cover - needs a terminal
    import termios

    for our_fd, (master, _slave) in zip((1, 2), fds):
        if not _isatty(our_fd) or not _isatty(master):
            continue
        try:
            size = fcntl.ioctl(our_fd, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(master, termios.TIOCSWINSZ, size)
        except OSError:
            pass


def _not_started(argv: tuple[str, ...], exc: OSError, *, stderr_fd: int, started: float) -> CommandResult:
    """What a shell does: 127 for a missing command, 126 for one that cannot run."""
    name = argv[0] if argv else ""
    if isinstance(exc, FileNotFoundError):
        code, message = 127, f"{name}: command not found"
    else:
        code, message = 126, f"{name}: {exc.strerror or exc}"
    try:
        os.write(stderr_fd, f"faultbook: {message}\n".encode())
    except OSError:
        pass
    return CommandResult(
        argv=argv,
        exit_code=code,
        signal=None,
        duration=time.monotonic() - started,
        stdout_tail="",
        stderr_tail=message,
        error_blocks=(),
        not_started=True,
    )
