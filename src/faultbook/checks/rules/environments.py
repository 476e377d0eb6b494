"""Environments: keys wrangler does not inherit into ``[env.X]``.

wrangler prints this warning only when that environment is deployed (`-e X`);
faultbook checks every environment on every run.
"""

from __future__ import annotations

from typing import Iterable

from faultbook.checks.base import NOT_INHERITED_KEYS, Context, Finding, Rule, Severity


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
