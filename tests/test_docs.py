"""Documentation is tested: every command is in the README's usage and has help text."""

from __future__ import annotations

import re

from conftest import ROOT


def _commands():
    """(path, click command) for every command and sub-command of the CLI."""
    import typer

    from faultbook.cli.app import app

    root = typer.main.get_command(app)
    found = []

    def walk(command, path):
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        else:
            found.append((" ".join(path), command))

    walk(root, [])
    return found


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [path for path, _ in _commands() if not re.search(rf"faultbook {re.escape(path)}\b", readme)]
    assert missing == []


def test_every_command_and_option_has_help():
    undocumented = []
    for path, command in _commands():
        if not (command.help or "").strip():
            undocumented.append(path)
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option" and param.name != "help" and not param.help:
                undocumented.append(f"{path} {param.opts[0]}")
    assert undocumented == []
