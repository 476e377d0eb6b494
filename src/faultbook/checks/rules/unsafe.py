"""`unsafe.bindings`: the seed's Failure #1 (`binding IMAGES has an unknown type Images [code: 10021]`).

wrangler sends ``unsafe.bindings[].type`` to the upload API unchanged, so a type
with the wrong case only fails at deploy time, after the build and the upload.
"""

from __future__ import annotations

from typing import Iterable

from faultbook.checks.base import Context, Finding, Fix, Rule, Severity, TextEdit
from faultbook.checks.bindings import KNOWN_TYPES, SINGLE_TABLE_KEYS, iter_bindings, kind_for


def _suggest(value: str) -> str | None:
    lowered = value.strip().lower().replace("-", "_").replace(" ", "_")
    if lowered in KNOWN_TYPES:
        return lowered
    import difflib  # only when a type is unknown: keeps an ordinary check's start-up short

    close = difflib.get_close_matches(lowered, list(KNOWN_TYPES), n=1, cutoff=0.8)
    return close[0] if close else None


def first_class_example(binding_name: str, metadata_type: str, *, toml: bool, env: str | None) -> str | None:
    key = KNOWN_TYPES.get(metadata_type)
    if not key or key == "vars":
        return None
    prefix = f"env.{env}." if env else ""
    if key in SINGLE_TABLE_KEYS:
        if toml:
            return f'[{prefix}{key}]\nbinding = "{binding_name}"'
        return f'"{key}": {{ "binding": "{binding_name}" }}'
    kind = kind_for(key)
    if toml:
        return f'[[{prefix}{key}]]\n{kind.name_field} = "{binding_name}"\n# ...the other fields of {key}'
    return f'"{key}": [{{ "{kind.name_field}": "{binding_name}", ... }}]'


def _unsafe(ctx: Context):
    for scope in ctx.scopes():
        for binding in iter_bindings(scope, kinds=(kind_for("unsafe.bindings"),)):
            value = binding.entry.get("type")
            if isinstance(value, str):
                yield scope, binding, value


class UnsafeBindingUnknownType(Rule):
    """An `unsafe.bindings` type is not one the Workers API knows (wrong case or misspelt).

    *Why* wrangler does not check `unsafe.bindings[].type`; it sends the string unchanged
    and the upload API rejects it with `binding IMAGES has an unknown type Images [code: 10021]`
    — the seed's Failure #1. Types are lowercase and exact.

    *Bad*
    ```toml
    [[unsafe.bindings]]
    name = "IMAGES"
    type = "Images"
    ```

    *Good* the first-class key, which wrangler validates and sends as type `images`:
    ```toml
    [images]
    binding = "IMAGES"
    ```
    or, keeping the unsafe binding, `type = "images"`.

    *Fix* `faultbook check --fix` rewrites the type to its exact lowercase spelling and
    leaves every other byte of the file alone; moving to the first-class key is then a
    one-block edit (rule FB102 suggests it).
    """

    id = "FB101"
    name = "unsafe-binding-unknown-type"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope, binding, value in _unsafe(ctx):
            if value in KNOWN_TYPES:
                continue
            suggestion = _suggest(value)
            if suggestion is None:
                continue
            type_path = binding.path + ("type",)
            name = binding.name
            fix = None
            span = ctx.config.value_span(type_path)
            if span is not None and span.line == span.end_line:
                quote = ctx.config.line_text(span.line)[span.column - 1]
                quote = quote if quote in "\"'" else '"'
                fix = Fix(
                    description=f'set type = "{suggestion}"',
                    edits=(TextEdit(span.line, span.column, span.end_line, span.end_column, f"{quote}{suggestion}{quote}"),),
                )
            example = first_class_example(str(name), suggestion, toml=ctx.config.format == "toml", env=scope.env)
            detail = (
                f'The Workers API rejects this at upload: "binding {name} has an unknown type {value} [code: 10021]" '
                f'(wrangler does not check unsafe binding types). Types are lowercase: did you mean "{suggestion}"?'
            )
            if example:
                detail += f"\nBetter, use the first-class key, which wrangler validates:\n{example}"
            yield self.finding(
                ctx, type_path,
                f'binding {name} has unknown type "{value}" (deploy fails with code 10021); did you mean "{suggestion}"?',
                detail=detail, fix=fix, env=scope.env, value=True,
            )


class UnsafeBindingHasFirstClassKey(Rule):
    """A known binding type is declared through `unsafe.bindings` although wrangler has a first-class key for it.

    *Why* `unsafe` bypasses wrangler's validation (the path that let "Images" reach the
    API in the seed's Failure #1), is not inherited by environments, and is not typed
    by `wrangler types`.

    *Bad*
    ```toml
    [[unsafe.bindings]]
    name = "IMAGES"
    type = "images"
    ```

    *Good*
    ```toml
    [images]
    binding = "IMAGES"
    ```

    *Fix* Replace the `[[unsafe.bindings]]` block with the first-class key shown in the finding.
    """

    id = "FB102"
    name = "unsafe-binding-has-first-class-key"
    severity = Severity.WARNING

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope, binding, value in _unsafe(ctx):
            key = KNOWN_TYPES.get(value)
            if not key:
                continue
            example = first_class_example(str(binding.name), value, toml=ctx.config.format == "toml", env=scope.env)
            yield self.finding(
                ctx, binding.path + ("type",),
                f'binding {binding.name} uses unsafe type "{value}"; use the first-class "{key}" key',
                detail=f"wrangler validates first-class bindings; unsafe ones reach the API unchecked.\n{example or key}",
                env=scope.env,
            )


class UnsafeBindingUnrecognisedType(Rule):
    """An `unsafe.bindings` type faultbook does not recognise at all.

    *Why* `unsafe` exists for binding types wrangler does not know yet, so this may be
    right — but a type the API does not know fails the upload with code 10021.

    *Bad*
    ```toml
    [[unsafe.bindings]]
    name = "THING"
    type = "thingamajig"
    ```

    *Good* a type from Cloudflare's documentation, spelt exactly.

    *Fix* Check the type against the documentation of the feature you are binding;
    suppress with a reason if it is a private beta type.
    """

    id = "FB111"
    name = "unsafe-binding-unrecognised-type"
    severity = Severity.INFO

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope, binding, value in _unsafe(ctx):
            if value in KNOWN_TYPES or _suggest(value):
                continue
            yield self.finding(
                ctx, binding.path + ("type",),
                f'binding {binding.name} has type "{value}", which faultbook does not recognise',
                env=scope.env, value=True,
            )
