"""Durable Objects: bound classes against the migration chain that creates them.

A Durable Object class exists only once a migration created it (``new_classes`` or
``new_sqlite_classes``); ``renamed_classes`` and ``deleted_classes`` change that set.
wrangler only validates the *shape* of ``migrations`` and warns when there are none at
all; the chain's meaning is checked by the API at upload time (code 10061/10070/10074),
after the build, or by ``wrangler dev``/``wrangler types``, which replay it
(workers-sdk ``src/dev/class-names-sqlite.ts``: "Cannot apply deleted_classes migration
to non-existent class X").  Here the chain is replayed the same way, per environment
(``migrations`` is inherited, ``durable_objects`` is not), and each binding whose class
the replay does not end with is reported where the API would refuse it.

Severities follow wrangler: the API refuses a bound class the chain never created
(10061), so that is an error; with no ``migrations`` at all wrangler itself only warns
(the class may come from an older deploy), and so do we.  Duplicated or out-of-order
tags are accepted by wrangler and the API but make wrangler skip migrations (it applies
only those *after* the deployed tag), so they are warnings.

Configs using the newer ``exports`` table (wrangler sends exports instead of
migrations) are left alone: their classes are declared there, not by migrations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from faultbook.checks.base import Context, Finding, Rule, Scope, Severity
from faultbook.checks.bindings import iter_bindings, kind_for
from faultbook.cloudflare.config import KeyPath

_DO_KIND = kind_for("durable_objects.bindings")
_TAG_NUMBER = re.compile(r"^\D*?(\d+)\D*$")


@dataclass
class Replay:
    """The migration chain replayed: the classes it ends with and what happened on the way."""

    classes: dict[str, KeyPath] = field(default_factory=dict)  # class -> where it was created
    deleted: dict[str, tuple[str, KeyPath]] = field(default_factory=dict)  # class -> (tag, where)
    renamed: dict[str, tuple[str, str, KeyPath]] = field(default_factory=dict)  # old -> (new, tag, where)
    #: (where, message) for steps the API and `wrangler dev` refuse.
    problems: list[tuple[KeyPath, str]] = field(default_factory=list)
    created_any: bool = False


def _names(value: Any) -> list[tuple[int, str]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)] if isinstance(value, list) else []


def replay(migrations: Any, path: KeyPath) -> Replay:
    """Apply the chain in wrangler's order per step: deleted, renamed, new, new_sqlite, transferred."""
    state = Replay()
    if not isinstance(migrations, list):
        return state
    for index, step in enumerate(migrations):
        if not isinstance(step, dict):
            continue
        at = path + (index,)
        tag = step.get("tag") if isinstance(step.get("tag"), str) else f"#{index + 1}"
        for i, name in _names(step.get("deleted_classes")):
            if state.classes.pop(name, None) is None:
                state.problems.append((
                    at + ("deleted_classes", i),
                    f'migration "{tag}" deletes class {name}, which no earlier migration created: '
                    f"Cannot apply deleted_classes migration to non-existent class {name}",
                ))
            state.deleted[name] = (tag, at + ("deleted_classes", i))
        renamed = step.get("renamed_classes")
        for i, entry in enumerate(renamed if isinstance(renamed, list) else []):
            if not isinstance(entry, dict) or not isinstance(entry.get("from"), str) or not isinstance(entry.get("to"), str):
                continue
            old, new = entry["from"], entry["to"]
            where = at + ("renamed_classes", i)
            if old not in state.classes:
                state.problems.append((
                    where, f'migration "{tag}" renames class {old}, which no earlier migration created: '
                    f"Cannot apply renamed_classes migration to non-existent class {old}",
                ))
            elif new in state.classes:
                state.problems.append((where, f'migration "{tag}" renames {old} to {new}, but class {new} already exists'))
            else:
                state.classes.pop(old)
                state.classes[new] = where
            state.renamed[old] = (new, tag, where)
        for key in ("new_classes", "new_sqlite_classes"):
            for i, name in _names(step.get(key)):
                state.created_any = True
                if name in state.classes:
                    state.problems.append((
                        at + (key, i),
                        f'migration "{tag}" creates class {name} again: Cannot apply {key} migration to existing class {name}',
                    ))
                state.classes[name] = at + (key, i)
                state.deleted.pop(name, None)
        transferred = step.get("transferred_classes")
        for i, entry in enumerate(transferred if isinstance(transferred, list) else []):
            if isinstance(entry, dict) and isinstance(entry.get("to"), str):
                state.created_any = True
                state.classes[entry["to"]] = at + ("transferred_classes", i)
    return state


def is_pages(ctx: Context) -> bool:
    """A Pages project's config (``pages_build_output_dir``): no routes, crons or Durable Object classes of its own."""
    return "pages_build_output_dir" in ctx.data


def _uses_exports(scope: Scope) -> bool:
    return "exports" in scope.raw or "exports" in scope.top


def _own_bindings(scope: Scope):
    """Durable Object bindings whose class this Worker itself must implement."""
    own_name, _ = scope.worker_name()
    for binding in iter_bindings(scope, kinds=(_DO_KIND,)):
        class_name = binding.entry.get("class_name")
        script = binding.entry.get("script_name")
        if isinstance(class_name, str) and class_name and (script is None or script == own_name):
            yield binding, class_name


def _bound_anywhere(ctx: Context) -> set[str]:
    """Classes this Worker's bindings name in any scope, whichever environment was selected."""
    top = ctx.data
    scopes = [Scope(None, (), top, top)] + [Scope(env, ("env", env), top["env"][env], top) for env in ctx.envs()]
    return {name for scope in scopes for _, name in _own_bindings(scope)}


def _chains(ctx: Context):
    """Each distinct migration chain once (an env that inherits it shares the top level's)."""
    seen: set[KeyPath] = set()
    for scope in ctx.scopes():
        migrations, path = scope.get("migrations")
        if isinstance(migrations, list) and path not in seen:
            seen.add(path)
            yield scope, migrations, path


class DurableObjectClassNotMigrated(Rule):
    """A Durable Object binding names a class that no migration creates (or one a migration deleted or renamed).

    *Why* The upload is refused after the build: `Cannot create binding for class 'Room'
    because it is not currently configured to implement Durable Objects. Ensure a
    --new-class migration has been applied to it. [code: 10061]` — or, for a class a
    migration deletes, `Cannot apply --delete-class migration to class 'Room' without also
    removing the binding that references it. [code: 10061]`. Renaming a class in the code
    and the binding without a `renamed_classes` step gives the first error too. With no
    `migrations` at all wrangler only warns ("This may not work as expected until you add a
    `migrations` section"), so that case is a warning.

    *Bad*
    ```toml
    [[durable_objects.bindings]]
    name = "ROOMS"
    class_name = "ChatRoom"       # was "Room"

    [[migrations]]
    tag = "v1"
    new_sqlite_classes = ["Room"]
    ```

    *Good*
    ```toml
    [[migrations]]
    tag = "v2"
    renamed_classes = [{ from = "Room", to = "ChatRoom" }]
    ```

    *Fix* Add a migration step: `new_sqlite_classes` for a new class, `renamed_classes` for a
    renamed one; to delete a class, remove its bindings in the same deploy. Bindings to a
    class of another Worker need `script_name`.
    """

    id = "FB120"
    name = "durable-object-class-not-migrated"
    severity = Severity.ERROR

    def applies(self, ctx: Context) -> bool:
        return not is_pages(ctx)

    def check(self, ctx: Context) -> Iterable[Finding]:
        bound_everywhere = _bound_anywhere(ctx)
        for scope in ctx.scopes():
            if _uses_exports(scope):
                continue
            migrations, path = scope.get("migrations")
            bindings = list(_own_bindings(scope))
            if not bindings:
                continue
            if not isinstance(migrations, list) or not migrations:
                names = ", ".join(dict.fromkeys(name for _, name in bindings))
                yield self.finding(
                    ctx, bindings[0][0].path,
                    f"Durable Object class {names} is bound ({scope.label}) but there are no `migrations`: "
                    "the API refuses a class no migration created (code 10061)",
                    detail='Add [[migrations]] tag = "v1" new_sqlite_classes = [...] (wrangler only warns about this).',
                    env=scope.env, severity=Severity.WARNING,
                )
                continue
            state = replay(migrations, path)
            for binding, name in bindings:
                if name in state.classes:
                    continue
                where = binding.path + ("class_name",)
                if name in state.deleted:
                    tag, _ = state.deleted[name]
                    summary = (
                        f"class {name} is deleted by migration \"{tag}\" but still bound as {binding.name}: Cannot apply "
                        f"--delete-class migration to class '{name}' without also removing the binding that references it. "
                        "[code: 10061]"
                    )
                elif name in state.renamed:
                    new, tag, _ = state.renamed[name]
                    summary = (
                        f"class {name} is renamed to {new} by migration \"{tag}\" but binding {binding.name} still names "
                        f"{name}: use class_name = \"{new}\""
                    )
                else:
                    summary = (
                        f"Cannot create binding for class '{name}' because it is not currently configured to implement "
                        "Durable Objects. Ensure a --new-class migration has been applied to it. [code: 10061]"
                    )
                    orphans = [c for c in state.classes if c not in bound_everywhere]
                    if orphans:
                        summary += (
                            f" — if {name} is {orphans[0]} renamed, add renamed_classes = "
                            f'[{{ from = "{orphans[0]}", to = "{name}" }}] in a new migration'
                        )
                    else:
                        summary += f" — add a migration with new_sqlite_classes = [\"{name}\"]"
                yield self.finding(ctx, where, summary, env=scope.env, value=True)


class DurableObjectMigrationInvalid(Rule):
    """A migration step deletes or renames a class that does not exist, or creates one that already does.

    *Why* `wrangler dev` and `wrangler types` replay the chain and stop: `Cannot apply
    deleted_classes migration to non-existent class Room`; a deploy that applies the chain
    from the start (a new Worker, a new environment, a preview) is refused by the API
    (e.g. `Cannot apply delete-class migration to class 'Room' which was not exported in
    the previous version of the script [code: 10074]`).

    *Bad*
    ```toml
    [[migrations]]
    tag = "v1"
    new_sqlite_classes = ["Counter"]

    [[migrations]]
    tag = "v2"
    renamed_classes = [{ from = "Count", to = "Tally" }]   # typo: Count
    ```

    *Good*
    ```toml
    [[migrations]]
    tag = "v2"
    renamed_classes = [{ from = "Counter", to = "Tally" }]
    ```

    *Fix* Name classes exactly as earlier steps created them; never create a class twice.
    """

    id = "FB121"
    name = "durable-object-migration-invalid"
    severity = Severity.ERROR

    def applies(self, ctx: Context) -> bool:
        return not is_pages(ctx)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope, migrations, path in _chains(ctx):
            if _uses_exports(scope):
                continue
            for where, message in replay(migrations, path).problems:
                yield self.finding(ctx, where, message, env=scope.env, value=True)


class DurableObjectMigrationTags(Rule):
    """Migration tags are duplicated or out of order.

    *Why* wrangler applies only the migrations listed *after* the tag the Worker is at
    (`getMigrationsToUpload`: it looks the deployed tag up with `findIndex`). A step
    inserted before an applied one is silently never applied; with a duplicated tag the
    first one wins and the steps in between run again or never. Neither wrangler nor the
    API says anything at deploy time.

    *Bad*
    ```toml
    [[migrations]]
    tag = "v1"
    new_sqlite_classes = ["Counter"]

    [[migrations]]
    tag = "v3"
    new_sqlite_classes = ["Room"]

    [[migrations]]
    tag = "v2"   # added later, but listed after v3
    new_sqlite_classes = ["Lobby"]
    ```

    *Good* tags unique and in the order they were written: new steps go at the end.

    *Fix* Never edit or reorder applied migrations; append a new step with a new tag.
    """

    id = "FB122"
    name = "durable-object-migration-tags"
    severity = Severity.WARNING

    def applies(self, ctx: Context) -> bool:
        return not is_pages(ctx)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope, migrations, path in _chains(ctx):
            seen: dict[str, int] = {}
            last_number: tuple[int, str] | None = None
            for index, step in enumerate(migrations):
                tag = step.get("tag") if isinstance(step, dict) else None
                if not isinstance(tag, str):
                    continue
                where = path + (index, "tag")
                if tag in seen:
                    yield self.finding(
                        ctx, where,
                        f'migration tag "{tag}" is used twice (steps {seen[tag] + 1} and {index + 1}): wrangler resumes '
                        "after the first one, so the steps between them are applied again or never",
                        env=scope.env, value=True,
                    )
                    continue
                seen[tag] = index
                match = _TAG_NUMBER.match(tag)
                if not match:
                    continue
                number = int(match.group(1))
                if last_number is not None and number < last_number[0]:
                    yield self.finding(
                        ctx, where,
                        f'migration tag "{tag}" comes after "{last_number[1]}": a step inserted before an applied '
                        "one is never applied (wrangler only applies steps after the deployed tag)",
                        env=scope.env, value=True,
                    )
                last_number = (number, tag) if last_number is None or number >= last_number[0] else last_number


_EXPORT_STAR = re.compile(r"^\s*export\s*\*", re.M)


class DurableObjectClassGone(Rule):
    """A class the migrations created is neither bound nor in the entry file: deleted without a `deleted_classes` step?

    *Why* Once a migration created a class, every later version of the Worker must export
    it until a migration deletes it; otherwise the upload is refused (`Cannot apply
    new-class migration to class 'Room' that is not exported by script [code: 10070]`, or
    the class is missing on a fresh environment). Deleting or renaming the class in the
    code is only half of the change.

    *Bad*
    ```toml
    [[migrations]]
    tag = "v1"
    new_sqlite_classes = ["Room"]   # class Room was deleted from src/index.ts
    ```

    *Good*
    ```toml
    [[migrations]]
    tag = "v2"
    deleted_classes = ["Room"]
    ```

    *Fix* Add a migration with `deleted_classes` (or `renamed_classes` if it was renamed),
    or keep exporting the class. Classes only other Workers bind are fine: suppress with
    a reason.
    """

    id = "FB125"
    name = "durable-object-class-gone"
    severity = Severity.WARNING

    def applies(self, ctx: Context) -> bool:
        return not is_pages(ctx)

    def check(self, ctx: Context) -> Iterable[Finding]:
        bound = _bound_anywhere(ctx)
        for scope, migrations, path in _chains(ctx):
            if _uses_exports(scope):
                continue
            main, _ = scope.get("main")
            source = _read_entry(ctx, main)
            if source is None or _EXPORT_STAR.search(source):
                continue  # no entry to read, or it re-exports modules we do not follow
            for name, where in replay(migrations, path).classes.items():
                if name in bound or re.search(rf"\b{re.escape(name)}\b", source):
                    continue
                yield self.finding(
                    ctx, where,
                    f"class {name} is created by the migrations but no binding names it and {main} does not mention it: "
                    f"if it was deleted or renamed, add a migration with deleted_classes = [\"{name}\"] (or "
                    "renamed_classes)",
                    env=scope.env, value=True,
                )


def _read_entry(ctx: Context, main: Any) -> str | None:
    if not isinstance(main, str):
        return None
    path = ctx.directory / main
    try:
        if path.stat().st_size > 5_000_000:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
