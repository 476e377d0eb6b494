"""Binding tables: required fields, pasted placeholders, id shapes, duplicate names.

wrangler reports these one stage at a time (it stops at the first failing one);
faultbook reports all of them, for every environment, in one pass.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from faultbook.checks.base import Context, Finding, Rule, Severity
from faultbook.checks.bindings import iter_bindings

_PLACEHOLDER = re.compile(
    r"^(?:your[_\- ].*|<.*>|\{\{.*\}\}|\$\{.*\}|x{3,}|todo|tbd|changeme|change[_-]me|replace[_-]?me|placeholder|"
    r"example|id|xxx.*|\.\.\.|0{32}|.*_here)$",
    re.IGNORECASE,
)
#: Case is not judged: ids are printed in lowercase, but nothing shows the API refusing upper case.
_SHAPES = {
    "hex32": (re.compile(r"^[0-9a-f]{32}$", re.I), "32 hex characters"),
    "uuid": (re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I), "a UUID"),
}


#: Words that only a template or a tutorial leaves in an id (a real id is hex or a UUID).
_PLACEHOLDER_WORDS = re.compile(
    r"replace|your[_\- ]|update[_\- ]?this|insert[_\- ]|placeholder|change[_\- ]?me|todo|<[^>]*>|\$\{|\{\{|x{4,}|\.\.\.",
    re.IGNORECASE,
)


def is_placeholder(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    return bool(_PLACEHOLDER.match(value.strip()) or _PLACEHOLDER_WORDS.search(value))


class BindingMissingField(Rule):
    """A binding lacks a field its kind requires (e.g. `services` without `service`).

    *Why* wrangler refuses the config (`"services" bindings should have a string "service"
    field`), or the API rejects the upload, one binding at a time.

    *Bad*
    ```toml
    [[queues.producers]]
    binding = "JOBS"
    ```

    *Good*
    ```toml
    [[queues.producers]]
    binding = "JOBS"
    queue = "quoteviral-jobs"
    ```

    *Fix* Add the field named in the finding (see the binding table in Cloudflare's
    wrangler configuration docs).
    """

    id = "FB103"
    name = "binding-missing-field"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            for binding in iter_bindings(scope):
                for field_name in binding.kind.required:
                    value = binding.entry.get(field_name)
                    if isinstance(value, str) and value.strip():
                        continue
                    yield self.finding(
                        ctx, binding.path,
                        f'{binding.kind.config_key} binding {binding.name or "(unnamed)"} has no "{field_name}"',
                        detail=f'"{binding.kind.config_key}" bindings need a string "{field_name}" field.',
                        env=scope.env,
                    )


class BindingPlaceholderId(Rule):
    """A binding id is still a placeholder (`YOUR_KV_NAMESPACE_ID`, `<id>`, `xxx`, `TODO`, `changeme`).

    *Why* The upload fails: `KV namespace 'YOUR_KV_NAMESPACE_ID' is not valid. [code: 10042]`,
    and similar per kind — after the build, at the last step.

    *Bad*
    ```toml
    [[kv_namespaces]]
    binding = "CACHE"
    id = "YOUR_KV_NAMESPACE_ID"
    ```

    *Good*
    ```toml
    [[kv_namespaces]]
    binding = "CACHE"
    id = "0f2ac74b498b48028cb68387c421e279"
    ```

    *Fix* Create the resource (`wrangler kv namespace create CACHE`) and paste the id it prints.
    """

    id = "FB104"
    name = "binding-placeholder-id"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            for binding in iter_bindings(scope):
                for field_name in binding.kind.id_fields:
                    value = binding.entry.get(field_name)
                    if is_placeholder(value):
                        yield self.finding(
                            ctx, binding.path + (field_name,),
                            f'{binding.kind.config_key} binding {binding.name}: {field_name} "{value}" is a placeholder',
                            env=scope.env, value=True,
                        )
        account = ctx.data.get("account_id")
        if is_placeholder(account):  # an empty account_id is ignored by wrangler, and so here
            yield self.finding(ctx, ("account_id",), f'account_id "{account}" is a placeholder', value=True)


class BindingIdShape(Rule):
    """A binding id does not have the shape Cloudflare issues (KV/Hyperdrive: 32 hex; D1: a UUID).

    *Why* An id with the wrong shape is usually the resource's *name* or a truncated paste;
    the upload fails (`binding DB of type d1 must have a valid `id` specified [code: 10021]`).

    *Bad*
    ```toml
    [[d1_databases]]
    binding = "DB"
    database_id = "quoteviral-db"
    ```

    *Good*
    ```toml
    [[d1_databases]]
    binding = "DB"
    database_name = "quoteviral-db"
    database_id = "7f3b1a2c-4d5e-4f60-8a9b-0c1d2e3f4a5b"
    ```

    *Fix* Copy the id from `wrangler kv namespace list` / `wrangler d1 list` / the dashboard.
    """

    id = "FB105"
    name = "binding-id-shape"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            for binding in iter_bindings(scope):
                for field_name, shape in binding.kind.id_shapes:
                    value = binding.entry.get(field_name)
                    if value == "" and binding.kind.config_key == "kv_namespaces":
                        index = binding.path[-1]
                        yield self.finding(
                            ctx, binding.path + (field_name,),
                            f'"kv_namespaces[{index}]" bindings should have a string "id" field but got an empty one',
                            detail="wrangler refuses an empty KV id; remove the line to let wrangler create the "
                            "namespace, or paste the id from `wrangler kv namespace list`.",
                            env=scope.env, value=True,
                        )
                        continue
                    if not isinstance(value, str) or not value or is_placeholder(value):
                        continue  # D1's database_id = "" is unset for wrangler (FB109)
                    pattern, description = _SHAPES[shape]
                    if not pattern.match(value):
                        yield self.finding(
                            ctx, binding.path + (field_name,),
                            f'{binding.kind.config_key} binding {binding.name}: {field_name} "{value}" is not {description}',
                            env=scope.env, value=True,
                        )
        account = ctx.data.get("account_id")
        if isinstance(account, str) and account and not is_placeholder(account) and not _SHAPES["hex32"][0].match(account):
            yield self.finding(ctx, ("account_id",), f'account_id "{account}" is not 32 hex characters', value=True)


def _english(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


class DuplicateBindingName(Rule):
    """Two bindings in one environment share a name.

    *Why* Both would live at `env.NAME`; wrangler refuses the config with
    `CACHE assigned to KV Namespace and R2 Bucket bindings.` — but only for the environment
    being deployed. faultbook checks every environment.

    *Bad*
    ```toml
    [[kv_namespaces]]
    binding = "CACHE"
    id = "0f2ac74b498b48028cb68387c421e279"

    [[r2_buckets]]
    binding = "CACHE"
    bucket_name = "quoteviral-cache"
    ```

    *Good* distinct names, e.g. `CACHE_KV` and `CACHE_BUCKET`.

    *Fix* Rename one binding here and in the Worker's code.
    """

    id = "FB106"
    name = "duplicate-binding-name"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            seen: dict[str, list[tuple[str, tuple]]] = {}
            for binding in iter_bindings(scope):
                if isinstance(binding.name, str):
                    seen.setdefault(binding.name, []).append((binding.kind.friendly, binding.name_path))
            vars_table = scope.raw.get("vars")
            if isinstance(vars_table, dict):
                for var in vars_table:
                    seen.setdefault(var, []).append(("Environment Variable", scope.prefix + ("vars", var)))
            for name, uses in seen.items():
                if len(uses) < 2:
                    continue
                kinds = list(dict.fromkeys(kind for kind, _ in uses))
                if len(kinds) > 1:
                    message = f"{name} assigned to {_english(kinds)} bindings."
                else:
                    message = f"{name} assigned to multiple {kinds[0]} bindings."
                in_file_order = sorted(uses, key=lambda use: (ctx.config.locate(use[1]).line, ctx.config.locate(use[1]).column))
                for _, path in in_file_order[1:]:
                    yield self.finding(
                        ctx, path, message,
                        detail="Bindings must have unique names, so that they can all be referenced in the worker. "
                        "Please change your bindings to have unique names.",
                        env=scope.env,
                    )
