"""Routes and custom domains: what wrangler and the API refuse, and routes an environment takes by accident.

Sources: wrangler 4.86 ``validateRoutes`` (deploy/deploy.ts: "Wildcard operators (*)
are not allowed in Custom Domains", "Paths are not allowed in Custom Domains" — it
refuses the deploy), ``isMutuallyExclusiveWith(rawEnv, "route")`` (config validation:
"Expected exactly one of the following fields ["routes","route"]"), ``getZoneForRoute``
(a route host with no zone fails with "Could not find zone for ..."), and Cloudflare's
route-pattern rules (developers.cloudflare.com/workers/configuration/routing/routes/:
only a leading ``*`` in the host and a trailing ``*`` in the path, no query string,
optional ``http://``/``https://``).

``route``/``routes`` are inherited by environments (wrangler's ``inheritable``), so an
``[env.staging]`` without its own routes deploys the staging Worker onto production's
routes: wrangler then refuses ("Can't deploy routes that are assigned to another
worker") or, for custom domains in CI, silently moves the domain to the staging Worker.
The object *shape* of a route (``zone_id`` with ``zone_name`` ...) is the schema rule's
job (FB301), not repeated here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from faultbook.checks.base import Context, Finding, Rule, Scope, Severity
from faultbook.checks.rules.durable_objects import is_pages
from faultbook.cloudflare.config import KeyPath


#: An environment named like this is taken to be the owner of the top level's routes: many projects
#: keep production's routes at the top level and only ever deploy `-e production`.
_PRODUCTION = re.compile(r"^(?:prod|production|live|main|master)$", re.IGNORECASE)


@dataclass(frozen=True)
class Route:
    pattern: str
    custom_domain: bool
    #: Where the pattern is written (the string itself, or the object's "pattern").
    path: KeyPath
    inherited: bool
    has_zone: bool


def iter_routes(scope: Scope) -> Iterator[Route]:
    """The routes this scope deploys with (its own, or the top level's when it has none)."""
    for key in ("routes", "route"):
        value, path = scope.get(key)
        if value is None or value == "":
            continue
        inherited = scope.env is not None and key not in scope.raw
        items = list(enumerate(value)) if key == "routes" and isinstance(value, list) else [(None, value)]
        for index, item in items:
            at = path if index is None else path + (index,)
            if isinstance(item, str):
                yield Route(item, False, at, inherited, False)
            elif isinstance(item, dict) and isinstance(item.get("pattern"), str):
                yield Route(
                    item["pattern"], item.get("custom_domain") is True, at + ("pattern",), inherited,
                    "zone_id" in item or "zone_name" in item,
                )
        if key == "routes" and value is not None:
            return  # wrangler uses `routes` when both are present (and refuses the config: FB221)


class CustomDomainWithPath(Rule):
    """A custom-domain route (`custom_domain = true`) has a path or a wildcard.

    *Why* wrangler refuses the deploy: `Invalid Routes: shop.example.com/*: Wildcard
    operators (*) are not allowed in Custom Domains` / `Paths are not allowed in Custom
    Domains`. A Custom Domain is a whole hostname; paths need a zone route instead.

    *Bad*
    ```toml
    routes = [{ pattern = "shop.example.com/*", custom_domain = true }]
    ```

    *Good*
    ```toml
    routes = [{ pattern = "shop.example.com", custom_domain = true }]
    ```

    *Fix* Use the bare hostname for a Custom Domain, or drop `custom_domain` and give a
    `zone_name` to make it a route with a path.
    """

    id = "FB220"
    name = "custom-domain-with-path"
    severity = Severity.ERROR

    def applies(self, ctx: Context) -> bool:
        return not is_pages(ctx)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            for route in iter_routes(scope):
                if not route.custom_domain:
                    continue
                problems = []
                if "*" in route.pattern:
                    problems.append("Wildcard operators (*) are not allowed in Custom Domains")
                if "/" in route.pattern:
                    problems.append("Paths are not allowed in Custom Domains")
                if problems:
                    host = route.pattern.split("://")[-1].split("/")[0].lstrip("*.")
                    yield self.finding(
                        ctx, route.path, f"Invalid Routes: {route.pattern}: " + "; ".join(problems),
                        detail=f'Use pattern = "{host}" for the Custom Domain.', env=scope.env, value=True,
                    )


def pattern_problems(pattern: str, has_zone: bool = False) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a zone route pattern, after Cloudflare's route-pattern rules.

    ``has_zone``: the route names its zone (``zone_id``/``zone_name``), so a host-less pattern is not judged."""
    errors: list[str] = []
    warnings: list[str] = []
    rest = pattern.strip()
    if rest != pattern:
        errors.append("has spaces around it")
    if "://" in rest:
        scheme, rest = rest.split("://", 1)
        if scheme.lower() not in ("http", "https"):
            errors.append(f'has the scheme "{scheme}://" (only http:// or https:// may begin a route)')
    if "?" in rest:
        errors.append("has a query string (route patterns may not contain query parameters)")
    host, slash, path = rest.partition("/")
    bare_host = host[1:] if host.startswith("*") else host
    bare_host = bare_host[1:] if bare_host.startswith(".") else bare_host
    if "*" in bare_host or ("*" in path[:-1] if path else False):
        errors.append("has a wildcard in the middle (only a leading * in the host and a trailing * in the path)")
    hostname = bare_host.split(":")[0].lower()
    if (not hostname or "." not in hostname.strip(".")) and not has_zone:
        errors.append(f'has no zone hostname ("{host or pattern}"): a route must include your zone, e.g. example.com/*')
    elif hostname.endswith("workers.dev"):
        errors.append("is on workers.dev, which is not a zone of yours: use workers_dev = true instead of a route")
    if not slash and not errors:
        warnings.append(f'has no path, so it matches only {pattern}/ — use "{pattern}/*" for the whole host')
    return errors, warnings


class RoutePatternInvalid(Rule):
    """A route pattern is one Cloudflare refuses (infix wildcard, query string, no zone, workers.dev), or both `route` and `routes` are set.

    *Why* wrangler refuses `route` with `routes` (`Expected exactly one of the following
    fields ["routes","route"]`); the routes API refuses an invalid pattern, and a pattern
    without a zone host fails with `Could not find zone for ...` — after the upload, so
    the new code is live without its routes. A pattern without a path (`example.com`)
    matches only `/` and is a warning.

    *Bad*
    ```toml
    routes = ["example.com/*.jpg", "api.example.com/v1?key=*"]
    ```

    *Good*
    ```toml
    routes = [{ pattern = "example.com/images/*", zone_name = "example.com" }]
    ```

    *Fix* Only a leading `*` in the host and a trailing `*` in the path; no query string;
    filter the rest inside the Worker.
    """

    id = "FB221"
    name = "route-pattern-invalid"
    severity = Severity.ERROR

    def applies(self, ctx: Context) -> bool:
        return not is_pages(ctx)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            if "route" in scope.raw and "routes" in scope.raw and scope.raw["route"] not in (None, ""):
                yield self.finding(
                    ctx, scope.prefix + ("route",),
                    'Expected exactly one of the following fields ["routes","route"].',
                    detail="wrangler refuses a table with both: move the route into `routes`.", env=scope.env,
                )
            for route in iter_routes(scope):
                if route.custom_domain:
                    continue  # FB220
                errors, warnings = pattern_problems(route.pattern, route.has_zone)
                for text, severity in [(e, Severity.ERROR) for e in errors] + [(w, Severity.WARNING) for w in warnings]:
                    yield self.finding(
                        ctx, route.path, f'route "{route.pattern}" {text}', env=scope.env, value=True, severity=severity,
                    )


class EnvironmentInheritsRoutes(Rule):
    """An `[env.X]` deploys onto the top level's routes or custom domains, because routes are inherited.

    *Why* `route`/`routes` are inheritable: `wrangler deploy -e staging` without its own
    routes deploys `myapp-staging` onto production's routes. An env with its own `route`
    (singular) under a top-level `routes` gets both, and wrangler 4.86 uses `routes`
    first (`props.routes ?? config.routes ?? [config.route]`): its own route is ignored.
    Deployed that way, wrangler refuses (`Can't deploy routes that are assigned to another
    worker`) — or, for a Custom Domain in CI, moves the domain to the staging Worker,
    taking production offline for that host.

    *Bad*
    ```toml
    name = "shop"
    routes = [{ pattern = "shop.example.com", custom_domain = true }]

    [env.staging]
    vars = { STAGE = "staging" }
    ```

    *Good*
    ```toml
    [env.staging]
    routes = [{ pattern = "staging.shop.example.com", custom_domain = true }]
    # or: workers_dev = true and routes = []
    ```

    *Fix* Give each environment its own `routes` (an empty list `routes = []` with
    `workers_dev = true` for one reached on workers.dev). An environment named
    `production` (or `prod`, `live`) inheriting the routes is taken as intended.
    """

    id = "FB222"
    name = "environment-inherits-routes"
    severity = Severity.WARNING

    def applies(self, ctx: Context) -> bool:
        return not is_pages(ctx)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            if scope.env is None:
                continue
            own_name = scope.raw.get("name")
            top_name = scope.top.get("name")
            if isinstance(own_name, str) and own_name == top_name:
                continue  # the same Worker on purpose: same routes are expected
            routes = [r for r in iter_routes(scope) if r.inherited]
            own_route = scope.raw.get("route") not in (None, "")
            if routes and (own_route or not _PRODUCTION.match(scope.env)):
                what = ", ".join(r.pattern for r in routes[:3]) + (" ..." if len(routes) > 3 else "")
                summary = (
                    f'env "{scope.env}" has its own "route", but wrangler deploys it with the top level\'s "routes" '
                    f"(routes wins over route, and routes is inherited): {what}"
                    if own_route else
                    f'env "{scope.env}" has no routes of its own, so it deploys onto the top level\'s: {what}'
                )
                yield self.finding(
                    ctx, ("env", scope.env) if not own_route else ("env", scope.env, "route"),
                    summary,
                    detail='"route" and "routes" are inherited by environments: deploying it takes these routes '
                    "(or custom domains) from the top-level Worker. Give the environment its own `routes`.",
                    env=scope.env,
                )
