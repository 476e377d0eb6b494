"""Environments: keys and bindings wrangler does not inherit into ``[env.X]``.

wrangler prints the per-key warning only when that environment is deployed (`-e X`),
and says nothing when an environment redeclares a key but leaves one binding out
(FB124 compares binding names, per kind); faultbook checks every environment on every run.
"""

from __future__ import annotations

from typing import Iterable

from faultbook.checks.base import NOT_INHERITED_KEYS, Context, Finding, Rule, Scope, Severity
from faultbook.checks.bindings import KINDS, iter_bindings


class NotInheritedByEnvironment(Rule):
    """A binding key is defined at the top level but not in an `[env.X]` (bindings are not inherited).

    *Why* `wrangler deploy -e staging` deploys a Worker without the top-level bindings:
    `"r2_buckets" exists at the top level, but not on "env.staging". This is not what you
    probably want, since "r2_buckets" is not inherited by environments. Please add
    "r2_buckets" to "env.staging".` — printed only when that env is deployed.

    *Bad*
    ```toml
    [[r2_buckets]]
    binding = "UPLOADS"
    bucket_name = "quoteviral-uploads"

    [env.staging]
    name = "quoteviral-api-staging"
    ```

    *Good*
    ```toml
    [[env.staging.r2_buckets]]
    binding = "UPLOADS"
    bucket_name = "quoteviral-uploads-staging"
    ```

    *Fix* Repeat the key under each environment (usually with that environment's resources).
    """

    id = "FB108"
    name = "not-inherited-by-environment"
    severity = Severity.WARNING

    def check(self, ctx: Context) -> Iterable[Finding]:
        top = ctx.data
        for scope in ctx.scopes():
            if scope.env is None:
                continue
            env = scope.env
            for key in NOT_INHERITED_KEYS:
                if key in top and key not in scope.raw:
                    yield self.finding(
                        ctx, ("env", env),
                        f'"{key}" exists at the top level, but not on "env.{env}".',
                        detail=f'This is not what you probably want, since "{key}" is not inherited by environments.\n'
                        f'Please add "{key}" to "env.{env}".',
                        env=env,
                    )
            top_vars, env_vars = top.get("vars"), scope.raw.get("vars")
            if isinstance(top_vars, dict) and isinstance(env_vars, dict):
                for var in top_vars:
                    if var not in env_vars:
                        yield self.finding(
                            ctx, ("env", env, "vars"),
                            f'"vars.{var}" exists at the top level, but not on "env.{env}.vars".',
                            detail='This is not what you probably want, since "vars" configuration is not inherited '
                            f'by environments.\nPlease add "vars.{var}" to "env.{env}".',
                            env=env,
                        )


class BindingMissingInEnvironment(Rule):
    """An `[env.X]` redeclares a binding key but leaves out one of the top level's bindings.

    *Why* Bindings are not inherited, so an environment that writes its own
    `kv_namespaces` (or `r2_buckets`, `durable_objects`, `services` ...) gets only the
    ones it lists. wrangler says nothing: it warns only when the whole key is missing
    (FB108). The Worker deploys, then fails at run time on `env.SESSIONS` being
    undefined — in that environment only.

    *Bad*
    ```toml
    [[kv_namespaces]]
    binding = "CACHE"
    id = "0f2ac74b498b48028cb68387c421e279"
    [[kv_namespaces]]
    binding = "SESSIONS"
    id = "6b3c1d2e4f5a4b6c8d9e0f1a2b3c4d5e"

    [[env.staging.kv_namespaces]]
    binding = "CACHE"
    id = "9a8b7c6d5e4f40312a1b2c3d4e5f6a7b"
    ```

    *Good*
    ```toml
    [[env.staging.kv_namespaces]]
    binding = "SESSIONS"
    id = "1c2d3e4f5a6b47c8d9e0f1a2b3c4d5e6"
    ```

    *Fix* Add the binding (with that environment's resource) to the environment's list,
    or suppress the finding with a reason if the environment must not have it.
    """

    id = "FB124"
    name = "binding-missing-in-environment"
    severity = Severity.WARNING

    def check(self, ctx: Context) -> Iterable[Finding]:
        # With one env selected (-e X) the top level is not among the scopes: compare with it all the same.
        top_scope = Scope(None, (), ctx.data, ctx.data)
        # unsafe.bindings carry per-environment platform metadata more often than resources: left out.
        many = tuple(kind for kind in KINDS if kind.many and kind.config_key != "unsafe.bindings")
        top_names: dict[str, list] = {}
        for binding in iter_bindings(top_scope, kinds=many):
            if isinstance(binding.name, str):
                top_names.setdefault(binding.kind.config_key, []).append(binding.name)
        for scope in ctx.scopes():
            if scope.env is None:
                continue
            own: dict[str, set] = {}
            for binding in iter_bindings(scope, kinds=many):
                own.setdefault(binding.kind.config_key, set()).add(binding.name)
            for kind in many:
                key = kind.config_key
                if key not in own and not _declared(scope.raw, kind.key):
                    continue  # the whole key is missing: FB108 reports that
                for name in top_names.get(key, []):
                    if name not in own.get(key, set()):
                        yield self.finding(
                            ctx, scope.prefix + kind.key,
                            f'{kind.friendly} binding "{name}" exists at the top level but not in "env.{scope.env}.{key}"',
                            detail=f'"env.{scope.env}" declares its own "{key}", so it gets only those: bindings are '
                            f'not inherited. Add "{name}" there, with this environment\'s resource.',
                            env=scope.env,
                        )


def _declared(table: dict, key: tuple[str, ...]) -> bool:
    node = table
    for part in key:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
