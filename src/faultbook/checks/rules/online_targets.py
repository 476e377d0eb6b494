"""Online rules about what this deploy would *change* on the live Worker and its hostnames.

The resource rules (online.py) ask "does it exist?"; these ask "what does the account
look like now, and what would ``wrangler deploy`` do to it?" — the failures a dry run
cannot see because they depend on state outside the repository:

- required secrets not set on the target Worker (wrangler refuses: "The following
  required secrets have not been set", or the API answers 10057 on an existing Worker);
- variables set in the dashboard that the deploy removes (wrangler replaces the
  Worker's bindings with the config's unless ``keep_vars = true``);
- a Custom Domain attached to another Worker, or a hostname with a DNS record the Custom
  Domain would replace (wrangler overrides both without asking when not on a TTY);
- a route pattern already assigned to another Worker (wrangler refuses: "Can't deploy
  routes that are assigned to another worker");
- a live Durable Object migration tag the config no longer lists (wrangler re-sends every
  step, and the API refuses the first that creates an existing class).

Severities follow wrangler: error where the deploy stops, warning where it goes through
but changes something outside this Worker.  Each API answer is cached per run.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from faultbook.checks.base import Context, Finding, Rule, Scope, Severity
from faultbook.checks.rules.online import _api_failed, _api_usable
from faultbook.checks.rules.routes import iter_routes
from faultbook.cloudflare.api import ApiError, call

#: Files wrangler's templates ship to name the secrets a Worker needs (``wrangler types`` reads .dev.vars/.env).
EXAMPLE_FILES = (".dev.vars.example", ".env.example")
_DNS_TYPES = {"A", "AAAA", "CNAME"}


def _cached(ctx: Context, key: tuple, fetch: Callable[[], Any]) -> Any:
    """The answer (or the ApiError) for ``key``, fetched once per run."""
    if key not in ctx.cache:
        try:
            ctx.cache[key] = fetch()
        except ApiError as error:
            ctx.cache[key] = error
    return ctx.cache[key]


def _items(page: Any) -> list[Any]:
    getter = getattr(page, "_get_page_items", None)
    return list(getter()) if getter else list(page or [])


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _worker_missing(error: ApiError) -> bool:
    return error.not_found or error.code in (10007, 10090)


def example_secret_names(ctx: Context) -> list[str]:
    """Names in .dev.vars.example / .env.example beside the config (KEY=value lines)."""
    names: list[str] = []
    for file_name in EXAMPLE_FILES:
        path = ctx.directory / file_name
        try:
            text = path.read_text(encoding="utf-8-sig", errors="replace")
        except OSError:
            continue
        for line in text.splitlines()[:500]:
            line = line.strip()
            if line.startswith("export "):
                line = line[7:].strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            name = line.split("=", 1)[0].strip()
            if name.replace("_", "").isalnum() and name not in names:
                names.append(name)
    return names


class RequiredSecretMissing(Rule):
    """A secret the Worker requires is not set on the target environment's Worker.

    *Why* With `secrets.required`, wrangler refuses the deploy: `The following required
    secrets have not been set: STRIPE_KEY. Use wrangler secret put <NAME> to set secrets
    before deploying.` (on an existing Worker the API answers `inherit binding 'STRIPE_KEY'
    is invalid [code: 10057]`). Names listed only in `.dev.vars.example`/`.env.example`
    are not enforced by wrangler: the Worker deploys and fails at run time — a warning.

    *Bad* `secrets.required = ["STRIPE_KEY"]` and a new `[env.staging]` whose Worker
    (`shop-staging`) never had `wrangler secret put STRIPE_KEY -e staging`.

    *Good* every required secret set on every environment's Worker before its first deploy.

    *Fix* `wrangler secret put NAME -e ENV` for each name in the finding.
    """

    id = "FB420"
    name = "required-secret-missing"
    severity = Severity.ERROR
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        examples = example_secret_names(ctx)
        for scope in ctx.scopes():
            name, name_path = scope.worker_name()
            if not isinstance(name, str):
                continue
            secrets = scope.raw.get("secrets")
            required = secrets.get("required") if isinstance(secrets, dict) else None
            enforced = isinstance(required, list)
            if enforced:
                wanted = [(n, scope.prefix + ("secrets", "required", i)) for i, n in enumerate(required) if isinstance(n, str)]
            else:
                plain = scope.raw.get("vars") if isinstance(scope.raw.get("vars"), dict) else {}
                wanted = [(n, name_path) for n in examples if n not in plain]
            if not wanted:
                continue
            answer = _cached(ctx, ("secrets", name), lambda: {
                _field(s, "name") for s in _items(call(
                    ctx.online.client.workers.scripts.secrets.list, name, account_id=ctx.online.account_id))
            })
            if isinstance(answer, ApiError):
                if not _worker_missing(answer):
                    yield _api_failed(self, ctx, name_path, f"the secrets of Worker {name}", answer, scope.env)
                    continue
                answer, exists = set(), False
            else:
                exists = True
            missing = [(n, path) for n, path in wanted if n not in answer]
            if not missing:
                continue
            flag = f" -e {scope.env}" if scope.env else ""
            where = "does not exist yet" if not exists else "lacks them"
            if enforced:
                for secret, path in missing:
                    yield self.finding(
                        ctx, path,
                        f"The following required secrets have not been set: {secret} (Worker {name} {where}) — "
                        f"wrangler secret put {secret}{flag}",
                        env=scope.env, value=True,
                    )
            else:
                names = ", ".join(n for n, _ in missing)
                yield self.finding(
                    ctx, name_path,
                    f"secrets named in {'/'.join(f for f in EXAMPLE_FILES if (ctx.directory / f).is_file())} are not set "
                    f"on Worker {name}: {names} — wrangler secret put NAME{flag}",
                    detail="wrangler does not enforce these (list them in secrets.required to make it refuse the "
                    "deploy); the Worker will run without them.",
                    env=scope.env, severity=Severity.WARNING,
                )


class DashboardVarsWiped(Rule):
    """The live Worker has variables this config does not set: the deploy removes them (no `keep_vars`).

    *Why* `wrangler deploy` replaces the Worker's bindings with the config's: a variable
    added in the dashboard (or removed from the config since) disappears, and the code
    reading it gets `undefined`. wrangler prints no warning.

    *Bad* `FEATURE_FLAG` set in the dashboard on `shop`, not in `[vars]`.

    *Good* every variable in `[vars]` (per environment), or `keep_vars = true` when the
    dashboard is where they are managed.

    *Fix* Copy the variable into `[vars]`, or set `keep_vars = true`.
    """

    id = "FB421"
    name = "dashboard-vars-wiped"
    severity = Severity.WARNING
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        for scope in ctx.scopes():
            keep, _ = scope.get("keep_vars")
            name, name_path = scope.worker_name()
            if keep is True or not isinstance(name, str):
                continue
            answer = _cached(ctx, ("settings", name), lambda: call(
                ctx.online.client.workers.scripts.script_and_version_settings.get, name,
                account_id=ctx.online.account_id))
            if isinstance(answer, ApiError):
                if not _worker_missing(answer):
                    yield _api_failed(self, ctx, name_path, f"the settings of Worker {name}", answer, scope.env)
                continue
            config_vars = scope.raw.get("vars") if isinstance(scope.raw.get("vars"), dict) else {}
            live = [
                _field(b, "name") for b in (_field(answer, "bindings") or [])
                if _field(b, "type") in ("plain_text", "json")
            ]
            gone = [v for v in live if isinstance(v, str) and v not in config_vars]
            if gone:
                path = scope.prefix + ("vars",) if "vars" in scope.raw else name_path
                yield self.finding(
                    ctx, path,
                    f"Worker {name} has variables this config does not set, and this deploy removes them: "
                    + ", ".join(gone),
                    detail="They were set in the dashboard (or removed from the config since). Add them to vars, "
                    "or set keep_vars = true to keep the dashboard's.",
                    env=scope.env,
                )


def _route_host(pattern: str) -> str:
    host = pattern.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host.lstrip("*").lstrip(".").lower()


def _zone_for(ctx: Context, scope_route: Any, host: str) -> Any:
    """The zone id for a route: its zone_id, its zone_name, or the longest suffix of the host that is a zone."""
    entry = scope_route
    if isinstance(entry, dict) and isinstance(entry.get("zone_id"), str):
        return entry["zone_id"]
    candidates = [entry["zone_name"]] if isinstance(entry, dict) and isinstance(entry.get("zone_name"), str) else []
    labels = host.split(".")
    candidates += [".".join(labels[i:]) for i in range(len(labels) - 1)]
    for candidate in candidates:
        answer = _cached(ctx, ("zone", candidate), lambda: [
            _field(z, "id") for z in _items(call(ctx.online.client.zones.list, name=candidate))
        ])
        if isinstance(answer, ApiError):
            return answer
        if answer:
            return answer[0]
    return None


def _route_entry(ctx: Context, route_path: tuple) -> Any:
    node: Any = ctx.data
    for part in route_path[:-1] if route_path[-1] == "pattern" else route_path:
        node = node[part]
    return node


class CustomDomainTaken(Rule):
    """A Custom Domain is attached to another Worker, or its hostname has a DNS record the deploy would replace.

    *Why* wrangler asks before taking over a hostname — but only on a terminal: in CI it
    sets `override_existing_origin` and `override_existing_dns_record` and moves the domain
    silently. The other Worker (often production, from a staging deploy) stops serving
    that hostname; an existing A/CNAME record (a website, a mail host) is replaced.

    *Bad* `routes = [{ pattern = "shop.example.com", custom_domain = true }]` in
    `[env.staging]` copied from production.

    *Good* each environment on its own hostname; the old DNS record removed on purpose.

    *Fix* Use another hostname, or detach it from the other Worker / delete the DNS record
    deliberately first.
    """

    id = "FB422"
    name = "custom-domain-taken"
    severity = Severity.WARNING
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        client, account = ctx.online.client, ctx.online.account_id
        for scope in ctx.scopes():
            name, _ = scope.worker_name()
            for route in iter_routes(scope):
                if not route.custom_domain or "/" in route.pattern or "*" in route.pattern:
                    continue
                host = route.pattern.lower()
                domains = _cached(ctx, ("domains", host), lambda: [
                    (_field(d, "service"), _field(d, "hostname"))
                    for d in _items(call(client.workers.domains.list, account_id=account, hostname=host))
                ])
                if isinstance(domains, ApiError):
                    yield _api_failed(self, ctx, route.path, f"Custom Domain {host}", domains, scope.env)
                    continue
                owners = [service for service, hostname in domains if (hostname or "").lower() == host]
                others = [o for o in owners if o != name]
                if others:
                    yield self.finding(
                        ctx, route.path,
                        f'Custom Domain {host} is attached to Worker "{others[0]}": deploying {name} moves it '
                        "(wrangler overrides it without asking when not on a terminal)",
                        env=scope.env, value=True,
                    )
                    continue
                if owners:
                    continue  # already ours: its DNS record is the Custom Domain's own
                zone = _zone_for(ctx, _route_entry(ctx, route.path), host)
                if isinstance(zone, ApiError):
                    yield _api_failed(self, ctx, route.path, f"the zone of {host}", zone, scope.env)
                    continue
                if zone is None:
                    continue
                records = _cached(ctx, ("dns", zone, host), lambda: [
                    (_field(r, "type"), _field(r, "content"))
                    for r in _items(call(client.dns.records.list, zone_id=zone, name=host))
                ])
                if isinstance(records, ApiError):
                    yield _api_failed(self, ctx, route.path, f"the DNS records of {host}", records, scope.env)
                    continue
                clashing = [(t, c) for t, c in records if t in _DNS_TYPES]
                if clashing:
                    kind, content = clashing[0]
                    yield self.finding(
                        ctx, route.path,
                        f"{host} already has a DNS record ({kind} {content}): the Custom Domain replaces it "
                        "(wrangler overrides existing DNS records without asking when not on a terminal)",
                        env=scope.env, value=True,
                    )


class RouteOwnedByAnotherWorker(Rule):
    """A route pattern is already assigned to another Worker.

    *Why* wrangler refuses: `Can't deploy routes that are assigned to another worker.
    "shop" is already assigned to routes: - shop.example.com/*` (or the routes API refuses
    the pattern) — after the new code was uploaded.

    *Bad* `[env.staging]` with production's `routes`, or two Workers on `example.com/*`.

    *Good* one Worker per pattern; a more specific pattern (`example.com/api/*`) for the other.

    *Fix* Unassign the route from the other Worker (dashboard → Workers Routes), or use
    another pattern.
    """

    id = "FB423"
    name = "route-owned-by-another-worker"
    severity = Severity.ERROR
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        client = ctx.online.client
        for scope in ctx.scopes():
            name, _ = scope.worker_name()
            for route in iter_routes(scope):
                if route.custom_domain:
                    continue
                host = _route_host(route.pattern)
                if "." not in host:
                    continue
                zone = _zone_for(ctx, _route_entry(ctx, route.path), host)
                if isinstance(zone, ApiError):
                    yield _api_failed(self, ctx, route.path, f"the zone of {route.pattern}", zone, scope.env)
                    continue
                if zone is None:
                    continue
                assigned = _cached(ctx, ("routes", zone), lambda: [
                    (_field(r, "pattern"), _field(r, "script"))
                    for r in _items(call(client.workers.routes.list, zone_id=zone))
                ])
                if isinstance(assigned, ApiError):
                    yield _api_failed(self, ctx, route.path, f"the routes of zone {zone}", assigned, scope.env)
                    continue
                owners = [script for pattern, script in assigned if pattern == route.pattern and script and script != name]
                if owners:
                    yield self.finding(
                        ctx, route.path,
                        f"Can't deploy routes that are assigned to another worker. \"{owners[0]}\" is already assigned "
                        f"to routes: {route.pattern}",
                        detail="Unassign the other Worker from the route (dashboard → Workers Routes), or use another "
                        "pattern.",
                        env=scope.env, value=True,
                    )


class MigrationTagUnknown(Rule):
    """The live Worker is at a Durable Object migration tag the config no longer lists.

    *Why* wrangler looks the Worker's `migration_tag` up in `migrations` and, when it is
    missing, warns and sends every step again: `The published script shop has a migration
    tag "v3", which was not found in your wrangler.toml file. You may have already deleted
    it. Applying all available migrations to the script...` — the API then refuses the
    first step that creates a class the Worker already has. It happens after migrations
    were squashed, edited or renamed.

    *Bad* `[[migrations]] tag = "v1"` only, while the live Worker is at `v3`.

    *Good* the applied steps kept as they were, new steps appended with new tags.

    *Fix* Restore the removed steps (at least up to the live tag), or add the live tag back.
    """

    id = "FB424"
    name = "migration-tag-unknown"
    severity = Severity.WARNING
    online = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _api_usable(ctx):
            return
        seen: set[tuple] = set()
        for scope in ctx.scopes():
            migrations, path = scope.get("migrations")
            name, name_path = scope.worker_name()
            if not isinstance(migrations, list) or not migrations or not isinstance(name, str):
                continue
            tags = [m.get("tag") for m in migrations if isinstance(m, dict)]
            answer = _cached(ctx, ("scripts",), lambda: {
                _field(s, "id"): _field(s, "migration_tag")
                for s in _items(call(ctx.online.client.workers.scripts.list, account_id=ctx.online.account_id))
            })
            if isinstance(answer, ApiError):
                if ("scripts-failed",) not in seen:
                    seen.add(("scripts-failed",))
                    yield _api_failed(self, ctx, path, "the Workers' migration tags", answer, scope.env)
                continue
            live = answer.get(name)
            if live and live not in tags:
                yield self.finding(
                    ctx, path,
                    f'The published script {name} has a migration tag "{live}", which was not found in your '
                    f"{ctx.config.path.name} file: wrangler will apply all migrations again, and the API refuses "
                    "a step that creates a class the Worker already has",
                    env=scope.env,
                )
