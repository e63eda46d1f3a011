"""ABI words read as eth_abi reads them, without its machinery: an event's indexed topics and its static
elementary arguments (ids, chains, sequences, outcomes, addresses) are 32-byte words, and a message is a tuple of
such words and one `bytes`; eth_abi's generic decoder costs far more than reading them. A word eth_abi would
refuse (padding that is not empty, a pointer out of place) is handed to eth_abi, or raises ValueError for the
caller to, so it fails the same way; tests fuzz both."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from eth_abi import decode

WordReader = Callable[[bytes], Any]
_SIZED = re.compile(r"^(uint|int|bytes)(\d+)$")


def word_reader(abi_type: str) -> WordReader | None:
    """What decodes one word of `abi_type` to what eth_abi gives, or None for a type that is not one word."""
    if abi_type == "address":
        return _address
    if abi_type == "bool":
        return _bool
    sized = _SIZED.match(abi_type)
    if sized is None:
        return None
    kind, size = sized.group(1), int(sized.group(2))
    if kind == "uint":
        return lambda word: _uint(word, size, abi_type)
    if kind == "int":
        return lambda word: _int(word, size, abi_type)
    return lambda word: _bytes(word, size, abi_type)


def _refused(abi_type: str, word: bytes) -> Any:
    return decode([abi_type], word)[0]  # eth_abi raises for this word, with its own reason


def _uint(word: bytes, bits: int, abi_type: str) -> int:
    value = int.from_bytes(word, "big")
    return value if len(word) == 32 and not value >> bits else _refused(abi_type, word)


def _int(word: bytes, bits: int, abi_type: str) -> int:
    value = int.from_bytes(word, "big", signed=True)
    limit = 1 << (bits - 1)
    return value if len(word) == 32 and -limit <= value < limit else _refused(abi_type, word)


def _bytes(word: bytes, size: int, abi_type: str) -> bytes:
    return word[:size] if len(word) == 32 and not any(word[size:]) else _refused(abi_type, word)


def _address(word: bytes) -> str:
    return "0x" + word[12:].hex() if len(word) == 32 and not any(word[:12]) else _refused("address", word)


def _bool(word: bytes) -> bool:
    if len(word) == 32 and not any(word[:31]) and word[31] in (0, 1):
        return word[31] == 1
    return bool(_refused("bool", word))


def tuple_reader(components: list[str]) -> Callable[[bytes, int], tuple[Any, ...]] | None:
    """What decodes a tuple of single words and `bytes` (a message: its fields, then its payload) found at offset
    `start` of `data`, to what eth_abi gives; None for other tuples. Offsets or lengths out of the data raise."""
    readers = [None if t == "bytes" else word_reader(t) for t in components]
    if any(r is None and t != "bytes" for r, t in zip(readers, components, strict=True)) or "bytes" not in components:
        return None

    def read(data: bytes, start: int) -> tuple[Any, ...]:
        values: list[Any] = []
        for i, reader in enumerate(readers):
            word = data[start + 32 * i: start + 32 * i + 32]
            if reader is not None:
                values.append(reader(word))
                continue
            at = pointed_at(data, start, word, len(readers))
            length = _uint(data[at: at + 32], 256, "uint256")
            if at + 32 + length > len(data) or any(data[at + 32 + length: at + 32 + _ceil(length)]):
                raise ValueError("bytes beyond the data or with padding that is not empty")
            values.append(data[at + 32: at + 32 + length])
        return tuple(values)

    return read


def pointed_at(data: bytes, start: int, word: bytes, head_words: int) -> int:
    """Where the pointer `word` of the tuple at `start` (of `head_words` head words) leads in `data`, refused as
    eth_abi refuses it: into the tuple's head, or beyond the data."""
    offset = int.from_bytes(word, "big")
    if len(word) != 32 or offset < 32 * head_words or start + offset >= len(data):
        raise ValueError("a pointer into the tuple's head or beyond the data")
    return start + offset


def _ceil(length: int) -> int:
    return -(-length // 32) * 32
