"""Packages that export names loaded when first asked for: importing the package costs nothing until a name
is used (the pytest plugin imports `registry` in every pytest run; a revm run never needs web3 or py-evm)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's `__getattr__` and `__dir__`: each name in `homes` taken from its module (relative to
    `package`) when first asked for, then kept in the package."""
    def get(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{homes[name]}", package), name)
        setattr(sys.modules[package], name, value)  # once
        return value

    def names() -> list[str]:
        return sorted(homes)

    return get, names
