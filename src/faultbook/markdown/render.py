"""LedgerDocument parts → Markdown: deterministic, and the exact inverse of parse.py.

``render_document`` walks a layout: a ``Section`` is written verbatim, a slot
is filled with blocks in the order given, one blank line between blocks and
one after the list — unless the document ends there (then the parser has kept
any trailing blank line in a final Section).  A slot whose section heading is
not in the layout before it (a document imported without "Potential Future
Failures") writes the heading itself, but only once it has blocks, so such a
document still renders back unchanged while it has none.

Failures and potential failures are rendered with the codecs in fields.py,
the same ones the parser reads with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from faultbook.domain.models import (
    DocumentPart,
    Failure,
    FailuresSlot,
    PotentialFailure,
    PotentialFailuresSlot,
    Section,
)
from faultbook.markdown import fields as codec
from faultbook.markdown.syntax import CURRENT, POTENTIAL, SECTION_TITLES, FenceTracker, heading, section_kind


def render_failure(failure: Failure) -> str:
    """One ``### Failure #N: Title`` block, ending with a newline."""
    if failure.number is None:
        raise ValueError("a failure needs a number before it can be rendered")
    out: list[str] = [f"### Failure #{failure.number}: {_one_line(failure.title)}"]
    out.append(f"- **Date**: {codec.format_date(failure.occurred_at)}")
    out.append(f"- **Time**: {codec.format_time(failure.occurred_at)}")
    component = codec.format_component(_one_line(failure.component), _one_line(failure.component_detail or ""))
    out.append(f"- **Component**: {component}")
    _field(out, "Deployment Step", _one_line(failure.step), [])
    first, rest = codec.format_error_message(failure.error_message)
    _field(out, "Error Message", first, rest)
    _text_field(out, "Root Cause", failure.root_cause)
    _text_field(out, "Resolution", failure.resolution)
    out.append(f"- **Status**: {failure.status.label}")
    _text_field(out, "Lessons Learned", failure.lessons_learned)
    out.append("")
    return "\n".join(out)


def render_potential_failure(item: PotentialFailure) -> str:
    """One ``### Potential Failure #N: Title`` block, ending with a newline."""
    if item.number is None:
        raise ValueError("a potential failure needs a number before it can be rendered")
    out: list[str] = [f"### Potential Failure #{item.number}: {_one_line(item.title)}"]
    _field(out, "Component", _one_line(item.component), [])
    _field(out, "Deployment Step", _one_line(item.step), [])
    _field(out, "Possible Error Messages", "", codec.format_items(item.possible_error_messages, quoted=True))
    _field(out, "Likely Root Causes", "", codec.format_items(item.likely_root_causes, quoted=False))
    _field(out, "Planned Resolution", "", codec.format_items(item.planned_resolution, quoted=False))
    _field(out, "Prevention", "", codec.format_items(item.prevention, quoted=False))
    out.append("")
    return "\n".join(out)


def render_document(
    *,
    layout: Sequence[DocumentPart],
    failures: Iterable[Failure],
    potential_failures: Iterable[PotentialFailure],
) -> str:
    """The whole document: sections verbatim, slots filled (the first slot of each kind).

    A layout without a slot for blocks that exist gets the slot (with its
    heading) at the end, so nothing given is dropped.
    """
    blocks = {
        CURRENT: [render_failure(f) for f in failures],
        POTENTIAL: [render_potential_failure(p) for p in potential_failures],
    }
    parts = list(layout)
    for kind, slot_type in ((CURRENT, FailuresSlot), (POTENTIAL, PotentialFailuresSlot)):
        if blocks[kind] and not any(isinstance(part, slot_type) for part in parts):
            parts.append(slot_type())

    out: list[str] = []
    pending = ""  # the blank line after a list of blocks, written only if a Section follows
    for index, part in enumerate(parts):
        if isinstance(part, Section):
            out.append(pending)
            pending = ""
            out.append(part.text)
            continue
        kind = CURRENT if isinstance(part, FailuresSlot) else POTENTIAL
        rendered = blocks[kind]
        blocks[kind] = []
        if part.verbatim:  # blocks unchanged since import go back as they were written
            as_written = dict(part.verbatim)
            rendered = [as_written.get(block, block) for block in rendered]
        if not rendered:
            continue
        out.append(pending)
        pending = ""
        if not _heading_before(parts, index, kind):
            written = "".join(out)
            if written and not written.endswith("\n\n"):
                out.append("\n" if written.endswith("\n") else "\n\n")
            out.append(f"## {SECTION_TITLES[kind]}\n\n")
        out.append("\n".join(rendered))
        pending = "\n"
    return "".join(out)


# ---------------------------------------------------------------- helpers


def _field(out: list[str], name: str, first: str, continuation: list[str]) -> None:
    out.append(f"- **{name}**: {first}" if first else f"- **{name}**:")
    out.extend("  " + line if line else "" for line in continuation)


def _text_field(out: list[str], name: str, text: str) -> None:
    first, rest = codec.format_text(text)
    _field(out, name, first, rest)


def _one_line(text: str) -> str:
    """Single-line fields cannot hold a newline in the format: fold it into a space."""
    if "\n" in text or "\r" in text:
        return " ".join(text.split())
    return text.strip()


def _heading_before(parts: Sequence[DocumentPart], index: int, kind: str) -> bool:
    """Is the section the slot at ``index`` stands in the one of its kind?"""
    for position in range(index - 1, -1, -1):
        part = parts[position]
        if not isinstance(part, Section):
            continue
        last = _last_section_kind(part.text)
        if last is not None:
            return last == kind
    return False


def _last_section_kind(text: str) -> str | None:
    fence = FenceTracker()
    last = None
    for line in text.split("\n"):
        if not fence.open and line.startswith("#"):
            found = heading(line)
            if found is not None and found[0] <= 2:
                last = section_kind(found[1])
        fence.feed(line)
    return last
