"""What a delivery may cost: the gas a relayer gives a batch, an upper bound that needs no simulation.

The bound is the transaction's own calldata (its EIP-7623 floor included, from the bytes themselves),
a fixed cost per batch and per message, what each message's handler or outcome callbacks may take
(see `Handlers`), hashing the payloads, and the memory the batch grows to (the gateway copies each
payload into memory; memory costs 3 gas a word plus words² / 512). Tests check it against what
deliveries at the payload cap, full batches and acknowledgements of the most entries really use. A
delivery that fails anyway is retried with more gas and half the batch (see Relayer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from registry.evm.artifacts import contract_constant
from registry.evm.gasrules import TX_GAS as TX_BASE
from registry.evm.gasrules import calldata_costs

from .messages import Message

BATCH_BASE = 150_000  # a delivery's fixed work: checking the signatures of a checkpoint, the loop, its acks
PER_MESSAGE = 60_000  # a message's own work: its id, checks, events, outcome nibble, ack entry
OUTCOME_GAS = contract_constant("GatewayConfig", "OUTCOME_GAS")  # what each sender's outcome callback gets
PER_ACK_ENTRY = 30_000  # recording one outcome at the origin, besides its callback
ACK_ENTRY_BYTES = contract_constant("Acks", "ENTRY_BYTES")  # one AckEntry, ABI-encoded
MESSAGE_CALLDATA = 1_024  # an item's calldata besides its payload: the message, hop sequence, proof or signatures
MEMORY_WORDS_PER_MESSAGE = 48  # the gateway's own memory per message besides its payload copies
PAYLOAD_COPIES = 3  # times a payload lands in memory: hashing, the handler call or forward, the ack

Handlers = Callable[[Message], int]  # gas a message's handler (or an ack's callbacks) may take at its hop


def reserved(cap: int) -> int:
    """Gas the gateway must have left before calling a handler with `cap` (EIP-150: all but 1/64)."""
    return cap + cap // 63 + 10_000


def ack_entries(message: Message) -> int:
    return max(1, (len(message.payload) - 64) // ACK_ENTRY_BYTES)


def ack_senders(message: Message) -> list[str]:
    """The senders an acknowledgement reports to (each gets an outcome callback if it has code)."""
    p = message.payload
    return ["0x" + p[at + 108:at + 128].hex() for at in range(64, len(p) - ACK_ENTRY_BYTES + 1, ACK_ENTRY_BYTES)]


def declared(message: Message) -> int:
    """What a message may take by what it declares alone: its handler gas cap, or every callback's budget."""
    if message.is_ack:
        return ack_entries(message) * reserved(OUTCOME_GAS)
    return reserved(message.gas_limit)


def _words(size: int) -> int:
    return (size + 31) // 32


@dataclass
class BatchGas:
    """A running bound on a delivery's gas as messages join it (calldata at its floor price, 40 a byte, until
    the transaction is built: see `transaction_bound`)."""

    handlers: Handlers = declared
    execution: int = BATCH_BASE
    memory: int = 64
    calldata: int = 0

    def _step(self, m: Message) -> tuple[int, int, int]:
        words = _words(len(m.payload))
        gas = PER_MESSAGE + 6 * words + self.handlers(m)  # keccak of the payload, then its handler
        if m.is_ack:
            gas += ack_entries(m) * PER_ACK_ENTRY
        return gas, PAYLOAD_COPIES * words + MEMORY_WORDS_PER_MESSAGE, len(m.payload) + MESSAGE_CALLDATA

    def add(self, m: Message) -> None:
        gas, memory, calldata = self._step(m)
        self.execution += gas
        self.memory += memory
        self.calldata += calldata

    def with_message(self, m: Message) -> int:
        """The bound if `m` joined."""
        gas, memory, calldata = self._step(m)
        return _total(self.execution + gas, self.memory + memory) + TX_BASE + 40 * (self.calldata + calldata)

    def execution_bound(self) -> int:
        return _total(self.execution, self.memory)


def _total(execution: int, memory: int) -> int:
    return execution + 3 * memory + memory * memory // 512


def execution_bound(messages: Sequence[Message], handlers: Handlers = declared) -> int:
    """Upper bound on the gas a delivery of `messages` executes (intrinsic cost aside)."""
    batch = BatchGas(handlers)
    for m in messages:
        batch.add(m)
    return batch.execution_bound()


def transaction_bound(data: bytes, messages: Sequence[Message], handlers: Handlers = declared) -> int:
    """Gas to give the delivery transaction carrying `messages` as `data`."""
    standard, floor = calldata_costs(data)
    return max(TX_BASE + standard + execution_bound(messages, handlers), floor)


def batch_bound(messages: Sequence[Message], handlers: Handlers = declared) -> int:
    """`transaction_bound` before the transaction is built."""
    batch = BatchGas(handlers)
    for m in messages[:-1]:
        batch.add(m)
    return batch.with_message(messages[-1]) if messages else TX_BASE + batch.execution_bound()
