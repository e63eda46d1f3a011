"""What a relayer hands over and learns: planned deliveries, the records of mined ones, who listens,
and the relayer's errors."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from registry import PilotsimError, Receipt, Tx
from registry.evm.artifacts import decode_revert

from .messages import Outcome, SentRecord

Lane = tuple[int, int]  # (chain that emitted, next hop)


class RelayerCrash(PilotsimError):
    """Raised on purpose to simulate a relayer killed mid-run (see `Relayer.max_transactions`)."""


class ForgeryRefused(PilotsimError):
    """The committee refused to sign a message it cannot see on its source chain."""


class RelayerStuck(PilotsimError):
    """Rounds of deliveries went on and on without the relayer ever running out of work."""


@dataclass(frozen=True)
class Delivery:
    """One delivery transaction: a batch from `src` handed to the next hop `dst`."""

    src: int
    dst: int
    verifier: str  # the lane verifier's kind
    size: int
    processed: int
    refused: int
    gas_used: int
    block_number: int
    timestamp: int
    status: bool
    takeover: bool = False  # a lane of another relayer's, taken over because it stalled


@dataclass(frozen=True)
class Processing:
    """Where and how one message was processed on a hop."""

    message_id: bytes
    chain_id: int
    outcome: Outcome
    block_number: int
    timestamp: int
    gas_share: int  # the delivery transaction's gas divided by the messages it carried


@dataclass(frozen=True)
class Planned:
    """A delivery transaction built and signed, not yet mined."""

    lane: Lane
    batch: list[SentRecord]
    tx: Tx
    takeover: bool = False
    pre: tuple[Tx, ...] = ()  # what the verifier needs mined first (a light client's headers, a bond)
    posts: bool = False  # `tx` posts the batch's claims (an optimistic lane), to deliver a window later

    @property
    def transactions(self) -> list[Tx]:
        return [*self.pre, self.tx]


@dataclass
class Retry:
    """A lane whose last delivery ran out of gas: smaller batches, more gas, until one goes through."""

    batch_limit: int
    gas_factor: float = 1.0


OUT_OF_GAS = {"Revert", "InsufficientGas"}  # a failed delivery's reasons that more gas or fewer messages cure


def after_failure(planned: Planned, receipt: Receipt, retries: dict[Lane, Retry], parked: dict[int, int],
                  block_limit: int) -> None:
    """A delivery that ran out of gas is retried with half the batch, the declared caps and half as much
    gas again; one message failing alone with the whole block's gas is parked until its deadline (then
    it goes through as timed out) and the lane goes on without it. Other failures (a paused lane) are
    retried as they were, when the chain lets them through."""
    if decode_revert(receipt.revert_data or b"").name not in OUT_OF_GAS:
        return
    if len(planned.batch) == 1 and planned.tx.gas >= block_limit:
        [record] = planned.batch
        parked[record.hop_sequence] = record.message.deadline + 1
        retries.pop(planned.lane, None)
        return
    retry = retries.setdefault(planned.lane, Retry(batch_limit=len(planned.batch)))
    retry.batch_limit = max(1, len(planned.batch) // 2)
    retry.gas_factor *= 1.5


class Listener(Protocol):
    """Who wants to know, as it happens (a simulation's recorder)."""

    def picked(self, record: SentRecord) -> None: ...
    def processed(self, processing: Processing) -> None: ...
    def acknowledged(self, processing: Processing) -> None: ...


@dataclass(frozen=True)
class Listeners:
    """Several listeners told the same, in order (a simulation's recorder, then its workload)."""

    each: tuple[Listener, ...]

    def picked(self, record: SentRecord) -> None:
        for listener in self.each:
            listener.picked(record)

    def processed(self, processing: Processing) -> None:
        for listener in self.each:
            listener.processed(processing)

    def acknowledged(self, processing: Processing) -> None:
        for listener in self.each:
            listener.acknowledged(processing)


def by_destination(planned: Sequence[Planned]) -> dict[int, list[Planned]]:
    """Planned deliveries grouped by the chain that mines them, in order."""
    groups: dict[int, list[Planned]] = defaultdict(list)
    for p in planned:
        groups[p.lane[1]].append(p)
    return groups


def transactions_of(group: Sequence[Planned]) -> list[Tx]:
    """What a group of deliveries sends, in order: each delivery after what its verifier needs first."""
    return [tx for p in group for tx in p.transactions]
