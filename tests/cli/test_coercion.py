"""Plain option values are coerced without Pydantic, to exactly what Typer's own adapters give."""

from __future__ import annotations

import pytest
from typer._coercion import build_runtime_param
from typer.main import get_command

from faultbook.cli import coercion
from faultbook.cli.app import _command, app, main

SAMPLES = [None, "", "x", "staging", "0", "3", "10", "11", "007", "-1", "1e3", " 4", "٣", ("a", "b"), (), 0, 5, True]


def _params(command, path=()):
    for param in command.params:
        yield (*path, command.name, param.name), param
    for sub in getattr(command, "commands", {}).values():
        yield from _params(sub, (*path, command.name))


def _typer_answer(descriptor, value):
    try:
        return "ok", build_runtime_param(descriptor)._coerce_value(value, param=None, ctx=None)
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return "error", type(exc).__name__


def test_every_plain_answer_is_what_typers_adapter_gives():
    plain = 0
    for name, param in _params(get_command(app)):
        descriptor = param.type_descriptor
        if not coercion._handles(descriptor):
            continue
        for value in SAMPLES:
            answer = coercion.plain_value(value, descriptor)
            if answer is coercion._DELEGATE:
                continue
            plain += 1
            assert ("ok", answer) == _typer_answer(descriptor, value), (name, value)
            assert type(answer) is type(_typer_answer(descriptor, value)[1]), (name, value)
    assert plain > 100


def test_install_covers_the_run_command_and_leaves_paths_to_typer():
    command = _command()
    params = dict(_params(command))
    run_params = {name[-1]: p for name, p in params.items() if name[-2] == "run"}
    assert {n for n, p in run_params.items() if isinstance(p._runtime_param, coercion._PlainParam)} == {
        "command", "component", "step", "env", "kind", "retry", "notify", "notify_format", "strict", "server",
        "token", "rollback_on_failure",
    }
    (init_path,) = [p for name, p in params.items() if name[-2:] == ("init", "path")]
    assert init_path._runtime_param is None  # a Path: Typer's adapter, built on use


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--retry", "11", "--", "true"], b"Invalid value for '--retry'"),
        (["run", "--retry", "x", "--", "true"], b"Invalid value for '--retry'"),
        (["deployments", "--limit", "0"], b"Invalid value for '--limit'"),
    ],
)
def test_bad_values_still_get_typers_own_message(argv, message, capfdbinary):
    assert main(argv) == 2
    assert message in capfdbinary.readouterr().err
