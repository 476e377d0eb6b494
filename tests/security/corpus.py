"""The secret corpus (``secrets.toml``): each shape in its context line, and what must never survive it."""

from __future__ import annotations

import base64
import html
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

CORPUS = Path(__file__).with_name("secrets.toml")


@dataclass(frozen=True)
class Shape:
    name: str
    value: str
    line: str  # the context with its placeholders filled in
    env: str | None
    forbidden: tuple[str, ...]  # none of these may appear in anything faultbook keeps
    source: str


def _forms(value: str) -> dict[str, str]:
    middle = len(value) // 2
    return {
        "secret": value,
        "b64": base64.b64encode(value.encode()).decode(),
        "basic": base64.b64encode(f"deploy:{value}".encode()).decode(),
        "url": quote(value, safe=""),
        "split": value[:middle] + "\n" + value[middle:],
        "cut37": value[:37] + "...",
    }


def _shape(entry: dict) -> Shape:
    value = entry["value"]
    line = entry["context"]
    forbidden = {value, *entry.get("forbid", ())}
    for key, form in _forms(value).items():
        placeholder = "{" + key + "}"
        if placeholder not in line:
            continue
        line = line.replace(placeholder, form)
        if key == "split":
            forbidden.update(half for half in form.split("\n") if len(half) >= 8)
        elif key == "cut37":
            forbidden.add(value[:37])
        elif key == "basic":
            forbidden.add(form[12:])  # past "deploy:", whatever the alignment
        else:
            forbidden.add(form)
    return Shape(entry["name"], value, line, entry.get("env"), tuple(sorted(forbidden)), entry["source"])


def load() -> tuple[list[Shape], list[str]]:
    data = tomllib.loads(CORPUS.read_text(encoding="utf-8"))
    shapes = [_shape(entry) for entry in data["secret"]]
    ordinary = [entry["text"] for entry in data["ordinary"]]
    names = [s.name for s in shapes]
    assert len(names) == len(set(names)), "shape names must be unique"
    return shapes, ordinary


def environment(shapes: list[Shape]) -> dict[str, str]:
    """The variables the wrapped command runs with (the shapes that live in the environment)."""
    return {shape.env: shape.value for shape in shapes if shape.env}


def leaks(blob: str, shapes: list[Shape]) -> dict[str, list[str]]:
    """Which shapes leave which forbidden text in ``blob`` (as stored: raw, JSON-escaped or HTML-escaped)."""
    found: dict[str, list[str]] = {}
    for shape in shapes:
        for text in shape.forbidden:
            variants = {text, json.dumps(text)[1:-1], html.escape(text), html.escape(text, quote=False)}
            if any(v in blob for v in variants):
                found.setdefault(shape.name, []).append(text)
    return found
