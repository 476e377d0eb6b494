"""Coerce plain command-line values without importing Pydantic.

Typer (0.26 and later) turns every non-flag parameter value into its Python
type through a Pydantic ``TypeAdapter`` built on first use, so any command
with an option (even the root ``--project``, left unset) imports Pydantic:
about 50-60 ms, most of the 80 ms that ``faultbook run -- true`` may add to
a deploy.  Nearly all of faultbook's parameters are plain: an absent value,
a flag, a ``str``, an ``int`` inside its range, a list of ``str``.  For those the
result Typer's adapter would give is known without Pydantic, and
``install(command)`` answers them here; every other case (paths, choices,
parsers, an int out of range or malformed, so also every error message) is
handed to Typer's own coercion, unchanged.

This leans on two internals of Typer (``_TyperParameter._runtime_param`` and
``typer._coercion.RuntimeParam``).  When a Typer release renames them,
``install`` does nothing and the CLI is only slower; a test compares the
answers given here with Typer's adapter for every parameter of the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args, get_origin

try:  # pragma: no branch - depends on the installed Typer
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer.core import _TyperParameter
except ImportError:  # pragma: no cover - an older or newer Typer: keep its own coercion
    RuntimeParam = None  # type: ignore[assignment,misc]

#: "Not a plain case": let Typer's adapter decide.
_DELEGATE = object()


def install(command: Any) -> int:
    """Give every plain parameter of ``command`` (and its subcommands) the Pydantic-free coercion.

    Returns how many parameters got it (0 when this Typer has other internals).
    """
    if RuntimeParam is None:  # pragma: no cover
        return 0
    count = sum(_install_param(param) for param in getattr(command, "params", ()))
    make_help_option = getattr(command, "get_help_option", None)
    if make_help_option is not None:
        # The --help flag is made on first use, outside ``params``; give it the same coercion then.
        def get_help_option(ctx: Any) -> Any:
            option = make_help_option(ctx)
            if option is not None:
                _install_param(option)
            return option

        command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        count += install(sub)
    return count


def _install_param(param: Any) -> bool:
    if not isinstance(param, _TyperParameter) or getattr(param, "_runtime_param", 1) is not None:
        return False
    if not _handles(param.type_descriptor):
        return False
    param._runtime_param = _PlainParam(
        parameter_info=param.type_descriptor.parameter_info,
        annotation=param.type_descriptor.annotation,
        descriptor=param.type_descriptor,
    )
    return True


def _handles(descriptor: Any) -> bool:
    info = descriptor.parameter_info
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return False
    if descriptor.is_file or descriptor.is_path or descriptor.is_choice:
        return False
    annotation = descriptor.annotation
    if annotation in (str, int, bool):
        return True
    return get_origin(annotation) is list and get_args(annotation) == (str,)


def plain_value(value: Any, descriptor: Any) -> Any:
    """What Typer's adapter returns for ``value``, or ``_DELEGATE`` when that takes the adapter."""
    annotation = descriptor.annotation
    if annotation is str:
        return value if type(value) is str else _DELEGATE
    if annotation is bool:
        return value if type(value) is bool else _DELEGATE
    if annotation is int:
        if type(value) is int:
            number = value
        elif type(value) is str and value.isascii() and value.isdigit() and len(value) <= 30:
            number = int(value)  # (past 4,300 digits int() raises: longer ones get Typer's message)
        else:
            return _DELEGATE
        info = descriptor.parameter_info
        if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
            return _DELEGATE  # Typer's message (or clamping) for out-of-range values
        return number
    if isinstance(value, (list, tuple)) and all(type(item) is str for item in value):
        return list(value)
    return _DELEGATE


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _PlainParam(RuntimeParam):
        descriptor: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            result = plain_value(value, self.descriptor)
            if result is not _DELEGATE:
                return result
            adapter = build_runtime_param(self.descriptor)
            param._runtime_param = adapter  # later values go straight to Typer's coercion
            return adapter._coerce_value(value, param=param, ctx=ctx)
