"""Import then export gives the document back: the seed and documents written for the tests."""

from __future__ import annotations

import pytest
from md_golden import FIXTURES, SEED, read

from faultbook.domain.models import FailuresSlot, PotentialFailuresSlot, Section
from faultbook.markdown import parse_document, render_document


def roundtrip(text: str) -> str:
    document = parse_document(text, path="doc.md")
    return render_document(
        layout=document.layout, failures=document.failures, potential_failures=document.potential_failures
    )


def test_seed_roundtrips_byte_for_byte():
    # The seed's "- **Possible Error Messages**: " ends with a space: it comes back too.
    data = SEED.read_bytes()
    assert b"- **Possible Error Messages**: \n" in data
    assert roundtrip(data.decode("utf-8")).encode("utf-8") == data


def test_a_block_edited_after_import_is_rendered_afresh():
    document = parse_document(read(SEED), path="doc.md")
    first, *rest = document.potential_failures
    edited = first.__class__(**{**first.__dict__, "title": "DNS Configuration Trouble"})
    out = render_document(layout=document.layout, failures=document.failures, potential_failures=[edited, *rest])
    assert "### Potential Failure #1: DNS Configuration Trouble\n" in out
    assert "- **Possible Error Messages**:\n" in out  # the edited block in the standard form


def test_seed_layout_keeps_prose_and_puts_slots_where_the_blocks_were():
    document = parse_document(read(SEED))
    kinds = [type(part) for part in document.layout]
    assert kinds == [Section, FailuresSlot, Section, PotentialFailuresSlot, Section]
    head, _, between, _, tail = document.layout
    assert head.text.startswith("# QuoteViral Deployment Failure Tracking\n\n## Purpose\n")
    assert "### Failure #[Number]: [Brief Description]\n" in head.text
    assert head.text.endswith("## Current Failures\n\n")
    assert between.text == "## Potential Future Failures\n\n"
    assert tail.text.startswith("## Recovery Procedures\n\n### Immediate Rollback\n")
    assert "### Contact Support\n" in tail.text
    assert "## Prevention Best Practices\n" in tail.text
    assert tail.text.endswith("and DNS configuration phases.")  # the seed has no final newline


FIXTURE_NAMES = sorted(path.name for path in FIXTURES.glob("*.md"))


def test_there_are_at_least_four_own_documents():
    assert len(FIXTURE_NAMES) >= 4


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_own_documents_roundtrip_exactly(name):
    text = read(FIXTURES / name)
    assert roundtrip(text) == text


@pytest.mark.parametrize("name", [*FIXTURE_NAMES, "seed"])
def test_rendering_is_a_fixed_point(name):
    text = read(SEED if name == "seed" else FIXTURES / name)
    once = roundtrip(text)
    assert roundtrip(once) == once


def test_own_documents_cover_the_promised_cases():
    statuses = set()
    languages = set()
    multi_line_messages = 0
    for name in FIXTURE_NAMES:
        document = parse_document(read(FIXTURES / name))
        for failure in document.failures:
            statuses.add(failure.status.value)
            multi_line_messages += "\n" in failure.error_message
            for text in (failure.root_cause, failure.resolution):
                for line in text.split("\n"):
                    if line.startswith("```") and len(line) > 3:
                        languages.add(line[3:])
    assert statuses == {"open", "resolved", "workaround"}
    assert {"toml", "bash", "json", "js", "python"} <= languages
    assert multi_line_messages >= 1


def test_template_heading_in_format_section_and_fenced_headings_are_prose():
    document = parse_document(read(FIXTURES / "prose_and_unknown_section.md"))
    assert [f.number for f in document.failures] == [12, 11]
    head = document.layout[0].text
    assert "### Failure #[Number]: [Brief Description]" in head
    assert "### Failure #99: this is inside a code fence" in head


def test_prose_inside_current_failures_stays_around_the_slot():
    document = parse_document(read(FIXTURES / "prose_and_unknown_section.md"))
    head, slot, after = document.layout[0], document.layout[1], document.layout[2]
    assert head.text.endswith("## current failures\n\nFailures are listed newest first. Times are UTC.\n\n")
    assert isinstance(slot, FailuresSlot)
    assert after.text.startswith("Older failures are in the archive.\n\n## Potential Future Failures\n")
    # An empty "Potential Future Failures" section gets its slot at its end, after its prose.
    assert after.text.endswith("## Potential Future Failures\n\nNo potential failures listed yet.\n\n")
    assert isinstance(document.layout[3], PotentialFailuresSlot)
    assert document.layout[4].text.startswith("## Team Notes\n\nAn unknown section")


def test_windows_line_endings_are_read_as_lf():
    text = read(FIXTURES / "statuses_and_code.md")
    document = parse_document(text.replace("\n", "\r\n"))
    assert document.failures == parse_document(text).failures


BLOCK = (
    "### Failure #{n}: T{n}\n"
    "- **Date**: August 20, 2025\n"
    "- **Time**: 14:15 UTC\n"
    "- **Component**: Backend\n"
    "- **Deployment Step**: Step\n"
    "- **Error Message**: `e`\n"
    "- **Root Cause**: c\n"
    "- **Resolution**: r\n"
    "- **Status**: 🔴 Open\n"
    "- **Lessons Learned**: l\n"
)


@pytest.mark.parametrize(
    "text",
    [
        "## Current Failures\n\n" + BLOCK.format(n=1),
        "## Current Failures\n\n" + BLOCK.format(n=1) + "\n",
        "## Current Failures\n\n" + BLOCK.format(n=1) + "\n\n\n",
        "## Current Failures\n\n" + BLOCK.format(n=1) + "\n" + BLOCK.format(n=2) + "\nTrailing prose.",
        "Intro without headings.\n\n## Current Failures\n" + BLOCK.format(n=1) + "\n## Potential Future Failures\n",
        "",
        "\n",
        "## Current Failures",
    ],
    ids=["block-at-eof", "one-blank-at-eof", "three-blanks-at-eof", "prose-after", "no-gap", "empty", "nl", "bare"],
)
def test_edge_documents_roundtrip_exactly(text):
    assert roundtrip(text) == text


def test_extra_blank_lines_between_blocks_are_normalised_to_one():
    text = "## Current Failures\n\n" + BLOCK.format(n=1) + "\n\n\n" + BLOCK.format(n=2) + "\n## Next\n"
    assert roundtrip(text) == text.replace("\n\n\n\n", "\n\n")
