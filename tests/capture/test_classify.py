"""Every case in classify_cases.py gets its kind; argv and string forms agree; --kind values are checked."""

from __future__ import annotations

import shlex

import pytest

from faultbook.domain.classify import KINDS, classify_command, parse_kind
from faultbook.errors import InputError

from classify_cases import CASES


@pytest.mark.parametrize("command,kind", CASES, ids=[c or "<empty>" for c, _ in CASES])
def test_kind_of_wrapped_command(command: str, kind: str) -> None:
    assert classify_command(command) == kind


@pytest.mark.parametrize("command,kind", [c for c in CASES if c[0] and "'" not in c[0] and "|" not in c[0]
                                          and "&" not in c[0] and ";" not in c[0]])
def test_argv_form_agrees(command: str, kind: str) -> None:
    assert classify_command(shlex.split(command)) == kind


def test_every_kind_is_covered() -> None:
    assert {k for _, k in CASES} == set(KINDS)


def test_kind_option() -> None:
    assert parse_kind(None) is None and parse_kind(" ") is None
    assert parse_kind("Deploy") == "deploy"
    with pytest.raises(InputError, match="--kind must be one of deploy, provision, other"):
        parse_kind("release")
