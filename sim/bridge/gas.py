"""What a delivery may cost: the gas a relayer reserves for a batch, an upper bound that needs no
simulation.

The bound is the transaction's own calldata (its EIP-7623 floor included, from the bytes themselves),
a fixed cost per batch and per message, every handler's gas cap and every outcome callback's budget
as the gateway reserves them (EIP-150), hashing the payloads, and the memory the batch grows to (the
gateway copies each payload into memory; memory costs 3 gas a word plus words² / 512). Tests check it
against what deliveries at the payload cap, full batches and acknowledgements of the most entries
really use. A delivery that fails anyway is retried with more gas and half the batch (see Relayer).
"""

from __future__ import annotations

from collections.abc import Sequence

from registry.evm.gasrules import TX_GAS as TX_BASE
from registry.evm.gasrules import calldata_costs

from .messages import Message

BATCH_BASE = 150_000  # a delivery's fixed work: checking the signatures of a checkpoint, the loop, its acks
PER_MESSAGE = 60_000  # a message's own work: its id, checks, events, outcome nibble, ack entry
OUTCOME_GAS = 50_000  # Gateway.OUTCOME_GAS: what each sender's outcome callback gets
PER_ACK_ENTRY = 30_000  # recording one outcome at the origin, besides its callback
ACK_ENTRY_BYTES = 160  # one AckEntry, ABI-encoded
MESSAGE_CALLDATA = 1_024  # an item's calldata besides its payload: the message, hop sequence, proof or signatures
MEMORY_WORDS_PER_MESSAGE = 48  # the gateway's own memory per message besides its payload copies
PAYLOAD_COPIES = 3  # times a payload lands in memory: hashing, the handler call or forward, the ack


def _reserved(cap: int) -> int:
    """Gas the gateway must have left before calling a handler with `cap` (EIP-150: all but 1/64)."""
    return cap + cap // 63 + 10_000


def ack_entries(message: Message) -> int:
    return max(1, (len(message.payload) - 64) // ACK_ENTRY_BYTES)


def _words(data: bytes | int) -> int:
    size = data if isinstance(data, int) else len(data)
    return (size + 31) // 32


def execution_bound(messages: Sequence[Message]) -> int:
    """Upper bound on the gas a delivery of `messages` executes (intrinsic cost aside)."""
    gas, memory = BATCH_BASE, 64
    for m in messages:
        words = _words(m.payload)
        gas += PER_MESSAGE + 6 * words  # keccak of the payload
        if m.is_ack:
            gas += ack_entries(m) * (_reserved(OUTCOME_GAS) + PER_ACK_ENTRY)
        else:
            gas += _reserved(m.gas_limit)
        memory += PAYLOAD_COPIES * words + MEMORY_WORDS_PER_MESSAGE
    return gas + 3 * memory + memory * memory // 512


def transaction_bound(data: bytes, messages: Sequence[Message]) -> int:
    """Gas to give the delivery transaction carrying `messages` as `data`."""
    standard, floor = calldata_costs(data)
    return max(TX_BASE + standard + execution_bound(messages), floor)


def batch_bound(messages: Sequence[Message]) -> int:
    """`transaction_bound` before the transaction is built (calldata at its floor price, 40 a byte)."""
    calldata = sum(len(m.payload) + MESSAGE_CALLDATA for m in messages)
    return TX_BASE + 40 * calldata + execution_bound(messages)
