"""How each field of a block is written and read: the codecs both the parser and the renderer use.

Every field kind has a pair here — ``format_x`` (value → text) and ``parse_x``
(text → value) — so the two directions cannot drift apart; the property test
in tests/markdown checks that ``parse_x(format_x(v)) == v`` through whole blocks.

Decisions that make the round trip exact (documented in docs of the format):

* Dates: ``August 20, 2025`` is written; ``2025-08-20``, ``Aug 20, 2025`` and
  ``20 August 2025`` are read too.  Times: ``14:15 UTC`` is written (seconds
  only when non-zero, sub-second precision is dropped); ``14:15``,
  ``14:15:30 UTC``, ``2:15 PM UTC`` and offsets (``+02:00``, ``UTC+2``) are read,
  converted to UTC.  A block without a time (field missing or ``—``) means
  00:00 UTC of its date; a date of ``—`` / ``Unknown`` means no date at all,
  written back as ``—`` in both fields.
* Component ``Backend (Cloudflare Worker)`` is ``component="Backend"`` plus
  ``component_detail="Cloudflare Worker"`` (the last balanced parenthesis).
* An error message is exact.  One line: a code span, widened (```` `` x`y `` ````)
  and padded when the message holds a backtick or starts/ends with a space.
  Several lines: a fenced block under the field, indented two spaces, whose
  fence is longer than any backtick run in the message.
* Markdown text (Root Cause, Resolution, Lessons Learned) continues on lines
  indented two spaces; it is stored with that indent removed, each line's
  trailing whitespace dropped and surrounding blank lines trimmed.
* List items (potential failures) are ``  - item`` lines; Possible Error
  Messages are written in double quotes, and exactly one quote is removed
  from each end when reading, so items holding quotes survive.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from faultbook.markdown.syntax import dedent, fence_opening, is_fence_closing, longest_run

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_NUMBERS = {name.casefold(): i for i, name in enumerate(MONTHS, 1)}
_MONTH_NUMBERS.update({name[:3].casefold(): i for i, name in enumerate(MONTHS, 1)})
_MONTH_NUMBERS["sept"] = 9

#: What a Date or Time field holds when the moment is not known.
UNKNOWN = "—"
_UNKNOWN_WORDS = frozenset({"", "—", "–", "-", "unknown", "n/a", "none", "?"})

# ---------------------------------------------------------------- dates and times


def format_date(moment: datetime | None) -> str:
    if moment is None:
        return UNKNOWN
    utc = _to_utc(moment)
    return f"{MONTHS[utc.month - 1]} {utc.day}, {utc.year}"


def format_time(moment: datetime | None) -> str:
    if moment is None:
        return UNKNOWN
    utc = _to_utc(moment)
    if utc.second:
        return f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} UTC"
    return f"{utc.hour:02d}:{utc.minute:02d} UTC"


def _to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc)


@lru_cache(maxsize=4096)  # a ledger repeats its dates and times; both functions are pure
def parse_date(text: str) -> date | None:
    """``August 20, 2025`` / ``2025-08-20`` / ``20 August 2025`` → date; ``—`` → None.

    Raises ValueError naming the problem (unrecognised form, impossible date).
    """
    raw = text.strip()
    if raw.casefold() in _UNKNOWN_WORDS:
        return None
    year = month = day = None
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        parts = raw.split("-")
        if all(_ascii_digits(p) for p in parts):
            year, month, day = (int(p) for p in parts)
    else:
        tokens = raw.replace(",", " ").split()
        if len(tokens) == 3:
            if tokens[0].casefold().rstrip(".") in _MONTH_NUMBERS:
                month_word, day_word, year_word = tokens
            else:
                day_word, month_word, year_word = tokens
            month = _MONTH_NUMBERS.get(month_word.casefold().rstrip("."))
            day_digits = day_word.casefold()
            for suffix in ("st", "nd", "rd", "th"):
                if day_digits.endswith(suffix):
                    day_digits = day_digits[: -len(suffix)]
                    break
            if month and _ascii_digits(day_digits) and _ascii_digits(year_word) and len(year_word) == 4:
                day = int(day_digits)
                year = int(year_word)
    if year is None or month is None or day is None:
        raise ValueError(f"unrecognised date {raw!r}: write it like 'August 20, 2025' or '2025-08-20'")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"impossible date {raw!r}") from None


@lru_cache(maxsize=4096)
def parse_time(text: str) -> tuple[int, int, int, int] | None:
    """``14:15 UTC`` / ``14:15:30`` / ``2:15 PM UTC`` / ``09:00 +02:00`` → (h, m, s, offset minutes).

    None for an unknown time (``—``, empty).  Raises ValueError otherwise.
    """
    raw = text.strip()
    if raw.casefold() in _UNKNOWN_WORDS:
        return None
    rest = raw.upper()
    offset = 0
    meridiem = None
    tokens = rest.replace("UTC", " UTC ").replace("GMT", " UTC ").split()
    clock = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in ("UTC", "Z"):
            # "UTC+2" was split into "UTC", "+2".
            if index + 1 < len(tokens) and tokens[index + 1][:1] in "+-":
                index += 1
                offset = _parse_offset(tokens[index], raw)
        elif token in ("AM", "PM", "A.M.", "P.M."):
            meridiem = token[0]
        elif token[:1] in "+-" and clock is not None:
            offset = _parse_offset(token, raw)
        elif clock is None:
            if token.endswith("Z"):
                token = token[:-1]
            for suffix in ("AM", "PM"):
                if token.endswith(suffix):
                    meridiem = suffix[0]
                    token = token[:-2]
            clock = token
        else:
            raise ValueError(_bad_time(raw))
        index += 1
    if clock is None:
        raise ValueError(_bad_time(raw))
    pieces = clock.split(":")
    if len(pieces) not in (2, 3) or not all(_ascii_digits(p) and len(p) <= 2 for p in pieces) or len(pieces[1]) != 2:
        raise ValueError(_bad_time(raw))
    hour, minute = int(pieces[0]), int(pieces[1])
    second = int(pieces[2]) if len(pieces) == 3 else 0
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise ValueError(f"impossible time {raw!r}")
        hour = hour % 12 + (12 if meridiem == "P" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"impossible time {raw!r}")
    return hour, minute, second, offset


def _bad_time(raw: str) -> str:
    return f"unrecognised time {raw!r}: write it like '14:15 UTC'"


def _parse_offset(token: str, raw: str) -> int:
    sign = -1 if token[0] == "-" else 1
    body = token[1:].replace(":", "")
    if not _ascii_digits(body) or len(body) not in (1, 2, 4):
        raise ValueError(_bad_time(raw))
    hours = int(body[:2]) if len(body) == 4 else int(body)
    minutes = int(body[2:]) if len(body) == 4 else 0
    if hours > 14 or minutes > 59:
        raise ValueError(f"impossible time zone offset in {raw!r}")
    return sign * (hours * 60 + minutes)


def _ascii_digits(text: str) -> bool:
    """Only 0-9: ``str.isdigit`` also takes "٢" and "²", which ``int`` then reads as 2."""
    return text.isascii() and text.isdigit()


def combine(day: date | None, clock: tuple[int, int, int, int] | None) -> datetime | None:
    """The timezone-aware UTC moment of a Date and a Time field."""
    if day is None:
        return None
    hour, minute, second, offset = clock if clock is not None else (0, 0, 0, 0)
    moment = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=timezone.utc)
    if offset:
        try:
            moment -= timedelta(minutes=offset)
        except OverflowError:
            raise ValueError(f"{day.isoformat()} with a UTC offset is outside the calendar") from None
    return moment


# ---------------------------------------------------------------- component


def format_component(component: str, detail: str | None) -> str:
    return f"{component} ({detail})" if detail else component


def parse_component(text: str) -> tuple[str, str | None]:
    """``Backend (Cloudflare Worker)`` → ("Backend", "Cloudflare Worker"); no parenthesis → (text, None)."""
    value = text.strip()
    if not value.endswith(")"):
        return value, None
    depth = 0
    for index in range(len(value) - 1, -1, -1):
        char = value[index]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                head = value[:index].rstrip()
                detail = value[index + 1 : -1].strip()
                if not head or not detail:
                    return value, None
                return head, detail
    return value, None


# ---------------------------------------------------------------- error message


def format_error_message(message: str) -> tuple[str, list[str]]:
    """(text after ``**Error Message**:``, continuation lines) for ``message``."""
    if not message:
        return "", []
    if "\n" not in message:
        return format_code_span(message), []
    fence = "`" * max(3, longest_run(message, "`") + 1)
    lines = [fence]
    lines.extend(message.split("\n"))
    lines.append(fence)
    return "", lines


def format_code_span(text: str) -> str:
    ticks = "`" * (longest_run(text, "`") + 1)
    if ("`" in text or text[0] == " " or text[-1] == " ") and text.strip(" "):
        return f"{ticks} {text} {ticks}"
    return f"{ticks}{text}{ticks}"


def parse_code_span(text: str) -> str | None:
    """The content of a code span that is the whole of ``text``; None if it is not one."""
    if not text.startswith("`"):
        return None
    run = len(text) - len(text.lstrip("`"))
    if len(text) < 2 * run + 1 or text[-run:] != "`" * run or text[-run - 1] == "`":
        return None
    inner = text[run:-run]
    if len(inner) >= 2 and inner[0] == " " and inner[-1] == " " and inner.strip(" "):
        inner = inner[1:-1]
    return inner


def parse_error_message(first: str, continuation: list[str]) -> str:
    """The exact message of an Error Message field (first-line text + dedented continuation lines).

    Raises ValueError when a fenced message is followed by more text.
    """
    if continuation:
        opening = fence_opening(continuation[0]) if not first else None
        if opening is not None:
            char, length = opening
            body: list[str] = []
            for index in range(1, len(continuation)):
                line = continuation[index]
                if is_fence_closing(line, char, length):
                    trailing = [x for x in continuation[index + 1 :] if x.strip()]
                    if trailing:
                        raise ValueError("unexpected text after the error message's code block")
                    return "\n".join(body)
                body.append(line)
            # An unclosed fence runs to the end of the field.
            while body and not body[-1].strip():
                body.pop()
            return "\n".join(body)
        lines = [first] if first else []
        lines.extend(line.rstrip() for line in continuation)
        return _trim_blank_lines(lines)
    span = parse_code_span(first)
    return first if span is None else span


# ---------------------------------------------------------------- Markdown text


def format_text(text: str) -> tuple[str, list[str]]:
    """(text after ``**Field**:``, continuation lines) for a Markdown value."""
    if not text:
        return "", []
    lines = text.split("\n")
    first = lines[0]
    # The first line goes after "**Field**:" unless reading it back there would change it.
    if first != first.lstrip() or fence_opening(first) is not None:
        return "", lines
    return first, lines[1:]


def parse_text(first: str, continuation: list[str]) -> str:
    lines = [first] if first else []
    lines.extend(line.rstrip() for line in continuation)
    return _trim_blank_lines(lines)


def _trim_blank_lines(lines: list[str]) -> str:
    start, end = 0, len(lines)
    while start < end and not lines[start]:
        start += 1
    while end > start and not lines[end - 1]:
        end -= 1
    return "\n".join(lines[start:end])


# ---------------------------------------------------------------- list fields


def format_items(items: tuple[str, ...], *, quoted: bool) -> list[str]:
    """Continuation lines (before the two-space indent) of a list field."""
    lines: list[str] = []
    for item in items:
        text = f'"{item}"' if quoted else item
        parts = text.split("\n")
        lines.append("- " + parts[0])
        lines.extend("  " + part if part else "" for part in parts[1:])
    return lines


def parse_items(first: str, continuation: list[str], *, quoted: bool) -> tuple[str, ...]:
    """Items of a list field; raises ValueError (with the 0-based continuation index) on a stray line."""
    items: list[list[str]] = []
    if first:
        items.append([first])
    for index, line in enumerate(continuation):
        if not line.strip():
            if items:
                items[-1].append("")
            continue
        if line.startswith("- ") or line.startswith("* ") or line in ("-", "*"):
            items.append([line[2:].strip()])
        elif line.startswith("  ") and items:
            items[-1].append(dedent(line, 2).rstrip())
        else:
            raise ItemError(index, f"expected a list item '  - ...', got {line.strip()!r}")
    out: list[str] = []
    for item in items:
        text = _trim_blank_lines(item)
        if quoted and len(text) >= 2 and text[0] == '"' and text[-1] == '"':
            text = text[1:-1]
        out.append(text)
    return tuple(out)


class ItemError(ValueError):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
