"""Rendering: single blocks, new records appended after parsed ones, the default layout (golden files)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from md_golden import FIXTURES, SEED, assert_golden, read

from faultbook.domain.models import Failure, FailuresSlot, PotentialFailure, PotentialFailuresSlot, Section, Status
from faultbook.markdown import (
    default_layout,
    parse_document,
    render_document,
    render_failure,
    render_potential_failure,
)

NEW_FAILURE = Failure(
    number=3,
    title="Images binding rejected again",
    occurred_at=datetime(2025, 8, 21, 9, 2, 30, tzinfo=timezone.utc),
    component="Backend",
    component_detail="Cloudflare Worker",
    step="wrangler deploy",
    error_message="binding IMAGES has an unknown type Images [code: 10021]",
    root_cause="",
    resolution="",
    status=Status.OPEN,
    lessons_learned="",
)

NEW_POTENTIAL = PotentialFailure(
    number=4,
    title="Secrets missing in production",
    component="Backend",
    step="wrangler secret put",
    possible_error_messages=('Binding "API_KEY" is undefined',),
    likely_root_causes=("Secret set only in preview",),
    planned_resolution=("Run `wrangler secret put API_KEY --env production`",),
    prevention=("List secrets before deploying",),
)


def render(document, *, extra_failures=(), extra_potential=()):
    return render_document(
        layout=document.layout,
        failures=[*document.failures, *extra_failures],
        potential_failures=[*document.potential_failures, *extra_potential],
    )


def test_render_failure_gives_the_seed_block_back():
    text = read(SEED)
    document = parse_document(text)
    seed_lines = text.split("\n")
    start = document.failure_lines[1] - 1
    assert render_failure(document.failures[1]) == "\n".join(seed_lines[start : start + 15]) + "\n"


def test_render_potential_failure_gives_the_seed_block_back():
    text = read(SEED)
    document = parse_document(text)
    seed_lines = text.split("\n")
    start = document.potential_failure_lines[2] - 1
    assert render_potential_failure(document.potential_failures[2]) == "\n".join(seed_lines[start : start + 19]) + "\n"


def test_new_failure_is_rendered_after_the_parsed_ones():
    document = parse_document(read(SEED))
    out = render(document, extra_failures=[NEW_FAILURE], extra_potential=[NEW_POTENTIAL])
    assert out.index("### Failure #1:") < out.index("### Failure #2:") < out.index("### Failure #3:")
    assert out.index("### Failure #3:") < out.index("## Potential Future Failures")
    assert out.index("### Potential Failure #3:") < out.index("### Potential Failure #4:")
    assert out.index("### Potential Failure #4:") < out.index("## Recovery Procedures")
    assert_golden("seed_with_new_records.md", out)
    again = parse_document(out)
    assert again.failures == (*document.failures, NEW_FAILURE)
    assert again.potential_failures == (*document.potential_failures, NEW_POTENTIAL)
    assert again.layout == document.layout


def test_new_failure_in_a_section_that_only_said_no_failures_yet():
    document = parse_document(read(FIXTURES / "empty_sections.md"))
    out = render(document, extra_failures=[NEW_FAILURE], extra_potential=[NEW_POTENTIAL])
    assert_golden("empty_sections_with_new_records.md", out)
    assert "No failures yet.\n\n### Failure #3:" in out
    assert "- **Lessons Learned**:\n\n## Potential Future Failures\n\n### Potential Failure #4:" in out


def test_document_without_potential_section_gets_the_heading_once_it_has_entries():
    document = parse_document(read(FIXTURES / "no_potential_section.md"))
    assert render(document) == read(FIXTURES / "no_potential_section.md")
    out = render(document, extra_potential=[NEW_POTENTIAL])
    assert_golden("no_potential_section_with_new_potential.md", out)
    assert "- **Lessons Learned**: Watch the bundle size.\n\n## Potential Future Failures\n\n### Potential" in out
    again = parse_document(out)
    assert again.potential_failures == (NEW_POTENTIAL,)
    assert render(again) == out


def test_potential_slot_without_section_goes_before_recovery_procedures():
    text = "# T\n\n## Current Failures\n\n## Recovery Procedures\n\nRoll back.\n"
    document = parse_document(text)
    assert [type(part) for part in document.layout] == [Section, FailuresSlot, PotentialFailuresSlot, Section]
    out = render(document, extra_failures=[NEW_FAILURE], extra_potential=[NEW_POTENTIAL])
    assert out.index("### Failure #3") < out.index("## Potential Future Failures") < out.index("## Recovery")
    assert parse_document(out).potential_failures == (NEW_POTENTIAL,)


def test_document_with_neither_section_keeps_records_at_the_end():
    text = "# Notes\n\nJust prose."
    document = parse_document(text)
    assert render(document) == text
    out = render(document, extra_failures=[NEW_FAILURE])
    assert out.startswith("# Notes\n\nJust prose.\n\n## Current Failures\n\n### Failure #3:")
    assert parse_document(out).failures == (NEW_FAILURE,)


def test_layout_without_slots_still_renders_every_record():
    out = render_document(layout=(Section("# Only prose\n"),), failures=[NEW_FAILURE], potential_failures=[])
    assert out.startswith("# Only prose\n\n## Current Failures\n\n### Failure #3:")


def test_default_layout_golden():
    layout = default_layout("Acme App")
    out = render_document(layout=layout, failures=[], potential_failures=[])
    assert_golden("default_layout.md", out)
    assert out.startswith("# Acme App Deployment Failure Tracking\n\n## Purpose\n")
    assert "QuoteViral" not in out
    for heading in (
        "## Failure Tracking Format",
        "## Current Failures",
        "## Potential Future Failures",
        "## Recovery Procedures",
        "### Contact Support",
        "## Prevention Best Practices",
    ):
        assert f"\n{heading}\n" in out
    assert "\n10. **Validate configuration files** (wrangler.toml) before deployment\n" in out
    # The rendered default document parses back to the same layout.
    assert parse_document(out).layout == layout


def test_default_layout_with_records_golden():
    out = render_document(layout=default_layout("Acme App"), failures=[NEW_FAILURE], potential_failures=[NEW_POTENTIAL])
    assert_golden("default_layout_with_records.md", out)
    document = parse_document(out)
    assert document.failures == (NEW_FAILURE,)
    assert document.potential_failures == (NEW_POTENTIAL,)


def test_default_layout_name_is_one_line():
    first = default_layout("My\nProject")[0]
    assert isinstance(first, Section)
    assert first.text.startswith("# My Project Deployment Failure Tracking\n")


@pytest.mark.parametrize(
    ("message", "rendered"),
    [
        ("plain", "- **Error Message**: `plain`"),
        ("has `tick`", "- **Error Message**: `` has `tick` ``"),
        ("``double``", "- **Error Message**: ``` ``double`` ```"),
        (" padded ", "- **Error Message**: `  padded  `"),
        ("<script>alert('x')</script> | *", "- **Error Message**: `<script>alert('x')</script> | *`"),
        ("", "- **Error Message**:"),
        ("two\nlines", "- **Error Message**:\n  ```\n  two\n  lines\n  ```"),
        ("fence\n```\ninside", "- **Error Message**:\n  ````\n  fence\n  ```\n  inside\n  ````"),
    ],
)
def test_error_message_forms(message, rendered):
    failure = NEW_FAILURE.with_changes(error_message=message)
    block = render_failure(failure)
    assert rendered + "\n- **Root Cause**:" in block
    assert parse_document("## Current Failures\n\n" + block).failures[0].error_message == message


def test_unknown_time_and_date():
    failure = NEW_FAILURE.with_changes(occurred_at=None)
    block = render_failure(failure)
    assert "- **Date**: —\n- **Time**: —\n" in block
    assert parse_document("## Current Failures\n\n" + block).failures[0] == failure


def test_rendering_needs_numbers():
    with pytest.raises(ValueError):
        render_failure(NEW_FAILURE.with_changes(number=None))
    with pytest.raises(ValueError):
        render_potential_failure(PotentialFailure(number=None, title="t", component="c", step="s"))
