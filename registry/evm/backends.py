"""The backends a chain can run on, by the names users give them, and the in-process ones made from them."""

from __future__ import annotations

import importlib
from typing import Any, Literal, get_args

from ..errors import ConfigError
from .base import Chain

BackendName = Literal["eth-tester", "revm", "anvil"]
BACKENDS: tuple[BackendName, ...] = get_args(BackendName)
# backend → (module, class): each loaded when a chain of it is made (py-evm takes 0.4 s to import, revm none)
IN_PROCESS: dict[str, tuple[str, str]] = {"eth-tester": ("tester", "EthTesterChain"), "revm": ("revm", "RevmChain")}


def in_process_class(backend: str) -> type[Chain]:
    """The chain class of an in-process backend (`eth-tester` or `revm`), loaded now."""
    try:
        module, name = IN_PROCESS[backend]
    except KeyError:
        names = ", ".join(IN_PROCESS)
        raise ConfigError(f"backend {backend!r} does not run in process; choose one of {names}") from None
    kind: type[Chain] = getattr(importlib.import_module(f".{module}", __package__), name)
    return kind


def in_process_chain(backend: str, *args: Any, **kwargs: Any) -> Chain:
    """A chain of an in-process backend (`eth-tester` or `revm`); arguments as their constructors take."""
    return in_process_class(backend)(*args, **kwargs)
