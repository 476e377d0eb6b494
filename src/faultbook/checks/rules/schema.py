"""The config against wrangler's own JSON Schema: the project's wrangler if installed, else the one we ship.

wrangler publishes ``config-schema.json`` (structure only: key names and types).  Which copy:
the project's own ``node_modules/wrangler/config-schema.json`` (looked up from the config's
folder through its parents, as Node resolves a package), so the check matches the wrangler that
deploys; without one, the schema of wrangler 4.86.0 that faultbook ships as package data.  The
report names the copy used (``Context.notes``).

Severity follows what wrangler does, not what the schema says:

* a removed key (`node_compat`): wrangler refuses the config, so an error.
* any other unknown key: wrangler only warns (`Unexpected fields found in top-level field: "usage_model"`)
  and deploys, and deprecated keys (`type`, `usage_model`, `webpack_config`, legacy
  `containers.instances`) are ignored the same way.  So: a warning when the schema is the
  project's own wrangler's (it says the same), a note when it is our shipped copy, because the
  key may simply be newer than 4.86.0 (`ai.gateway`, `cache` were, once).
* a wrong type (a string where wrangler wants a table, a number for a string): wrangler refuses
  (`Expected "main" to be of type string but got 42.`), so an error — except inside
  ``anyOf``/``oneOf`` alternatives and ``enum`` values, where the schema is stricter than
  wrangler's validation (which normalises routes, accepts legacy forms): a warning.

The schema uses a small part of JSON Schema (type, properties, required, additionalProperties,
items, $ref, anyOf, enum, const), so a 60-line validator here does the job: importing jsonschema
(with referencing, rpds, attrs) cost ~50 ms and ~8 MB per run, more than the whole rest of an
offline check, whose budget is a tenth of a `wrangler deploy --dry-run`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

from faultbook.checks.base import Context, Finding, Rule, Severity

SHIPPED_VERSION = "4.86.0"
SHIPPED_SCHEMA = Path(__file__).resolve().parents[1] / "data" / f"wrangler-config-schema-{SHIPPED_VERSION}.json"


def _plain(value: Any) -> Any:
    """TOML dates/times become strings, as wrangler's TOML parser would hand them to the schema."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    return value


def project_schema(directory: Path) -> tuple[Path, str | None] | None:
    """The project's installed wrangler schema and version (Node's lookup: this folder, then parents)."""
    for folder in (directory, *directory.parents):
        candidate = folder / "node_modules" / "wrangler" / "config-schema.json"
        if candidate.is_file():
            try:
                version = json.loads((candidate.parent / "package.json").read_text(encoding="utf-8")).get("version")
            except (OSError, ValueError, AttributeError):
                version = None
            return candidate, version if isinstance(version, str) else None
    return None


#: Keys wrangler 4.86.0 refuses outright (its ``deprecated(..., "Removed", "error")``), anywhere a
#: top-level or ``[env.X]`` key may stand; every other unknown key it only warns about.
REMOVED = {
    "node_compat": 'The "node_compat" field is no longer supported as of Wrangler v4. Instead, use the '
                   "`nodejs_compat` compatibility flag.",
}


def _is_scope(path: tuple) -> bool:
    return path == () or (len(path) == 2 and path[0] == "env")


def _is_binding(path: tuple) -> bool:
    from faultbook.checks.bindings import KINDS

    if len(path) >= 2 and path[0] == "env":
        path = path[2:]
    keys = tuple(p for p in path if not isinstance(p, int))
    return any(kind.key == keys for kind in KINDS)


@dataclass
class SchemaError:
    """One mismatch, shaped like jsonschema's ValidationError (the fields this rule reads)."""

    validator: str
    message: str
    absolute_path: tuple
    instance: Any
    schema: dict
    context: list["SchemaError"] = field(default_factory=list)


_TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


class _Validator:
    """Validates against the JSON Schema subset wrangler's config-schema.json uses (draft-07)."""

    def __init__(self, schema: dict) -> None:
        self.root = schema

    def _resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            node: Any = self.root
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def iter_errors(self, instance: Any, schema: dict | None = None, path: tuple = ()) -> Iterator[SchemaError]:
        schema = self._resolve(self.root if schema is None else schema)
        if not isinstance(schema, dict):
            return
        expected = schema.get("type")
        if expected is not None:
            names = expected if isinstance(expected, list) else [expected]
            if not any(_TYPES.get(name, lambda v: True)(instance) for name in names):
                shown = names[0] if len(names) == 1 else names
                yield SchemaError("type", f"{instance!r} is not of type {shown!r}", path, instance, schema)
                return
        if "const" in schema and instance != schema["const"]:
            yield SchemaError("const", f"{schema['const']!r} was expected", path, instance, schema)
        if "enum" in schema and instance not in schema["enum"]:
            yield SchemaError("enum", f"{instance!r} is not one of {schema['enum']!r}", path, instance, schema)
        if "anyOf" in schema:
            context: list[SchemaError] = []
            for option in schema["anyOf"]:
                errors = list(self.iter_errors(instance, option, path))
                if not errors:
                    context = []
                    break
                context.extend(errors)
            if context:
                yield SchemaError("anyOf", f"{instance!r} is not valid under any of the given schemas",
                                  path, instance, schema, context)
        if isinstance(instance, dict):
            properties = schema.get("properties", {})
            for name in schema.get("required", ()):
                if name not in instance:
                    yield SchemaError("required", f"{name!r} is a required property", path, instance, schema)
            extra = schema.get("additionalProperties", True)
            unknown = False
            for key, value in instance.items():
                if key in properties:
                    yield from self.iter_errors(value, properties[key], path + (key,))
                elif extra is False:
                    unknown = True
                elif isinstance(extra, dict):
                    yield from self.iter_errors(value, extra, path + (key,))
            if unknown:
                yield SchemaError("additionalProperties", "Additional properties are not allowed",
                                  path, instance, schema)
        if isinstance(instance, list) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(instance):
                yield from self.iter_errors(item, schema["items"], path + (index,))


def _required_binding_field(path: tuple) -> bool:
    from faultbook.checks.bindings import KINDS

    if len(path) >= 2 and path[0] == "env":
        path = path[2:]
    keys = tuple(p for p in path[:-1] if not isinstance(p, int))
    return any(kind.key == keys and path[-1] in kind.required for kind in KINDS)


@lru_cache(maxsize=4)
def _validator(path: str) -> _Validator:
    return _Validator(json.loads(Path(path).read_text(encoding="utf-8")))


class SchemaViolation(Rule):
    """The config does not match wrangler's JSON Schema (an unknown key, or a value of the wrong type).

    *Why* wrangler ignores unknown keys with only a warning (`Unexpected fields found in top-level
    field: "r2_bucket"`) — a misspelt key silently drops its bindings — and refuses wrong types.
    Unknown keys are warnings (notes when checked against faultbook's shipped schema, since the
    key may be newer than it); wrong types are errors.

    *Bad*
    ```toml
    [[r2_bucket]]          # singular: ignored by wrangler
    binding = "UPLOADS"
    ```

    *Good*
    ```toml
    [[r2_buckets]]
    binding = "UPLOADS"
    ```

    *Fix* Use the key and type from the schema. The project's own
    `node_modules/wrangler/config-schema.json` is used when installed, else the schema of
    wrangler 4.86.0 shipped with faultbook; the report says which.
    """

    id = "FB301"
    name = "schema-violation"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        found = project_schema(ctx.directory.resolve())
        if found is not None:
            schema_path, version = found
            own = True
            ctx.notes.append(f"FB301 checked against the project's wrangler {version or '(unknown version)'} schema: {schema_path}")
        else:
            schema_path, own = SHIPPED_SCHEMA, False
            ctx.notes.append(
                f"FB301 checked against the wrangler {SHIPPED_VERSION} schema shipped with faultbook "
                "(no node_modules/wrangler found from the config's folder up)"
            )
        try:
            validator = _validator(str(schema_path))
        except (OSError, ValueError) as exc:
            ctx.notes.append(f"FB301 skipped: cannot read {schema_path} ({exc})")
            return
        data = _plain(ctx.data)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
        seen: set[tuple] = set()
        for error in errors:
            for finding in self._report(ctx, error, own=own, loose=False):
                key = (finding.line, finding.column, finding.summary)
                if key not in seen:
                    seen.add(key)
                    yield finding

    def _report(self, ctx: Context, error: Any, *, own: bool, loose: bool) -> Iterable[Finding]:
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            severity = Severity.WARNING if own else Severity.INFO
            for key in error.instance:
                if key in REMOVED and _is_scope(path):
                    yield self.finding(ctx, path + (key,), f"Removed: {REMOVED[key]}", severity=Severity.ERROR)
                    continue
                if key not in allowed and key != "$schema":
                    where = ".".join(map(str, path)) or "top-level"
                    yield self.finding(
                        ctx, path + (key,),
                        f'Unexpected field "{key}" in {where}: wrangler ignores it'
                        + ("" if own else f" (not in the wrangler {SHIPPED_VERSION} schema; it may be newer)"),
                        severity=severity,
                    )
            return
        if error.validator in ("anyOf", "oneOf") and error.context:
            # The alternative that got furthest into the value explains the problem best.
            best = max(error.context, key=lambda e: len(e.absolute_path))
            yield from self._report(ctx, best, own=own, loose=True)
            return
        if error.validator == "required" and _is_binding(path):
            return  # FB103 reports a binding's missing field, once, in wrangler's words
        if error.validator == "type" and path and _required_binding_field(path):
            return  # likewise a required binding field that is not a string
        where = ".".join(map(str, path)) or "top level"
        strict = error.validator in ("type", "required") and not loose
        yield self.finding(
            ctx, path, f"{where}: {error.message}", value=True,
            severity=Severity.ERROR if strict else Severity.WARNING,
        )
