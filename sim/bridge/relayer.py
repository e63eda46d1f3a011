"""The relayer: carries messages hop by hop, with the committee's signatures, in batches.

It reads `Sent` events from bounded block ranges of each chain, asks the source chain's committee
to sign (each message, or one Merkle root per batch), and delivers to the next hop in the order the
hop expects. It keeps no state of its own that matters: where to resume comes from the chains
(each gateway's hop counters, and a binary search for the block where a hop sequence was sent), so
a relayer killed at any point and started again delivers everything exactly once.

`poll()` does a whole round at once (scan, plan, send, settle). A simulation drives the same steps
one by one: `scan()`, `plan()`, its own block production, then `settle()` with the receipts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from registry import PilotsimError, Receipt, Tx
from registry.evm.artifacts import decode_revert
from registry.progress import Progress

from .gateway import delivery_gas, event_args
from .merkle import MerkleTree
from .messages import MODE_CHECKPOINT, Outcome, SentRecord, subject
from .topology import Network

BATCH_BASE_GAS = 150_000
OBSERVED_BLOCKS = 4_096  # blocks whose Sent events the committee keeps in view (older ones are re-read)
Lane = tuple[int, int]  # (chain that emitted, next hop)


class RelayerCrash(PilotsimError):
    """Raised on purpose to simulate a relayer killed mid-run (see `max_transactions`)."""


class ForgeryRefused(PilotsimError):
    """The committee refused to sign a message it cannot see on its source chain."""


class RelayerStuck(PilotsimError):
    """Rounds of deliveries went on and on without the relayer ever running out of work."""


@dataclass(frozen=True)
class Delivery:
    """One delivery transaction: a batch from `src` handed to the next hop `dst`."""

    src: int
    dst: int
    mode: int
    size: int
    processed: int
    refused: int
    gas_used: int
    block_number: int
    timestamp: int
    status: bool


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


class Listener(Protocol):
    """Who wants to know, as it happens (a simulation's metrics)."""

    def picked(self, record: SentRecord) -> None: ...
    def processed(self, processing: Processing) -> None: ...
    def acknowledged(self, processing: Processing) -> None: ...


@dataclass
class Relayer:
    network: Network
    batch_size: int = 64
    account_index: int = 0
    max_transactions: int | None = None  # crash after this many delivery transactions (tests, faults)
    lanes: Collection[Lane] | None = None  # the lanes this relayer serves (None: all)
    listener: Listener | None = None
    history: bool = True  # keep `deliveries`, `processed`, `acknowledged`, `sent` (a long simulation
    # has a listener instead, and memory that must not grow with every message)
    ack_wait_s: float = 0.0  # see `plan`

    deliveries: list[Delivery] = field(default_factory=list)
    processed: dict[bytes, list[Processing]] = field(default_factory=lambda: defaultdict(list))
    acknowledged: dict[bytes, Processing] = field(default_factory=dict)
    sent: dict[bytes, SentRecord] = field(default_factory=dict)  # first sighting of each message id
    delivery_count: int = 0

    _scanned: dict[int, int] = field(default_factory=dict)
    _queue: dict[Lane, dict[int, SentRecord]] = field(default_factory=lambda: defaultdict(dict))
    _next: dict[Lane, int] = field(default_factory=dict)
    _started: bool = False
    _transactions: int = 0
    _observed: dict[tuple[int, int], set[tuple[bytes, int, int]]] = field(default_factory=dict)

    # -- position from chain state ---------------------------------------------------------------

    def serves(self, lane: Lane) -> bool:
        return self.lanes is None or lane in self.lanes

    def start(self) -> None:
        """Find, for every lane, the next hop sequence its hop expects and the block it was sent in."""
        net = self.network
        state = {c: node.gateway.hop_state(net.neighbours(c)) for c, node in net.nodes.items()}
        for src, node in net.nodes.items():
            head = node.chain.block_number()
            start = head + 1
            for hop in net.neighbours(src):
                if not self.serves((src, hop)):
                    continue
                sent = state[src][hop][0]
                expected = state[hop][src][1]
                self._next[(src, hop)] = expected
                if expected <= sent:
                    start = min(start, self._block_of(src, hop, expected, head))
            self._scanned[src] = start - 1
        self._started = True

    def _block_of(self, src: int, hop: int, hop_sequence: int, head: int) -> int:
        """The first block after which `src` had emitted `hop_sequence` messages toward `hop`."""
        gateway = self.network.nodes[src].gateway
        low, high = 0, head
        while low < high:
            middle = (low + high) // 2
            if gateway.hop_state([hop], block=middle)[hop][0] >= hop_sequence:
                high = middle
            else:
                low = middle + 1
        return low

    # -- a whole round ----------------------------------------------------------------------------

    def poll(self) -> int:
        """Read new blocks everywhere, then deliver every batch that is ready. Returns messages handed over."""
        self.scan()
        planned = self.plan()
        by_destination: dict[int, list[Planned]] = defaultdict(list)
        for p in planned:
            by_destination[p.lane[1]].append(p)
        handed = 0
        for dst, group in by_destination.items():
            if self.max_transactions is not None and self._transactions + len(group) > self.max_transactions:
                group = group[: max(0, self.max_transactions - self._transactions)]
                if group:
                    handed += self.settle(group, self.network.nodes[dst].chain.send([p.tx for p in group]))
                raise RelayerCrash(f"relayer stopped after {self.max_transactions} delivery transactions")
            handed += self.settle(group, self.network.nodes[dst].chain.send([p.tx for p in group]))
        return handed

    def run_until_idle(self, max_rounds: int = 10_000, progress: Progress | None = None,
                       label: str = "relaying") -> int:
        """Poll until a round delivers nothing: everything is through, or what is left cannot move
        now (a paused lane, a halted chain); `pending()` tells which."""
        total = 0
        for _ in range(max_rounds):
            handed = self.poll()
            total += handed
            if progress:
                progress(label, total, total + self.pending())
            if handed == 0:
                return total
        raise RelayerStuck(f"relayer still busy after {max_rounds} rounds")

    def pending(self) -> int:
        return sum(len(q) for q in self._queue.values())

    @property
    def observed_blocks(self) -> int:
        """Source blocks whose Sent events the committee holds in view (at most OBSERVED_BLOCKS)."""
        return len(self._observed)

    # -- the steps ----------------------------------------------------------------------------------

    def scan(self) -> list[SentRecord]:
        """Read the blocks mined since the last scan; returns the messages newly picked up."""
        if not self._started:
            self.start()
        picked = []
        for chain_id, node in self.network.nodes.items():
            head = node.chain.block_number()
            first = self._scanned.get(chain_id, head) + 1
            if first > head:
                continue
            for record in node.gateway.sent_records(first, head):
                lane = (chain_id, record.hop)
                if not self.serves(lane):
                    continue
                if self.history:
                    self.sent.setdefault(record.message_id, record)
                if record.hop_sequence >= self._next.get(lane, 1):
                    self._queue[lane][record.hop_sequence] = record
                    picked.append(record)
                    if self.listener:
                        self.listener.picked(record)
            self._scanned[chain_id] = head
        return picked

    def plan(self, busy: Collection[Lane] = (), now: int | None = None) -> list[Planned]:
        """Signed delivery transactions for every lane with messages ready (lanes in `busy` wait).

        Given the chains' time `now`, a batch of acknowledgements alone waits until its oldest was
        sent `ack_wait_s` ago or the batch is full: data on its lane meanwhile takes it along, one
        delivery (and one committee check) instead of two.
        """
        planned = []
        for lane, queue in self._queue.items():
            if lane in busy:
                continue
            batch = self._ready(lane, queue)
            if batch and not self._holds_acks(batch, now):
                planned.append(Planned(lane, batch, self.delivery_tx(lane, batch)))
        return planned

    def _holds_acks(self, batch: Sequence[SentRecord], now: int | None) -> bool:
        return (now is not None and self.ack_wait_s > 0 and len(batch) < self.batch_size
                and now - batch[0].timestamp < self.ack_wait_s and all(r.message.is_ack for r in batch))

    def settle(self, planned: Sequence[Planned], receipts: Sequence[Receipt]) -> int:
        """Take in the mined deliveries: what each hop processed, refused and acknowledged."""
        self._transactions += len(planned)
        handed = 0
        for p, receipt in zip(planned, receipts, strict=True):
            handed += self._record(p, receipt)
        return handed

    def _ready(self, lane: Lane, queue: dict[int, SentRecord]) -> list[SentRecord]:
        """The contiguous run from the next expected hop sequence, within batch size and block gas."""
        chain = self.network.nodes[lane[1]].chain
        handler_gas = self.network.config.handler_gas
        next_sequence = self._next.get(lane, 1)
        batch: list[SentRecord] = []
        gas = BATCH_BASE_GAS
        while next_sequence in queue and len(batch) < self.batch_size:
            record = queue[next_sequence]
            need = delivery_gas(record.message, handler_gas)
            if batch and gas + need > chain.block_gas_limit:
                break
            batch.append(record)
            gas += need
            next_sequence += 1
        return batch

    # -- signing ------------------------------------------------------------------------------------

    def delivery_tx(self, lane: Lane, batch: Sequence[SentRecord]) -> Tx:
        """The signed delivery of `batch` (in the order given) over `lane`, from this relayer's account."""
        src, dst = lane
        net = self.network
        target = net.nodes[dst]
        keys, domain = net.committees[src], net.domain(src, dst)
        self.attest(batch)
        gas = min(target.chain.block_gas_limit,
                  BATCH_BASE_GAS + sum(delivery_gas(r.message, net.config.handler_gas) for r in batch))
        relayer = net.relayer_account(dst, self.account_index)
        if domain.mode == MODE_CHECKPOINT:
            tree = MerkleTree([subject(r.message_id, r.hop_sequence) for r in batch])
            items = [(r.message, r.hop_sequence, tree.proof(i)) for i, r in enumerate(batch)]
            return target.gateway.deliver_checkpoint(src, tree.root, keys.attest(domain, tree.root), items,
                                                     by=relayer, gas=gas)
        signed = [(r.message, r.hop_sequence, keys.attest(domain, subject(r.message_id, r.hop_sequence)))
                  for r in batch]
        return target.gateway.deliver_signed(src, signed, by=relayer, gas=gas)

    def attest(self, batch: Sequence[SentRecord]) -> None:
        """What honest validators do before signing: find each message in their own view of the
        source chain (the Sent event in that block)."""
        for record in batch:
            key = (record.chain_id, record.block_number)
            if key not in self._observed:
                gateway = self.network.nodes[record.chain_id].gateway
                self._observed[key] = {(r.message_id, r.hop, r.hop_sequence)
                                       for r in gateway.sent_records(record.block_number, record.block_number)}
                if len(self._observed) > OBSERVED_BLOCKS:
                    del self._observed[next(iter(self._observed))]  # the oldest block in view
            if (record.message_id, record.hop, record.hop_sequence) not in self._observed[key]:
                raise ForgeryRefused(f"message 0x{record.message_id.hex()} is not on chain {record.chain_id}")

    # -- receipts -----------------------------------------------------------------------------------

    def _record(self, planned: Planned, receipt: Receipt) -> int:
        src, dst = planned.lane
        events = self.network.nodes[dst].gateway.events(receipt) if receipt.status else []
        processed = event_args(events, "Processed")
        refused = event_args(events, "Refused")
        delivery = Delivery(src, dst, self.network.mode(src, dst), len(planned.batch), len(processed), len(refused),
                            receipt.gas_used, receipt.block_number, receipt.timestamp, receipt.status)
        self.delivery_count += 1
        if self.history:
            self.deliveries.append(delivery)
        if not receipt.status:
            return 0
        share = receipt.gas_used // max(1, len(planned.batch))
        for args in processed:
            processing = Processing(args["id"], dst, Outcome(args["outcome"]), receipt.block_number,
                                    receipt.timestamp, share)
            if self.history:
                self.processed[args["id"]].append(processing)
            if self.listener:
                self.listener.processed(processing)
        for args in event_args(events, "Acknowledged"):
            processing = Processing(args["id"], dst, Outcome(args["outcome"]), receipt.block_number,
                                    receipt.timestamp, share)
            if self.history:
                self.acknowledged[args["id"]] = processing
            if self.listener:
                self.listener.acknowledged(processing)
        # the hop took the first `len(processed)` of the batch, in order; refused ones stay queued
        lane_next = self._next.get(planned.lane, 1) + len(processed)
        if any(decode_revert(bytes(r["reason"])).name == "AlreadyProcessed" for r in refused):
            # the hop is further than we thought (another relayer, or someone else's messages took
            # those hop sequences): what it expects next is on chain
            lane_next = max(lane_next, self.network.nodes[dst].gateway.hop_state([src])[src][1])
        self._next[planned.lane] = lane_next
        queue = self._queue[planned.lane]
        for sequence in [s for s in queue if s < lane_next]:
            del queue[sequence]
        return len(planned.batch)
