"""Property: any failure or potential failure in the format's value space renders and parses back equal.

The value space is what the format can carry exactly (see faultbook/markdown/fields.py): one-line fields
are stripped single lines, Markdown fields have no trailing whitespace per line and no surrounding blank
lines, times are whole seconds in UTC.  Error messages are arbitrary text (no NUL, no CR).
"""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from faultbook.domain.limits import MAX_NUMBER
from faultbook.domain.models import Failure, PotentialFailure, Status
from faultbook.markdown import default_layout, parse_document, render_document, render_failure

# Any character but NUL (binary) and CR (read as a line ending); surrogates are excluded by default.
CHARS = st.characters(blacklist_characters="\x00\r")
# Characters that tend to break Markdown-ish formats.
NASTY = st.sampled_from(
    ["`", "```", "~~~", "*", "**", "|", '"', "<script>", "- ", "# ", "### Failure #1: x", "  ", "\t"]
    + ["é", "東京", "🚀", "⚠️", "(", ")", ":", "\n"]
)


def _text(*, one_line: bool) -> st.SearchStrategy[str]:
    pieces = st.lists(st.one_of(st.text(CHARS, max_size=12), NASTY), max_size=8).map("".join)
    if one_line:
        return pieces.map(lambda t: " ".join(t.replace("\n", " ").split()) if t.strip() else t.strip())
    return pieces


def one_line(*, min_size: int = 0) -> st.SearchStrategy[str]:
    return _text(one_line=True).map(lambda t: t.strip()).filter(lambda t: len(t) >= min_size)


def markdown_text() -> st.SearchStrategy[str]:
    def canonical(text: str) -> str:
        lines = [line.rstrip() for line in text.split("\n")]
        while lines and not lines[0]:
            lines.pop(0)
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines)

    return _text(one_line=False).map(canonical)


error_messages = st.one_of(_text(one_line=False), st.text(CHARS, max_size=40))
moments = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(8999, 12, 31), timezones=st.just(timezone.utc)).map(
        lambda d: d.replace(microsecond=0)
    ),
)
components = one_line(min_size=1).filter(lambda t: not t.endswith(")"))
details = st.one_of(st.none(), one_line(min_size=1).filter(lambda t: "(" not in t and ")" not in t))

failures = st.builds(
    Failure,
    number=st.integers(min_value=1, max_value=MAX_NUMBER),
    title=one_line(min_size=1),
    occurred_at=moments,
    component=components,
    component_detail=details,
    step=one_line(),
    error_message=error_messages,
    root_cause=markdown_text(),
    resolution=markdown_text(),
    status=st.sampled_from(list(Status)),
    lessons_learned=markdown_text(),
)

items = st.lists(one_line(), max_size=4).map(tuple)
potential_failures = st.builds(
    PotentialFailure,
    number=st.integers(min_value=1, max_value=MAX_NUMBER),
    title=one_line(min_size=1),
    component=one_line(min_size=1),
    step=one_line(),
    possible_error_messages=st.lists(st.text(CHARS.filter(lambda c: c != "\n"), max_size=20), max_size=4).map(tuple),
    likely_root_causes=items,
    planned_resolution=items,
    prevention=items,
)


@settings(max_examples=300, deadline=None)
@given(failure=failures)
def test_failure_block_roundtrips(failure):
    text = "## Current Failures\n\n" + render_failure(failure)
    assert parse_document(text).failures == (failure,)


@settings(max_examples=100, deadline=None)
@given(
    listed=st.lists(failures, max_size=4, unique_by=lambda f: f.number),
    potential=st.lists(potential_failures, max_size=4, unique_by=lambda p: p.number),
)
def test_document_roundtrips(listed, potential):
    layout = default_layout("Property")
    text = render_document(layout=layout, failures=listed, potential_failures=potential)
    document = parse_document(text)
    assert document.failures == tuple(listed)
    assert document.potential_failures == tuple(potential)
    assert document.layout == layout
    again = render_document(
        layout=document.layout, failures=document.failures, potential_failures=document.potential_failures
    )
    assert again == text
