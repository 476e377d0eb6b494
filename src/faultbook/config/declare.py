"""How a setting is declared: once, as a dataclass field with its type, default and one-line doc.

A section of faultbook.toml is a frozen dataclass whose fields are ``setting(default, "doc")``; the
reader (``sections.read_section``) checks each value against the field's type, and
``tests/test_settings_docs.py`` checks that docs/settings.md documents exactly the declared keys.
Tables that another module parses with positions (``[network]``, ``[[smoke]]`` ... in
``faultbook.netprobe.targets``) are declared with ``Key`` values so unknown keys and the docs are
checked for them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

DOC = "doc"


def setting(default: Any, doc: str, *, toml_type: str | None = None) -> Any:
    """A dataclass field for one setting (``toml_type``: how docs/settings.md names its type)."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple or None as the default of a setting")
    return field(default=default, metadata={DOC: doc, "toml_type": toml_type})


@dataclass(frozen=True)
class Key:
    """One documented key: ``section`` is the TOML table's dotted name ("" at top level)."""

    section: str
    name: str
    toml_type: str
    default: Any
    doc: str


def keys_of(section: str, cls: type) -> tuple[Key, ...]:
    out = []
    for f in fields(cls):
        toml_type = f.metadata.get("toml_type") or _toml_type(f.type)
        out.append(Key(section, f.name, toml_type, f.default, f.metadata[DOC]))
    return tuple(out)


def _toml_type(annotation: Any) -> str:
    text = str(annotation)
    for python, toml in (("bool", "boolean"), ("tuple[str, ...]", "array of strings"), ("str", "string"),
                         ("float", "number"), ("int", "integer")):
        if python in text:
            return toml
    return text
