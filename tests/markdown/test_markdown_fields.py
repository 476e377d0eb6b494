"""Field forms the parser accepts beyond the seed's own, and what they become."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from faultbook.domain.models import Status
from faultbook.markdown import parse_document, render_failure

TEMPLATE = """\
## Current Failures

### Failure #5: Title
- **Date**: {date}
- **Time**: {time}
- **Component**: {component}
- **Deployment Step**: Step
- **Error Message**: `e`
- **Status**: {status}
"""


def parse_one(date="August 20, 2025", time="14:15 UTC", component="Backend", status="Open"):
    text = TEMPLATE.format(date=date, time=time, component=component, status=status)
    return parse_document(text).failures[0]


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("date", "time", "expected"),
    [
        ("August 20, 2025", "14:15 UTC", utc(2025, 8, 20, 14, 15)),
        ("2025-08-20", "14:15", utc(2025, 8, 20, 14, 15)),
        ("Aug 20, 2025", "14:15:30 UTC", utc(2025, 8, 20, 14, 15, 30)),
        ("20 August 2025", "2:15 PM UTC", utc(2025, 8, 20, 14, 15)),
        ("august 20th, 2025", "12:05 am", utc(2025, 8, 20, 0, 5)),
        ("August 20, 2025", "12:30 PM", utc(2025, 8, 20, 12, 30)),
        ("August 20, 2025", "16:15 +02:00", utc(2025, 8, 20, 14, 15)),
        ("August 20, 2025", "09:15 UTC-5", utc(2025, 8, 20, 14, 15)),
        ("August 20, 2025", "14:15Z", utc(2025, 8, 20, 14, 15)),
        ("August 20, 2025", "14:15 GMT", utc(2025, 8, 20, 14, 15)),
        ("February 29, 2024", "23:59:59 UTC", utc(2024, 2, 29, 23, 59, 59)),
        ("August 20, 2025", "—", utc(2025, 8, 20, 0, 0)),
        ("—", "—", None),
        ("Unknown", "14:15 UTC", None),
    ],
)
def test_dates_and_times(date, time, expected):
    failure = parse_one(date=date, time=time)
    assert failure.occurred_at == expected
    if expected is not None:
        assert failure.occurred_at.tzinfo is timezone.utc


def test_block_without_time_field_is_midnight_utc_of_its_date():
    text = TEMPLATE.format(date="August 20, 2025", time="x", component="DNS", status="open")
    text = text.replace("- **Time**: x\n", "")
    failure = parse_document(text).failures[0]
    assert failure.occurred_at == utc(2025, 8, 20)
    assert "- **Time**: 00:00 UTC\n" in render_failure(failure)


@pytest.mark.parametrize(
    ("moment", "date_text", "time_text"),
    [
        (utc(2025, 8, 20, 14, 15), "August 20, 2025", "14:15 UTC"),
        (utc(2025, 8, 20, 14, 15, 7), "August 20, 2025", "14:15:07 UTC"),
        (utc(2025, 1, 2, 3, 4, 0, 999), "January 2, 2025", "03:04 UTC"),
        (datetime.fromisoformat("2025-08-20T16:15:00+02:00"), "August 20, 2025", "14:15 UTC"),
    ],
)
def test_time_rendering(moment, date_text, time_text):
    block = render_failure(parse_one().with_changes(occurred_at=moment))
    assert f"- **Date**: {date_text}\n- **Time**: {time_text}\n" in block


@pytest.mark.parametrize(
    ("text", "component", "detail"),
    [
        ("Backend (Cloudflare Worker)", "Backend", "Cloudflare Worker"),
        ("Frontend (Pages (preview))", "Frontend", "Pages (preview)"),
        ("DNS/Routing", "DNS/Routing", None),
        ("(only detail)", "(only detail)", None),
        ("Assets ()", "Assets ()", None),
    ],
)
def test_component_and_detail(text, component, detail):
    failure = parse_one(component=text)
    assert (failure.component, failure.component_detail) == (component, detail)
    assert f"- **Component**: {text}\n" in render_failure(failure)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("✅ Resolved", Status.RESOLVED),
        ("resolved", Status.RESOLVED),
        ("RESOLVED", Status.RESOLVED),
        ("⚠️ Workaround", Status.WORKAROUND),
        ("workaround", Status.WORKAROUND),
        ("🔴 Open", Status.OPEN),
        ("🔴 open", Status.OPEN),
    ],
)
def test_statuses(text, status):
    failure = parse_one(status=text)
    assert failure.status is status
    assert f"- **Status**: {status.label}\n" in render_failure(failure)


def test_field_names_and_section_headings_are_case_insensitive():
    text = (
        "## CURRENT FAILURES\n\n"
        "### failure #8: lower-case heading\n"
        "- **date**: August 20, 2025\n"
        "- **Component:** Backend\n"
        "* **deployment step**: Step\n"
        "- **error message**: `e`\n"
        "- **STATUS**: resolved\n"
    )
    failure = parse_document(text).failures[0]
    assert (failure.number, failure.title, failure.step, failure.status) == (
        8,
        "lower-case heading",
        "Step",
        Status.RESOLVED,
    )


def test_markdown_text_fields_keep_code_blocks_and_paragraphs():
    text = TEMPLATE.format(date="August 20, 2025", time="14:15 UTC", component="Backend", status="open") + (
        "- **Resolution**: First paragraph.\n"
        "\n"
        "  Second paragraph after a blank line.\n"
        "  ```python\n"
        "  def f():\n"
        "\n"
        "      return 1\n"
        "  ```\n"
        "- **Lessons Learned**: short\n"
    )
    failure = parse_document(text).failures[0]
    assert failure.resolution == (
        "First paragraph.\n\nSecond paragraph after a blank line.\n```python\ndef f():\n\n    return 1\n```"
    )
    assert failure.lessons_learned == "short"
    assert parse_document("## Current Failures\n\n" + render_failure(failure)).failures[0] == failure


def test_possible_error_messages_keep_inner_quotes_and_accept_unquoted_items():
    text = (
        "## Potential Future Failures\n\n"
        "### Potential Failure #2: Quotes\n"
        "- **Component**: Assets\n"
        "- **Deployment Step**: Upload\n"
        "- **Possible Error Messages**:\n"
        '  - "He said "no""\n'
        "  - unquoted message\n"
        '  - ""\n'
        "- **Likely Root Causes**:\n"
        '  - "quoted cause stays quoted"\n'
    )
    item = parse_document(text).potential_failures[0]
    assert item.possible_error_messages == ('He said "no"', "unquoted message", "")
    assert item.likely_root_causes == ('"quoted cause stays quoted"',)
    assert item.planned_resolution == () and item.prevention == ()
