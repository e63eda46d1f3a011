"""`--set key=v1,v2` options read into a grid of settings."""

from __future__ import annotations

import json
import tomllib
from typing import Any

from ..engine.scenario import ScenarioError


def parse_sets(sets: list[str]) -> dict[str, list[Any]]:
    """`key=v1,v2` options → {key: [v1, v2]}, each value read as JSON or TOML where it parses (see `_value`)."""
    grid: dict[str, list[Any]] = {}
    for item in sets:
        if "=" not in item:
            raise ScenarioError(f"--set {item!r}: expected key=value[,value…]")
        key, raw = item.split("=", 1)
        grid[key.strip()] = [_value(text) for text in _top_level_split(raw)]
    return grid


def _value(text: str) -> Any:
    """A `--set` value: JSON (`2`, `true`, `["a", "b"]`), else TOML (`[{entity = "ICBC", at_s = 5}]`), else a
    list of bare words (`[Beijing, Chengdu]`), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        pass
    if text.startswith("[") and text.endswith("]"):
        return [word.strip() for word in text[1:-1].split(",") if word.strip()]
    return text


def _top_level_split(raw: str) -> list[str]:
    """`1,2` → ["1", "2"]; `[256,512],[1024,2048]` → two lists: commas inside brackets stay."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(raw):
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(raw[start:i])
            start = i + 1
    return [*parts, raw[start:]]


