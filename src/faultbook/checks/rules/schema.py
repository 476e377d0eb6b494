"""The config against wrangler's own JSON Schema, when the project has wrangler installed.

wrangler ships ``node_modules/wrangler/config-schema.json`` (structure only: key
names and types).  We use the copy next to the config so the check matches the
wrangler version the project deploys with, and skip silently when it is absent.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any, Iterable

from faultbook.checks.base import Context, Finding, Rule, Severity


def _plain(value: Any) -> Any:
    """TOML dates/times become strings, as wrangler's TOML parser would hand them to the schema."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    return value


class SchemaViolation(Rule):
    """The config does not match wrangler's JSON Schema (unknown key or wrong type).

    *Why* wrangler warns about unexpected fields (`Unexpected fields found in top-level field:
    "r2_bucket"`) and ignores them — a misspelt key silently drops its bindings — and
    refuses wrong types.

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

    *Fix* Use the key and type from the schema (`node_modules/wrangler/config-schema.json`).
    Runs only when that file exists next to the config.
    """

    id = "FB301"
    name = "schema-violation"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        schema_path = ctx.directory / "node_modules" / "wrangler" / "config-schema.json"
        if not schema_path.is_file():
            return
        try:
            schema = json.loads(schema_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        import jsonschema

        validator_cls = jsonschema.validators.validator_for(schema)
        validator = validator_cls(schema)
        data = _plain(ctx.data)
        for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
            yield from self._report(ctx, error)

    def _report(self, ctx: Context, error: Any) -> Iterable[Finding]:
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed and key != "$schema":
                    where = ".".join(map(str, path)) or "top-level"
                    yield self.finding(ctx, path + (key,), f'Unexpected field "{key}" in {where} (not in wrangler\'s schema)')
            return
        if error.validator in ("anyOf", "oneOf") and error.context:
            best = min(error.context, key=lambda e: len(list(e.absolute_path)) * -1)
            if best.validator == "additionalProperties":
                yield from self._report(ctx, best)
                return
        where = ".".join(map(str, path)) or "top level"
        yield self.finding(ctx, path, f"{where}: {error.message}", value=True)
