"""The few pieces of Markdown syntax the ledger format depends on, recognised one line at a time.

The parser is a line-based state machine; this module answers the questions
it asks about a single line (is it a heading, a field line, how far is it
indented, does it open or close a code fence) without regular expressions
over the whole document.  Keeping these answers here lets parse.py read as
the state machine it is, and lets render.py agree with it on what a fence
or a field line looks like.
"""

from __future__ import annotations


def heading(line: str) -> tuple[int, str] | None:
    """``(level, title)`` when ``line`` is an ATX heading (``## Title``), else None.

    Only unindented headings count: an indented ``### Failure #1`` is part of a
    field's continuation, not a new block.
    """
    if not line.startswith("#"):
        return None
    level = len(line) - len(line.lstrip("#"))
    if level > 6:
        return None
    rest = line[level:]
    if rest and rest[0] not in " \t":
        return None
    return level, rest.strip()


def heading_key(title: str) -> str:
    """How section titles are compared: case-insensitive, inner whitespace collapsed."""
    return " ".join(title.rstrip("#").split()).casefold()


# Section kinds, from the title of a level-1/2 heading.
CURRENT = "current"
POTENTIAL = "potential"
RECOVERY = "recovery"
OTHER = "other"

#: The heading the renderer writes for a slot whose section the document lacks.
SECTION_TITLES = {CURRENT: "Current Failures", POTENTIAL: "Potential Future Failures"}
_SECTION_KINDS = {
    "current failures": CURRENT,
    "potential future failures": POTENTIAL,
    "recovery procedures": RECOVERY,
}


def section_kind(title: str) -> str:
    """CURRENT, POTENTIAL, RECOVERY or OTHER for a section title (case-insensitive)."""
    return _SECTION_KINDS.get(heading_key(title), OTHER)


def indent_of(line: str) -> int:
    """Leading spaces of ``line`` (tabs count as two, the list continuation indent)."""
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 2
        else:
            break
    return width


def dedent(line: str, width: int = 2) -> str:
    """Remove up to ``width`` leading spaces (a tab counts as the whole indent)."""
    if width == 2 and line.startswith("  "):
        return line[2:]
    if line.startswith("\t"):
        return line[1:]
    removed = 0
    while removed < width and removed < len(line) and line[removed] == " ":
        removed += 1
    return line[removed:]


def field_line(line: str) -> tuple[str, str] | None:
    """``(name as written, value)`` of a block's field line; None when ``line`` is not one.

    Accepts ``- **Name**: v``, ``* **Name**: v`` and ``- **Name:** v``; the value
    is returned stripped (the seed writes ``**Possible Error Messages**: `` with
    a trailing space).
    """
    if line.startswith("- **") or line.startswith("* **"):
        body = line[2:]
    elif len(line) > 4 and line[1] == " " and line[0] in "-*" and line[2:].lstrip(" ").startswith("**"):
        body = line[2:].lstrip(" ")
    else:
        return None
    end = body.find("**", 2)
    if end < 0:
        return None
    name = body[2:end]
    rest = body[end + 2 :]
    if name.endswith(":"):
        name = name[:-1]
    elif rest.startswith(":"):
        rest = rest[1:]
    else:
        return None
    name = name.strip()
    if not name:
        return None
    return name, rest.strip()


class FenceTracker:
    """Follows fenced code blocks (```` ``` ```` or ``~~~``) across lines.

    ``feed(line)`` returns True when the line is inside a fence or is one of its
    fence lines; headings and blank lines inside a fence are content.
    A closing fence is a run of the opening character at least as long as the
    opening run, with nothing else on the line (CommonMark's rule).
    """

    __slots__ = ("char", "length")

    def __init__(self) -> None:
        self.char = ""
        self.length = 0

    @property
    def open(self) -> bool:
        return self.length > 0

    def reset(self) -> None:
        self.char = ""
        self.length = 0

    def feed(self, line: str) -> bool:
        stripped = line.lstrip(" \t")
        if not stripped:
            return self.length > 0
        first = stripped[0]
        if first != "`" and first != "~":
            return self.length > 0
        run = len(stripped) - len(stripped.lstrip(first))
        if self.length:
            if first == self.char and run >= self.length and not stripped[run:].strip():
                self.reset()
            return True
        if run >= 3 and not (first == "`" and "`" in stripped[run:]):
            self.char = first
            self.length = run
            return True
        return False


def fence_opening(line: str) -> tuple[str, int] | None:
    """``(char, run)`` when ``line`` (already dedented) opens a code fence."""
    stripped = line.lstrip(" ")
    if not stripped or stripped[0] not in "`~":
        return None
    first = stripped[0]
    run = len(stripped) - len(stripped.lstrip(first))
    if run < 3 or (first == "`" and "`" in stripped[run:]):
        return None
    return first, run


def is_fence_closing(line: str, char: str, length: int) -> bool:
    stripped = line.strip()
    return len(stripped) >= length and stripped == char * len(stripped)


def longest_run(text: str, char: str) -> int:
    """The longest run of ``char`` in ``text`` (to choose a fence or code-span delimiter)."""
    if char not in text:
        return 0
    best = current = 0
    for c in text:
        if c == char:
            current += 1
            if current > best:
                best = current
        else:
            current = 0
    return best
