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
from faultbook.checks.rules.durable_objects import is_pages

_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}


class _Bad(Exception):
    pass


class _Field:
    """One field of saffron's grammar (saffron/src/parse.rs): value range, names, and a cursor."""

    def __init__(self, text: str, label: str, low: int, high: int, names: dict[str, int] | None = None) -> None:
        self.text, self.i = text, 0
        self.label, self.low, self.high, self.names = label, low, high, names or {}

    def eat(self, token: str) -> bool:
        if self.text.startswith(token, self.i):
            self.i += len(token)
            return True
        return False

    def _digits(self, low: int, high: int, what: str) -> int:
        j = self.i
        while j < len(self.text) and self.text[j].isdigit():
            j += 1
        if j == self.i:
            rest = self.text[self.i:] or "the end"
            raise _Bad(f'expected a {what} in the {self.label} field, found "{rest}"')
        number = int(self.text[self.i:j])
        if not low <= number <= high:
            hint = " (weekdays are 1-7, Sunday is 1, not 0)" if self.label == "day of week" and number == 0 else ""
            raise _Bad(f"{what} {number} in the {self.label} field is out of range {low}-{high}{hint}")
        self.i = j
        return number

    def value(self) -> None:
        """A number in range, or (months, weekdays) a 3-letter name; digits are tried first, as saffron does."""
        if self.i < len(self.text) and self.text[self.i].isdigit():
            self._digits(self.low, self.high, "value")
            return
        word = self.text[self.i:self.i + 3].upper()
        if word in self.names:
            self.i += 3
            return
        rest = self.text[self.i:] or "the end"
        raise _Bad(f'"{rest}" is not a valid {self.label}')

    def step(self) -> None:
        # saffron's Step<E>: 1 .. (max - min), e.g. at most 59 for minutes and 6 for weekdays.
        self._digits(1, self.high - self.low, "step")

    def ors(self) -> None:
        """value | * , then optionally /step or -value[/step]."""
        if not self.eat("*"):
            self.value()
        if self.eat("/"):
            self.step()
        elif self.eat("-"):
            self.value()
            if self.eat("/"):
                self.step()

    def tail(self) -> None:
        while self.eat(","):
            self.ors()

    def star(self) -> bool:
        """`*` alone (True: nothing may follow) or `*/step` followed by more items."""
        if not self.eat("*"):
            return False
        if self.eat("/"):
            self.step()
            self.tail()
            return False
        return True

    def done(self) -> None:
        if self.i != len(self.text):
            raise _Bad(f'unexpected "{self.text[self.i:]}" in the {self.label} field "{self.text}"')


def _plain(field: _Field) -> None:
    if field.star():
        return field.done()
    if field.i == 0:
        field.ors()
    field.tail()
    field.done()


def _day_of_month(field: _Field) -> None:
    if field.star():
        return field.done()
    if field.i:
        return field.done()
    if field.eat("L"):
        if field.eat("-"):
            field._digits(1, 30, "offset")
            field.eat("W")
        else:
            field.eat("W")
        return field.done()  # no list after L
    field.value()
    if field.eat("W"):
        return field.done()
    if field.eat("-"):
        field.value()
        if field.eat("/"):
            field.step()
    elif field.eat("/"):
        field.step()
    field.tail()
    field.done()


def _day_of_week(field: _Field) -> None:
    if field.star():
        return field.done()
    if field.i:
        return field.done()
    if field.eat("L"):
        return field.done()
    field.value()
    if field.eat("L"):
        return field.done()
    if field.eat("#"):
        field._digits(1, 5, "week number (after #)")
        return field.done()
    if field.eat("-"):
        field.value()
        if field.eat("/"):
            field.step()
    elif field.eat("/"):
        field.step()
    field.tail()
    field.done()


_FIELDS = (
    ("minute", 0, 59, None, _plain),
    ("hour", 0, 23, None, _plain),
    ("day of month", 1, 31, None, _day_of_month),
    ("month", 1, 12, _MONTHS, _plain),
    ("day of week", 1, 7, _DAYS, _day_of_week),
)


def cron_problems(expression: str) -> tuple[str | None, list[str]]:
    """(the error, warnings) for one cron expression: saffron's grammar (the parser behind Cron Triggers)."""
    warnings: list[str] = []
    if expression != expression.strip(" \t"):
        warnings.append("has spaces around it; Cloudflare's parser does not allow them, remove them")
    text = expression.strip(" \t")
    if any(ch in text for ch in "\r\n"):
        return "spans several lines", warnings
    fields = re.split(r"[ \t]+", text) if text else []
    if len(fields) != 5:
        extra = " (there is no seconds or year field)" if len(fields) in (6, 7) else ""
        return f"has {len(fields)} fields; Workers cron expressions have exactly 5{extra}", warnings
    try:
        for text_field, (label, low, high, names, parse) in zip(fields, _FIELDS):
            if "?" in text_field:
                raise _Bad(f'uses "?" (Quartz syntax), which Cloudflare does not support: use "*"')
            parse(_Field(text_field, label, low, high, names))
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

    def applies(self, ctx: Context) -> bool:
        return not is_pages(ctx)

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
