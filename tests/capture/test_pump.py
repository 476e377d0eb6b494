"""The pump's bookkeeping does not depend on how the output was cut into reads."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from faultbook.capture.runner import BLOCK_MARKERS, _Capture, first_marker

PIECES = st.sampled_from(
    [b"x" * 37, b"\n", b"ERROR", b"ERR", b"OR", b"[code: ", b"[co", b"de: ", b"(Code: ", b"ode: ", b"[c", b"(C",
     "✘ ".encode(), b"\x1b[31m", b"noise line\n" * 50]
)


def _naive_first_marker(data: bytes) -> int:
    found = [at for at in (data.find(m) for m in BLOCK_MARKERS) if at >= 0]
    return min(found) if found else -1


@given(st.lists(PIECES, max_size=40).map(b"".join))
def test_first_marker_is_the_earliest_of_the_three(data):
    assert first_marker(data) == _naive_first_marker(data)


def _feed(data: bytes, cuts: list[int], tail_bytes: int) -> _Capture:
    capture = _Capture(out_fd=os.open(os.devnull, os.O_WRONLY), tail_bytes=tail_bytes)
    edges = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    for start, end in zip(edges, edges[1:]):
        capture.feed(data[start:end])
    os.close(capture.out_fd)
    return capture


@settings(max_examples=200)
@given(
    st.lists(PIECES, max_size=200).map(b"".join),
    st.lists(st.integers(min_value=0, max_value=100_000), max_size=30),
    st.sampled_from([16, 100, 4096]),
)
def test_tail_and_error_windows_are_the_same_however_the_reads_fall(data, cuts, tail_bytes):
    whole = _feed(data, [], tail_bytes)
    cut = _feed(data, cuts, tail_bytes)
    assert cut.total == whole.total == len(data)
    assert cut.tail_text(2000) == whole.tail_text(2000)
    # A window opens at the line of the first marker seen; reads can only move its start later
    # within that line (when the line began before the window that found it), never lose a marker.
    assert len(cut.blocks) == len(whole.blocks)
    for a, b in zip(cut.block_texts(), whole.block_texts()):
        assert first_marker(a.encode()) >= 0 and first_marker(b.encode()) >= 0
