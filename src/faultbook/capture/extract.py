"""Pull the exact error out of a command's output, the way the seed's "Error Message" holds it.

wrangler prints errors through esbuild's message formatter::

    ✘ [ERROR] A request to the Cloudflare API (/accounts/<id>/workers/scripts/<name>) failed.

      binding IMAGES has an unknown type Images [code: 10021]

      If you think this is a bug, please open an issue at:
      https://github.com/cloudflare/workers-sdk/issues/new/choose

The header is one line; the notes are indented by two spaces and wrapped at
the terminal width, so one API error can span several lines
(``renderError`` in workers-utils' cfetch puts ``<message> [code: N]`` and
chains ``- <message> [code: N]`` under it).  The seed keeps the note joined
back into one line: ``binding IMAGES has an unknown type Images [code: 10021]``.
Older wrangler spelled codes ``(Code: 10021)`` or ``Code 10000:``.  The
endpoint path in the header matters to the knowledge base (10006 is
"NoSuchBucket" on R2 and "could not parse" on script upload), so it is
returned too.

For any other command the error is its error-looking lines (error, failed,
fatal, exception), a Python traceback's last line, or else the end of stderr.

``WRANGLER_OUTPUT_FILE_PATH`` ND-JSON (workers-utils ``output.ts``) is read by
``read_wrangler_output``: version id and URLs on success, the first API error
code of a ``command-failed`` entry on failure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
CODE_RE = re.compile(r"\[code: (\d+)\]|\(Code: (\d+)\)|\bCode (\d+):")
CODE_END_RE = re.compile(r"(?:\[code: \d+\]|\(Code: \d+\))\s*$")
#: esbuild's header: "✘ [ERROR] text" (tests print "X [ERROR]"), warnings "▲ [WARNING]".
HEADER_RE = re.compile(r"^\s*(?:[✘X▲]\s*)?\[(ERROR|WARNING|INFO)\]\s?(.*)$")
API_FAILED_RE = re.compile(r"A request to the Cloudflare API \((/[^)\s]*)\) failed\.?")
ERRORISH_RE = re.compile(r"(?i)\b(?:error|errors|failed|failure|fatal|exception|err!)\b|ERR!")
#: Lines of a wrangler block that are boilerplate, not the error.
BOILERPLATE = (
    "If you think this is a bug, please open an issue at:",
    "https://github.com/cloudflare/workers-sdk/issues/new/choose",
    "To learn more about this error, visit:",
)
MAX_TITLE = 80
SHORT_TITLE = 60
MAX_GENERIC_LINES = 5


@dataclass(frozen=True)
class ExtractedError:
    """The error a command printed.

    ``message`` is exact (ANSI removed, wrapped notes joined); ``code`` the
    first API error code; ``endpoint`` the API path wrangler named, if any;
    ``source`` says where it came from: ``wrangler`` (an ``[ERROR]`` block),
    ``output`` (error lines of another command), ``tail`` (the end of stderr)
    or ``exit-code`` (nothing printed at all).
    """

    message: str
    title: str
    code: int | None = None
    endpoint: str | None = None
    source: str = "wrangler"


@dataclass(frozen=True)
class WranglerOutput:
    """What wrangler's ND-JSON output file said about this run."""

    version_id: str | None = None
    urls: tuple[str, ...] = ()
    deployment_id: str | None = None
    failed_code: int | None = None
    failed_message: str | None = None
    retry_after_ms: int | None = None
    entry_types: tuple[str, ...] = ()

    @property
    def url(self) -> str | None:
        return self.urls[0] if self.urls else None


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def normalise(text: str) -> str:
    """ANSI removed, CRLF (a pty's) made LF, and a carriage-return-overwritten line kept as the terminal shows it."""
    text = strip_ansi(text).replace("\r\n", "\n")
    if "\r" in text:
        text = "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line else line for line in text.split("\n"))
    return text


# ---------------------------------------------------------------- wrangler blocks


@dataclass(frozen=True)
class _Block:
    header: str
    paragraphs: tuple[str, ...]


def wrangler_blocks(text: str) -> list[_Block]:
    """The ``[ERROR]`` blocks in ``text`` (already normalised), header plus joined note paragraphs."""
    blocks: list[_Block] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = HEADER_RE.match(lines[i])
        if not match or match.group(1) != "ERROR":
            i += 1
            continue
        header = match.group(2).strip()
        i += 1
        notes: list[str] = []
        while i < len(lines):
            line = lines[i]
            if HEADER_RE.match(line):
                break
            if line.strip() and not line.startswith(" "):
                break  # an unindented line ends the block ("🪵  Logs were written to ...")
            notes.append(line)
            i += 1
        blocks.append(_Block(header=header, paragraphs=tuple(_paragraphs(notes))))
    return blocks


def _paragraphs(lines: Sequence[str]) -> Iterable[str]:
    """Join wrapped lines back together; a blank line or a ``- `` item starts a new paragraph."""
    current: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            if current:
                yield " ".join(current)
                current = []
            continue
        # A new item starts at "- ", after a line that ended with its code, and at wrangler's boilerplate.
        if current and (
            line.startswith("- ") or CODE_END_RE.search(current[-1]) or line.startswith(BOILERPLATE)
        ):
            yield " ".join(current)
            current = []
        current.append(line)
    if current:
        yield " ".join(current)


def _code_of(text: str) -> int | None:
    match = CODE_RE.search(text)
    if not match:
        return None
    return int(next(g for g in match.groups() if g))


def extract_wrangler_error(text: str) -> ExtractedError | None:
    """The error of wrangler's ``[ERROR]`` blocks, or None when there is none."""
    blocks = wrangler_blocks(normalise(text))
    if not blocks:
        return None
    coded: list[str] = []
    endpoint: str | None = None
    for block in blocks:
        for part in (block.header, *block.paragraphs):
            api = API_FAILED_RE.search(part)
            if api and endpoint is None:
                endpoint = api.group(1)
            if _code_of(part) is not None and not API_FAILED_RE.fullmatch(part.strip()):
                item = part[2:].strip() if part.startswith("- ") else part
                if item not in coded:
                    coded.append(item)
    if coded:
        message = "\n".join(coded)
        return ExtractedError(
            message=message,
            title=make_title(coded[0]),
            code=_code_of(coded[0]),
            endpoint=endpoint,
        )
    # No code: the header says it ("The entry-point file at ... was not found."),
    # unless the header is the generic API line, then its first real note does.
    first = blocks[0]
    message = first.header
    if API_FAILED_RE.fullmatch(first.header.strip()) or not message:
        useful = [p for p in first.paragraphs if not _is_boilerplate(p)]
        if useful:
            message = useful[0]
    return ExtractedError(message=message, title=make_title(message), endpoint=endpoint)


def _is_boilerplate(paragraph: str) -> bool:
    return any(paragraph.startswith(b) or b in paragraph for b in BOILERPLATE)


# ---------------------------------------------------------------- other commands


def extract_generic_error(stderr: str, stdout: str = "") -> ExtractedError | None:
    """Error lines of any command: a traceback's last line, error-looking lines, else the end of stderr."""
    stderr = normalise(stderr)
    stdout = normalise(stdout)
    for text in (stderr, stdout):
        last = _traceback_last_line(text)
        if last:
            return ExtractedError(message=last, title=make_title(last), code=_code_of(last), source="output")
    for text in (stderr, stdout):
        lines = _dedupe(line.strip() for line in text.split("\n") if ERRORISH_RE.search(line))
        if lines:
            kept = lines[:MAX_GENERIC_LINES]
            message = "\n".join(kept)
            return ExtractedError(message=message, title=make_title(kept[0]), code=_code_of(message), source="output")
    tail = [line.strip() for line in stderr.split("\n") if line.strip()][-MAX_GENERIC_LINES:]
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
    seen: list[str] = []
    for line in lines:
        if line and line not in seen:
            seen.append(line)
    return seen


def extract_error(
    *,
    stdout: str,
    stderr: str,
    blocks: Sequence[str] = (),
    exit_code: int | None = None,
) -> ExtractedError | None:
    """The error of a run: wrangler blocks first (in the kept blocks, then the tails), then generic lines.

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


def make_title(message: str) -> str:
    """A short title: the first line without the code suffix or an ``Error:`` prefix, cut at a word."""
    first = message.strip().split("\n", 1)[0]
    first = CODE_RE.sub("", first).strip()
    first = re.sub(r"^(?:✘\s*)?(?:\[ERROR\]\s*)?(?:Error:\s*)?", "", first).strip().rstrip(".:").strip()
    if len(first) > SHORT_TITLE:
        # A long message reads best as its first sentence ("R2 bucket 'x' not found").
        sentence = re.match(r"(.{12,}?[a-z0-9'\")])\.\s", first)
        if sentence:
            first = sentence.group(1)
    if len(first) > MAX_TITLE:
        cut = first[:MAX_TITLE].rsplit(" ", 1)[0]
        first = cut.rstrip(",;:") + "…"
    return first or "Command failed"


# ---------------------------------------------------------------- WRANGLER_OUTPUT_FILE_PATH


def read_wrangler_output(paths: Sequence[Path], *, offsets: dict[Path, int] | None = None) -> WranglerOutput:
    """Read wrangler's ND-JSON entries (only what was appended after ``offsets``); bad lines are skipped."""
    entries: list[dict] = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                handle.seek((offsets or {}).get(path, 0))
                data = handle.read(16 * 1024 * 1024)
        except OSError:
            continue
        for raw in data.decode("utf-8", "replace").splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return summarise_entries(entries)


def summarise_entries(entries: Sequence[dict]) -> WranglerOutput:
    version_id = deployment_id = failed_message = None
    failed_code = retry_after = None
    urls: list[str] = []
    for entry in entries:
        kind = entry.get("type")
        if kind in ("deploy", "version-upload"):
            version_id = _str(entry.get("version_id")) or version_id
            urls.extend(u for u in (entry.get("targets") or []) if isinstance(u, str))
            for key in ("preview_url", "preview_alias_url"):
                if isinstance(entry.get(key), str):
                    urls.append(entry[key])
        elif kind == "version-deploy":
            deployment_id = _str(entry.get("deployment_id")) or deployment_id
            traffic = entry.get("version_traffic")
            if isinstance(traffic, dict) and traffic:
                version_id = max(traffic.items(), key=lambda kv: kv[1] if isinstance(kv[1], (int, float)) else 0)[0]
        elif kind in ("pages-deploy", "pages-deploy-detailed"):
            deployment_id = _str(entry.get("deployment_id")) or deployment_id
            version_id = version_id or deployment_id
            for key in ("url", "alias"):
                if isinstance(entry.get(key), str):
                    urls.append(entry[key])
        elif kind == "command-failed":
            code = entry.get("code")
            failed_code = code if isinstance(code, int) else failed_code
            failed_message = _str(entry.get("message")) or failed_message
            retry = entry.get("retry_after_ms")
            retry_after = retry if isinstance(retry, int) else retry_after
    return WranglerOutput(
        version_id=version_id,
        urls=tuple(dict.fromkeys(urls)),
        deployment_id=deployment_id,
        failed_code=failed_code,
        failed_message=failed_message,
        retry_after_ms=retry_after,
        entry_types=tuple(str(e.get("type")) for e in entries),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
