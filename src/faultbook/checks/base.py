"""The vocabulary of ``faultbook check``: rules, findings, fixes, the context a rule reads, the report.

A rule is metadata plus a pure function (sqlfluff/checkov style): it receives a
``Context`` — the loaded wrangler config, the environments to look at, "today",
and for online rules an API handle — and yields ``Finding`` values.  It never
prints, never writes files, never reads ``os.environ``.  Its docstring is its
documentation (first line = summary, then *Why*, *Bad*, *Good*, *Fix* sections)
and ``faultbook rules ID`` shows it; a test checks every rule has them.

Rule IDs are public API: once published an ID is never reused for another meaning.
Registration is explicit (``registry.py``), not an import side effect; the
``__init_subclass__`` hook only validates the declaration.
"""

from __future__ import annotations

import enum
import inspect
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Iterable, Iterator

from faultbook.cloudflare.config import KeyPath, Span, WranglerConfig, worker_name


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True)
class TextEdit:
    """Replace the text between two 1-based (line, column) positions (end exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int
    new_text: str


@dataclass(frozen=True)
class Fix:
    """A proposed repair.  ``edits`` change the config file; ``action`` is a remote operation
    (e.g. ``("create_r2_bucket", {"name": ..., "jurisdiction": ...})``) run only with --create-missing."""

    description: str
    edits: tuple[TextEdit, ...] = ()
    action: tuple[str, tuple[tuple[str, Any], ...]] | None = None

    @property
    def action_args(self) -> dict[str, Any]:
        return dict(self.action[1]) if self.action else {}


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    summary: str
    detail: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: Fix | None = None
    env: str | None = None
    rule_name: str = ""

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (self.path, self.line, self.column, self.rule_id, self.summary)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "name": self.rule_name,
            "severity": self.severity.value,
            "summary": self.summary,
            "detail": self.detail,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "env": self.env,
            "fix": self.fix.description if self.fix else None,
        }


# --------------------------------------------------------------------------- scopes

#: Keys an [env.X] inherits from the top level when it does not set them (wrangler's `inheritable`).
INHERITED_KEYS = frozenset({
    "name", "account_id", "compatibility_date", "compatibility_flags", "main", "route", "routes",
    "workers_dev", "preview_urls", "triggers", "limits", "rules", "build", "minify", "placement",
    "assets", "observability", "migrations", "no_bundle", "node_compat", "base_dir",
    "find_additional_modules", "preserve_file_names", "jsx_factory", "jsx_fragment", "tsconfig",
    "upload_source_maps", "keep_vars", "logpush", "usage_model", "first_party_worker", "zone_id",
})

#: Keys an [env.X] does NOT inherit (wrangler's `notInheritable`): each env must repeat them.
NOT_INHERITED_KEYS = (
    "vars", "define", "durable_objects", "workflows", "kv_namespaces", "send_email", "queues",
    "r2_buckets", "d1_databases", "vectorize", "hyperdrive", "services", "analytics_engine_datasets",
    "dispatch_namespaces", "mtls_certificates", "tail_consumers", "unsafe", "browser", "ai", "images",
    "stream", "media", "pipelines", "secrets_store_secrets", "ratelimits", "version_metadata",
    "worker_loaders",
)


@dataclass(frozen=True)
class Scope:
    """The top level (``env`` None) or one ``[env.X]``, with wrangler's inheritance applied on read."""

    env: str | None
    prefix: KeyPath
    raw: dict[str, Any]
    top: dict[str, Any]

    def get(self, key: str) -> tuple[Any, KeyPath]:
        """The value this scope deploys with, and the key path where it is written (None if absent)."""
        if key in self.raw:
            return self.raw[key], self.prefix + (key,)
        if self.env is not None and key in INHERITED_KEYS and key in self.top:
            return self.top[key], (key,)
        return None, self.prefix + (key,)

    @property
    def label(self) -> str:
        return "top level" if self.env is None else f'env "{self.env}"'

    def worker_name(self) -> tuple[str | None, KeyPath]:
        """wrangler's naming (``cloudflare.config.worker_name``) and where the name is written."""
        if self.env is not None and "name" in self.raw:
            return self.raw["name"], self.prefix + ("name",)
        if not isinstance(self.top.get("name"), str):
            return None, ("name",)
        return worker_name(self.top, self.env), ("name",)


@dataclass
class Context:
    """What a rule may read.  ``online`` is an ``OnlineContext`` only when the API is reachable."""

    config: WranglerConfig
    env: str | None = None
    today: date = field(default_factory=date.today)
    online: Any = None
    network: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    #: ``faultbook.netprobe.targets.NetworkSettings`` from faultbook.toml (network rules only).
    network_settings: Any = None
    #: Per-run memo for online lookups (one API call per resource, however many envs use it).
    cache: dict[Any, Any] = field(default_factory=dict)
    #: What a rule wants the user told about how it checked (e.g. which schema FB301 used).
    notes: list[str] = field(default_factory=list)

    @property
    def data(self) -> dict[str, Any]:
        return self.config.data

    @property
    def directory(self) -> Path:
        return self.config.directory

    def envs(self) -> list[str]:
        table = self.data.get("env")
        return [name for name, value in table.items() if isinstance(value, dict)] if isinstance(table, dict) else []

    def scopes(self) -> Iterator[Scope]:
        """Every environment wrangler could deploy (all of them unless one was selected)."""
        top = self.data
        if self.env is None:
            yield Scope(None, (), top, top)
            for name in self.envs():
                yield Scope(name, ("env", name), top["env"][name], top)
        else:
            yield Scope(self.env, ("env", self.env), top.get("env", {}).get(self.env, {}), top)


# --------------------------------------------------------------------------- rules

_ID = re.compile(r"^FB\d{3}$")
_SECTIONS = ("Why", "Bad", "Good", "Fix")


class Rule:
    """Base class: subclasses declare ``id``, ``name``, ``severity`` and implement ``check``."""

    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    #: Needs the Cloudflare API (skipped with --offline) / the network (DNS, TLS, HTTP).
    online: ClassVar[bool] = False
    network: ClassVar[bool] = False
    #: Former IDs of this rule (renamed rules keep answering to them).
    aliases: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls) or cls.__dict__.get("abstract", False):
            return
        if not _ID.match(getattr(cls, "id", "")):
            raise TypeError(f"{cls.__name__}: rule id must look like FB101, got {getattr(cls, 'id', None)!r}")
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", getattr(cls, "name", "")):
            raise TypeError(f"{cls.__name__}: rule name must be a lowercase slug")
        if not isinstance(getattr(cls, "severity", None), Severity):
            raise TypeError(f"{cls.__name__}: severity must be a Severity")

    @classmethod
    def summary(cls) -> str:
        return (inspect.getdoc(cls) or "").strip().splitlines()[0] if cls.__doc__ else ""

    @classmethod
    def explanation(cls) -> str:
        return inspect.getdoc(cls) or ""

    @classmethod
    def documented_sections(cls) -> set[str]:
        text = cls.explanation()
        return {name for name in _SECTIONS if re.search(rf"^\*{name}\*", text, re.M)}

    def check(self, ctx: Context) -> Iterable[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    def applies(self, ctx: Context) -> bool:
        """False when there is nothing for this rule to look at: it then does not count as run
        (so the checklist says "not checked" instead of a silent pass)."""
        return True

    # Helpers for subclasses ------------------------------------------------------------
    def finding(
        self,
        ctx: Context,
        key_path: KeyPath,
        summary: str,
        *,
        detail: str = "",
        fix: Fix | None = None,
        env: str | None = None,
        value: bool = False,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding located at ``key_path`` (its value's span when ``value``)."""
        span: Span | None = ctx.config.value_span(key_path) if value else None
        if span is None:
            span = ctx.config.locate(key_path)
            if span == Span(1, 1, 1, 1) and key_path and key_path[0] == "env":
                span = _first_span_under(ctx.config, tuple(key_path[:2])) or span
        return Finding(
            rule_id=self.id,
            severity=severity or self.severity,
            summary=summary,
            detail=detail or self.summary(),
            path=str(ctx.config.path),
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
            fix=fix,
            env=env,
            rule_name=self.name,
        )


def _first_span_under(config: WranglerConfig, prefix: KeyPath) -> Span | None:
    spans = [s for k, s in config.key_spans.items() if tuple(k[: len(prefix)]) == prefix]
    return min(spans, key=lambda s: (s.line, s.column)) if spans else None


@dataclass(frozen=True)
class Report:
    """One run's result: feeds every output format."""

    findings: tuple[Finding, ...]
    files: tuple[str, ...]
    suppressed: tuple[Finding, ...] = ()
    rules_run: tuple[str, ...] = ()
    env: str | None = None
    online: bool = False
    #: How the check was done: which config file, which schema (shown on stderr / in JSON).
    notes: tuple[str, ...] = ()

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def error_count(self) -> int:
        return self.count(Severity.ERROR)

    @property
    def warning_count(self) -> int:
        return self.count(Severity.WARNING)

    @property
    def info_count(self) -> int:
        return self.count(Severity.INFO)

    def at_or_above(self, threshold: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity.rank >= threshold.rank]
