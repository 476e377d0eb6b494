"""The runner is transparent: real child processes, real pipes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from faultbook.capture.runner import DEFAULT_TAIL_BYTES, run_command

PY = sys.executable


def child(code: str) -> list[str]:
    return [PY, "-c", textwrap.dedent(code)]


@pytest.fixture
def sinks(tmp_path):
    """Our stdout/stderr as files, so the test can read exactly what the user would have seen."""
    out = open(tmp_path / "out", "w+b")
    err = open(tmp_path / "err", "w+b")
    yield out, err
    out.close()
    err.close()


def read(handle) -> bytes:
    handle.seek(0)
    return handle.read()


def test_streams_are_copied_through_separately_and_kept(sinks):
    out, err = sinks
    result = run_command(
        child(
            """
            import sys
            print("to stdout 1", flush=True)
            print("to stderr", file=sys.stderr, flush=True)
            print("to stdout 2", flush=True)
            """
        ),
        stdout_fd=out.fileno(),
        stderr_fd=err.fileno(),
    )
    assert read(out) == b"to stdout 1\nto stdout 2\n"
    assert read(err) == b"to stderr\n"
    assert result.stdout_tail == "to stdout 1\nto stdout 2\n"
    assert result.stderr_tail == "to stderr\n"
    assert result.exit_code == 0 and result.signal is None


def test_output_is_live_not_buffered_until_exit(sinks):
    out, err = sinks
    # The child prints, then waits until the line has reached our sink before it exits.
    path = out.name
    result = run_command(
        child(
            f"""
            import sys, time
            sys.stdout.write("first\\n"); sys.stdout.flush()
            deadline = time.time() + 20
            while open({path!r}, "rb").read() != b"first\\n":
                if time.time() > deadline:
                    sys.exit(9)
                time.sleep(0.01)
            """
        ),
        stdout_fd=out.fileno(),
        stderr_fd=err.fileno(),
    )
    assert result.exit_code == 0


def test_stdin_passes_through(tmp_path):
    # Run a tiny driver in its own process so that its stdin can be a pipe we write to.
    driver = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {os.path.join(os.path.dirname(__file__), "..", "..", "src")!r})
        from faultbook.capture.runner import run_command
        r = run_command([sys.executable, "-c", "import sys; print(sys.stdin.read().upper())"])
        sys.exit(r.exit_code)
        """
    )
    done = subprocess.run([PY, "-c", driver], input=b"hello from stdin", capture_output=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout == b"HELLO FROM STDIN\n"


@pytest.mark.parametrize("code", [0, 1, 3, 42, 255])
def test_exit_code_is_the_childs(sinks, code):
    out, err = sinks
    result = run_command(child(f"import sys; sys.exit({code})"), stdout_fd=out.fileno(), stderr_fd=err.fileno())
    assert result.exit_code == code


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT])
def test_a_signal_ends_the_child_with_128_plus_n(sinks, signum):
    out, err = sinks
    result = run_command(
        child(f"import os, signal; signal.signal(signal.SIGINT, signal.SIG_DFL); os.kill(os.getpid(), {int(signum)})"),
        stdout_fd=out.fileno(),
        stderr_fd=err.fileno(),
    )
    assert result.signal == signum
    assert result.exit_code == 128 + signum


def test_command_not_found_is_127_like_a_shell(sinks):
    out, err = sinks
    result = run_command(["no-such-command-faultbook-test"], stdout_fd=out.fileno(), stderr_fd=err.fileno())
    assert result.exit_code == 127
    assert result.not_started
    assert b"no-such-command-faultbook-test: command not found" in read(err)


def _driver(tmp_path, child_code: str) -> subprocess.Popen:
    """A faultbook-like process (the runner in its own interpreter) wrapping a child that reports signals."""
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    driver = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {src!r})
        from faultbook.capture.runner import run_command
        r = run_command([sys.executable, "-c", {child_code!r}])
        print("DRIVER", r.exit_code, r.interrupted_by, file=sys.stderr, flush=True)
        sys.exit(r.exit_code)
        """
    )
    return subprocess.Popen(
        [PY, "-c", driver],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # no terminal: faultbook must forward SIGINT itself
    )


CHILD_REPORTS_SIGNALS = """
import signal, sys, time
def handler(n, f):
    print("child got", n, flush=True)
    sys.exit(100 + n)
signal.signal(signal.SIGTERM, handler)
signal.signal(signal.SIGINT, handler)
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_are_forwarded_to_the_child(tmp_path, signum):
    proc = _driver(tmp_path, CHILD_REPORTS_SIGNALS)
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signum)  # only the faultbook process gets it
    out, err = proc.communicate(timeout=30)
    assert out == f"child got {int(signum)}\n".encode()
    assert proc.returncode == 100 + signum
    assert f"DRIVER {100 + signum} {int(signum)}".encode() in err


def test_fifty_megabytes_of_output_keep_a_bounded_tail(sinks):
    out, err = sinks
    result = run_command(
        child(
            """
            import sys
            line = b"x" * 99 + b"\\n"
            block = line * 10000
            for _ in range(50):
                sys.stdout.buffer.write(block)
            sys.stdout.buffer.write(b"the last line\\n")
            """
        ),
        stdout_fd=os.open(os.devnull, os.O_WRONLY),
        stderr_fd=err.fileno(),
    )
    assert result.exit_code == 0
    assert result.stdout_bytes == 50 * 1_000_000 + len(b"the last line\n")
    assert len(result.stdout_tail.encode()) <= DEFAULT_TAIL_BYTES
    assert result.stdout_tail.endswith("x\nthe last line\n")
    assert result.stdout_tail.startswith("x" * 99 + "\n")  # the cut partial line is dropped


def test_error_windows_survive_when_the_tail_has_scrolled_past_them(sinks):
    out, err = sinks
    result = run_command(
        child(
            """
            import sys
            sys.stderr.write("\\x1b[31m✘ \\x1b[41;31m[\\x1b[41;97mERROR\\x1b[41;31m]\\x1b[0m early failure\\n")
            sys.stderr.write("  details [code: 10021]\\n")
            sys.stderr.flush()
            for _ in range(20000):
                sys.stderr.write("noise " * 10 + "\\n")
            """
        ),
        stdout_fd=out.fileno(),
        stderr_fd=os.open(os.devnull, os.O_WRONLY),
    )
    assert "early failure" not in result.stderr_tail
    assert len(result.error_blocks) == 1
    assert result.error_blocks[0].startswith("\x1b[31m✘")
    assert "details [code: 10021]" in result.error_blocks[0]


def test_closed_stdout_gives_the_child_sigpipe_as_it_would_bare(tmp_path):
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    driver = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {src!r})
        from faultbook.capture.runner import run_command
        r = run_command(["sh", "-c", "yes"])
        print("DRIVER", r.exit_code, file=sys.stderr, flush=True)
        """
    )
    script = tmp_path / "driver.py"
    script.write_text(driver)
    shell = subprocess.run(["sh", "-c", f"'{PY}' '{script}' | head -n 3"], capture_output=True, timeout=60)
    assert shell.stdout == b"y\ny\ny\n"
    assert f"DRIVER {128 + signal.SIGPIPE}".encode() in shell.stderr


def test_on_a_terminal_the_child_sees_a_tty_and_keeps_colour(sinks):
    import pty

    master, slave = pty.openpty()
    try:
        out, err = sinks
        result = run_command(
            child("import sys; print(sys.stdout.isatty(), sys.stderr.isatty())"),
            stdout_fd=slave,
            stderr_fd=err.fileno(),
        )
        seen = os.read(master, 1000)
    finally:
        os.close(master)
        os.close(slave)
    assert seen.replace(b"\r\n", b"\n") == b"True False\n"  # the outer terminal adds its own \r
    assert result.stdout_tail == "True False\n"
