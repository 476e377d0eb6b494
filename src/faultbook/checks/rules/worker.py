"""The Worker itself: name, compatibility date, entry point, static assets.

Each of these stops ``wrangler deploy`` at a different stage, so in wrangler they
surface one per run; here they are checked together, for every environment.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any, Iterable

from faultbook.checks.base import Context, Finding, Rule, Severity
from faultbook.files import is_dir, is_file

_WORKER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: Workers static assets limits (developers.cloudflare.com/workers/platform/limits/):
#: 25 MiB per file; 20,000 files per version on Workers Free, 100,000 on Paid.
ASSET_FILE_LIMIT = 25 * 1024 * 1024
ASSET_COUNT_FREE = 20_000
ASSET_COUNT_PAID = 100_000
#: wrangler never uploads these from the assets directory.
_ASSET_IGNORED = {".assetsignore", "_headers", "_redirects", "_worker.js", ".DS_Store", ".git", "node_modules", ".wrangler"}


class WorkerNameInvalid(Rule):
    """The Worker name (or `<name>-<env>` for an environment) is missing, too long or has invalid characters.

    *Why* The API rejects the upload (code 10016). An `[env.X]` without its own `name`
    deploys as `<name>-<X>`, so a top-level name that fits can still produce one that
    does not.

    *Bad*
    ```toml
    name = "QuoteViral_API"
    ```

    *Good*
    ```toml
    name = "quoteviral-api"
    ```

    *Fix* Use lowercase letters, digits and hyphens (not at either end), at most 63
    characters including any `-<env>` suffix; give long environments their own `name`.
    """

    id = "FB201"
    name = "worker-name-invalid"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            name, path = scope.worker_name()
            where = f" ({scope.label})" if scope.env else ""
            if name is None:
                if scope.env is None:
                    yield self.finding(ctx, path, f'no Worker "name"{where}: wrangler deploy needs one', env=scope.env)
                continue
            if not isinstance(name, str):
                continue
            problems = []
            if len(name) > 63:
                problems.append(f"is {len(name)} characters long (at most 63)")
            if not _WORKER_NAME.match(name):
                problems.append("may only contain lowercase letters, digits and hyphens, not at either end")
            if problems:
                yield self.finding(
                    ctx, path, f'Worker name "{name}"{where} ' + " and ".join(problems),
                    env=scope.env, value=path != ("name",) or scope.env is None,
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
    """The `main` entry point does not exist (or there is neither `main` nor `assets`).

    *Why* wrangler stops before building: `The entry-point file at "src/worker.ts" was not found.`

    *Bad*
    ```toml
    main = "src/worker.ts"   # the file is src/index.ts
    ```

    *Good*
    ```toml
    main = "src/index.ts"
    ```

    *Fix* Point `main` at the file, relative to the config file's folder.
    """

    id = "FB204"
    name = "entry-point-missing"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            main, path = scope.get("main")
            assets, _ = scope.get("assets")
            if main is None:
                if assets is None and scope.get("site")[0] is None and scope.get("build")[0] is None:
                    yield self.finding(
                        ctx, (), 'no "main" and no "assets": there is nothing to deploy', env=scope.env,
                    )
                continue
            if isinstance(main, str) and not is_file(ctx.directory / main):
                yield self.finding(
                    ctx, path, f'The entry-point file at "{main}" was not found.', env=scope.env, value=True,
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

    *Fix* Build first, or point `directory` at the folder the build writes.
    """

    id = "FB205"
    name = "assets-directory-missing"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            assets, path = scope.get("assets")
            if isinstance(assets, dict) and isinstance(assets.get("directory"), str):
                if not is_dir(ctx.directory / assets["directory"]):
                    yield self.finding(
                        ctx, path + ("directory",),
                        f'The directory specified by the "assets.directory" field in your configuration file '
                        f'does not exist: {assets["directory"]}',
                        env=scope.env, value=True,
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
