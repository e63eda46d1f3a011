"""What goes into a delivery and the gas it gets: the relayer's choices that decide whether one sender
can hold a lane back.

With gas accounting (the default), senders take turns, one message each per round, so no sender's
flood or costly caps hold the others back for longer than a delivery (a sender is who pays: an
application with a quota of its own, or all the strangers of a chain together, who share its open
quota; acknowledgements of a chain are one sender); and a delivery is given the gas
it can really use: nothing for a handler that will not run (a recipient with no code, a message past
its deadline, a message the hop only forwards), an outcome callback only for senders with code; a
batch whose bound is still large is simulated on the destination's current state and given what it
used, its largest handler's reservation and a margin. Without it (the flawed setting) a lane is served
first come, first served, and every declared cap is reserved, as if every handler burned it all.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import chain, zip_longest

from registry import Chain, ContractRevert, Tx

from .gas import OUTCOME_GAS, BatchGas, Handlers, ack_senders, declared, reserved, transaction_bound
from .messages import Message, SentRecord
from .topology import Network

SIMULATE_ABOVE = 8  # a batch whose bound is above 1/8 of a block is simulated and given what it uses
MARGIN = 25_000  # on top of a simulated delivery's gas (and 1/64 of it: calls keep that back)


Principal = Callable[[SentRecord], Hashable]  # who a message's gas is paid by: senders take turns by it


def choose(queue: dict[int, SentRecord], limit: int, block_gas: int, handlers: Handlers,
           principal: Principal | None) -> list[SentRecord]:
    """At most `limit` waiting messages whose delivery fits `block_gas`, in hop order: senders (by
    `principal`) taking turns, a message too costly next to the others left for a later delivery; or, with
    no principal, first come, first served (the first that does not fit ends the batch)."""
    fair = principal is not None
    waiting = [record for _, record in sorted(queue.items())]
    order = in_turns(waiting, principal) if principal is not None else waiting
    gas = BatchGas(handlers)
    batch: list[SentRecord] = []
    for record in order:
        if len(batch) == limit:
            break
        if batch and gas.with_message(record.message) > block_gas:
            if fair:
                continue
            break
        batch.append(record)
        gas.add(record.message)
    return sorted(batch, key=lambda r: r.hop_sequence)


def unparked(queue: dict[int, SentRecord], parked: dict[int, int], clock: int) -> dict[int, SentRecord]:
    """The queue without the messages parked until a time to come (a message that failed alone with a whole
    block's gas waits for its deadline: then it goes through as timed out, whatever it carries)."""
    for sequence in [s for s, until in parked.items() if until <= clock or s not in queue]:
        del parked[sequence]
    return {s: r for s, r in queue.items() if s not in parked}


def in_turns(waiting: Sequence[SentRecord], principal: Principal) -> list[SentRecord]:
    """The waiting messages with their senders taking turns: each sender's oldest first, then each one's
    second, and so on; senders in the order of their oldest message."""
    by_sender: dict[Hashable, list[SentRecord]] = {}
    for record in waiting:
        by_sender.setdefault(principal(record), []).append(record)
    return [r for r in chain.from_iterable(zip_longest(*by_sender.values())) if r is not None]


class Sizer:
    """The gas a relayer gives its deliveries on `network`."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self._has_code: set[tuple[int, str]] = set()
        self._own_quota: dict[tuple[int, int, str], bool] = {}

    @property
    def accounting(self) -> bool:
        return self.network.config.gas_accounting

    def handlers(self, hop: int, now: int | None, careful: bool) -> Handlers:
        """Gas a message's handler (or an acknowledgement's callbacks) may take at `hop`: what it declares
        (without gas accounting, and when a delivery ran out of gas), or only what will run."""
        if not self.accounting or careful:
            return declared

        def handler(m: Message) -> int:
            if m.is_ack:
                return sum(reserved(OUTCOME_GAS) for sender in ack_senders(m) if self._code_at(hop, sender))
            if m.dst_chain != hop or (now is not None and now > m.deadline) or not self._code_at(hop, m.recipient):
                return 0  # forwarded, timed out, or nothing to call: no handler runs
            return reserved(m.gas_limit)

        return handler

    def gas(self, hop: int, tx: Tx, messages: Sequence[Message], now: int | None, careful: bool,
            verification: int = 0) -> int:
        """The gas for `tx`, the delivery of `messages` to `hop`: its bound (with `verification`, what the lane's
        verifier takes beyond a checkpoint's; within the block), or, when the bound is large, what a simulation
        shows it needs (not when `careful`: a retry, or a delivery that needs transactions mined before it)."""
        chain_ = self.network.nodes[hop].chain
        handlers = self.handlers(hop, now, careful)
        gas = min(chain_.block_gas_limit, transaction_bound(tx.data, messages, handlers) + verification)
        if self.accounting and not careful and gas > chain_.block_gas_limit // SIMULATE_ABOVE:
            gas = _simulated(chain_, Tx(tx.sender, tx.to, tx.data, gas), max(map(handlers, messages), default=0))
        return gas

    def principal(self, record: SentRecord) -> Hashable:
        """Who pays for a message: its sender if the sender has a quota of its own on the lane it left its
        origin by, else its origin's strangers together (they share the open quota); acknowledgements of
        an origin together."""
        m = record.message
        if m.is_ack:
            return (m.src_chain, "acknowledgements")
        lane = (m.src_chain, self.network.via(m.src_chain, m.dst_chain), m.sender)
        if lane not in self._own_quota:  # governance's grant, read once from the origin's gateway
            quota = self.network.nodes[m.src_chain].gateway.gas_quotas(lane[1], m.sender)
            self._own_quota[lane] = quota.capacity > 0
        return (m.src_chain, m.sender if self._own_quota[lane] else "open")

    def _code_at(self, chain_id: int, address: str) -> bool:
        """Whether `address` has code on `chain_id` (once it has, it keeps it)."""
        key = (chain_id, address.lower())
        if key not in self._has_code and self.network.nodes[chain_id].chain.code(address):
            self._has_code.add(key)
        return key in self._has_code


def _simulated(chain_: Chain, tx: Tx, largest_handler: int) -> int:
    """A large delivery run on the destination's current state: what it used (before refunds), with its
    largest handler's reservation (the gateway asks for it before the call) and a margin; or its bound, if
    it fails there."""
    try:
        used = chain_.estimate_gas(tx)
    except ContractRevert:
        return tx.gas
    return min(tx.gas, used + used // 64 + largest_handler + MARGIN)
