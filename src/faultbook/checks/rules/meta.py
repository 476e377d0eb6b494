"""Rules about faultbook's own input: the config must parse, suppressions must say why."""

from __future__ import annotations

from typing import Iterable

from faultbook.checks.base import Context, Finding, Rule, Severity


class ConfigParseError(Rule):
    """The wrangler config does not parse.

    *Why* wrangler stops at the first syntax error, and so does everything else: no
    other check can run on a file that is not valid TOML/JSON(C).

    *Bad*
    ```toml
    [vars
    ENVIRONMENT = "production"
    ```

    *Good*
    ```toml
    [vars]
    ENVIRONMENT = "production"
    ```

    *Fix* Correct the syntax at the reported line and column. `faultbook check` exits 2.
    """

    id = "FB000"
    name = "config-parse-error"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        return ()  # produced by the loader, reported by the service


class SuppressionWithoutReason(Rule):
    """An inline `faultbook: ignore[...]` comment gives no reason.

    *Why* A suppression silences a check for everyone who reads the file later; without a
    reason nobody can tell whether it is still needed.

    *Bad*
    ```toml
    type = "Images"  # faultbook: ignore[FB101]
    ```

    *Good*
    ```toml
    type = "Images"  # faultbook: ignore[FB101] testing the API's error path on purpose
    ```

    *Fix* Write the reason after the bracket. The suppression still applies meanwhile.
    """

    id = "FB001"
    name = "suppression-without-reason"
    severity = Severity.WARNING

    def check(self, ctx: Context) -> Iterable[Finding]:
        return ()  # produced by suppress.py, which reads the comments
