"""`reverts`: expect a block to revert with a named error, like ape's `ape.reverts` and brownie's
`brownie.reverts`. Plain Python (no pytest import), so scripts can use it too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import ContractRevert


@dataclass
class Caught:
    """What `reverts` caught, once the block is over."""

    error: ContractRevert | None = None


@contextmanager
def reverts(name: str, **arguments: Any) -> Iterator[Caught]:
    """The block must raise `ContractRevert` named `name` (a custom error, `Error` or `Panic`), with
    these decoded arguments if given (an account stands for its address):

        with reverts("NotZoneAuthority", caller=someone):
            registry.approve_entities([3], by=someone)
    """
    __tracebackhide__ = True  # pytest shows the test's line, not this one
    caught = Caught()
    try:
        yield caught
    except ContractRevert as error:
        if error.name != name:
            raise AssertionError(f"expected a revert with {name}, got {error}") from error
        for key, value in arguments.items():
            expected = getattr(value, "address", value)
            if key not in error.args_by_name:
                raise AssertionError(f"{error.name} has no argument {key!r} (it has: "
                                     f"{', '.join(error.args_by_name) or 'none'})") from error
            if error.args_by_name[key] != expected:
                raise AssertionError(f"{error.name}: {key} is {error.args_by_name[key]!r}, "
                                     f"expected {expected!r}") from error
        caught.error = error
        return
    raise AssertionError(f"expected a revert with {name}; the block did not revert")
