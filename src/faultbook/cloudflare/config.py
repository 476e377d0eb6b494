"""Find and load a wrangler config (wrangler.json, .jsonc or .toml) with source positions.

This is the one wrangler-config loader: ``faultbook check`` and rollback / the support bundle
(``cloudflare/project.py``) both read configs through it, find them the way wrangler does
(``find_config``) and name the deployed Worker with one copy of wrangler's ``<name>-<env>``
rule (``worker_name``).

Why this exists: every finding of ``faultbook check`` must point at a file, line
and column, and the parsers we could use (tomlkit, json5) give values but no
positions.  So parsing happens twice, cheaply: a real parser validates the file
and produces the data (the standard library's tomllib for TOML: on the corpus 2x faster to
import and 10x faster to parse than tomlkit, used before; for JSON/JSONC our own small parser,
which is also the validator, because wrangler's JSONC is JSON plus comments and
trailing commas — not JSON5), and a *locator* walks the same text and maps every
key path — ``("r2_buckets", 1, "bucket_name")``, ``("unsafe", "bindings", 0,
"type")`` — to the span of its ``key = value`` and of its value.

A file that does not parse becomes one ``InputError(path, line, column)``.
Nothing here imports heavy libraries.

What wrangler accepts and so must we: a UTF-8 byte order mark (its readFileSync + parser
skip it), any TOML 1.0 escape in a quoted key (``"\\U0001F600"``).  What we refuse that wrangler
would read: a config larger than ``MAX_CONFIG_BYTES`` (5 MB; real configs are 1-20 KB, and a
50 MB one cost tomlkit minutes and gigabytes), with a clear message and exit 2.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from faultbook.errors import InputError

#: wrangler's own lookup order (each name is searched for up the parent folders before the next).
CONFIG_NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")

#: Larger files are refused before parsing (exit 2): no real wrangler config comes near this.
MAX_CONFIG_BYTES = 5 * 1024 * 1024

_BOM = "\ufeff"

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
    def lossy(self) -> bool:
        """The file had bytes that are not UTF-8 (read as U+FFFD, as wrangler does)."""
        return "\ufffd" in self.text

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def is_pages(self) -> bool:
        """A Pages project's config (``wrangler pages deploy``), not a Worker's."""
        return "pages_build_output_dir" in self.data

    def worker_name(self, env: str | None = None) -> str | None:
        return worker_name(self.data, env)

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


def search_config(folder: Path) -> Path | None:
    """wrangler's lookup (findWranglerConfig): ``wrangler.json`` in this folder or any parent, else
    ``wrangler.jsonc`` likewise, else ``wrangler.toml``.  None when there is none."""
    folder = Path(folder)
    chain = (folder, *folder.resolve().parents)  # the folder as given keeps paths relative in reports
    for name in CONFIG_NAMES:
        for candidate_dir in chain:
            candidate = candidate_dir / name
            if candidate.is_file():
                return candidate
    return None


#: Where a framework build (e.g. the Cloudflare Vite plugin) leaves a pointer to the config it generated.
DEPLOY_REDIRECT = Path(".wrangler") / "deploy" / "config.json"


def _find_up(folder: Path, relative: Path) -> Path | None:
    for candidate_dir in (folder, *folder.resolve().parents):
        if (candidate_dir / relative).is_file():
            return candidate_dir / relative
    return None


def redirected_config(folder: Path, user_config: Path | None) -> Path | None:
    """The config ``wrangler deploy`` would use instead of ``user_config``, when a build left a
    ``.wrangler/deploy/config.json`` (wrangler's findRedirectedWranglerConfig); None without one."""
    pointer = _find_up(Path(folder), DEPLOY_REDIRECT)
    if pointer is None:
        return None
    parser = _JsoncParser(_read_text(pointer), str(pointer))
    data = parser.parse()
    target = data.get("configPath") if isinstance(data, dict) else None
    if not isinstance(target, str) or not target:
        raise InputError('a deploy configuration file was found, but it has no "configPath"', path=str(pointer))
    resolved = pointer.parent / target
    if not resolved.is_file():
        raise InputError(f'the deploy configuration points to "{target}", which does not exist', path=str(pointer))
    if user_config is not None and (user_config.parent / DEPLOY_REDIRECT).resolve() != pointer.resolve():
        raise InputError(
            f"found both {user_config} and a deploy configuration that do not share the same base folder: "
            "wrangler would not know which to use", path=str(pointer),
        )
    return resolved


def find_config(path: Path, config: str | Path | None = None) -> Path:
    """The file wrangler deploy would use: ``config`` (its ``-c/--config``, relative to the current
    folder) when given, ``path`` itself when it is a file, else the redirect a framework build left
    (``.wrangler/deploy/config.json``), else ``search_config(path)``."""
    if config is not None:
        chosen = Path(config)
        if not chosen.is_file():
            raise InputError("the config file given with --config does not exist", path=str(chosen))
        return chosen
    path = Path(path)
    if path.is_file():
        return path
    if not path.exists():
        raise InputError("no such file or directory", path=str(path))
    found = search_config(path)
    redirected = redirected_config(path, found)
    if redirected is not None:
        return redirected
    if found is None:
        raise InputError(
            f"no wrangler config found in this folder or its parents (looked for {', '.join(CONFIG_NAMES)})",
            path=str(path),
        )
    return found


def _read_text(file: Path) -> str:
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(file)) from None
    if size > MAX_CONFIG_BYTES:
        raise InputError(
            f"the file is {size / 1024 / 1024:.1f} MB; faultbook reads wrangler configs of at most "
            f"{MAX_CONFIG_BYTES // 1024 // 1024} MB (real ones are a few KB)",
            path=str(file),
        )
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(file)) from None
    # wrangler reads its config as UTF-8 with replacement characters (Node's readFileSync(.., "utf-8")),
    # so a stray Latin-1 byte in a comment does not stop it, and must not stop us.  --fix refuses
    # such a file (``lossy``): writing it back would change those bytes.
    return raw.decode("utf-8", errors="replace")


def load_config(path: Path, config: str | Path | None = None) -> WranglerConfig:
    """Load the config wrangler would use for ``path`` (a config file or a folder; ``config`` as
    with ``--config``); raises InputError when it cannot be read or does not parse."""
    file = find_config(Path(path), config)
    text = _read_text(file)
    if file.suffix == ".toml":
        return _load_toml(file, text)
    fmt = "jsonc" if file.suffix == ".jsonc" else "json"
    parser = _JsoncParser(text, str(file))
    try:
        data = parser.parse()
    except RecursionError:
        raise InputError("JSON parse error: nested too deeply", path=str(file), line=1, column=1) from None
    if not isinstance(data, dict):
        # Valid JSON that is not an object (`[]`, `"x"`): wrangler reads it as a config with no
        # fields and refuses it for what is missing, so the rules report that (exit 1), not exit 2.
        data = {}
    return WranglerConfig(
        path=file, format=fmt, text=text, data=data,
        key_spans=parser.key_spans, value_spans=parser.value_spans,
    )


def load_located_toml(path: Path) -> WranglerConfig:
    """Any TOML file (e.g. faultbook.toml) parsed with the same positions as a wrangler.toml."""
    file = Path(path)
    return _load_toml(file, _read_text(file))


def worker_name(data: Mapping[str, Any], env: str | None = None) -> str | None:
    """The Worker a deploy of ``env`` creates (wrangler's rule): the env's own ``name``, else
    ``<top-level name>-<env>``; the top-level ``name`` without an env.  None when there is none."""
    name = data.get("name")
    if env:
        envs = data.get("env")
        section = envs.get(env) if isinstance(envs, Mapping) else None
        if isinstance(section, Mapping) and isinstance(section.get("name"), str) and section["name"]:
            return section["name"]
        return f"{name}-{env}" if isinstance(name, str) and name else None
    return name if isinstance(name, str) and name else None


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
    import tomllib

    # A BOM becomes a space: TOML allows leading whitespace, and every position stays where it was.
    source = " " + text[1:] if text.startswith(_BOM) else text
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)|\(at end of document\)", message)
        reason = message[: where.start()].strip() if where else message
        if where and where.group(1):
            line, column = int(where.group(1)), int(where.group(2))
        else:
            line = source.count("\n") + 1
            column = len(source.rsplit("\n", 1)[-1]) + 1
        raise InputError(f"TOML parse error: {reason}", path=str(file), line=line, column=column) from None
    except RecursionError:
        raise InputError("TOML parse error: nested too deeply", path=str(file), line=1, column=1) from None
    if not isinstance(data, dict):
        raise InputError("the top level must be a table", path=str(file), line=1, column=1)
    locator = _TomlLocator(source)
    try:
        locator.run()
    except (IndexError, ValueError, AttributeError, RecursionError):
        # The text already parsed, so this is a gap in the locator: findings then point at the
        # nearest key it did locate (or line 1) rather than crash.
        pass
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
        self.i = match.end()
        return value

    def _object(self, path: KeyPath) -> dict[str, Any]:
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
