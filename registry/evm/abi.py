"""ABI codec for one contract: calls, results, revert data and event logs, by selector.

Built on eth_abi and eth_utils directly rather than web3's Contract objects: those re-validate
and re-format on every call, which costs more than executing the call on py-evm.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import (
    collapse_if_tuple,
    event_abi_to_log_topic,
    function_abi_to_4byte_selector,
    keccak,
    to_canonical_address,
    to_checksum_address,
)

from .words import WordReader, pointed_at, tuple_reader, word_reader

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

# A checksum costs a keccak (about 80 µs); a run decodes the same few hundred addresses again and again.
checksum = lru_cache(maxsize=1 << 16)(to_checksum_address)
# and the 20 bytes of an address given as text: about 17 µs through eth_utils, for the same few hundred
canonical = lru_cache(maxsize=1 << 16)(to_canonical_address)

ERROR_STRING_SELECTOR = keccak(text="Error(string)")[:4]
PANIC_SELECTOR = keccak(text="Panic(uint256)")[:4]


def snake_case(name: str) -> str:
    """A Solidity name as Python spells it: `hopSequence` -> `hop_sequence`, `MAX_TTL` -> `max_ttl`."""
    return name.lower() if name.isupper() else re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _types(params: Sequence[Mapping[str, Any]]) -> list[str]:
    return [collapse_if_tuple(dict(p)) for p in params]


# Solidity enums (`PilotRegistry.EntityStatus`) → the Python enum their values decode to, registered by the
# module that defines it (registry.models): an event's or a view's statuses come back as members, not ints.
ENUMS: dict[str, Callable[[int], Any]] = {}


def register_enum(solidity_name: str, enum: Callable[[int], Any]) -> None:
    ENUMS[solidity_name] = enum


def to_python(param: Mapping[str, Any], value: Any) -> Any:
    """Turn eth_abi's tuples into dicts keyed by component name, recursively; addresses checksummed;
    registered enums as their members."""
    abi_type: str = param["type"]
    if abi_type.endswith("]"):
        internal = str(param.get("internalType", ""))
        inner = dict(param, type=abi_type[: abi_type.rindex("[")],
                     internalType=internal[: internal.rindex("[")] if internal.endswith("]") else internal)
        return [to_python(inner, v) for v in value]
    internal = str(param.get("internalType", ""))
    if internal.startswith("enum ") and (enum := ENUMS.get(internal[5:])) is not None:
        return enum(value)
    if abi_type == "tuple":
        return {c["name"]: to_python(c, v) for c, v in zip(param["components"], value, strict=True)}
    if abi_type == "address":
        return checksum(value)
    return value


def _named(params: Sequence[Mapping[str, Any]], values: Sequence[Any]) -> dict[str, Any]:
    return {p["name"] or f"arg{i}": to_python(p, v) for i, (p, v) in enumerate(zip(params, values, strict=True))}


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    selector: bytes
    inputs: tuple[Mapping[str, Any], ...]
    outputs: tuple[Mapping[str, Any], ...]
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    mutates: bool

    def encode(self, args: Sequence[Any]) -> bytes:
        if len(args) != len(self.input_types):
            raise TypeError(f"{self.name}() takes {len(self.input_types)} arguments, got {len(args)}")
        return self.selector + encode(self.input_types, list(args))

    def decode(self, data: bytes) -> Any:
        """One output: that value; several: a dict by name; none: None."""
        values = decode(self.output_types, data)
        if len(self.outputs) == 1:
            return to_python(self.outputs[0], values[0])
        if not self.outputs:
            return None
        return _named(self.outputs, values)


@dataclass(frozen=True, slots=True)
class ErrorDef:
    name: str
    selector: bytes
    inputs: tuple[Mapping[str, Any], ...]

    def decode(self, data: bytes) -> dict[str, Any]:
        return _named(self.inputs, decode(_types(self.inputs), data[4:]))


DataReader = Callable[[bytes, int], Any]  # an event's data and where its argument's head word is → its value


def _word_at(abi_type: str) -> DataReader | None:
    read = word_reader(abi_type)
    return None if read is None else lambda data, head: read(data[head: head + 32])


def _message_reader(param: Mapping[str, Any], arguments: int) -> DataReader | None:
    """A tuple of words and bytes (a message), read where its head word points among the event's `arguments`
    head words; None for other types."""
    components = [str(c["type"]) for c in param.get("components", ())]
    read = tuple_reader(components) if param["type"] == "tuple" else None
    if read is None:
        return None

    return lambda data, head: read(data, pointed_at(data, 0, data[head: head + 32], arguments))


@dataclass(frozen=True, slots=True)
class EventDef:
    name: str
    topic: bytes
    inputs: tuple[Mapping[str, Any], ...]
    # worked out once, not per log decoded
    indexed: tuple[tuple[Mapping[str, Any], list[str]], ...] = field(init=False)
    plain: tuple[Mapping[str, Any], ...] = field(init=False)
    plain_types: list[str] = field(init=False)
    indexed_readers: tuple[WordReader | None, ...] = field(init=False)
    plain_readers: tuple[DataReader, ...] | None = field(init=False)  # None: an argument of another type

    def __post_init__(self) -> None:
        indexed = tuple((p, [collapse_if_tuple(dict(p))]) for p in self.inputs if p.get("indexed"))
        plain = tuple(p for p in self.inputs if not p.get("indexed"))
        object.__setattr__(self, "indexed", indexed)
        object.__setattr__(self, "plain", plain)
        object.__setattr__(self, "plain_types", _types(plain))
        object.__setattr__(self, "indexed_readers", tuple(word_reader(types[0]) for _, types in indexed))
        readers = [_word_at(t) or _message_reader(p, len(plain)) for p, t in zip(plain, self.plain_types, strict=True)]
        object.__setattr__(self, "plain_readers", None if None in readers else tuple(cast(list[DataReader], readers)))

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for (p, types), topic, reader in zip(self.indexed, topics[1:], self.indexed_readers, strict=True):
            values[p["name"]] = to_python(p, reader(topic) if reader else decode(types, topic)[0])
        try:
            if self.plain_readers is None:
                raise ValueError("not words and messages only")
            for i, (p, read) in enumerate(zip(self.plain, self.plain_readers, strict=True)):
                values[p["name"]] = to_python(p, read(data, 32 * i))
        except (ValueError, OverflowError, DecodingError):  # eth_abi decodes it, or refuses it for its own reason
            values.update(_named(self.plain, decode(self.plain_types, data)))
        return {p["name"]: values[p["name"]] for p in self.inputs}


@dataclass(frozen=True, slots=True)
class DecodedEvent(Mapping[str, Any]):
    """An event's name, emitter and arguments; read like a dict of its arguments (`event["entityId"]`,
    `dict(event)`)."""

    name: str
    address: str
    args: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.args)

    def __len__(self) -> int:
        return len(self.args)


BUILTIN_ERRORS = {
    ERROR_STRING_SELECTOR: ErrorDef("Error", ERROR_STRING_SELECTOR, ({"name": "message", "type": "string"},)),
    PANIC_SELECTOR: ErrorDef("Panic", PANIC_SELECTOR, ({"name": "code", "type": "uint256"},)),
}


class ContractAbi:
    """Everything needed to talk to one contract type, indexed for lookups by name and selector."""

    def __init__(self, abi: Iterable[Mapping[str, Any]]) -> None:
        self.abi = list(abi)
        self.functions: dict[str, Function] = {}
        self.by_selector: dict[bytes, Function] = {}
        self.errors: dict[bytes, ErrorDef] = dict(BUILTIN_ERRORS)
        self.events: dict[bytes, EventDef] = {}
        self.constructor_types: tuple[str, ...] = ()
        for item in self.abi:
            kind = item.get("type")
            if kind == "function":
                function = Function(
                    item["name"],
                    function_abi_to_4byte_selector(cast(Any, dict(item))),
                    tuple(item["inputs"]),
                    tuple(item.get("outputs", ())),
                    tuple(_types(item["inputs"])),
                    tuple(_types(item.get("outputs", ()))),
                    item.get("stateMutability") not in ("view", "pure"),
                )
                self.functions[function.name] = self.by_selector[function.selector] = function
            elif kind == "error":
                selector = function_abi_to_4byte_selector(cast(Any, dict(item, type="function")))
                self.errors[selector] = ErrorDef(item["name"], selector, tuple(item["inputs"]))
            elif kind == "event":
                topic = event_abi_to_log_topic(cast(Any, dict(item)))
                self.events[topic] = EventDef(item["name"], topic, tuple(item["inputs"]))
            elif kind == "constructor":
                self.constructor_types = tuple(_types(item["inputs"]))

    def function(self, name: str) -> Function:
        try:
            return self.functions[name]
        except KeyError:
            raise AttributeError(f"the contract has no function {name!r}") from None

    def function_name(self, selector: bytes) -> str:
        """The name of the function `selector` calls, or the selector in hex if there is none."""
        function = self.by_selector.get(selector)
        return function.name if function else "0x" + selector.hex()

    def encode_constructor(self, args: Sequence[Any]) -> bytes:
        return encode(list(self.constructor_types), list(args)) if self.constructor_types else b""

    def decode_event(self, address: str, topics: Sequence[bytes], data: bytes) -> DecodedEvent | None:
        """The event a log holds, if this contract declares it. A simulation reads each log several
        times (relayer, committee, watcher), so recent ones are decoded once: treat them as read-only."""
        if not topics or topics[0] not in self.events:
            return None
        return self._decoded(address, tuple(topics), data)

    @lru_cache(maxsize=4096)  # noqa: B019 - one cache per contract type, for the life of the process
    def _decoded(self, address: str, topics: tuple[bytes, ...], data: bytes) -> DecodedEvent:
        event = self.events[topics[0]]
        return DecodedEvent(event.name, address, event.decode(topics, data))
