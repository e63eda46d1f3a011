"""Cross-chain messages as Python sees them: the same id, subject and outcomes as Messaging.sol."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi import encode

from registry.evm.abi import canonical
from registry.evm.artifacts import check_mirror, contract_constant, contract_constants
from registry.evm.hashing import keccak

VERSION = contract_constant("MessageLib", "VERSION")
KIND_DATA = contract_constant("MessageLib", "KIND_DATA")
KIND_ACK = contract_constant("MessageLib", "KIND_ACK")
MAX_PAYLOAD_LIMIT = contract_constant("GatewayConfig", "MAX_PAYLOAD_LIMIT")  # the largest payload cap a gateway takes
MAX_TTL_S = contract_constant("GatewayConfig", "MAX_TTL")


class Outcome(IntEnum):
    NONE = 0
    PENDING = 1
    DELIVERED = 2
    FAILED = 3
    TIMED_OUT = 4
    REJECTED = 5
    FORWARDED = 6

    @property
    def label(self) -> str:
        return self.name.lower()


check_mirror(Outcome, contract_constants("Outcome"))  # Messaging.sol's library Outcome
TERMINAL = frozenset({Outcome.DELIVERED, Outcome.FAILED, Outcome.TIMED_OUT, Outcome.REJECTED})


@dataclass(frozen=True, slots=True)
class Message:
    version: int
    kind: int
    src_chain: int
    dst_chain: int
    sequence: int
    deadline: int
    gas_limit: int
    sender: str
    recipient: str
    payload: bytes

    @classmethod
    def from_event(cls, raw: dict[str, Any]) -> Message:
        return cls(raw["version"], raw["kind"], raw["srcChain"], raw["dstChain"], raw["sequence"], raw["deadline"],
                   raw["gasLimit"], raw["sender"], raw["recipient"], bytes(raw["payload"]))

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.version, self.kind, self.src_chain, self.dst_chain, self.sequence, self.deadline,
                self.gas_limit, self.sender, self.recipient, self.payload)

    @property
    def id(self) -> bytes:
        return keccak(encode(
            ["uint8", "uint8", "uint64", "uint64", "uint64", "uint64", "uint32", "address", "address", "bytes32"],
            [self.version, self.kind, self.src_chain, self.dst_chain, self.sequence, self.deadline, self.gas_limit,
             canonical(self.sender), canonical(self.recipient), keccak(self.payload)],
        ))

    @property
    def is_ack(self) -> bool:
        return self.kind == KIND_ACK


def subject(message_id: bytes, hop_sequence: int) -> bytes:
    """What a committee signs for one message, and the leaf of a checkpoint: MessageLib.subject."""
    return keccak(b"\x00" + message_id + hop_sequence.to_bytes(8, "big"))


@dataclass(frozen=True, slots=True)
class SentRecord:
    """A `Sent` event: a message leaving `chain_id` toward the next hop, with its hop sequence."""

    chain_id: int
    hop: int
    hop_sequence: int
    message: Message
    message_id: bytes
    block_number: int
    timestamp: int
