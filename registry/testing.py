"""`reverts`: expect a block to revert with a named error, like ape's `ape.reverts` and brownie's
`brownie.reverts`. Plain Python (no pytest import), so scripts can use it too."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

from .errors import ContractRevert


@dataclass
class Caught:
    """What `reverts` caught, once the block is over."""

    error: ContractRevert | None = None


class reverts:  # noqa: N801 - used like a function: `with reverts("Name"):`
    """The block must raise `ContractRevert` named `name` (a custom error, `Error` or `Panic`), with
    these decoded arguments if given (an account stands for its address):

        with reverts("NotZoneAuthority", caller=someone):
            registry.approve_entities([3], by=someone)

    A class, not a generator: a failure shows the test's line and one AssertionError that names what came
    instead, not contextlib's frames and the revert twice."""

    def __init__(self, name: str, **arguments: Any) -> None:
        self.name, self.arguments, self.caught = name, arguments, Caught()

    def __enter__(self) -> Caught:
        return self.caught

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None) -> bool:
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        if error is None:
            raise AssertionError(f"expected a revert with {self.name}; the block did not revert")
        if not isinstance(error, ContractRevert):
            return False  # another exception: it goes on as it was
        if error.name != self.name:
            raise AssertionError(f"expected a revert with {self.name}, got {error}") from None
        for key, value in self.arguments.items():
            expected = getattr(value, "address", value)
            if key not in error.args_by_name:
                raise AssertionError(f"{error.name} has no argument {key!r} (it has: "
                                     f"{', '.join(error.args_by_name) or 'none'})") from None
            if error.args_by_name[key] != expected:
                raise AssertionError(f"{error.name}: {key} is {error.args_by_name[key]!r}, "
                                     f"expected {expected!r}") from None
        self.caught.error = error
        return True
