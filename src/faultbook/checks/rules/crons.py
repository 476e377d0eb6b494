"""Cron Triggers: expressions the Workers schedules API refuses.

wrangler checks only that ``triggers.crons`` is an array; the expression is judged by
``PUT .../schedules`` *after* the Worker was uploaded, so a bad cron leaves the new code
live without its schedule ("Trigger configuration ... was only partially updated",
``invalid cron string [code: 10100]``).  The grammar follows Cloudflare's documented
syntax (developers.cloudflare.com/workers/configuration/cron-triggers/#supported-cron-expressions):
five fields; minute 0-59, hour 0-23, day of month 1-31 with ``L`` and ``W``, month 1-12
or JAN-DEC, weekday 1-7 (1 = Sunday) or SUN-SAT with ``L`` and ``#``; ``* , - /``
everywhere; names are case-insensitive.  Weekday ``0`` is refused (workers-sdk#8923:
``0 22 * * 0`` → 10100).  An entry that is not a string (``{ cron = "..." }``) makes the
API answer ``Could not parse request body [code: 10026]``.  Quartz's ``?`` is not in the
documented syntax: a warning, not an error.
"""

from __future__ import annotations

import re
from typing import Iterable

from faultbook.checks.base import Context, Finding, Rule, Severity

_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
#: (name, low, high, names, special characters allowed)
_FIELDS = (
    ("minute", 0, 59, {}, ""),
    ("hour", 0, 23, {}, ""),
    ("day of month", 1, 31, {}, "LW"),
    ("month", 1, 12, _MONTHS, ""),
    ("day of week", 1, 7, _DAYS, "L#"),
)


class _Bad(Exception):
    pass


def _value(text: str, low: int, high: int, names: dict[str, int], field: str) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise _Bad(f'"{text}" is not a valid {field}')
    number = int(text)
    if not low <= number <= high:
        hint = " (weekdays are 1-7, Sunday is 1, not 0)" if field == "day of week" and number == 0 else ""
        raise _Bad(f"{field} {number} is out of range {low}-{high}{hint}")
    return number


def _item(item: str, index: int) -> str | None:
    """Validate one comma-separated item of field ``index``; returns a warning or None; raises _Bad."""
    field, low, high, names, special = _FIELDS[index]
    upper = item.upper()
    if item == "?":
        if index in (2, 4):
            return '"?" is Quartz syntax Cloudflare does not document: use "*"'
        raise _Bad(f'"?" is not allowed in the {field} field')
    if index == 2 and "L" in special:
        if upper in ("L", "LW") or re.fullmatch(r"L-\d{1,2}", upper):
            return None
        if upper.endswith("W") and upper[:-1].isdigit():
            _value(upper[:-1], low, high, names, field)
            return None
    if index == 4:
        if "#" in item:
            day, _, nth = item.partition("#")
            _value(day, low, high, names, field)
            if not (nth.isdigit() and 1 <= int(nth) <= 5):
                raise _Bad(f'"{item}": the week after # must be 1-5')
            return None
        if upper == "L":
            return None
        if upper.endswith("L") and len(upper) > 1:
            _value(item[:-1], low, high, names, field)
            return None
    base, slash, step = item.partition("/")
    if slash:
        if not (step.isdigit() and int(step) > 0):
            raise _Bad(f'"{item}": the step after / must be a positive number')
    if base == "*":
        return None
    start, dash, end = base.partition("-")
    first = _value(start, low, high, names, field)
    if dash:
        last = _value(end, low, high, names, field)
        if last < first:
            raise _Bad(f'"{item}": the range runs backwards')
    return None


def cron_problems(expression: str) -> tuple[str | None, list[str]]:
    """(the error, warnings) for one cron expression; error None when the API accepts it."""
    fields = expression.split()
    if len(fields) != 5:
        extra = " (there is no seconds or year field)" if len(fields) in (6, 7) else ""
        return f"has {len(fields)} fields; Workers cron expressions have exactly 5{extra}", []
    warnings: list[str] = []
    try:
        for index, text in enumerate(fields):
            if text == "":
                raise _Bad("has an empty field")
            for item in text.split(","):
                if not item:
                    raise _Bad(f'has an empty item in "{text}"')
                warning = _item(item, index)
                if warning:
                    warnings.append(warning)
    except _Bad as bad:
        return str(bad), warnings
    return None, warnings


class CronTriggerInvalid(Rule):
    """A Cron Trigger is not a valid Workers cron expression (5 fields, Cloudflare's syntax).

    *Why* The schedules API refuses it after the upload — `invalid cron string [code:
    10100]` — so the new code goes live without its schedule. Common causes: a seconds
    field (6 fields), weekday `0` (Workers weekdays are 1-7, Sunday = 1), `@daily`, an
    object instead of a string (`Could not parse request body [code: 10026]`).

    *Bad*
    ```toml
    [triggers]
    crons = ["0 0 * * * *", "0 22 * * 0"]
    ```

    *Good*
    ```toml
    [triggers]
    crons = ["0 * * * *", "0 22 * * 1"]
    ```

    *Fix* Use 5 fields: minute hour day-of-month month day-of-week, with weekdays 1-7 or
    SUN-SAT (see developers.cloudflare.com/workers/configuration/cron-triggers/).
    """

    id = "FB223"
    name = "cron-trigger-invalid"
    severity = Severity.ERROR

    def check(self, ctx: Context) -> Iterable[Finding]:
        for scope in ctx.scopes():
            triggers, path = scope.get("triggers")
            crons = triggers.get("crons") if isinstance(triggers, dict) else None
            if not isinstance(crons, list):
                continue
            for index, cron in enumerate(crons):
                where = path + ("crons", index)
                if not isinstance(cron, str):
                    yield self.finding(
                        ctx, where,
                        f"cron trigger {cron!r} is not a string: the API answers Could not parse request body [code: 10026]",
                        env=scope.env, value=True,
                    )
                    continue
                error, warnings = cron_problems(cron)
                if error:
                    yield self.finding(
                        ctx, where, f'cron "{cron}" {error}: invalid cron string [code: 10100]',
                        env=scope.env, value=True,
                    )
                for warning in dict.fromkeys(warnings):
                    yield self.finding(
                        ctx, where, f'cron "{cron}": {warning}', env=scope.env, value=True, severity=Severity.WARNING,
                    )
