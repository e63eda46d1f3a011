"""Typed events: one frozen dataclass per Solidity event the program reads, named as the event, its fields the
event's arguments in snake_case (`from` is `from_`). `typed(event)` turns a decoded log into its record (None
for an event no class is registered for); a test checks every registered class against its contract's ABI, so
the two cannot drift. Only this layer reads a decoded event's arguments by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, ClassVar, TypeVar

from ..errors import ArtifactError
from .abi import DecodedEvent, snake_case


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A typed event; subclasses are the events."""

    contract: ClassVar[str] = ""  # the artifact whose ABI declares it

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> EventRecord:
        """The record of these decoded arguments (a class with a field to convert overrides it)."""
        return cls(**{field_name(name): value for name, value in args.items()})


EVENT_TYPES: dict[str, type[EventRecord]] = {}
E = TypeVar("E", bound=type[EventRecord])


def event_of(contract: str) -> Callable[[E], E]:
    """Register a class as the typed form of the event of its name, declared by `contract`."""
    def register(cls: E) -> E:
        if cls.__name__ in EVENT_TYPES:
            raise ArtifactError(f"two classes for the event {cls.__name__}: names must be unique to be typed")
        cls.contract = contract
        EVENT_TYPES[cls.__name__] = cls
        return cls
    return register


@lru_cache(maxsize=1024)  # every typed event's every argument: a regex each time otherwise
def field_name(name: str) -> str:
    """An event argument's field: snake_case, with `_` after a Python keyword (`from_`)."""
    name = snake_case(name)
    return name + "_" if name in ("from", "in", "is") else name


def typed(event: DecodedEvent | None) -> EventRecord | None:
    """The record of a decoded log, or None (no log of a known contract, or an event no class is registered for)."""
    kind = None if event is None else EVENT_TYPES.get(event.name)
    return None if kind is None or event is None else kind.from_args(event.args)


def typed_all(events: Iterable[DecodedEvent | None]) -> list[EventRecord]:
    """The events that have a typed form, in order."""
    return [record for record in map(typed, events) if record is not None]


def abi_mismatch(kind: type[EventRecord]) -> str | None:
    """How `kind`'s fields differ from its event's arguments in the contract's ABI (None: they match)."""
    from .artifacts import load_artifact

    declared = [e for e in load_artifact(kind.contract).abi.events.values() if e.name == kind.__name__]
    if not declared:
        return f"{kind.contract} declares no event {kind.__name__}"
    expected = [field_name(str(p["name"])) for p in declared[0].inputs]
    have = [f.name for f in fields(kind)]
    return None if have == expected else f"{kind.__name__}: fields {have}, the ABI's arguments {expected}"


R = TypeVar("R", bound=EventRecord)


def all_of(kind: type[R], events: Iterable[DecodedEvent | None]) -> list[R]:
    """The events of `kind` among `events`, typed, in order."""
    return [record for record in map(typed, events) if isinstance(record, kind)]


def first_of(kind: type[R], events: Iterable[DecodedEvent | None]) -> R:
    """The first event of `kind` among `events` (a transaction known to emit it)."""
    found = all_of(kind, events)
    if not found:
        raise LookupError(f"no {kind.__name__} event among these")
    return found[0]


def topic_of(kind: type[EventRecord]) -> bytes:
    """The first topic of `kind`'s logs (to pick them out before decoding)."""
    from .artifacts import load_artifact

    return next(t for t, e in load_artifact(kind.contract).abi.events.items() if e.name == kind.__name__)
