"""The backends a chain can run on, by the names users give them, and the in-process ones made from them."""

from __future__ import annotations

from typing import Any, Literal, get_args

from ..errors import ConfigError
from .base import Chain
from .revm import RevmChain
from .tester import EthTesterChain

BackendName = Literal["eth-tester", "revm", "anvil"]
BACKENDS: tuple[BackendName, ...] = get_args(BackendName)
IN_PROCESS: dict[str, type[EthTesterChain] | type[RevmChain]] = {"eth-tester": EthTesterChain, "revm": RevmChain}


def in_process_chain(backend: str, *args: Any, **kwargs: Any) -> Chain:
    """A chain of an in-process backend (`eth-tester` or `revm`); arguments as their constructors take."""
    try:
        kind = IN_PROCESS[backend]
    except KeyError:
        names = ", ".join(IN_PROCESS)
        raise ConfigError(f"backend {backend!r} does not run in process; choose one of {names}") from None
    return kind(*args, **kwargs)
