"""Documentation is tested: every rule explains itself with Why / Bad / Good / Fix, IDs are unique."""

from __future__ import annotations

import pytest

from faultbook.checks.registry import all_rules, get_rule
from faultbook.cli.check_cmd import rules_command


@pytest.mark.parametrize("rule", all_rules(), ids=[r.id for r in all_rules()])
def test_rule_is_documented(rule) -> None:
    assert rule.summary(), f"{rule.id} has no summary line"
    assert rule.documented_sections() == {"Why", "Bad", "Good", "Fix"}


def test_ids_and_names_are_unique_and_resolvable() -> None:
    rules = all_rules()
    assert len({r.id for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)
    for rule in rules:
        assert get_rule(rule.id) is rule and get_rule(rule.name) is rule


def test_rules_command_lists_and_explains() -> None:
    listing, _, code = rules_command()
    assert code == 0
    assert all(rule.id in listing for rule in all_rules())
    text, _, code = rules_command("FB101")
    assert code == 0 and "*Why*" in text and 'type = "Images"' in text
    assert rules_command("FB999")[2] == 2


def test_offline_check_imports_no_heavy_library(tmp_path) -> None:
    """Start-up stays light: an offline check never loads the SDK, SQLAlchemy or httpx."""
    import subprocess
    import sys

    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    code = (
        "import sys\n"
        "from faultbook.cli.check_cmd import check_command\n"
        "check_command('examples/quoteviral', offline=True, output_format='sarif')\n"
        "print(sorted(m for m in ('cloudflare', 'sqlalchemy', 'httpx', 'rich') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
        env={"PYTHONPATH": str(root / "src"), "PATH": ""}, check=True,
    ).stdout
    assert out.strip() == "[]"
