"""Find and load a wrangler config (wrangler.json, .jsonc or .toml) with source positions.

Why this exists: every finding of ``faultbook check`` must point at a file, line
and column, and the parsers we could use (tomlkit, json5) give values but no
positions.  So parsing happens twice, cheaply: a real parser validates the file
and produces the data (tomlkit for TOML; for JSON/JSONC our own small parser,
which is also the validator, because wrangler's JSONC is JSON plus comments and
trailing commas — not JSON5), and a *locator* walks the same text and maps every
key path — ``("r2_buckets", 1, "bucket_name")``, ``("unsafe", "bindings", 0,
"type")`` — to the span of its ``key = value`` and of its value.

A file that does not parse becomes one ``InputError(path, line, column)``.
Nothing here imports heavy libraries: tomlkit is imported only for TOML files.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from faultbook.errors import InputError

#: wrangler's own lookup order in a directory.
CONFIG_NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")

KeyPath = tuple[Any, ...]


@dataclass(frozen=True)
class Span:
    """1-based line and column of the first character; end is exclusive (column after the last)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class WranglerConfig:
    path: Path
    format: str  # "toml" | "json" | "jsonc"
    text: str
    data: dict[str, Any]
    #: Span of ``key = value`` (TOML), ``"key": value`` (JSON) or a ``[table]`` header.
    key_spans: Mapping[KeyPath, Span] = field(default_factory=dict, repr=False)
    #: Span of the value alone (strings include their quotes).
    value_spans: Mapping[KeyPath, Span] = field(default_factory=dict, repr=False)

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def comment_prefix(self) -> str:
        return "#" if self.format == "toml" else "//"

    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line_text(self, line: int) -> str:
        lines = self.lines()
        return lines[line - 1] if 1 <= line <= len(lines) else ""

    def has(self, key_path: KeyPath) -> bool:
        return tuple(key_path) in self.key_spans or tuple(key_path) in self.value_spans

    def value_span(self, key_path: KeyPath) -> Span | None:
        return self.value_spans.get(tuple(key_path))

    def locate(self, key_path: KeyPath) -> Span:
        """The span of ``key_path``, or of its nearest located ancestor; (1, 1) for an empty file."""
        path = tuple(key_path)
        while True:
            if path in self.key_spans:
                return self.key_spans[path]
            if path in self.value_spans:
                return self.value_spans[path]
            if not path:
                return Span(1, 1, 1, 1)
            path = path[:-1]


def find_config(path: Path) -> Path:
    """The config file for ``path``: the file itself, or the first of wrangler's names in the folder."""
    if path.is_file():
        return path
    if not path.exists():
        raise InputError("no such file or directory", path=str(path))
    for name in CONFIG_NAMES:
        candidate = path / name
        if candidate.is_file():
            return candidate
    raise InputError(
        f"no wrangler config found (looked for {', '.join(CONFIG_NAMES)})", path=str(path)
    )


#: JSON nesting and number length a config never needs; deeper or longer is refused, not a crash.
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 100
#: A wrangler config or faultbook.toml larger than this is not one (the largest real ones are a few KB).
MAX_CONFIG_BYTES = 1024 * 1024


def load_config(path: Path) -> WranglerConfig:
    """Load ``path`` (a config file or a folder holding one); raises InputError when it does not parse."""
    file = find_config(Path(path))
    return parse_config(file, _read_text(file))


def parse_config(file: Path, text: str) -> WranglerConfig:
    """``text`` parsed as the wrangler config ``file`` (its suffix says the format); nothing is read."""
    if file.suffix == ".toml":
        return _load_toml(file, text)
    fmt = "jsonc" if file.suffix == ".jsonc" else "json"
    parser = _JsoncParser(text, str(file))
    data = parser.parse()
    if not isinstance(data, dict):
        raise InputError("the top level must be an object", path=str(file), line=1, column=1)
    return WranglerConfig(
        path=file, format=fmt, text=text, data=data,
        key_spans=parser.key_spans, value_spans=parser.value_spans,
    )


def load_located_toml(path: Path) -> WranglerConfig:
    """Any TOML file (e.g. faultbook.toml) parsed with the same positions as a wrangler.toml."""
    file = Path(path)
    return _load_toml(file, _read_text(file))


def _read_text(file: Path) -> str:
    """The file as text with universal newlines, at most ``MAX_CONFIG_BYTES`` (``/dev/zero`` stops there)."""
    from faultbook.files import read_capped

    data = read_capped(file, limit=MAX_CONFIG_BYTES, what="a config file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=str(file)) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


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


# --------------------------------------------------------------------------- TOML


def _load_toml(file: Path, text: str) -> WranglerConfig:
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        document = tomlkit.parse(text)
    except ParseError as exc:
        reason = str(exc).split(" at line ")[0]
        raise InputError(f"TOML parse error: {reason}", path=str(file), line=exc.line, column=exc.col) from None
    data = document.unwrap()
    locator = _TomlLocator(text)
    locator.run()
    return WranglerConfig(
        path=file, format="toml", text=text, data=data,
        key_spans=locator.key_spans, value_spans=locator.value_spans,
    )


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class _TomlLocator:
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
                keys.append(json.loads(self.t[self.i:end]))
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


# --------------------------------------------------------------------------- JSON / JSONC


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


class _JsoncParser:
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
