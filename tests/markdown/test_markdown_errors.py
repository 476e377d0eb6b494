"""Bad input gives an InputError naming the file and the line, never a traceback or a wrong import."""

from __future__ import annotations

import pytest

from faultbook.errors import ExitCode, InputError
from faultbook.markdown import parse_document

HEAD = "# T\n\n## Current Failures\n\n"  # the first block starts on line 5

BLOCK = """\
### Failure #{number}: Something broke
- **Date**: {date}
- **Time**: {time}
- **Component**: Backend (Cloudflare Worker)
- **Deployment Step**: Worker deployment
- **Error Message**: `boom`
- **Root Cause**: cause
- **Resolution**: fix
- **Status**: {status}
- **Lessons Learned**: lesson
"""


def block(number=1, date="August 20, 2025", time="14:15 UTC", status="✅ Resolved", drop=(), extra=None):
    lines = BLOCK.format(number=number, date=date, time=time, status=status).split("\n")
    lines = [line for line in lines if not any(line.startswith(f"- **{name}**") for name in drop)]
    if extra is not None:
        lines.insert(extra[0], extra[1])
    return "\n".join(lines)


POTENTIAL = """\
### Potential Failure #{number}: Maybe
- **Component**: DNS
- **Deployment Step**: Custom domain
- **Possible Error Messages**:
  - "x"
- **Prevention**:
  - y
"""

CASES = {
    "missing status": (HEAD + block(drop=("Status",)), 5, "failure #1 is missing required field(s): Status"),
    "missing two fields": (
        HEAD + block(drop=("Date", "Component")),
        5,
        "missing required field(s): Date, Component",
    ),
    "unknown status": (HEAD + block(status="Done"), 13, "unknown status 'Done'"),
    "impossible date": (HEAD + block(date="February 30, 2025"), 6, "impossible date 'February 30, 2025'"),
    "impossible iso date": (HEAD + block(date="2025-13-01"), 6, "impossible date '2025-13-01'"),
    "unrecognised date": (HEAD + block(date="yesterday"), 6, "unrecognised date 'yesterday'"),
    "impossible time": (HEAD + block(time="25:10 UTC"), 7, "impossible time '25:10 UTC'"),
    "impossible minutes": (HEAD + block(time="14:75"), 7, "impossible time '14:75'"),
    "impossible pm time": (HEAD + block(time="13:15 PM UTC"), 7, "impossible time"),
    "unrecognised time": (HEAD + block(time="noonish"), 7, "unrecognised time 'noonish'"),
    "duplicate failure number": (
        HEAD + block(number=2) + "\n" + block(number=3) + "\n" + block(number=2),
        27,
        "failure #2 appears twice (first on line 5)",
    ),
    "duplicate potential number": (
        "## Potential Future Failures\n\n"
        + POTENTIAL.format(number=1)
        + "\n"
        + POTENTIAL.format(number=1),
        11,
        "potential failure #1 appears twice (first on line 3)",
    ),
    "unknown field": (
        HEAD + block(extra=(3, "- **Severity**: high")),
        8,
        "failure #1: unknown field 'Severity'",
    ),
    "unknown potential field": (
        "## Potential Future Failures\n\n" + POTENTIAL.format(number=1) + "- **Owner**: me\n",
        10,
        "potential failure #1: unknown field 'Owner'",
    ),
    "field given twice": (
        HEAD + block(extra=(3, "- **Date**: August 21, 2025")),
        8,
        "field 'Date' appears twice (first on line 6)",
    ),
    "a line that is not a field": (
        HEAD + block(extra=(2, "Some loose text")),
        7,
        "expected a field line",
    ),
    "text between failure blocks": (
        HEAD + block(number=1) + "\nA note between blocks.\n\n" + block(number=2),
        16,
        "text between failure blocks",
    ),
    "failure heading without a number": (
        HEAD + "### Failure #[Number]: [Brief Description]\n- **Date**: x\n",
        5,
        "failure heading needs a number",
    ),
    "failure heading without a title": (
        HEAD + block().replace(": Something broke", ":"),
        5,
        "failure #1 has no title",
    ),
    "stray line in a list field": (
        "## Potential Future Failures\n\n" + POTENTIAL.format(number=4).replace('  - "x"', "  not an item"),
        7,
        "Possible Error Messages: expected a list item",
    ),
    "text after a fenced error message": (
        HEAD + block().replace("- **Error Message**: `boom`", "- **Error Message**:\n  ```\n  boom\n  ```\n  more"),
        10,
        "unexpected text after the error message's code block",
    ),
    "binary input": ("# Title\n\nsome text\x00\x01\x02\n", 3, "binary content"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_names_path_and_line(name):
    text, line, fragment = CASES[name]
    with pytest.raises(InputError) as caught:
        parse_document(text, path="docs/FAILURES.md")
    error = caught.value
    assert error.path == "docs/FAILURES.md"
    assert error.line == line
    assert fragment in error.reason
    assert str(error).startswith(f"docs/FAILURES.md:{line}: ")
    assert error.exit_code == ExitCode.USAGE


def test_without_a_path_the_message_names_the_line():
    text, line, fragment = CASES["unknown status"]
    with pytest.raises(InputError) as caught:
        parse_document(text)
    assert caught.value.path is None
    assert caught.value.line == 13
    assert str(caught.value).startswith("line 13: failure #1: unknown status 'Done'")


def test_undecodable_bytes_are_reported_with_their_line():
    data = "# Title\n\nok\n".encode() + b"\xff\xfe bad\n"
    with pytest.raises(InputError) as caught:
        parse_document(data, path="x.md")  # type: ignore[arg-type]
    assert caught.value.line == 4
    assert "not UTF-8 text" in caught.value.reason


def test_non_text_input_is_an_input_error():
    with pytest.raises(InputError) as caught:
        parse_document(42, path="x.md")  # type: ignore[arg-type]
    assert "expected Markdown text" in caught.value.reason


def test_failure_blocks_are_only_recognised_under_current_failures():
    text = "# T\n\n## Notes\n\n" + block(status="Done") + "\n## Other\n"
    document = parse_document(text)
    assert document.failures == ()
    assert document.layout[0].text.startswith("# T\n\n## Notes\n\n### Failure #1")
