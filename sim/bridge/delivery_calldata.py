"""A delivery's calldata written directly: `Gateway.deliver(uint64 hop, bytes proof, (Message, uint64)[] items)`
is what every relayer transaction carries, and eth-abi's generic encoder cost more than the EVM's run of it.
The layout is the ABI's (heads, offsets, padded tails); a field out of its type's range is handed to eth-abi, so
it is refused the same way. A test fuzzes it byte for byte against eth-abi."""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode

from registry.evm.abi import canonical

from .messages import Message

DELIVER_TYPES = ["uint64", "bytes", "((uint8,uint8,uint64,uint64,uint64,uint64,uint32,address,address,bytes),uint64)[]"]
_BITS = (8, 8, 64, 64, 64, 64, 32)  # the Message's integer fields, in order


def deliver_arguments(hop: int, proof: bytes, items: Sequence[tuple[Message, int]]) -> bytes:
    """abi.encode(hop, proof, items), as eth-abi writes it."""
    if not _in_range(hop, proof, items):
        return encode(DELIVER_TYPES, [hop, proof, [(m.as_tuple(), s) for m, s in items]])
    elements = [_item(message, hop_sequence) for message, hop_sequence in items]
    offsets, at = [], 32 * len(elements)
    for element in elements:
        offsets.append(_word(at))
        at += len(element)
    proof_tail = _bytes(proof)
    return b"".join([_word(hop), _word(96), _word(96 + len(proof_tail)), proof_tail, _word(len(elements)), *offsets,
                     *elements])


def _item(message: Message, hop_sequence: int) -> bytes:
    """One (Message, hop sequence): its head (the Message's offset, the sequence), then the Message."""
    fields = (message.version, message.kind, message.src_chain, message.dst_chain, message.sequence,
              message.deadline, message.gas_limit)
    head = b"".join(_word(value) for value in fields)
    addresses = (b"\0" * 12 + canonical(message.sender) + b"\0" * 12 +
                 canonical(message.recipient))
    return _word(64) + _word(hop_sequence) + head + addresses + _word(320) + _bytes(message.payload)


def _bytes(data: bytes) -> bytes:
    return _word(len(data)) + data + b"\0" * (-len(data) % 32)


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _in_range(hop: int, proof: bytes, items: Sequence[tuple[Message, int]]) -> bool:
    def fits(value: object, bits: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << bits

    return fits(hop, 64) and isinstance(proof, bytes) and all(
        fits(hop_sequence, 64) and isinstance(m.payload, bytes) and
        all(fits(value, bits) for value, bits in zip(m.as_tuple()[:7], _BITS, strict=True))
        for m, hop_sequence in items)
