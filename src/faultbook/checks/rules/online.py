"""Online rules: does what the config names exist in the account?  The seed's Failure #2.

They run only when ``faultbook check`` is not ``--offline`` and an API token and
account id are configured.  Each resource is looked up once per run (``ctx.cache``)
however many environments bind it.  A missing resource is an error naming it and
the exact command that creates it; for R2 the finding also carries a remote fix
that ``--fix --create-missing`` runs after confirmation.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Iterator

from faultbook.checks.base import Context, Finding, Fix, Rule, Scope, Severity
from faultbook.checks.bindings import iter_bindings, kind_for
from faultbook.cloudflare.api import ApiError, call
from faultbook.cloudflare.config import KeyPath
from faultbook.knowledge.codes import WORKER_MISSING_CODES


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


@dataclass(frozen=True)
class Resource:
    """One account resource a scope names: where, its id or name, and the words its messages use."""

    #: The entry naming it (a "could not check" warning points here) and the id field (a not-found error does).
    path: KeyPath
    field_path: KeyPath
    ident: str
    #: Template values: ``id`` and ``binding`` always, plus the rule's own (``Rule.values``).
    values: dict[str, Any]


class ResourceExistsRule(Rule):
    """Template for "the resource the config names does not exist in the account" (checkov's model).

    A rule declares the binding kind, the entry field holding the id, the SDK
    method that fetches one resource (``ApiError.not_found`` means missing), how
    to name the resource when the API cannot be asked, and the not-found message
    (the API's own error text and code) with the command that creates it.
    Messages are ``str.format`` templates over ``Resource.values``.  Each
    resource is looked up once per run however many environments bind it.
    """

    abstract = True
    severity = Severity.ERROR
    online = True

    #: A key of the bindings table (``bindings.kind_for``): where the entries are.
    kind: ClassVar[str]
    #: The entry field holding the resource's id or name.
    id_field: ClassVar[str]
    #: Attribute path on the Cloudflare client of the "get one" method, e.g. ``"kv.namespaces.get"``.
    sdk_get: ClassVar[str]
    #: How the resource is named in "could not check ..." (template).
    what: ClassVar[str]
    #: The not-found error, starting with the API's message and code (template).
    message: ClassVar[str]
    #: The command that creates the resource (template); available to ``message`` as ``{command}``.
    create: ClassVar[str]

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        for scope in ctx.scopes():
            for resource in self.resources(scope):
                exists, error = self.exists(ctx, resource)
                if exists is None:
                    yield _api_failed(self, ctx, resource.path, self.what.format(**resource.values), error, scope.env)
                elif not exists:
                    values = {**resource.values, "command": self.create.format(**resource.values)}
                    yield self.finding(
                        ctx, resource.field_path, self.message.format(**values),
                        detail=self.detail(ctx, values), fix=self.fix(values), env=scope.env, value=True,
                    )

    def resources(self, scope: Scope) -> Iterator[Resource]:
        """The resources this scope names: one per binding whose id field holds a non-empty string."""
        for binding in iter_bindings(scope, kinds=(kind_for(self.kind),)):
            ident = binding.entry.get(self.id_field)
            if isinstance(ident, str) and ident:
                values = {"id": ident, "binding": binding.name, **self.values(binding.entry, binding.name)}
                yield Resource(binding.path, binding.path + (self.id_field,), ident, values)

    def exists(self, ctx: Context, resource: Resource) -> tuple[bool | None, ApiError | None]:
        """(exists, error): exists None when the API failed for another reason than not-found."""
        get = operator.attrgetter(self.sdk_get)(ctx.online.client)
        kwargs = self.lookup_kwargs(resource)
        key = (self.kind, resource.ident, *sorted(kwargs.items()))
        return _lookup(ctx, key, lambda: call(get, resource.ident, account_id=ctx.online.account_id, **kwargs))

    # Hooks -------------------------------------------------------------------------------
    def values(self, entry: dict[str, Any], binding: Any) -> dict[str, Any]:
        """Extra template values read from the binding's entry."""
        return {}

    def lookup_kwargs(self, resource: Resource) -> dict[str, Any]:
        """Extra keyword arguments of the SDK call (they are part of the cache key too)."""
        return {}

    def detail(self, ctx: Context, values: dict[str, Any]) -> str:
        return ""

    def fix(self, values: dict[str, Any]) -> Fix | None:
        return None


class R2BucketMissing(ResourceExistsRule):
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
    kind, id_field, sdk_get = "r2_buckets", "bucket_name", "r2.buckets.get"
    what = "R2 bucket '{id}'"
    message = "R2 bucket '{id}' not found. Please use a different name and try again. [code: 10085] — create it: {command}"
    create = "wrangler r2 bucket create {id}{jurisdiction_flag}"

    def values(self, entry: dict[str, Any], binding: Any) -> dict[str, Any]:
        jurisdiction = entry.get("jurisdiction")
        flag = f" --jurisdiction {jurisdiction}" if jurisdiction else ""
        return {"jurisdiction": jurisdiction, "jurisdiction_flag": flag}

    def lookup_kwargs(self, resource: Resource) -> dict[str, Any]:
        jurisdiction = resource.values["jurisdiction"]
        return {"cf_r2_jurisdiction": jurisdiction} if jurisdiction else {}

    def detail(self, ctx: Context, values: dict[str, Any]) -> str:
        where = f" (jurisdiction {values['jurisdiction']})" if values["jurisdiction"] else ""
        return (
            f"The bucket does not exist in account {ctx.online.account_id}{where}. wrangler before 4.45 fails the "
            f"deploy with code 10085; later versions create an empty bucket of that name. Create it deliberately:\n"
            f"  {values['command']}"
        )

    def fix(self, values: dict[str, Any]) -> Fix | None:
        action = ("create_r2_bucket", (("name", values["id"]), ("jurisdiction", values["jurisdiction"])))
        return Fix(description=values["command"], action=action)


def _api_failed(rule: Rule, ctx: Context, path: tuple, what: str, error: ApiError | None, env: str | None) -> Finding:
    return rule.finding(ctx, path, f"could not check {what}: {error}", env=env, severity=Severity.WARNING)


class KvNamespaceMissing(ResourceExistsRule):
    """A KV namespace id in the config does not exist in the account.

    *Why* The upload fails with `KV namespace '<id>' not found [code: 10041]`.

    *Bad* an id copied from another account or a deleted namespace.

    *Good* the id printed by `wrangler kv namespace create CACHE` in this account.

    *Fix* `wrangler kv namespace create BINDING` and paste the new id.
    """

    id = "FB403"
    name = "kv-namespace-missing"
    kind, id_field, sdk_get = "kv_namespaces", "id", "kv.namespaces.get"
    what = "KV namespace {id}"
    message = "KV namespace '{id}' (binding {binding}) not found [code: 10041] — create one: {command}"
    create = "wrangler kv namespace create {binding}"


class D1DatabaseMissing(ResourceExistsRule):
    """A D1 database id in the config does not exist in the account.

    *Why* The upload fails with `D1 binding 'DB' references database '<uuid>' which was not found. [code: 10181]`.

    *Bad* a database_id from another account or a deleted database.

    *Good* the id printed by `wrangler d1 create quoteviral-db`.

    *Fix* `wrangler d1 create NAME` and paste the new id.
    """

    id = "FB404"
    name = "d1-database-missing"
    kind, id_field, sdk_get = "d1_databases", "database_id", "d1.database.get"
    what = "D1 database {id}"
    message = "D1 binding '{binding}' references database '{id}' which was not found. [code: 10181] — create one: {command}"
    create = "wrangler d1 create {database_name}"

    def values(self, entry: dict[str, Any], binding: Any) -> dict[str, Any]:
        return {"database_name": entry.get("database_name") or str(binding).lower()}


class QueueMissing(ResourceExistsRule):
    """A queue named by a producer or consumer does not exist in the account.

    *Why* The deploy fails with `Queue '<name>' not found [code: 11000]`.

    *Bad* `queue = "quoteviral-jobs"` before the queue was created.

    *Good* `wrangler queues create quoteviral-jobs` first.

    *Fix* `wrangler queues create NAME`, or correct the name.
    """

    id = "FB405"
    name = "queue-missing"
    kind, id_field, sdk_get = "queues", "queue", "queues.list"
    what = "queue '{id}'"
    message = "Queue '{id}' not found [code: 11000] — create it: {command}"
    create = "wrangler queues create {id}"

    def resources(self, scope: Scope) -> Iterator[Resource]:
        # Producers and consumers both name queues; consumers are no binding, so walk the config directly.
        queues = scope.raw.get("queues")
        if not isinstance(queues, dict):
            return
        for role in ("producers", "consumers"):
            for index, entry in enumerate(queues.get(role) or []):
                name = entry.get("queue") if isinstance(entry, dict) else None
                if isinstance(name, str):
                    path = scope.prefix + ("queues", role, index, "queue")
                    yield Resource(path, path, name, {"id": name, "binding": entry.get("binding")})

    def exists(self, ctx: Context, resource: Resource) -> tuple[bool | None, ApiError | None]:
        # One list call answers for every queue (there is no cheap get-by-name).
        if "queues" not in ctx.cache:
            try:
                page = call(operator.attrgetter(self.sdk_get)(ctx.online.client), account_id=ctx.online.account_id)
                ctx.cache["queues"] = {q.queue_name for q in page}
            except ApiError as error:
                ctx.cache["queues"] = error
        known = ctx.cache["queues"]
        if isinstance(known, ApiError):
            return None, known
        return resource.ident in known, None


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
                    ctx.cache[key] = 0 if error.not_found or error.code in WORKER_MISSING_CODES else error
            count = ctx.cache[key]
            if isinstance(count, ApiError):
                yield _api_failed(self, ctx, path, f"versions of Worker {name}", count, scope.env)
            elif count < 2:
                what = "does not exist yet" if count == 0 else "has only one version"
                yield self.finding(
                    ctx, path, f"Worker {name} {what}: there is no previous version to roll back to",
                    env=scope.env,
                )
