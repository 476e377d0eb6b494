"""Markdown → LedgerDocument: a line-based state machine over the seed's layout.

Why a hand-written state machine: the document is mostly prose that must come
back byte for byte, with two lists of rigid blocks inside it.  A general
Markdown parser would normalise the prose; a pile of regular expressions would
not know that ``### Failure #[Number]`` in "Failure Tracking Format" is a
template, or that a heading inside a fenced code block is code.  So the parser
walks lines once, in two states:

* PROSE — lines are kept verbatim; level-1/2 headings set the current section
  (matched case-insensitively: "Current Failures", "Potential Future
  Failures"); fenced code is followed so headings inside it do not count.
  In "Current Failures" a ``### Failure #N: Title`` heading starts a failure
  block, in "Potential Future Failures" a ``### Potential Failure #N: Title``
  heading starts a potential-failure block.
* BLOCK — ``- **Field**: value`` lines, each followed by continuation lines
  indented two spaces (fenced code inside them included).  The block ends at a
  blank line that is not followed by an indented line, at a heading, or at the
  end of the text; one blank line after a block belongs to the block.

Then the layout is assembled: prose runs become ``Section`` values, each list
of blocks becomes one slot where the blocks stood (blank lines between blocks
are the renderer's business).  Text inside the two sections that is not a
block stays in the Sections around the slot.  A document without one of the
two sections gets the slot at a sensible place (end of the other section,
else before "Recovery Procedures", else at the end); the renderer writes the
missing heading only once the slot has blocks.

Every error is an ``InputError`` carrying the path and the 1-based line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from faultbook.domain.models import (
    DocumentPart,
    Failure,
    FailuresSlot,
    LedgerDocument,
    PotentialFailure,
    PotentialFailuresSlot,
    Section,
    Status,
)
from faultbook.domain.limits import MAX_NUMBER, MAX_TIME, MIN_TIME, in_time_range
from faultbook.errors import InputError
from faultbook.markdown import fields as codec
from faultbook.markdown.syntax import (
    CURRENT,
    OTHER,
    POTENTIAL,
    RECOVERY,
    FenceTracker,
    dedent,
    field_line,
    heading,
    section_kind,
)

#: Failure block fields, in the order the renderer writes them.
FAILURE_FIELDS = (
    "Date",
    "Time",
    "Component",
    "Deployment Step",
    "Error Message",
    "Root Cause",
    "Resolution",
    "Status",
    "Lessons Learned",
)
REQUIRED_FAILURE_FIELDS = ("Date", "Component", "Deployment Step", "Error Message", "Status")
POTENTIAL_FIELDS = (
    "Component",
    "Deployment Step",
    "Possible Error Messages",
    "Likely Root Causes",
    "Planned Resolution",
    "Prevention",
)
REQUIRED_POTENTIAL_FIELDS = ("Component", "Deployment Step")
_FAILURE_NAMES = {name.casefold(): name for name in FAILURE_FIELDS}
_POTENTIAL_NAMES = {name.casefold(): name for name in POTENTIAL_FIELDS}
_STATUS_LABELS = {status.label: status for status in Status}
_FAILURE_PREFIX = "failure #"
_POTENTIAL_PREFIX = "potential failure #"


def parse_document(text: str, *, path: str | None = None) -> LedgerDocument:
    """Parse a failure-tracking document; raises InputError(path=, line=) on bad input."""
    return _Parser(_as_text(text, path), path).parse()


# ---------------------------------------------------------------- input


def _as_text(text: object, path: str | None) -> str:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            line = bytes(text).count(b"\n", 0, exc.start) + 1
            raise _error("not UTF-8 text: this does not look like a Markdown document", path, line) from None
    if not isinstance(text, str):
        raise _error(f"expected Markdown text, got {type(text).__name__}", path, None)
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise _error("binary content (NUL byte): this does not look like a Markdown document", path, line)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\n" not in text:  # classic Mac line endings: CR alone ends each line
            text = text.replace("\r", "\n")
    return text


def _error(message: str, path: str | None, line: int | None) -> InputError:
    # Without a path InputError prints no location, so the message names the line itself.
    if path is None and line is not None:
        message = f"line {line}: {message}"
    return InputError(message, path=path, line=line)


# ---------------------------------------------------------------- the state machine


@dataclass
class _Block:
    """A block cut out of the text: its kind, its value and whether a blank line ended it."""

    kind: str  # CURRENT or POTENTIAL
    line: int  # 1-based line of the heading
    value: Failure | PotentialFailure
    terminated: bool
    text: str = ""  # the block's own lines as written (without the blank line that ended it)


@dataclass(slots=True)
class _Field:
    name: str
    line: int
    first: str
    continuation: list[str]


class _Parser:
    def __init__(self, text: str, path: str | None) -> None:
        self.path = path
        self.final_newline = text.endswith("\n")
        self.lines = text.split("\n")
        if self.final_newline:
            self.lines.pop()
        #: Prose line indices and blocks, in document order.
        self.items: list[int | _Block] = []
        #: (index into items, section kind) of every level-1/2 heading.
        self.headings: list[tuple[int, str]] = []

    # -- pass 1: lines → items ------------------------------------------------

    def parse(self) -> LedgerDocument:
        lines = self.lines
        count = len(lines)
        fence = FenceTracker()
        section = OTHER
        index = 0
        while index < count:
            line = lines[index]
            if not fence.open and line.startswith("#"):
                found = heading(line)
                if found is not None:
                    level, title = found
                    if level <= 2:
                        section = section_kind(title)
                        self.headings.append((len(self.items), section))
                    elif level == 3 and section in (CURRENT, POTENTIAL):
                        key = title.casefold()
                        prefix = _FAILURE_PREFIX if section == CURRENT else _POTENTIAL_PREFIX
                        if key.startswith(prefix):
                            index = self._block(index, section, title[len(prefix) :])
                            continue
            fence.feed(line)
            self.items.append(index)
            index += 1
        return self._assemble()

    def _block(self, start: int, kind: str, after_hash: str) -> int:
        """Consume the block whose heading is at ``start``; return the index after it.

        One pass: a field line opens a field, indented lines (and blank lines
        followed by indented ones, and anything inside a fence) continue it.
        """
        lines = self.lines
        count = len(lines)
        path = self.path
        noun = "failure" if kind == CURRENT else "potential failure"
        number, title = self._heading_number(start + 1, after_hash, noun)
        label = f"{noun} #{number}"
        names = _FAILURE_NAMES if kind == CURRENT else _POTENTIAL_NAMES
        found: dict[str, _Field] = {}
        continuation: list[str] | None = None
        fence = FenceTracker()
        terminated = False
        index = start + 1
        while index < count:
            line = lines[index]
            first = line[:1]
            if fence.length:
                if first == " " or first == "\t" or not line.strip():
                    text = dedent(line)
                    fence.feed(text)
                    continuation.append(text)  # type: ignore[union-attr]
                    index += 1
                    continue
                fence.reset()  # an unindented line ends a fence left open
            if first == " " or first == "\t":
                if not line.strip():
                    first = ""
                else:
                    text = dedent(line)
                    if continuation is None:
                        raise _error(f"{label}: text before the first field", path, index + 1)
                    fence.feed(text)
                    continuation.append(text)
                    index += 1
                    continue
            if not first:  # a blank line: more of the field if an indented line follows, else the end
                ahead = index + 1
                while ahead < count and not lines[ahead].strip():
                    ahead += 1
                if ahead < count and lines[ahead][0] in " \t" and continuation is not None:
                    continuation.extend("" for _ in range(index, ahead))
                    index = ahead
                    continue
                terminated = True
                index += 1
                break
            if first == "#" and heading(line) is not None:
                break
            parsed = field_line(line)
            if parsed is None:
                raise _error(
                    f"{label}: expected a field line '- **Name**: value', got {line.strip()[:60]!r}", path, index + 1
                )
            written, value = parsed
            name = names.get(written.casefold())
            if name is None:
                expected = ", ".join(names.values())
                raise _error(f"{label}: unknown field {written!r} (expected one of: {expected})", path, index + 1)
            if name in found:
                raise _error(
                    f"{label}: field {name!r} appears twice (first on line {found[name].line})", path, index + 1
                )
            item = found[name] = _Field(name, index + 1, value, [])
            continuation = item.continuation
            index += 1
        if kind == CURRENT:
            value: Failure | PotentialFailure = self._failure(start + 1, number, title, label, found)
        else:
            value = self._potential(start + 1, number, title, label, found)
        end = index - 1 if terminated else index
        while end > start + 1 and not lines[end - 1]:  # blank lines the renderer writes between blocks
            end -= 1
        text = "\n".join(lines[start:end]) + "\n"
        self.items.append(_Block(kind=kind, line=start + 1, value=value, terminated=terminated, text=text))
        return index

    # -- blocks → values --------------------------------------------------------

    def _heading_number(self, line_no: int, after_hash: str, noun: str) -> tuple[int, str]:
        digits = after_hash
        end = 0
        while end < len(digits) and digits[end] in "0123456789":  # not "٢": isdigit() takes any script
            end += 1
        if end == 0:
            raise _error(
                f"{noun} heading needs a number: '### {noun.capitalize()} #<number>: <title>'",
                self.path,
                line_no,
            )
        number = int(digits[:end]) if end <= 12 else 0  # (int() refuses 4,300 digits and more)
        if not 1 <= number <= MAX_NUMBER:
            raise _error(f"{noun} #{digits[:end][:20]}: numbers go from 1 to {MAX_NUMBER}", self.path, line_no)
        title = digits[end:].strip()
        if title.startswith(":"):
            title = title[1:].strip()
        if not title:
            raise _error(f"{noun} #{number} has no title after the number", self.path, line_no)
        return number, title

    def _missing(self, line_no: int, label: str, found: dict[str, _Field], required: tuple[str, ...]) -> None:
        missing = [name for name in required if name not in found]
        if missing:
            raise _error(f"{label} is missing required field(s): {', '.join(missing)}", self.path, line_no)

    def _one_line(self, item: _Field) -> str:
        if not item.continuation:
            return item.first
        parts = [item.first] + [line.strip() for line in item.continuation if line.strip()]
        return " ".join(part for part in parts if part)

    def _failure(self, line_no: int, number: int, title: str, label: str, found: dict[str, _Field]) -> Failure:
        self._missing(line_no, label, found, REQUIRED_FAILURE_FIELDS)

        date_field = found["Date"]
        try:
            day = codec.parse_date(self._one_line(date_field))
        except ValueError as exc:
            raise _error(f"{label}: {exc}", self.path, date_field.line) from None
        clock = None
        time_field = found.get("Time")
        if time_field is not None:
            try:
                clock = codec.parse_time(self._one_line(time_field))
            except ValueError as exc:
                raise _error(f"{label}: {exc}", self.path, time_field.line) from None

        status_field = found["Status"]
        try:
            text = self._one_line(status_field)
            status = _STATUS_LABELS.get(text) or Status.parse(text)
        except ValueError as exc:
            raise _error(f"{label}: {exc}", self.path, status_field.line) from None

        component_field = found["Component"]
        component, detail = codec.parse_component(self._one_line(component_field))
        if not component:
            raise _error(f"{label}: Component is empty", self.path, component_field.line)

        message_field = found["Error Message"]
        try:
            message = codec.parse_error_message(message_field.first, message_field.continuation)
        except ValueError as exc:
            raise _error(f"{label}: {exc}", self.path, message_field.line) from None

        try:
            occurred_at = codec.combine(day, clock)
        except ValueError as exc:
            raise _error(f"{label}: {exc}", self.path, date_field.line) from None
        if occurred_at is not None and not in_time_range(occurred_at):
            raise _error(
                f"{label}: {occurred_at:%Y-%m-%d} is out of range ({MIN_TIME:%Y-%m-%d} to {MAX_TIME:%Y-%m-%d} UTC)",
                self.path,
                date_field.line,
            )
        return Failure(
            number=number,
            title=title,
            occurred_at=occurred_at,
            component=component,
            component_detail=detail,
            step=self._one_line(found["Deployment Step"]),
            error_message=message,
            root_cause=self._text(found.get("Root Cause")),
            resolution=self._text(found.get("Resolution")),
            status=status,
            lessons_learned=self._text(found.get("Lessons Learned")),
        )

    def _text(self, item: _Field | None) -> str:
        if item is None:
            return ""
        return codec.parse_text(item.first, item.continuation)

    def _potential(
        self, line_no: int, number: int, title: str, label: str, found: dict[str, _Field]
    ) -> PotentialFailure:
        self._missing(line_no, label, found, REQUIRED_POTENTIAL_FIELDS)
        component = self._one_line(found["Component"])
        if not component:
            raise _error(f"{label}: Component is empty", self.path, found["Component"].line)
        return PotentialFailure(
            number=number,
            title=title,
            component=component,
            step=self._one_line(found["Deployment Step"]),
            possible_error_messages=self._items(label, found.get("Possible Error Messages"), quoted=True),
            likely_root_causes=self._items(label, found.get("Likely Root Causes"), quoted=False),
            planned_resolution=self._items(label, found.get("Planned Resolution"), quoted=False),
            prevention=self._items(label, found.get("Prevention"), quoted=False),
        )

    def _items(self, label: str, item: _Field | None, *, quoted: bool) -> tuple[str, ...]:
        if item is None:
            return ()
        try:
            return codec.parse_items(item.first, item.continuation, quoted=quoted)
        except codec.ItemError as exc:
            # Continuation lines follow the field line one per line (blank ones included).
            raise _error(f"{label}: {item.name}: {exc}", self.path, item.line + 1 + exc.index) from None

    # -- pass 2: items → layout -------------------------------------------------

    def _assemble(self) -> LedgerDocument:
        items = self.items
        lines = self.lines
        ranges: dict[str, tuple[int, int]] = {}
        for position, item in enumerate(items):
            if not isinstance(item, _Block):
                continue
            if item.kind in ranges:
                first, last = ranges[item.kind]
                for between in items[last + 1 : position]:
                    if isinstance(between, _Block) or lines[between].strip():
                        where = between.line if isinstance(between, _Block) else between + 1
                        noun = "failure" if item.kind == CURRENT else "potential failure"
                        raise _error(
                            f"text between {noun} blocks (before the block on line {item.line}) cannot be kept: "
                            f"move it before or after the list of {noun}s",
                            self.path,
                            where,
                        )
                ranges[item.kind] = (first, position)
            else:
                ranges[item.kind] = (position, position)

        inserts: dict[int, list[str]] = {}
        for kind in (CURRENT, POTENTIAL):
            if kind not in ranges:
                inserts.setdefault(self._slot_position(kind), []).append(kind)

        failures: list[Failure] = []
        potential: list[PotentialFailure] = []
        failure_lines: list[int] = []
        potential_lines: list[int] = []
        seen: dict[tuple[str, int], int] = {}
        collected = {CURRENT: (failures, failure_lines), POTENTIAL: (potential, potential_lines)}
        layout: list[DocumentPart] = []
        prose: list[int] = []
        last_terminated = False

        def flush() -> None:
            if prose:
                text = "\n".join(lines[prose[0] : prose[-1] + 1])
                if prose[-1] < len(lines) - 1 or self.final_newline:
                    text += "\n"
                layout.append(Section(text))
                prose.clear()

        def slot(kind: str, members: Sequence[object] = ()) -> None:
            flush()
            verbatim = _verbatim(members)
            layout.append(FailuresSlot(verbatim) if kind == CURRENT else PotentialFailuresSlot(verbatim))

        skip_until = -1
        for position in range(len(items) + 1):
            for kind in inserts.get(position, ()):
                slot(kind)
            if position == len(items):
                break
            if position <= skip_until:
                continue
            item = items[position]
            if isinstance(item, _Block):
                first, last = ranges[item.kind]
                slot(item.kind, items[first : last + 1])
                for member in items[first : last + 1]:
                    if isinstance(member, _Block):
                        self._collect(member, seen, collected)
                        last_terminated = member.terminated
                skip_until = last
                continue
            prose.append(item)
        flush()
        if last_terminated and skip_until == len(items) - 1:
            # The document ends with a block and one blank line.  The renderer writes the
            # blank line after a list of blocks only when a Section follows, so give it one.
            layout.append(Section(""))
        return LedgerDocument(
            layout=tuple(layout),
            failures=tuple(failures),
            potential_failures=tuple(potential),
            failure_lines=tuple(failure_lines),
            potential_failure_lines=tuple(potential_lines),
        )

    def _collect(self, block: _Block, seen: dict[tuple[str, int], int], out: dict[str, tuple[list, list]]) -> None:
        number = block.value.number
        key = (block.kind, number)
        if key in seen:
            noun = "failure" if block.kind == CURRENT else "potential failure"
            raise _error(f"{noun} #{number} appears twice (first on line {seen[key]})", self.path, block.line)
        seen[key] = block.line  # type: ignore[index]
        values, lines = out[block.kind]
        values.append(block.value)
        lines.append(block.line)

    def _slot_position(self, kind: str) -> int:
        """Where a slot goes when the document has no block of its kind (index into items)."""
        headings = self.headings
        end = len(self.items)

        def section_end(kind_wanted: str) -> int | None:
            for number, (position, found) in enumerate(headings):
                if found == kind_wanted:
                    return headings[number + 1][0] if number + 1 < len(headings) else end
            return None

        def heading_at(kind_wanted: str) -> int | None:
            for position, found in headings:
                if found == kind_wanted:
                    return position
            return None

        if kind == CURRENT:
            for candidate in (section_end(CURRENT), heading_at(POTENTIAL), heading_at(RECOVERY)):
                if candidate is not None:
                    return candidate
        else:
            for candidate in (section_end(POTENTIAL), section_end(CURRENT), heading_at(RECOVERY)):
                if candidate is not None:
                    return candidate
        return end


def _verbatim(members: Sequence[object]) -> tuple[tuple[str, str], ...]:
    """(rendered, as written) for each block whose bytes differ from its rendering.

    Export writes a block as written while its data renders exactly as it did at
    import (so nothing changed): a trailing space after ``**Possible Error
    Messages**:`` or any other harmless difference comes back byte for byte, and
    an edited failure is re-rendered from the database.
    """
    from faultbook.markdown.render import render_failure, render_potential_failure

    out = []
    for member in members:
        if not isinstance(member, _Block):
            continue
        value = member.value
        rendered = render_failure(value) if isinstance(value, Failure) else render_potential_failure(value)
        if rendered != member.text:
            out.append((rendered, member.text))
    return tuple(out)
