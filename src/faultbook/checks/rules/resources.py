"""R2 bucket names and the resources wrangler (>= 4.45) would create on deploy.

Since 4.45 wrangler auto-provisions R2 buckets, KV namespaces and D1 databases
that a binding names but the account lacks.  That turned the seed's Failure #2
(code 10085) into something quieter: a typo'd bucket name now deploys fine,
bound to a brand-new empty bucket.
"""

from __future__ import annotations

import re
from typing import Iterable

from faultbook.checks.base import Context, Finding, Rule, Severity
from faultbook.checks.bindings import iter_bindings, kind_for

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def r2_bindings(ctx: Context):
    for scope in ctx.scopes():
        for binding in iter_bindings(scope, kinds=(kind_for("r2_buckets"),)):
            yield scope, binding


class R2BucketNameInvalid(Rule):
    """An R2 bucket name breaks R2's naming rules.

    *Why* wrangler refuses the config:
    `r2_buckets[0].bucket_name="Quoteviral_Uploads" is invalid. Bucket names must begin and end
    with an alphanumeric character, only contain lowercase letters, numbers, and hyphens, and be
    between 3 and 63 characters long.`

    *Bad*
    ```toml
    [[r2_buckets]]
    binding = "UPLOADS"
    bucket_name = "Quoteviral_Uploads"
    ```

    *Good*
    ```toml
    [[r2_buckets]]
    binding = "UPLOADS"
    bucket_name = "quoteviral-uploads"
    ```

    *Fix* Use lowercase letters, digits and hyphens, 3-63 characters, starting and ending
    with a letter or digit.
    """

    id = "FB107"
    name = "r2-bucket-name-invalid"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope, binding in r2_bindings(ctx):
            index = binding.path[-1]
            for field_name in ("bucket_name", "preview_bucket_name"):
                value = binding.entry.get(field_name)
                if isinstance(value, str) and not _BUCKET.match(value):
                    yield self.finding(
                        ctx, binding.path + (field_name,),
                        f'r2_buckets[{index}].{field_name}="{value}" is invalid. Bucket names must begin and end with '
                        "an alphanumeric character, only contain lowercase letters, numbers, and hyphens, and be "
                        "between 3 and 63 characters long.",
                        env=scope.env, value=True,
                    )


class ResourceWillBeProvisioned(Rule):
    """A KV or D1 binding has no id, so wrangler >= 4.45 will create a new, empty resource on deploy.

    *Why* Auto-provisioning is convenient for a first deploy and a trap afterwards: a
    deleted id, or an env that forgot to repeat it, silently binds the Worker to new empty
    storage instead of failing. Older wrangler fails instead (`binding DB of type d1 must have
    a valid `id` specified [code: 10021]`).

    *Bad*
    ```toml
    [[kv_namespaces]]
    binding = "CACHE"
    ```

    *Good*
    ```toml
    [[kv_namespaces]]
    binding = "CACHE"
    id = "0f2ac74b498b48028cb68387c421e279"
    ```

    *Fix* Create the resource deliberately and write its id, or suppress with a reason if
    provisioning on first deploy is what you want.
    """

    id = "FB109"
    name = "resource-will-be-provisioned"
    severity = Severity.WARNING

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            for binding in iter_bindings(scope, kinds=(kind_for("kv_namespaces"), kind_for("d1_databases"))):
                field_name = "id" if binding.kind.config_key == "kv_namespaces" else "database_id"
                if binding.entry.get(field_name):
                    continue
                if field_name == "id" and "id" in binding.entry:
                    continue  # KV id = "": wrangler refuses it (FB105), nothing gets provisioned
                what = "KV namespace" if field_name == "id" else "D1 database"
                yield self.finding(
                    ctx, binding.path,
                    f"{binding.kind.config_key} binding {binding.name} has no {field_name}: "
                    f"wrangler >= 4.45 creates a new empty {what} on deploy",
                    env=scope.env,
                )


class R2BucketUnverified(Rule):
    """An R2 bucket could not be verified offline; wrangler >= 4.45 creates it if it does not exist.

    *Why* The seed's Failure #2 (`R2 bucket 'quoteviral-uploads' not found ... [code: 10085]`)
    happened because the buckets did not exist. Newer wrangler creates a missing bucket
    instead — so a typo in `bucket_name` becomes a new, empty bucket and the Worker reads
    nothing. Only the API can tell; this note disappears when `faultbook check` runs online.

    *Bad* checking only offline, with a name nobody has verified.

    *Good* `faultbook check` without `--offline`, with `CLOUDFLARE_API_TOKEN` and
    `CLOUDFLARE_ACCOUNT_ID` set (rule FB402 then verifies each bucket).

    *Fix* Run online, or create the bucket deliberately: `wrangler r2 bucket create NAME`.
    """

    id = "FB110"
    name = "r2-bucket-unverified"
    severity = Severity.INFO

    def check(self, ctx: Context) -> Iterable[Finding]:
        if ctx.online is not None:
            return
        for scope, binding in r2_bindings(ctx):
            name = binding.entry.get("bucket_name")
            if isinstance(name, str) and _BUCKET.match(name):
                yield self.finding(
                    ctx, binding.path + ("bucket_name",),
                    f"R2 bucket '{name}' not verified (offline); if it does not exist, wrangler >= 4.45 creates it empty",
                    env=scope.env, value=True,
                )
