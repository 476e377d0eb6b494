"""The Worker itself: name, compatibility date, entry point, static assets.

Each of these stops ``wrangler deploy`` at a different stage, so in wrangler they
surface one per run; here they are checked together, for every environment.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any, Iterable

from faultbook.checks.base import Context, Finding, Rule, Severity
from faultbook.files import is_dir, is_file

#: wrangler's own check (workers-utils config/validation-helpers.ts ``isValidName``, same in 4.86.0):
#: the empty string passes here and fails later as "You need to provide a name".
_WRANGLER_NAME = re.compile(r"^$|^[a-z0-9_][a-z0-9-_]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: Workers static assets limits (developers.cloudflare.com/workers/platform/limits/):
#: 25 MiB per file; 20,000 files per version on Workers Free, 100,000 on Paid.
ASSET_FILE_LIMIT = 25 * 1024 * 1024
ASSET_COUNT_FREE = 20_000
ASSET_COUNT_PAID = 100_000
#: wrangler never uploads these from the assets directory.
_ASSET_IGNORED = {".assetsignore", "_headers", "_redirects", "_worker.js", ".DS_Store", ".git", "node_modules", ".wrangler"}


class WorkerNameInvalid(Rule):
    """The Worker `name` is missing or breaks wrangler's rule (lowercase letters, digits, `-`, `_`).

    *Why* wrangler refuses the config: `Expected "name" to be of type string, alphanumeric and
    lowercase with dashes only but got "QuoteViral_API".` (its pattern is
    `^[a-z0-9_][a-z0-9-_]*$`), and without a name: `You need to provide a name when publishing a
    worker`. An `[env.X]` without its own `name` deploys as `<name>-<X>`: wrangler does not check
    that derived name, so an upper-case environment name or a name over 63 characters is only a
    warning here (the API may refuse it).

    *Bad*
    ```toml
    name = "QuoteViral API"
    ```

    *Good*
    ```toml
    name = "quoteviral-api"
    ```

    *Fix* Use lowercase letters, digits, hyphens and underscores; give long or upper-case
    environments their own `name`. Pages projects are named by `name` too, and Workers for
    Platforms scripts (`dispatch_namespace`) are not checked.
    """

    id = "FB201"
    name = "worker-name-invalid"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        top = ctx.data.get("name")
        if ctx.env is not None and isinstance(top, str) and top and not _WRANGLER_NAME.match(top):
            # wrangler validates the top-level name whatever -e selects.
            yield self.finding(
                ctx, ("name",), f'Expected "name" to be of type string, alphanumeric and lowercase with dashes '
                f"only but got {json.dumps(top)}.", value=True,
            )
        for scope in ctx.scopes():
            where = f" ({scope.label})" if scope.env else ""
            raw = scope.raw.get("name") if scope.env is not None else ctx.data.get("name")
            raw_path = scope.prefix + ("name",)
            if "name" in scope.raw or scope.env is None:
                if raw is None or raw == "":
                    if scope.env is None and not ctx.config.is_pages:  # Pages: FB208 says it, once
                        yield self.finding(
                            ctx, raw_path, f'no Worker "name"{where}: wrangler deploy needs one',
                            detail="You need to provide a name when publishing a worker.", env=scope.env,
                        )
                    continue
                if not isinstance(raw, str) or not _WRANGLER_NAME.match(raw):
                    yield self.finding(
                        ctx, raw_path,
                        f'Expected "name" to be of type string, alphanumeric and lowercase with dashes only '
                        f'but got {json.dumps(raw)}{where}.',
                        env=scope.env, value=True,
                    )
                    continue
            name, path = scope.worker_name()
            if not isinstance(name, str) or not name:
                continue
            problems = []
            if len(name) > 63:
                problems.append(f"is {len(name)} characters long (the API takes at most 63)")
            if ("name" not in scope.raw and scope.env is not None and isinstance(top, str)
                    and _WRANGLER_NAME.match(top) and not _WRANGLER_NAME.match(name)):
                problems.append(f'gets characters from the environment name "{scope.env}" that wrangler '
                                "would refuse in a name it was given")
            if problems:
                yield self.finding(
                    ctx, path, f'Worker name "{name}"{where} ' + " and ".join(problems),
                    env=scope.env, value=True, severity=Severity.WARNING,
                )


class CompatibilityDateInvalid(Rule):
    """`compatibility_date` is missing or not a YYYY-MM-DD date.

    *Why* wrangler deploy requires it, and refuses a malformed one with
    `"compatibility_date" field should be a valid ISO-8601 date (YYYY-MM-DD)`.

    *Bad*
    ```toml
    compatibility_date = "15/08/2025"
    ```

    *Good*
    ```toml
    compatibility_date = "2025-08-15"
    ```

    *Fix* Set it to the date you last tested the Worker against the runtime.
    """

    id = "FB202"
    name = "compatibility-date-invalid"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            value, path = scope.get("compatibility_date")
            if value is None:
                if not ctx.config.is_pages:  # Pages falls back to the project's dashboard setting
                    yield self.finding(ctx, (), 'no "compatibility_date": wrangler deploy requires one', env=scope.env)
                continue
            if _compatibility_date(value)[1] is None:
                yield self.finding(
                    ctx, path,
                    f'"compatibility_date" field should be a valid ISO-8601 date (YYYY-MM-DD), but got {value!r}.',
                    env=scope.env, value=True,
                )


def _compatibility_date(value: Any) -> tuple[Any, date | None]:
    """(the value as written, the date) — the date None unless it is a valid YYYY-MM-DD.

    TOML reads an unquoted ``2025-08-15`` as a date, JSON only has strings: both are accepted.
    """
    text = value.isoformat() if isinstance(value, date) else value
    if not isinstance(text, str) or not _ISO_DATE.match(text):
        return text, None
    try:
        return text, date.fromisoformat(text)
    except ValueError:
        return text, None


class CompatibilityDateInFuture(Rule):
    """`compatibility_date` is later than today.

    *Why* The API refuses it: `Can't set compatibility date in the future: 2031-01-01 [code: 10021]`.

    *Bad*
    ```toml
    compatibility_date = "2031-01-01"
    ```

    *Good*
    ```toml
    compatibility_date = "2025-08-15"
    ```

    *Fix* Use today's date or earlier.
    """

    id = "FB203"
    name = "compatibility-date-in-future"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            value, path = scope.get("compatibility_date")
            text, parsed = _compatibility_date(value)
            if parsed and parsed > ctx.today:
                yield self.finding(
                    ctx, path, f"Can't set compatibility date in the future: {text} (today is {ctx.today.isoformat()})",
                    env=scope.env, value=True,
                )


class EntryPointMissing(Rule):
    """The `main` entry point does not exist (or there is no `main`, `assets` or `[site]`).

    *Why* wrangler stops before building: `The entry-point file at "src/worker.ts" was not found.`
    or `Missing entry-point to Worker script or to assets directory`.

    *Bad*
    ```toml
    main = "src/worker.ts"   # the file is src/index.ts
    ```

    *Good*
    ```toml
    main = "src/index.ts"
    ```

    *Fix* Point `main` at the file, relative to the config file's folder. A `main` that a
    `[build] command` writes (e.g. `dist/worker.js`) is reported as a warning until built.
    A Pages config (`pages_build_output_dir`) deploys the output folder, not `main`; a legacy
    Workers Sites config takes its script from `[site] entry-point`.
    """

    id = "FB204"
    name = "entry-point-missing"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        if ctx.config.is_pages:
            return  # wrangler pages deploy: the output folder is what deploys (FB208)
        for scope in ctx.scopes():
            main, path = scope.get("main")
            assets, _ = scope.get("assets")
            site, _ = scope.get("site")
            if main is not None and isinstance(site, dict) and "entry-point" in site:
                yield self.finding(
                    ctx, scope.prefix + ("site", "entry-point"),
                    "Don't define both the `main` and `site.entry-point` fields in your configuration.",
                    env=scope.env,
                )
            if main is None and isinstance(site, dict):
                # A Workers Site without `main`: wrangler falls back to `<site.entry-point>/index.js`.
                entry = site.get("entry-point") if isinstance(site.get("entry-point"), str) else "workers-site"
                main, path = f"{entry.rstrip('/')}/index.js", scope.prefix + ("site",)
            if main is None:
                if assets is None:
                    yield self.finding(
                        ctx, (), "Missing entry-point to Worker script or to assets directory: "
                        'no "main" and no "assets", there is nothing to deploy', env=scope.env,
                    )
                continue
            if isinstance(main, str) and not is_file(ctx.directory / main):
                build, _ = scope.get("build")
                built = isinstance(build, dict) and isinstance(build.get("command"), str) and build["command"].strip()
                yield self.finding(
                    ctx, path, f'The entry-point file at "{main}" was not found'
                    + (" (yet: the [build] command may write it)." if built else "."),
                    env=scope.env, value=True, severity=Severity.WARNING if built else None,
                )


class AssetsDirectoryMissing(Rule):
    """`assets.directory` does not exist.

    *Why* wrangler refuses to deploy: `The directory specified by the "assets.directory" field
    in your configuration file does not exist`.

    *Bad*
    ```toml
    [assets]
    directory = "./public"   # the build writes ./dist
    ```

    *Good*
    ```toml
    [assets]
    directory = "./dist"
    ```

    *Fix* Build first, or point `directory` at the folder the build writes. Also reported, in
    wrangler's words: `assets` without `directory`, `assets` together with `[site]`, and an
    assets `binding` on a Worker without `main` (nothing could read it).
    """

    id = "FB205"
    name = "assets-directory-missing"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            assets, path = scope.get("assets")
            if not isinstance(assets, dict):
                continue
            main, _ = scope.get("main")
            site, _ = scope.get("site")
            if site is not None:
                yield self.finding(
                    ctx, path, "Cannot use assets and Workers Sites in the same Worker: remove either the `site` "
                    "or the `assets` field.", env=scope.env,
                )
            if main is None and site is None and assets.get("binding") is not None:
                yield self.finding(
                    ctx, path + ("binding",), "Cannot use assets with a binding in an assets-only Worker: remove "
                    "the asset binding, or give the Worker a script (`main`).", env=scope.env,
                )
            directory = assets.get("directory")
            if directory is None:
                yield self.finding(
                    ctx, path, "The `assets` property in your configuration is missing the required `directory` "
                    "property.", env=scope.env,
                    detail="wrangler deploy refuses this config. The Cloudflare Vite plugin fills in `directory` in "
                    "the config its build writes (.wrangler/deploy/config.json points at it, and faultbook follows "
                    "it): check after `vite build`, or set `directory`.",
                )
                continue
            if isinstance(directory, str) and not is_dir(ctx.directory / directory):
                build, _ = scope.get("build")
                built = isinstance(build, dict) and isinstance(build.get("command"), str) and build["command"].strip()
                yield self.finding(
                    ctx, path + ("directory",),
                    f'The directory specified by the "assets.directory" field in your configuration file '
                    f'does not exist: {directory}' + (" (yet: the [build] command may create it)" if built else ""),
                    env=scope.env, value=True, severity=Severity.WARNING if built else None,
                )


def asset_files(root: Path) -> Iterable[tuple[Path, int]]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _ASSET_IGNORED]
        for file in files:
            if file in _ASSET_IGNORED:
                continue
            full = Path(folder) / file
            try:
                yield full, full.stat().st_size
            except OSError:
                continue


def _asset_dirs(ctx: Context):
    seen = set()
    for scope in ctx.scopes():
        assets, path = scope.get("assets")
        if isinstance(assets, dict) and isinstance(assets.get("directory"), str):
            root = (ctx.directory / assets["directory"]).resolve()
            if is_dir(root) and root not in seen:
                seen.add(root)
                yield scope, root, path + ("directory",)


class AssetFileTooLarge(Rule):
    """A static asset is larger than 25 MiB, the per-file limit for Workers static assets.

    *Why* The asset upload fails for that file (limit documented at
    developers.cloudflare.com/workers/platform/limits/: "Individual Static Asset file size 25 MiB").
    The seed's Potential Failure #2 ("File size limit exceeded").

    *Bad* a 40 MiB video in `public/`.

    *Good* large media in R2 (bound with `[[r2_buckets]]`) or Stream, small files in assets.

    *Fix* Move the file to R2 and serve it from the Worker, or compress/split it.
    """

    id = "FB206"
    name = "asset-file-too-large"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope, root, path in _asset_dirs(ctx):
            for file, size in asset_files(root):
                if size > ASSET_FILE_LIMIT:
                    yield self.finding(
                        ctx, path,
                        f"asset {file.relative_to(root)} is {size / 1024 / 1024:.1f} MiB; the limit is 25 MiB per file",
                        env=scope.env, value=True,
                    )


class TooManyAssetFiles(Rule):
    """The assets directory holds more files than a Worker version may have (20,000 free, 100,000 paid).

    *Why* The upload is refused when the count exceeds the plan's limit
    (developers.cloudflare.com/workers/platform/limits/: "Number of Static Asset files per
    Worker version 20,000 | 100,000").

    *Bad* a build output with 30,000 generated pages on Workers Free.

    *Good* fewer, larger bundles; or generated pages served by the Worker from R2.

    *Fix* Reduce the file count, or move to Workers Paid (100,000). Error above 100,000.
    """

    id = "FB207"
    name = "too-many-asset-files"
    severity = Severity.WARNING

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope, root, path in _asset_dirs(ctx):
            count = sum(1 for _ in asset_files(root))
            if count > ASSET_COUNT_FREE:
                over_paid = count > ASSET_COUNT_PAID
                yield self.finding(
                    ctx, path,
                    f"{count} asset files: more than {'100,000 (any plan)' if over_paid else '20,000 (Workers Free)'}",
                    env=scope.env, value=True, severity=Severity.ERROR if over_paid else None,
                )


#: Keys a Pages config may set (wrangler 4.86.0, workers-utils config/validation-pages.ts).
PAGES_FIELDS = frozenset({
    "pages_build_output_dir", "name", "compatibility_date", "compatibility_flags", "send_metrics", "no_bundle",
    "limits", "placement", "vars", "durable_objects", "kv_namespaces", "queues", "r2_buckets", "d1_databases",
    "vectorize", "hyperdrive", "services", "analytics_engine_datasets", "ai", "version_metadata", "dev",
    "mtls_certificates", "browser", "upload_source_maps", "env", "$schema",
    # wrangler 4.86.0 does not flag these either (normalised away or defaulted):
    "observability",
})
PAGES_ENVS = ("preview", "production")


def _wrangler_keys() -> frozenset[str]:
    from faultbook.checks.rules.schema import SHIPPED_SCHEMA
    import json

    try:
        schema = json.loads(SHIPPED_SCHEMA.read_text(encoding="utf-8"))
        return frozenset(schema["definitions"]["RawConfig"]["properties"])
    except (OSError, ValueError, KeyError):
        return frozenset()


class PagesConfigInvalid(Rule):
    """A Pages config (`pages_build_output_dir`) that `wrangler pages deploy` refuses.

    *Why* Pages reads only a subset of the Workers keys and validates it before uploading:
    `Configuration file for Pages projects does not support "triggers"`, `Configuration file
    cannot contain both both "main" and "pages_build_output_dir"`, `Missing top-level field
    "name"`, environments other than `preview` and `production`, and Durable Object bindings
    without `script_name`. (A Pages config is not for `wrangler deploy`, so no entry point is
    expected.)

    *Bad*
    ```toml
    name = "site"
    pages_build_output_dir = "dist"
    [triggers]
    crons = ["0 * * * *"]
    ```

    *Good*
    ```toml
    name = "site"
    pages_build_output_dir = "dist"
    ```

    *Fix* Move Workers-only settings to a separate Worker, rename environments to
    `preview`/`production`, give Durable Object bindings the `script_name` of the Worker
    that defines the class.
    """

    id = "FB208"
    name = "pages-config-invalid"
    severity = Severity.ERROR

    def applies(self, ctx: Context) -> bool:
        return ctx.config.is_pages

    def check(self, ctx: Context) -> Iterable[Finding]:
        data = ctx.data
        if "main" in data:
            yield self.finding(
                ctx, ("main",), 'Configuration file cannot contain both both "main" and "pages_build_output_dir" '
                "configuration keys.",
            )
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            yield self.finding(ctx, ("pages_build_output_dir",), 'Missing top-level field "name" in configuration file.')
        known = _wrangler_keys()
        for key, value in data.items():
            if key in PAGES_FIELDS or key == "main" or key not in known or value in (None, [], {}, "", False):
                continue
            if key == "queues" and isinstance(value, dict) and not value.get("consumers"):
                continue
            yield self.finding(ctx, (key,), f'Configuration file for Pages projects does not support "{key}"')
        queues = data.get("queues")
        if isinstance(queues, dict) and queues.get("consumers"):
            yield self.finding(ctx, ("queues", "consumers"),
                               'Configuration file for Pages projects does not support "queues.consumers"')
        for env_name in ctx.envs():
            if env_name not in PAGES_ENVS:
                yield self.finding(
                    ctx, ("env", env_name),
                    f'environment "{env_name}" is not supported by Pages projects: the supported named '
                    'environments for Pages are "preview" and "production".', env=env_name,
                )
        for scope in ctx.scopes():
            durable = scope.raw.get("durable_objects")
            bindings = durable.get("bindings") if isinstance(durable, dict) else None
            for index, binding in enumerate(bindings if isinstance(bindings, list) else []):
                if isinstance(binding, dict) and not isinstance(binding.get("script_name"), str):
                    yield self.finding(
                        ctx, scope.prefix + ("durable_objects", "bindings", index),
                        'Durable Objects bindings should specify a "script_name": Pages requires the name of '
                        "the Worker where the Durable Object is defined.", env=scope.env,
                    )
