"""Pull the exact error out of a command's output: the one extractor behind ``run``, ``explain``,
``record --error-message``, the team server's report ingest and ``import``.

Why one extractor, and why these rules: the same failure reaches faultbook in many shapes (a terminal,
a CI log with a timestamp column, a monorepo runner's ``api:deploy:`` prefix, a Workers Builds log, a
paste in an issue, wrangler 1's format) and it must be stored as the same message every time, or the
ledger splits one error into many.  The rules are measured on ``tests/corpus/errors`` (92 real outputs
users pasted into public threads; ``benchmarks/bench_fidelity.py``), with 20 of them held out while the
rules were written.

How a text is read:

1. ``normalise``: ANSI colours removed, CRLF and carriage-return overwrites resolved.
2. ``strip_prefixes``: a per-line prefix is found *structurally*, not from a list of runners.  Each line's
   head up to its first separator (``<TAB>``, `` | ``, ``: ``, ``| ``) is reduced to a template (digit runs
   become ``0``, so ``14:18:37.337 | `` and ``14:18:37.338 | `` are one template); a template carried by at
   least half the lines is a prefix column and is removed wherever it occurs.  ISO and clock timestamps
   followed by a space are prefixes too, a line that is only a timestamp is blank, and a quote/box border
   (``> ``, ``│``) carried by every line goes.  A word followed by a colon (``Error: ``) is never a prefix.
3. Blocks: wrangler prints errors through esbuild's formatter (``✘ [ERROR] header`` then notes indented by
   two, wrapped at the terminal width; ``renderError`` in workers-utils' cfetch puts ``<message> [code: N]``
   and chains ``- <message> [code: N]``); wrangler 1 printed ``Error: Something went wrong with the request
   to Cloudflare...`` and ended the message with `` [API code: N]``.  A header is found anywhere in its
   line (so a prefix the column search missed cannot hide it); notes need not be indented.
4. The message:
   - coded notes win (one per line, wrapped lines joined, stack frames dropped, ``[API code: N]`` written
     ``[code: N]``); a ``ParseError`` whose notes only appear in its dumped object
     (``notes: [ { text: '...' } ]``) gives those notes, and so does a JSON error body
     (``{"code": 10022, "message": "..."}``);
   - a generic API header without coded notes keeps a ``METHOD /path -> status`` line, else its first note,
     else the title of the HTML page that came back instead of JSON (under the header, one per line);
   - any other block is its header, plus, when the header introduces details (ends with ``:``), the
     ``- `` items (``Processing wrangler.jsonc configuration:``) or else the first detail line;
   - output without a header: its error lines (a coded line first; ``Error:``/``Failed``/``fatal``/
     ``Uncaught``/``ERR_*``/``×`` lines before lines that merely say something is missing or invalid),
     a runner's own trailer (``... failed with exit code 1``) only when nothing else is there.
5. ``run`` falls back to the end of stderr and then to the exit code; a pasted text falls back to itself.

``clean_message`` is the entry for text that may already be a message (``record``, ingest, ``import``):
raw output is extracted, a message is kept verbatim, so importing a ledger never rewrites it.

``WRANGLER_OUTPUT_FILE_PATH`` ND-JSON (workers-utils ``output.ts``) is read by ``read_wrangler_output``:
version id and URLs on success, the first API error code of a ``command-failed`` entry on failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from faultbook.capture.text import (  # noqa: F401 (ExtractedError, normalise, make_title are this module's API too)
    ANSI_RE, API_FAILED_RE, API_HEADER_LINE_RE, BARE_ERROR_HEADER_RE, BODY_CODE_RE, BODY_MESSAGE_RE,
    BOILERPLATE, CARET_RE, CODE_END_RE, CODE_FRAME_RE, CODE_ONLY_RE, CODE_RE, COUNT_SUMMARY_RE,
    DUMP_NOTES_RE, DUMP_TEXT_RE, ERROR_BODY_RE, ERROR_MARK_RE, ExtractedError, FRAME_CONTINUATION_RE,
    FRAME_RE, GENERIC_HEADER_RE, HTML_TAG_RE, HTML_TITLE_RE, INSPECTED_ERROR_RE, LOCATION_RE,
    MAX_CODED_LINES, MAX_GENERIC_LINES, NOISE_PREFIXES, REQUEST_STATUS_RE, STRONG_RE, TIMESTAMP_PREFIX_RE,
    TRAILER_RE, TRAILING_BORDER_RE, V1_HEADER_RE, WARNING_MARK_RE, WEAK_RE, WRAPPED_FRAME_RE, make_title,
    normalise, strip_prefixes, _clean,
)

# ---------------------------------------------------------------- blocks


@dataclass(frozen=True)
class _Block:
    header: str
    body: tuple[str, ...]
    v1: bool = False


def _header_of(line: str) -> tuple[str, bool] | None:
    """(header text, wrangler 1?) when ``line`` opens an error block."""
    match = ERROR_MARK_RE.search(line)
    if match:
        rest = line[match.end():]
        while True:  # "X [ERROR] X [ERROR] Received ..." is one header
            again = ERROR_MARK_RE.match(rest.lstrip())
            if not again:
                break
            rest = rest.lstrip()[again.end():]
        return TRAILING_BORDER_RE.sub("", rest).strip(), False
    if BARE_ERROR_HEADER_RE.match(line):
        return BARE_ERROR_HEADER_RE.sub("", line).strip(), False
    if API_HEADER_LINE_RE.match(line):  # wrangler's API header pasted without its "✘ [ERROR]"
        return line.strip(), False
    match = V1_HEADER_RE.search(line)
    if match and not line[: match.start()].strip(" :"):
        return match.group(0).removeprefix("Error: ").strip(), True
    return None


def _mark_column(line: str) -> int:
    return len(line) - len(line.lstrip())


def _blocks(lines: Sequence[str]) -> list[_Block]:
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        found = _header_of(lines[i])
        if found is None:
            i += 1
            continue
        header, v1 = found
        start = i
        i += 1
        # A header wrapped at the terminal width continues on indented lines until its sentence ends.
        while (
            i < len(lines)
            and lines[i].strip()
            and lines[i].startswith(" ")
            and not re.search(r"[.:!?]$", header)
            and re.match(r"\s*[a-z(\"'`]", lines[i])
            and _header_of(lines[i]) is None
            and not FRAME_RE.match(lines[i])
        ):
            header = f"{header} {lines[i].strip()}"
            i += 1
        body: list[str] = []
        column = _mark_column(lines[start])
        while i < len(lines):
            line = lines[i]
            nested = _header_of(line)
            if nested is not None and header.endswith(":") and _mark_column(line) > column:
                # "✘ [ERROR] Build failed with 1 error:" then, indented, "✘ [ERROR] No matching export ...":
                # the inner error is this block's detail.
                line = " " * _mark_column(line) + nested[0]
                nested = None
            if nested is not None or WARNING_MARK_RE.search(line):
                break
            body.append(line)
            i += 1
            if v1 and CODE_END_RE.search(line):
                break
        blocks.append(_Block(header=header, body=tuple(body), v1=v1))
    return blocks


def _paragraphs(lines: Sequence[str]) -> list[str]:
    """Join wrapped lines back together, without stack frames; a blank line or a ``- `` item starts a new one."""
    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            out.append(" ".join(current))
            current.clear()

    in_frames = False
    frames = _frame_lines(lines)
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            in_frames = False
            flush()
            continue
        if index in frames:
            in_frames = True
            continue
        if in_frames and (FRAME_CONTINUATION_RE.match(raw) or line.startswith("(")):
            continue
        in_frames = False
        if CODE_ONLY_RE.match(raw) and not current and out:
            out[-1] = f"{out[-1]} {line}"  # the code of a note whose frames were dropped
            continue
        if current and (
            line.startswith("- ")
            or REQUEST_STATUS_RE.match(line)
            or CODE_END_RE.search(current[-1])
            or line.startswith(BOILERPLATE)
            or current[-1].startswith(BOILERPLATE)
        ):
            flush()
        current.append(line)
    flush()
    return [_code_spelling(p) for p in out]


def _frame_lines(lines: Sequence[str]) -> set[int]:
    """Indexes of the stack-frame lines (a wrapped "at fn" counts when its "(file:1:2)" follows)."""
    frames = set()
    for i, raw in enumerate(lines):
        if FRAME_RE.match(raw):
            frames.add(i)
        elif WRAPPED_FRAME_RE.match(raw) and i + 1 < len(lines) and lines[i + 1].lstrip().startswith("("):
            frames.add(i)
    return frames


def _code_spelling(text: str) -> str:
    return re.sub(r"\[API code: (\d+)\]", r"[code: \1]", text)


def _is_boilerplate(paragraph: str) -> bool:
    return any(paragraph.startswith(b) or b in paragraph for b in BOILERPLATE)


def _is_markup(paragraph: str) -> bool:
    """An HTML body, a code frame or an elision ("...") printed under a header: not what went wrong."""
    if paragraph.startswith("<") or CODE_FRAME_RE.match(paragraph) is not None:
        return True
    if paragraph in ("...", "…"):
        return True
    return paragraph.startswith(("...", "…")) and HTML_TAG_RE.search(paragraph) is not None


def _dump_notes(text: str) -> list[str]:
    """Note texts of a dumped ParseError (``notes: [ { text: '...' } ]``)."""
    match = DUMP_NOTES_RE.search(text)
    if not match:
        return []
    rest = text[match.end():]
    end = re.search(r"\n\s*(?:location|kind|code):", rest)
    rest = rest[: end.start()] if end else rest
    notes = []
    for found in DUMP_TEXT_RE.finditer(rest):
        note = " ".join((found.group(1) or found.group(2) or "").split())
        if note:
            notes.append(note.replace("\\'", "'"))
    return notes


def _body_errors(text: str) -> list[str]:
    """``<message> [code: N]`` for each API error object in a printed response body."""
    found = []
    for chunk in ERROR_BODY_RE.finditer(text):
        code = BODY_CODE_RE.search(chunk.group(0))
        message = BODY_MESSAGE_RE.search(chunk.group(0))
        if code and message:
            text_ = " ".join((message.group(1) or message.group(2) or "").split())
            found.append(f"{text_} [code: {code.group(1)}]")
    return found


def _code_of(text: str) -> int | None:
    match = CODE_RE.search(text)
    if not match:
        return None
    return int(next(g for g in match.groups() if g))


def _strip_item(paragraph: str) -> str:
    return paragraph[2:].strip() if paragraph.startswith("- ") else paragraph


def _block_message(blocks: Sequence[_Block]) -> tuple[str, str | None] | None:
    """(message, endpoint) of the error blocks, or None when there is none."""
    if not blocks:
        return None
    endpoint: str | None = None
    coded: list[str] = []
    for block in blocks:
        api = API_FAILED_RE.search(block.header) or API_FAILED_RE.search(" ".join(block.body))
        if api and endpoint is None:
            endpoint = api.group(1)
        body_text = "\n".join(block.body)
        notes = _dump_notes(body_text)
        parts = notes if notes else _paragraphs(block.body)
        header_coded = _code_of(block.header) is not None
        candidates = ([block.header] if header_coded else []) + parts
        for part in candidates:
            if _code_of(part) is None or API_FAILED_RE.fullmatch(part.strip()):
                continue
            item = _strip_item(part)
            if item not in coded:
                coded.append(item)
    if coded:
        return "\n".join(coded), endpoint
    # "1 error(s) and 0 warning(s) when compiling Worker." only counts the errors printed after it.
    counted = [b for b in blocks if not COUNT_SUMMARY_RE.match(b.header)]
    first = counted[0] if counted else blocks[0]
    paragraphs = [p for p in _paragraphs(first.body) if not _is_boilerplate(p)]
    header = first.header
    if first.v1 or GENERIC_HEADER_RE.search(header) or not header:
        status = [p for p in paragraphs if REQUEST_STATUS_RE.match(p)]
        if status:
            return "\n".join([header, *status]), endpoint
        useful = [p for p in paragraphs if not _is_markup(p)]
        if useful:
            return f"{header}\n{useful[0]}", endpoint
        # An HTML page instead of JSON: its title says what answered ("413 Request Entity Too Large",
        # a firewall's "Sorry, you have been blocked"); the rest of the page is not the error.
        page = HTML_TITLE_RE.search("\n".join(first.body))
        if page:
            return f"{header}\n{' '.join(page.group(2).split())}", endpoint
        return header, endpoint
    if header.endswith(":"):
        items: list[str] = []
        for p in paragraphs:
            if p.startswith("- "):
                items.append(p)
            elif items or _is_markup(p):
                break
            else:
                return f"{header}\n{p}", endpoint
        if items:
            return "\n".join([header, *items]), endpoint
    return header, endpoint


def extract_wrangler_error(text: str) -> ExtractedError | None:
    """The error of wrangler's error blocks (``[ERROR]``, wrangler 1's API error), or None when there is none."""
    if not any(mark in text for mark in ("ERROR", "Something went wrong", "notes:", "errors", "from the API", "Cloudflare API")):
        return None  # no header, dump or error body can be in it (most of a successful run's output)
    lines = _clean(text).split("\n")
    found = _block_message([b for b in _blocks(lines) if b.header or any(ln.strip() for ln in b.body)])
    if found is not None and not found[0].strip():
        found = None  # an empty "✘ [ERROR]": the error is in the lines before it
    if found is None:
        joined = "\n".join(lines)
        # A response body printed inside a quoted string (wrangler 1: 'msg: "... {\\n  \\"errors\\": ..."').
        unescaped = joined.replace('\\"', '"').replace("\\n", "\n") if '\\"' in joined else ""
        notes = _dump_notes(joined) or _body_errors(joined) or _body_errors(unescaped)
        if not notes:
            return None
        found = ("\n".join(dict.fromkeys(notes)), None)
    message, endpoint = found
    return ExtractedError(message=message, title=make_title(message), code=_code_of(message), endpoint=endpoint)



# ---------------------------------------------------------------- other commands


def _logical_lines(text: str) -> list[str]:
    """Lines with their wrapped continuations: more-indented lines that are not new errors, a lone code.

    A blank line comes back as "" (so callers can tell which lines were adjacent).
    """
    out: list[tuple[int, str]] = []
    paragraph_start = 0
    after_frames = False
    in_dump = False
    raw_lines = text.split("\n")
    frames = _frame_lines(raw_lines)
    for index, raw in enumerate(raw_lines):
        line = raw.strip()
        if not line:
            out.append((0, ""))
            paragraph_start = len(out)
            after_frames = False
            continue
        if in_dump:
            in_dump = not line.startswith("}")
            continue
        if index in frames or (out and out[-1][1] and FRAME_CONTINUATION_RE.match(raw)):
            after_frames = True
            continue
        if after_frames and not CODE_ONLY_RE.match(raw):
            continue  # what follows a stack dump ("code: 1", "}") is the dumped object, not the message
        if CARET_RE.match(raw):
            # Node's "file.js:60" / source line / "^" before an uncaught throw: a code frame, not the message.
            if out and out[-1][1]:
                out.pop()  # the source line
            if out and out[-1][1] and LOCATION_RE.search(out[-1][1]):
                out.pop()  # "file.js:60"
            continue
        inspected = INSPECTED_ERROR_RE.match(line)
        if inspected:
            # Node's util.inspect of an error: "[Error: EACCES: ...] {" then its fields until "}".
            line, in_dump = inspected.group(1), bool(inspected.group(2))
            raw = line
        indent = len(raw) - len(raw.lstrip())
        if indent and CODE_END_RE.search(raw) and not CODE_ONLY_RE.match(raw):
            # An indented note wrapped at the terminal width ends with its code: join its lines.
            while (
                len(out) > paragraph_start and out[-1][1] and out[-1][0] == indent
                and not STRONG_RE.search(out[-1][1])
            ):
                indent, line = out[-1][0], f"{out[-1][1]} {line}"
                out.pop()
        if CODE_ONLY_RE.match(raw) and out and out[-1][1]:
            # The code ends a wrapped message: the whole paragraph is that message.
            joined = " ".join(t for _, t in out[paragraph_start:] if t)
            del out[paragraph_start:]
            out.append((0, f"{joined} {line}"))
            continue
        if (
            out
            and out[-1][1]
            and indent > out[-1][0]
            and not STRONG_RE.search(line)
            and (not re.search(r"[.!?:]$", out[-1][1]) or re.match(r"[a-z(\"'`\[]", line))
        ):
            # A wrapped continuation: the line before it has not finished, or this one reads on from it.
            out[-1] = (out[-1][0], f"{out[-1][1]} {line}")
            continue
        out.append((indent, line))
    return [_code_spelling(t) for _, t in out]


def _error_lines(text: str) -> list[str]:
    """The lines of a headerless output that say what failed, best first."""
    logical = [
        ln if ln and not _is_boilerplate(ln) and not ln.lower().startswith(NOISE_PREFIXES)
        and _header_of(ln) != ("", False) else ""
        for ln in _logical_lines(_clean(text))
    ]
    # A weak line right under an error line is that error's cause ("Error: could not download X" /
    # "Access is denied. (os error 5)"): it belongs to the message.
    follows_strong = {
        i for i in range(1, len(logical))
        if logical[i] and logical[i - 1] and _is_strong(logical[i - 1]) and WEAK_RE.search(logical[i])
        and not TRAILER_RE.search(logical[i]) and not logical[i].endswith(":")
    }
    lines = _dedupe(ln for ln in logical if ln)
    coded = [_strip_item(ln) for ln in lines if _code_of(ln) is not None]
    if coded:
        return _dedupe(coded)
    # A line that introduces what follows ("To submit this report, run:") is the message only when alone.
    statements = [ln for ln in lines if not ln.endswith(":")]
    lines = statements or lines
    strong = [ln for ln in lines if _is_strong(ln)]
    if strong:
        with_causes = {i for i, ln in enumerate(logical) if ln and (ln in strong or i in follows_strong)}
        return _dedupe(logical[i] for i in sorted(with_causes | _list_intros(logical, with_causes)))
    weak = [ln for ln in lines if WEAK_RE.search(ln) and not TRAILER_RE.search(ln)]
    if weak:
        return weak
    return [ln for ln in lines if TRAILER_RE.search(ln)]


def _list_intros(logical: Sequence[str], chosen: set[int]) -> set[int]:
    """For a chosen ``- `` item: the line that introduces its list ("... for my-worker:") and the list's items.

    The same shape as a block whose header ends with ":" and its items, without the ``[ERROR]`` marker.
    """
    extra: set[int] = set()
    for i in chosen:
        if not logical[i].startswith("- "):
            continue
        start = i
        while start > 0 and logical[start - 1].startswith("- "):
            start -= 1
        if start == 0 or not logical[start - 1].endswith(":"):
            continue
        end = i
        while end + 1 < len(logical) and logical[end + 1].startswith("- "):
            end += 1
        extra.update(range(start - 1, end + 1))
    return extra


def _is_strong(line: str) -> bool:
    return bool(
        (STRONG_RE.search(line) or GENERIC_HEADER_RE.search(line) or REQUEST_STATUS_RE.match(line))
        and not TRAILER_RE.search(line)
    )


def extract_generic_error(stderr: str, stdout: str = "") -> ExtractedError | None:
    """Error lines of any command: a traceback's last line, error-looking lines, else the end of stderr."""
    for text in (stderr, stdout):
        last = _traceback_last_line(normalise(text))
        if last:
            return ExtractedError(message=last, title=make_title(last), code=_code_of(last), source="output")
    for text in (stderr, stdout):
        lines = _error_lines(text)
        # Coded lines are each an API error wrangler printed (one per route, say): keep them all, within reason.
        limit = MAX_CODED_LINES if lines and all(_code_of(ln) is not None for ln in lines) else MAX_GENERIC_LINES
        kept = lines[:limit]
        if kept:
            message = "\n".join(kept)
            return ExtractedError(message=message, title=make_title(kept[0]), code=_code_of(message), source="output")
    clean = _clean(stderr)
    tail = [line.strip() for line in clean.split("\n") if line.strip()][-MAX_GENERIC_LINES:]
    if tail:
        message = "\n".join(tail)
        return ExtractedError(message=message, title=make_title(tail[-1]), code=_code_of(message), source="tail")
    return None


def _traceback_last_line(text: str) -> str | None:
    index = text.rfind("Traceback (most recent call last):")
    if index < 0:
        return None
    for line in text[index:].split("\n")[1:]:
        if line and not line.startswith((" ", "\t")):
            return line.strip()
    return None


def _dedupe(lines: Iterable[str]) -> list[str]:
    return [line for line in dict.fromkeys(lines) if line]



# ---------------------------------------------------------------- entry points


def extract_error(
    *,
    stdout: str,
    stderr: str,
    blocks: Sequence[str] = (),
    exit_code: int | None = None,
) -> ExtractedError | None:
    """The error of a run (``faultbook run``): wrangler blocks first (kept blocks, stderr, stdout), then error lines.

    ``blocks`` are the error windows the runner kept from anywhere in the
    output (they survive even when the tail has scrolled past them).
    Returns None when nothing looks like an error and the exit code is 0.
    """
    for text in (*blocks, stderr, stdout):
        found = extract_wrangler_error(text)
        if found:
            return found
    if exit_code == 0:
        return None
    found = extract_generic_error(stderr, stdout)
    if found:
        return found
    message = f"command exited with code {exit_code}"
    return ExtractedError(message=message, title=message, source="exit-code")


def extract_text(text: str) -> ExtractedError | None:
    """The error in a pasted text (``faultbook explain``): the same reading as ``run`` gives its stderr.

    Only the last resort differs: where ``run`` would keep the end of stderr, a pasted text that
    shows nothing error-like is its own message (prefixes removed).  None for a blank text.
    """
    if not (text or "").strip():
        return None
    found = extract_wrangler_error(text) or extract_generic_error(text)
    if found is not None and found.source != "tail":
        return found
    clean = "\n".join(ln.strip() for ln in strip_prefixes(normalise(text)).strip().split("\n")).strip()
    return ExtractedError(message=clean, title=make_title(clean), code=_code_of(clean), source="text")


def looks_like_output(text: str) -> bool:
    """Whether ``text`` is raw command output rather than an already-extracted message."""
    if not text:
        return False
    if ANSI_RE.search(text) or "\r" in text:
        return True
    if any(_header_of(line) for line in text.split("\n")) or WARNING_MARK_RE.search(text):
        return True
    if DUMP_NOTES_RE.search(text) or any(FRAME_RE.match(line) for line in text.split("\n")):
        return True
    # A prefix column: a timestamp heading a line, or a label carried by three lines or more.
    lines = normalise(text).split("\n")
    if any(TIMESTAMP_PREFIX_RE.match(line) for line in lines):
        return True
    stripped = strip_prefixes("\n".join(lines)).split("\n")
    return sum(a != b and bool(b.strip()) for a, b in zip(lines, stripped)) >= 3


def clean_message(text: str) -> str:
    """The message to store for ``text``: raw output is extracted, a message is kept as written.

    Used where a message may arrive either way (``record --error-message``, a team report,
    ``import``), so a ledger that is imported again keeps every message byte for byte.
    """
    if not looks_like_output(text):
        return text
    found = extract_text(text)
    return found.message if found else text
