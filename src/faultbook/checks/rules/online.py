"""Online rules: does what the config names exist in the account?  The seed's Failure #2.

They run only when ``faultbook check`` is not ``--offline`` and an API token and
account id are configured.  Each resource is looked up once per run (``ctx.cache``)
however many environments bind it.  A missing resource is an error naming it and
the exact command that creates it; for R2 the finding also carries a remote fix
that ``--fix --create-missing`` runs after confirmation.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from faultbook.checks.base import Context, Finding, Fix, Rule, Severity
from faultbook.checks.bindings import iter_bindings, kind_for
from faultbook.cloudflare.api import ApiError, call


def _lookup(ctx: Context, key: tuple, fetch: Callable[[], Any]) -> tuple[bool | None, ApiError | None]:
    """(exists, error): exists None when the API failed for another reason than not-found."""
    if key not in ctx.cache:
        try:
            fetch()
            ctx.cache[key] = (True, None)
        except ApiError as error:
            ctx.cache[key] = (False, None) if error.not_found else (None, error)
    return ctx.cache[key]


def _api_usable(ctx: Context) -> bool:
    return ctx.online is not None and ctx.cache.get("token_ok", True)


class ApiTokenInvalid(Rule):
    """The Cloudflare API token is not valid or the API cannot be reached.

    *Why* Every deploy step fails with `Authentication error [code: 10000]` or
    `Invalid API Token [code: 1000]`; the online checks cannot run either.

    *Bad* an expired token, or one for another account, in `CLOUDFLARE_API_TOKEN`.

    *Good* a token with Workers Scripts, R2, KV, D1 and Queues permissions for the account
    in `CLOUDFLARE_ACCOUNT_ID`.

    *Fix* Create a token (dashboard → My Profile → API Tokens, "Edit Cloudflare Workers"
    template) and set `CLOUDFLARE_API_TOKEN`.
    """

    id = "FB401"
    name = "api-token-invalid"
    severity = Severity.ERROR
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if ctx.online is None:
            return
        client, account = ctx.online.client, ctx.online.account_id
        try:
            result = call(client.user.tokens.verify)
        except ApiError as user_error:
            if user_error.status is None:
                ctx.cache["token_ok"] = False
                yield self.finding(ctx, (), f"{user_error} ({ctx.online.base_url})")
                return
            try:  # account-owned tokens verify on the account endpoint
                result = call(client.accounts.tokens.verify, account_id=account)
            except ApiError as error:
                ctx.cache["token_ok"] = False
                yield self.finding(ctx, (), f"the Cloudflare API token was rejected: {error}")
                return
        status = getattr(result, "status", "active")
        if status not in (None, "active"):
            ctx.cache["token_ok"] = False
            yield self.finding(ctx, (), f"the Cloudflare API token is {status}")


class R2BucketMissing(Rule):
    """An R2 bucket named in the config does not exist in the account (the seed's Failure #2).

    *Why* The deploy fails with `R2 bucket 'quoteviral-uploads' not found. Please use a
    different name and try again. [code: 10085]` — or, with wrangler >= 4.45, a new empty
    bucket is created under that (possibly misspelt) name. A bucket in a jurisdiction
    (`jurisdiction = "eu"`) is only found with the matching `cf-r2-jurisdiction` header.

    *Bad* deploying before `wrangler r2 bucket create quoteviral-uploads`.

    *Good* every bucket created first (or created by `faultbook check --fix --create-missing`).

    *Fix* `wrangler r2 bucket create NAME` (add `--jurisdiction eu` for EU buckets), or
    correct the name if it is a typo.
    """

    id = "FB402"
    name = "r2-bucket-missing"
    severity = Severity.ERROR
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        client, account = ctx.online.client, ctx.online.account_id
        for scope in ctx.scopes():
            for binding in iter_bindings(scope, kinds=(kind_for("r2_buckets"),)):
                name = binding.entry.get("bucket_name")
                if not isinstance(name, str):
                    continue
                jurisdiction = binding.entry.get("jurisdiction")
                extra = {"cf_r2_jurisdiction": jurisdiction} if jurisdiction else {}
                exists, error = _lookup(
                    ctx, ("r2", name, jurisdiction),
                    lambda: call(client.r2.buckets.get, name, account_id=account, **extra),
                )
                if exists is None:
                    yield _api_failed(self, ctx, binding.path, f"R2 bucket '{name}'", error, scope.env)
                elif not exists:
                    command = f"wrangler r2 bucket create {name}" + (f" --jurisdiction {jurisdiction}" if jurisdiction else "")
                    yield self.finding(
                        ctx, binding.path + ("bucket_name",),
                        f"R2 bucket '{name}' not found. Please use a different name and try again. [code: 10085] "
                        f"— create it: {command}",
                        detail=f"The bucket does not exist in account {account}"
                        + (f" (jurisdiction {jurisdiction})" if jurisdiction else "")
                        + f". wrangler before 4.45 fails the deploy with code 10085; later versions create an empty "
                        f"bucket of that name. Create it deliberately:\n  {command}",
                        fix=Fix(
                            description=command,
                            action=("create_r2_bucket", (("name", name), ("jurisdiction", jurisdiction))),
                        ),
                        env=scope.env, value=True,
                    )


def _api_failed(rule: Rule, ctx: Context, path: tuple, what: str, error: ApiError | None, env: str | None) -> Finding:
    return rule.finding(ctx, path, f"could not check {what}: {error}", env=env, severity=Severity.WARNING)


class KvNamespaceMissing(Rule):
    """A KV namespace id in the config does not exist in the account.

    *Why* The upload fails with `KV namespace '<id>' not found [code: 10041]`.

    *Bad* an id copied from another account or a deleted namespace.

    *Good* the id printed by `wrangler kv namespace create CACHE` in this account.

    *Fix* `wrangler kv namespace create BINDING` and paste the new id.
    """

    id = "FB403"
    name = "kv-namespace-missing"
    severity = Severity.ERROR
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        client, account = ctx.online.client, ctx.online.account_id
        for scope in ctx.scopes():
            for binding in iter_bindings(scope, kinds=(kind_for("kv_namespaces"),)):
                ns = binding.entry.get("id")
                if not isinstance(ns, str) or not ns:
                    continue
                exists, error = _lookup(ctx, ("kv", ns), lambda: call(client.kv.namespaces.get, ns, account_id=account))
                if exists is None:
                    yield _api_failed(self, ctx, binding.path, f"KV namespace {ns}", error, scope.env)
                elif not exists:
                    yield self.finding(
                        ctx, binding.path + ("id",),
                        f"KV namespace '{ns}' (binding {binding.name}) not found [code: 10041] — create one: "
                        f"wrangler kv namespace create {binding.name}",
                        env=scope.env, value=True,
                    )


class D1DatabaseMissing(Rule):
    """A D1 database id in the config does not exist in the account.

    *Why* The upload fails with `D1 binding 'DB' references database '<uuid>' which was not found. [code: 10181]`.

    *Bad* a database_id from another account or a deleted database.

    *Good* the id printed by `wrangler d1 create quoteviral-db`.

    *Fix* `wrangler d1 create NAME` and paste the new id.
    """

    id = "FB404"
    name = "d1-database-missing"
    severity = Severity.ERROR
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        client, account = ctx.online.client, ctx.online.account_id
        for scope in ctx.scopes():
            for binding in iter_bindings(scope, kinds=(kind_for("d1_databases"),)):
                db = binding.entry.get("database_id")
                if not isinstance(db, str) or not db:
                    continue
                exists, error = _lookup(ctx, ("d1", db), lambda: call(client.d1.database.get, db, account_id=account))
                if exists is None:
                    yield _api_failed(self, ctx, binding.path, f"D1 database {db}", error, scope.env)
                elif not exists:
                    name = binding.entry.get("database_name") or str(binding.name).lower()
                    yield self.finding(
                        ctx, binding.path + ("database_id",),
                        f"D1 binding '{binding.name}' references database '{db}' which was not found. [code: 10181] "
                        f"— create one: wrangler d1 create {name}",
                        env=scope.env, value=True,
                    )


class QueueMissing(Rule):
    """A queue named by a producer or consumer does not exist in the account.

    *Why* The deploy fails with `Queue '<name>' not found [code: 11000]`.

    *Bad* `queue = "quoteviral-jobs"` before the queue was created.

    *Good* `wrangler queues create quoteviral-jobs` first.

    *Fix* `wrangler queues create NAME`, or correct the name.
    """

    id = "FB405"
    name = "queue-missing"
    severity = Severity.ERROR
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        client, account = ctx.online.client, ctx.online.account_id
        for scope in ctx.scopes():
            queues = scope.raw.get("queues")
            if not isinstance(queues, dict):
                continue
            for role in ("producers", "consumers"):
                for index, entry in enumerate(queues.get(role) or []):
                    name = entry.get("queue") if isinstance(entry, dict) else None
                    if not isinstance(name, str):
                        continue
                    if "queues" not in ctx.cache:
                        try:
                            page = call(client.queues.list, account_id=account)
                            ctx.cache["queues"] = {q.queue_name for q in page}
                        except ApiError as error:
                            ctx.cache["queues"] = error
                    known = ctx.cache["queues"]
                    path = scope.prefix + ("queues", role, index, "queue")
                    if isinstance(known, ApiError):
                        yield _api_failed(self, ctx, path, f"queue '{name}'", known, scope.env)
                    elif name not in known:
                        yield self.finding(
                            ctx, path, f"Queue '{name}' not found [code: 11000] — create it: wrangler queues create {name}",
                            env=scope.env, value=True,
                        )


class NoRollbackVersion(Rule):
    """The Worker has no earlier deployable version to roll back to.

    *Why* The seed's recovery plan is `wrangler versions deploy` to a previous version; with
    one version (or none) there is nothing to roll back to (`[code: 10222]`).

    *Bad* the first production deploy of a Worker with real traffic behind it.

    *Good* a known-good version already uploaded (e.g. `wrangler versions upload` of the
    current release before deploying the new one).

    *Fix* Upload a known-good version first, or plan a roll-forward instead.
    """

    id = "FB406"
    name = "no-rollback-version"
    severity = Severity.WARNING
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        client, account = ctx.online.client, ctx.online.account_id
        for scope in ctx.scopes():
            name, path = scope.worker_name()
            if not isinstance(name, str):
                continue
            key = ("versions", name)
            if key not in ctx.cache:
                try:
                    page = call(client.workers.scripts.versions.list, name, account_id=account, deployable=True, per_page=10)
                    # First page only: two versions are all we need, and auto-pagination could walk the whole history.
                    ctx.cache[key] = len(page._get_page_items())
                except ApiError as error:
                    ctx.cache[key] = 0 if error.not_found or error.code in (10007, 10090) else error
            count = ctx.cache[key]
            if isinstance(count, ApiError):
                yield _api_failed(self, ctx, path, f"versions of Worker {name}", count, scope.env)
            elif count < 2:
                what = "does not exist yet" if count == 0 else "has only one version"
                yield self.finding(
                    ctx, path, f"Worker {name} {what}: there is no previous version to roll back to",
                    env=scope.env,
                )
