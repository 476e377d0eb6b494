"""Where each key and value of a wrangler config stands: line and column for every finding.

Split from ``cloudflare/config.py`` (the one loader): ``tomllib`` and a JSON
parser give values but no positions, so the TOML text is walked again by
``TomlLocator`` after ``tomllib`` has accepted it, and JSON/JSONC is parsed by
``JsoncParser``, which records positions as it goes and refuses what would
only crash later (nesting deeper than ``MAX_DEPTH``, numbers longer than
``MAX_NUMBER_CHARS``).
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from typing import Any

from faultbook.errors import InputError

KeyPath = tuple[Any, ...]

#: JSON nesting and number length a config never needs; deeper or longer is refused, not a crash.
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 100


@dataclass(frozen=True)
class Span:
    """1-based line and column of the first character; end is exclusive (column after the last)."""

    line: int
    column: int
    end_line: int
    end_column: int


# --------------------------------------------------------------------------- positions


class _Positions:
    def __init__(self, text: str) -> None:
        self.starts = [0]
        for match in re.finditer("\n", text):
            self.starts.append(match.end())

    def at(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.at(start)
        end_line, end_column = self.at(end)
        return Span(line, column, end_line, end_column)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class TomlLocator:
    """Walks already-validated TOML text and records where each key path is written."""

    def __init__(self, text: str) -> None:
        self.t = text
        self.n = len(text)
        self.i = 0
        self.pos = _Positions(text)
        self.key_spans: dict[KeyPath, Span] = {}
        self.value_spans: dict[KeyPath, Span] = {}
        self.array_counts: dict[KeyPath, int] = {}

    def run(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip_blank(newlines=True)
            if self.i >= self.n:
                return
            start = self.i
            if self.t.startswith("[[", self.i):
                self.i += 2
                keys = self._key()
                self._skip_blank()
                self.i += 2  # ]]
                full = self._resolve(keys[:-1]) + (keys[-1],)
                index = self.array_counts.get(full, 0)
                self.array_counts[full] = index + 1
                table = full + (index,)
                span = self.pos.span(start, self.i)
                self.key_spans.setdefault(full, span)
                self.key_spans[table] = span
            elif self.t[self.i] == "[":
                self.i += 1
                keys = self._key()
                self._skip_blank()
                self.i += 1  # ]
                table = self._resolve(keys)
                self.key_spans.setdefault(table, self.pos.span(start, self.i))
            else:
                keys = self._key()
                self._skip_blank()
                self.i += 1  # =
                self._skip_blank()
                path = table + tuple(keys)
                self._value(path)
                self.key_spans.setdefault(path, self.pos.span(start, self.i))
                # Dotted keys (a.b = 1) also locate their parents at this line.
                for cut in range(1, len(keys)):
                    self.key_spans.setdefault(table + tuple(keys[:cut]), self.pos.span(start, self.i))
            self._skip_to_eol()

    def _resolve(self, keys: list[str]) -> KeyPath:
        path: KeyPath = ()
        for key in keys:
            path += (key,)
            if path in self.array_counts:
                path += (self.array_counts[path] - 1,)
        return path

    def _skip_blank(self, *, newlines: bool = False) -> None:
        while self.i < self.n:
            c = self.t[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#":
                while self.i < self.n and self.t[self.i] != "\n":
                    self.i += 1
            else:
                return

    def _skip_to_eol(self) -> None:
        while self.i < self.n and self.t[self.i] != "\n":
            self.i += 1

    def _key(self) -> list[str]:
        keys = []
        while True:
            self._skip_blank()
            c = self.t[self.i]
            if c == '"':
                end = self._basic_string_end(self.i)
                keys.append(_toml_basic_string(self.t[self.i + 1:end - 1]))
                self.i = end
            elif c == "'":
                end = self.t.index("'", self.i + 1) + 1
                keys.append(self.t[self.i + 1:end - 1])
                self.i = end
            else:
                match = _BARE_KEY.match(self.t, self.i)
                keys.append(match.group(0))
                self.i = match.end()
            self._skip_blank()
            if self.i < self.n and self.t[self.i] == ".":
                self.i += 1
                continue
            return keys

    def _basic_string_end(self, start: int) -> int:
        j = start + 1
        while self.t[j] != '"':
            j += 2 if self.t[j] == "\\" else 1
        return j + 1

    def _value(self, path: KeyPath) -> None:
        start = self.i
        t = self.t
        if t.startswith('"""', self.i) or t.startswith("'''", self.i):
            quote = t[self.i:self.i + 3]
            j = self.i + 3
            while True:
                if quote == '"""' and t[j] == "\\":
                    j += 2
                    continue
                if t.startswith(quote, j):
                    j += 3
                    while j < self.n and t[j] == quote[0]:
                        j += 1
                    break
                j += 1
            self.i = j
        elif t[self.i] == '"':
            self.i = self._basic_string_end(self.i)
        elif t[self.i] == "'":
            self.i = t.index("'", self.i + 1) + 1
        elif t[self.i] == "[":
            self.i += 1
            index = 0
            while True:
                self._skip_blank(newlines=True)
                if t[self.i] == "]":
                    self.i += 1
                    break
                self._value(path + (index,))
                index += 1
                self._skip_blank(newlines=True)
                if t[self.i] == ",":
                    self.i += 1
        elif t[self.i] == "{":
            self.i += 1
            while True:
                self._skip_blank()
                if t[self.i] == "}":
                    self.i += 1
                    break
                key_start = self.i
                keys = self._key()
                self.i += 1  # =
                self._skip_blank()
                self._value(path + tuple(keys))
                self.key_spans.setdefault(path + tuple(keys), self.pos.span(key_start, self.i))
                self._skip_blank()
                if t[self.i] == ",":
                    self.i += 1
        else:
            j = self.i
            while j < self.n and t[j] not in ",]}\n#":
                j += 1
            while j > self.i and t[j - 1] in " \t\r":
                j -= 1
            self.i = j
        self.value_spans[path] = self.pos.span(start, self.i)


_TOML_ESCAPE = re.compile(r'\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))', re.S)
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}


def _toml_basic_string(body: str) -> str:
    """The value of a TOML basic string's body (``\\uXXXX`` and ``\\UXXXXXXXX`` included)."""
    def one(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        if code:
            point = int(code, 16)
            return chr(point) if point <= 0x10FFFF else "\ufffd"
        return _SIMPLE_ESCAPES.get(match.group(3), match.group(3))

    return _TOML_ESCAPE.sub(one, body)


# --------------------------------------------------------------------------- JSON / JSONC


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


class JsoncParser:
    """JSON with // and /* */ comments and trailing commas (what wrangler's jsonc-parser accepts)."""

    def __init__(self, text: str, filename: str) -> None:
        self.t = text
        self.n = len(text)
        self.i = 0
        self.filename = filename
        self.pos = _Positions(text)
        self.key_spans: dict[KeyPath, Span] = {}
        self.value_spans: dict[KeyPath, Span] = {}

    def error(self, message: str, offset: int | None = None) -> InputError:
        line, column = self.pos.at(self.i if offset is None else offset)
        return InputError(f"JSON parse error: {message}", path=self.filename, line=line, column=column)

    def parse(self) -> Any:
        if self.t.startswith("\ufeff"):
            self.i = 1
        self._blank()
        if self.i >= self.n:
            raise self.error("the file is empty")
        value = self._value(())
        self._blank()
        if self.i < self.n:
            raise self.error(f"unexpected {self.t[self.i]!r} after the end of the document")
        return value

    def _blank(self) -> None:
        t = self.t
        while self.i < self.n:
            c = t[self.i]
            if c in " \t\r\n":
                self.i += 1
            elif t.startswith("//", self.i):
                end = t.find("\n", self.i)
                self.i = self.n if end < 0 else end
            elif t.startswith("/*", self.i):
                end = t.find("*/", self.i + 2)
                if end < 0:
                    raise self.error("unterminated /* comment")
                self.i = end + 2
            else:
                return

    def _value(self, path: KeyPath) -> Any:
        start = self.i
        if self.i >= self.n:
            raise self.error("unexpected end of file")
        c = self.t[self.i]
        if c == "{":
            value = self._object(path)
        elif c == "[":
            value = self._array(path)
        elif c == '"':
            value = self._string()
        elif self.t.startswith("true", self.i):
            value, self.i = True, self.i + 4
        elif self.t.startswith("false", self.i):
            value, self.i = False, self.i + 5
        elif self.t.startswith("null", self.i):
            value, self.i = None, self.i + 4
        else:
            match = _NUMBER.match(self.t, self.i)
            if not match:
                raise self.error(f"unexpected {c!r}: expected a value")
            text = match.group(0)
            if len(text) > MAX_NUMBER_CHARS:
                raise self.error(f"a number of {len(text):,} characters (at most {MAX_NUMBER_CHARS})")
            value = int(text) if re.fullmatch(r"-?\d+", text) else float(text)
            self.i = match.end()
        self.value_spans[path] = self.pos.span(start, self.i)
        return value

    def _string(self) -> str:
        match = _STRING.match(self.t, self.i)
        if not match:
            raise self.error("unterminated string")
        try:
            value = json.loads(match.group(0))
        except json.JSONDecodeError:
            raise self.error("invalid escape in string") from None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # "\ud800": an escape of half a character
            raise self.error("a \\u escape of a lone surrogate is not text") from None
        self.i = match.end()
        return value

    def _object(self, path: KeyPath) -> dict[str, Any]:
        if len(path) >= MAX_DEPTH:
            raise self.error(f"nested deeper than {MAX_DEPTH} levels")
        self.i += 1
        result: dict[str, Any] = {}
        while True:
            self._blank()
            if self.i < self.n and self.t[self.i] == "}":
                self.i += 1
                return result
            if self.i >= self.n or self.t[self.i] != '"':
                raise self.error("expected a property name in double quotes or '}'")
            key_start = self.i
            key = self._string()
            self._blank()
            if self.i >= self.n or self.t[self.i] != ":":
                raise self.error("expected ':' after the property name")
            self.i += 1
            self._blank()
            result[key] = self._value(path + (key,))
            self.key_spans[path + (key,)] = self.pos.span(key_start, self.i)
            self._blank()
            if self.i < self.n and self.t[self.i] == ",":
                self.i += 1
            elif self.i < self.n and self.t[self.i] == "}":
                continue
            else:
                raise self.error("expected ',' or '}' after a property")

    def _array(self, path: KeyPath) -> list[Any]:
        if len(path) >= MAX_DEPTH:
            raise self.error(f"nested deeper than {MAX_DEPTH} levels")
        self.i += 1
        result: list[Any] = []
        while True:
            self._blank()
            if self.i < self.n and self.t[self.i] == "]":
                self.i += 1
                return result
            result.append(self._value(path + (len(result),)))
            self._blank()
            if self.i < self.n and self.t[self.i] == ",":
                self.i += 1
            elif self.i < self.n and self.t[self.i] == "]":
                continue
            else:
                raise self.error("expected ',' or ']' after an array element")
