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

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from faultbook.cloudflare.locate import JsoncParser, Span, TomlLocator
from faultbook.errors import InputError

#: wrangler's own lookup order (each name is searched for up the parent folders before the next).
CONFIG_NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")

#: Larger files are refused before parsing (exit 2): no real wrangler config comes near this.
MAX_CONFIG_BYTES = 5 * 1024 * 1024

_BOM = "\ufeff"

KeyPath = tuple[Any, ...]


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
    parser = JsoncParser(_read_text(pointer), str(pointer))
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
    """At most ``MAX_CONFIG_BYTES`` of the file (``/dev/zero`` stops there), decoded as wrangler decodes it."""
    from faultbook.files import read_capped

    raw = read_capped(file, limit=MAX_CONFIG_BYTES, what="a wrangler config")
    # wrangler reads its config as UTF-8 with replacement characters (Node's readFileSync(.., "utf-8")),
    # so a stray Latin-1 byte in a comment does not stop it, and must not stop us.  --fix refuses
    # such a file (``lossy``): writing it back would change those bytes.
    return raw.decode("utf-8", errors="replace")


def load_config(path: Path, config: str | Path | None = None) -> WranglerConfig:
    """Load the config wrangler would use for ``path`` (a config file or a folder; ``config`` as
    with ``--config``); raises InputError when it cannot be read or does not parse."""
    file = find_config(Path(path), config)
    return parse_config(file, _read_text(file))


def parse_config(file: Path, text: str) -> WranglerConfig:
    """``text`` parsed as the wrangler config ``file`` (its suffix says the format); nothing is read."""
    if file.suffix == ".toml":
        return _load_toml(file, text)
    fmt = "jsonc" if file.suffix == ".jsonc" else "json"
    parser = JsoncParser(text, str(file))
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
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits (Python's conversion limit)
        raise InputError(f"TOML parse error: {exc}", path=str(file), line=1, column=1) from None
    if not isinstance(data, dict):
        raise InputError("the top level must be a table", path=str(file), line=1, column=1)
    locator = TomlLocator(source)
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
