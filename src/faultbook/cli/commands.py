"""Registry of the command groups that live in their own modules.

Each feature's CLI module exposes ``register(app, state)``; listing them here
(explicitly, no import side effects) keeps ``app.py`` short and lets every
feature own its flags.
"""

from __future__ import annotations

from typing import Any


def register(app: Any, state: Any) -> None:
    """Attach every feature's commands to the root Typer app."""
    for module in _feature_modules():
        module.register(app, state)


def _feature_modules() -> list[Any]:
    from faultbook.cli import check_cmd, ci_cmd, knowledge_cmd, mcp_cmd, postmortem_cmd, recovery_cmd, run_cmd, web_cmd

    modules: list[Any] = [run_cmd, knowledge_cmd, check_cmd, recovery_cmd, web_cmd, ci_cmd, mcp_cmd, postmortem_cmd]
    return modules
