"""The ground the error extractor stands on: its patterns, the error value, and output made plain.

``capture/extract.py`` explains how an error is read out of a deploy's output; this module holds what
every part of it shares so the parts import one base and never each other: the regular expressions and
limits, ``ExtractedError``, ANSI and newline normalisation, the per-line prefixes of CI logs and monorepo
runners (found from the structure of the lines — a timestamp column, a ``| `` column, a ``name:task:``
label, a symbol column — never from a list of runners) and the title made from a message.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
#: Every spelling of a Cloudflare API code: ``[code: N]``, ``[API code: N]``, ``(Code: N)``, ``Code N:``, ``Error N:``.
CODE_RE = re.compile(r"\[(?:API )?code: (\d+)\]|\(Code: (\d+)\)|\bCode (\d+):|^\s*Error (\d{4,}):", re.MULTILINE)
CODE_END_RE = re.compile(r"(?:\[(?:API )?code: \d+\]|\(Code: \d+\))\s*$")
CODE_ONLY_RE = re.compile(r"^\s*\[(?:API )?code: \d+\]\s*$")
#: esbuild's header ("✘ [ERROR] text"; tests print "X [ERROR]"; a doubled marker is one), found anywhere in a line.
ERROR_MARK_RE = re.compile(r"(?:(?:^|(?<=\s))[✘X×]\s*)?\[ERROR\]\s?")
BARE_ERROR_HEADER_RE = re.compile(r"^\s*ERROR:? (?=[A-Z])")
WARNING_MARK_RE = re.compile(r"(?:[▲⚠]\s*)?\[(?:WARNING|INFO)\]")
#: wrangler 1 (wrangler-legacy): the generic line its API errors started with.
V1_HEADER_RE = re.compile(r"(?:Error: )?Something went wrong with the request to Cloudflare\.*")
#: Headers that only say *that* an API call failed; the notes say what.
GENERIC_HEADER_RE = re.compile(
    r"Cloudflare API|response from the API|request to Cloudflare|^(?:Error on remote worker: )?ParseError\b", re.I
)
API_FAILED_RE = re.compile(r"A request to the Cloudflare API \((/[^)\s]*)\) failed\.?")
API_HEADER_LINE_RE = re.compile(
    r"^\s*(?:A request to the Cloudflare API \(\S*\) failed\.?|Received a (?:bad|malformed) response from the API)\s*$"
)
#: A header that only counts the errors reported after it.
COUNT_SUMMARY_RE = re.compile(r"^(?:Build failed with )?\d+ errors?(?:\(s\))?(?: and \d+ warnings?(?:\(s\))?)?\b[^:]*\.?$")
REQUEST_STATUS_RE = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD) /\S* -> \d{3}\b")
#: A stack frame: "at fn (file:1:2)", "at file:1:2", "at async fn", "at null.<anonymous>", "at X [as y]",
#: wrangler 1's "at line 2" ("at upload" in a person's words is not one).
FRAME_RE = re.compile(r"^\s*at\s+(?:async\s|line\s+\d|\S*(?:<anonymous>|\[as\s)|.*\(|\S+:\d+)")
#: "at throwFetchError" whose "(file:1:2)" was wrapped onto the next line.
WRAPPED_FRAME_RE = re.compile(r"^\s*at\s+[\w$.<>]+\s*$")
FRAME_CONTINUATION_RE = re.compile(r"^\s*\([^()]*\)\s*\{?\s*$")
CODE_FRAME_RE = re.compile(r"^\s*(?:\d+\s*[│|]|╵|[~^]+\s*$|\S+:\d+:\d+:\s*$)")
SEPARATOR_RE = re.compile(r"^[\s\-|=─━]*$")
FENCE_RE = re.compile(r"\s*```[\w-]*\s*")
GLUED_FENCE_RE = re.compile(r"^\s*```[\w-]*(?=\S)|```\s*$")
HTML_TITLE_RE = re.compile(r"<(title|h1)\b[^>]*>([^<]+)</\1>", re.I)
HTML_TAG_RE = re.compile(r"</?[a-zA-Z][\w-]*(?:\s[^<>]*)?>")
TIMESTAMP_RE = re.compile(
    r"\[?(?:\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?|\d\d?:\d\d:\d\d(?:[.,]\d+)?)\]?"
)
TIMESTAMP_ONLY_RE = re.compile(r"^\s*" + TIMESTAMP_RE.pattern + r"\s*$")
TIMESTAMP_PREFIX_RE = re.compile(r"^" + TIMESTAMP_RE.pattern + r"(?:\s+\|\s?|\t|\s)")
#: A run of non-ASCII symbols (not letters) heading a line, with the space after it.
SYMBOL_HEAD_RE = re.compile(r"^(?:[^\w\s\x00-\x7f]|\ufe0f)+(?: {1,2}|\t|$)")
#: A line's head up to its first separator: a candidate prefix column.
HEAD_RE = re.compile(r"^(?P<head>[^\t]{0,80}?(?:\t| \| |\| |: ))")
BORDER_RE = re.compile(r"^\s*[>│┃|](?:\s|$)")
TRAILING_BORDER_RE = re.compile(r"\s+[│┃|]\s*$")
DUMP_NOTES_RE = re.compile(r"\bnotes:\s*\[")
DUMP_TEXT_RE = re.compile(r"""\btext:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")""", re.S)
ERROR_BODY_RE = re.compile(r"\{[^{}]*\}")
BODY_CODE_RE = re.compile(r"""["']?code["']?\s*:\s*(\d+)""")
BODY_MESSAGE_RE = re.compile(r"""["']?message["']?\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")""")
#: Lines that say an error happened (strong) or that something is wrong (weak).
STRONG_RE = re.compile(
    r"^(?:error\b|errors?:|fatal\b|failed\b|failure\b|uncaught\b|panic\b|×|✘|npm err!|npm error\b)"
    r"|\b[A-Z]\w*Error:|\bERR_[A-Z0-9_]{3,}|\bE[A-Z]{3,}:",
    re.I,
)
WEAK_RE = re.compile(
    r"\b(?:error|errors|failed|failure|fatal|exception|invalid|missing|no such|"
    r"not (?:found|defined|installed|supported|allowed|available|configured|specified|permitted|recognized)|"
    r"could not|cannot|can't|unable|denied|forbidden|unauthori[sz]ed|exceeded|too large|timed out|"
    r"refused|requires at least|no longer supported|does not exist|doesn't exist|unexpected)\b",
    re.I,
)
CARET_RE = re.compile(r"^\s*\^+\s*$")
LOCATION_RE = re.compile(r"\S+:\d+(?::\d+)?$")
#: Node's util.inspect of an error: "[Error: EACCES: ...] {" (its fields follow until "}").
INSPECTED_ERROR_RE = re.compile(r"^\[((?:\w+)?Error: .*)\](\s*\{)?\s*$")
#: The runner's own last word on a failed command; only the message when nothing else is there.
TRAILER_RE = re.compile(
    r"\bexit (?:code|status)\b|\bstatus code:? \d{1,2}\b|\bexited with\b"
    r"|while running (?:the )?[\w-]+ command|\baction failed\b",
    re.I,
)
#: Lines of a wrangler block that are boilerplate, not the error.
BOILERPLATE = (
    "If you think this is a bug",
    "https://github.com/cloudflare/workers-sdk/issues/new",
    "https://github.com/cloudflare/wrangler2/issues/new",
    "To learn more about this error, visit:",
    "🪵",
    "More references for you",
    "Note that there is a newer version of Wrangler",
)
NOISE_PREFIXES = ("npm warn", "warn ", "warning", "[warn", "info ", "note:", "hint:", "▲", "⚠")
MAX_TITLE = 80
SHORT_TITLE = 60
MAX_GENERIC_LINES = 5
MAX_CODED_LINES = 20



@dataclass(frozen=True)
class ExtractedError:
    """The error a command printed.

    ``message`` is exact (prefixes and ANSI removed, wrapped notes joined); ``code`` the
    first API error code; ``endpoint`` the API path wrangler named, if any;
    ``source`` says where it came from: ``wrangler`` (an ``[ERROR]`` block or wrangler 1's
    API error), ``output`` (error lines of another command), ``tail`` (the end of stderr),
    ``text`` (a pasted text with nothing error-like: the text itself) or ``exit-code``
    (nothing printed at all).
    """

    message: str
    title: str
    code: int | None = None
    endpoint: str | None = None
    source: str = "wrangler"


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def normalise(text: str) -> str:
    """ANSI removed, CRLF (a pty's) made LF, and a carriage-return-overwritten line kept as the terminal shows it."""
    text = strip_ansi(text).replace("\r\n", "\n")
    if "\r" in text:
        text = "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line else line for line in text.split("\n"))
    return text



# ---------------------------------------------------------------- prefixes


def _template(head: str) -> str:
    return re.sub(r"\d+", "0", head).rstrip(" \t") or head


def _prefix_head(line: str) -> str | None:
    """The candidate prefix of a line (up to and including its first separator), if it may be one."""
    match = TIMESTAMP_PREFIX_RE.match(line)
    if match:
        return match.group(0)
    match = SYMBOL_HEAD_RE.match(line)
    if match:  # a tool's symbol before each line ("⚡️ " of next-on-pages, "▲  " of the Vercel CLI)
        return match.group(0)
    match = HEAD_RE.match(line)
    if not match:
        return None
    head = match.group("head")
    label = head.rstrip().rstrip(":|").strip()
    if head.endswith(": "):
        # "Error: ", "Note: " say something; a runner label carries a path, a task or a package name.
        if not label or not re.search(r"[\d/:_@.#-]", label) or len(label.split()) > 3:
            return None
        if ERROR_MARK_RE.search(head) or "[" in label:
            return None
    return head


@lru_cache(maxsize=8)
def _clean(text: str) -> str:
    """``strip_prefixes(normalise(text))``, kept for the few texts one extraction reads several times."""
    return strip_prefixes(normalise(text))


def strip_prefixes(text: str) -> str:
    """``text`` (normalised) without its per-line prefix column(s), markdown fences and separator rows.

    Prefixes nest (a runner's label before a CI timestamp before a quote), so layers are peeled
    until nothing changes (at most four).
    """
    for _ in range(4):
        stripped = _strip_one_layer(text)
        if stripped == text:
            break
        text = stripped
    return text


def _strip_one_layer(text: str) -> str:
    lines = text.split("\n")
    # A quote or box border carried by every non-blank line ("> ", "│ ").
    nonblank = [ln for ln in lines if ln.strip()]
    while nonblank and all(BORDER_RE.match(ln) for ln in nonblank):
        lines = [BORDER_RE.sub("", ln, count=1) if ln.strip() else ln for ln in lines]
        nonblank = [ln for ln in lines if ln.strip()]
    lines = ["" if TIMESTAMP_ONLY_RE.match(ln) else ln for ln in lines]
    nonblank = [ln for ln in lines if ln.strip()]
    heads = {i: _prefix_head(ln) for i, ln in enumerate(lines) if ln.strip()}
    counts = Counter(_template(h) for h in heads.values() if h)
    total = max(len(nonblank), 1)
    prefixes = {t for t, n in counts.items() if n >= 2 and n * 2 >= total}
    if not prefixes:
        # Several runners interleaved (pnpm -r): templates that together carry most lines.
        shared = {t for t, n in counts.items() if n >= 3 and n * 5 >= total}
        if shared and sum(counts[t] for t in shared) * 3 >= total * 2:
            prefixes = shared
    out: list[str] = []
    for i, line in enumerate(lines):
        head = heads.get(i)
        if head and (_template(head) in prefixes or TIMESTAMP_PREFIX_RE.match(head)):
            # A timestamp heading a line is a log column wherever it occurs.
            line = line[len(head):]
        elif prefixes and any(t.startswith("0") for t in prefixes):
            # A timestamp column: a line whose timestamp is cut short ("14:18:37.338 |" with nothing after it).
            stamp = TIMESTAMP_RE.match(line)
            if stamp and not line[stamp.end():].strip(" |\t"):
                line = ""
        if FENCE_RE.fullmatch(line) or (line.strip() and SEPARATOR_RE.match(line) and re.search(r"[-─=]", line)):
            line = ""
        elif "```" in line:  # a markdown fence glued to the output ("```✘ [ERROR] ...", "... [code: 10021]```")
            line = GLUED_FENCE_RE.sub("", line)
        out.append(line)
    return "\n".join(out)



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
