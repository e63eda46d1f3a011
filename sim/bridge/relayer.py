"""The relayer: carries messages hop by hop, with what each lane's verifier needs, in batches.

It reads `Sent` events from bounded block ranges of each chain, has the source chain's committee prove
them (signatures per message, or one signed Merkle root per batch: `sim.bridge.verifiers`), and delivers
them to the next hop. Gateways take messages in any order, once each; what goes into a batch and the
gas it gets are `sim.bridge.batching`'s (fair across senders, sized by what can really run). A delivery
that runs out of gas anyway is tried again with half the batch and the declared caps; a message that
fails alone at the block's gas limit waits for its deadline and is then delivered as timed out: no
lane is blocked by one message for good.

It keeps no state of its own that matters: where to resume comes from the chains (`sim.bridge.resume`:
each gateway's watermark of what it took from a hop, the bits of what it took above it, and a binary
search for the block where a hop sequence was sent), so a relayer killed at any point and started again
delivers everything exactly once.

Relayers share lanes: each has its own (`lanes`) and, given `takeover_after_s`, delivers any other
lane whose oldest message has waited that long (the contracts make deliveries exactly-once, so two
relayers on one lane waste gas, never correctness).

`poll()` does a whole round at once (scan, plan, send, settle); a simulation drives the same steps
one by one: `scan()`, `plan()`, its own block production, then `settle()` with the receipts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from registry import Receipt
from registry.evm.artifacts import decode_revert
from registry.evm.base import HistoryHolds
from registry.evm.events import typed_all
from registry.progress import Progress, no_progress

from .batching import Sizer, choose, unparked
from .deliveries import (
    Delivery,
    Lane,
    Listener,
    Planned,
    Processing,
    RelayerCrash,
    RelayerStuck,
    Retry,
    after_failure,
    by_destination,
    transactions_of,
)
from .events import Acknowledged, Processed, Refused
from .messages import SentRecord
from .proving import Provers
from .resume import hold_what_is_read, resume_positions
from .topology import Network
from .verifiers import VERIFICATION_ERRORS


@dataclass
class Relayer:
    network: Network
    batch_size: int = 64
    account_index: int = 0
    max_transactions: int | None = None  # crash after this many delivery transactions (tests, faults)
    lanes: Collection[Lane] | None = None  # the lanes this relayer serves first (None: all)
    takeover_after_s: float | None = None  # deliver other lanes whose oldest message waited this long
    listener: Listener | None = None
    history: bool = True  # keep `deliveries`, `processed`, `acknowledged`, `sent` (not in a long simulation)
    ack_wait_s: float = 0.0  # see `plan`
    # holds on each chain's history from what it will read again (a long simulation's relayers: revm forgets
    # blocks past a window, and a message may wait longer than that in the queue, or for a restarted relayer)
    holds: HistoryHolds | None = None

    deliveries: list[Delivery] = field(default_factory=list)
    processed: dict[bytes, list[Processing]] = field(default_factory=lambda: defaultdict(list))
    acknowledged: dict[bytes, Processing] = field(default_factory=dict)
    sent: dict[bytes, SentRecord] = field(default_factory=dict)  # first sighting of each message id
    delivery_count: int = 0
    takeovers: int = 0  # deliveries on lanes not this relayer's own

    _scanned: dict[int, int] = field(default_factory=dict)
    _queue: dict[Lane, dict[int, SentRecord]] = field(default_factory=lambda: defaultdict(dict))
    _next: dict[Lane, int] = field(default_factory=dict)  # the hop's watermark, as far as this relayer knows
    _unchecked: set[Lane] = field(default_factory=set)  # lanes whose queue may hold messages taken above it
    _retry: dict[Lane, Retry] = field(default_factory=dict)
    _parked: dict[Lane, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))  # hop sequence → until
    _started: bool = False
    _transactions: int = 0
    _provers: Provers = field(init=False)
    _sizer: Sizer = field(init=False)

    def __post_init__(self) -> None:
        self._provers = Provers(self.network)
        self._sizer = Sizer(self.network)
        if self.holds is not None:  # from the start: it may first read, or be replaced, many blocks later
            self.holds.keep_each((node.chain, node.chain.block_number) for node in self.network.nodes.values())

    # -- position from chain state ---------------------------------------------------------------

    def owns(self, lane: Lane) -> bool:
        return self.lanes is None or lane in self.lanes

    def serves(self, lane: Lane) -> bool:
        return self.owns(lane) or self.takeover_after_s is not None

    def start(self) -> None:
        """Find, for every lane, the hop's watermark and the block its hop sequence was sent in."""
        self._next, self._scanned, self._unchecked = resume_positions(self.network, self.serves)
        self._started = True

    # -- a whole round ----------------------------------------------------------------------------

    def poll(self) -> int:
        """Read new blocks everywhere, then deliver every batch that is ready. Returns messages handed over."""
        self.scan()
        handed = 0
        for dst, group in by_destination(self.plan()).items():
            if self.max_transactions is not None and self._transactions + len(group) > self.max_transactions:
                group = group[: max(0, self.max_transactions - self._transactions)]
                if group:
                    handed += self.settle(group, self.network.nodes[dst].chain.send(transactions_of(group)))
                raise RelayerCrash(f"relayer stopped after {self.max_transactions} delivery transactions")
            handed += self.settle(group, self.network.nodes[dst].chain.send(transactions_of(group)))
        return handed

    def run_until_idle(self, max_rounds: int = 10_000, progress: Progress = no_progress,
                       label: str = "relaying") -> int:
        """Poll until a round delivers nothing: everything is through (claims posted on optimistic lanes once every
        chain's clock passed their window), or what is left cannot move now (`pending()` tells which)."""
        total = 0
        for _ in range(max_rounds):
            handed = self.poll()
            total += handed
            progress(label, total, total + self.pending())
            if handed == 0 and not self._retry:  # (a delivery that ran out of gas is tried again first)
                final = self._provers.poster.next_final(self._queue)
                if final is None:
                    return total
                self._wait_until(final)
        raise RelayerStuck(f"relayer still busy after {max_rounds} rounds")

    def _wait_until(self, timestamp: int) -> None:  # polls drive the chains directly: a block each at that time
        for node in self.network.nodes.values():
            if node.chain.block().timestamp < timestamp:
                node.chain.mine(timestamp=timestamp)

    def pending(self) -> int:
        return sum(len(q) for lane, q in self._queue.items() if self.owns(lane))

    @property
    def observed_blocks(self) -> int:  # source blocks whose Sent events the committee holds in view
        return len(self._provers.view.blocks)

    # -- the steps ----------------------------------------------------------------------------------

    def scan(self) -> list[SentRecord]:
        """Read the blocks mined since the last scan; returns the messages newly picked up."""
        if not self._started:
            self.start()
        picked = []
        for chain_id, node in self.network.nodes.items():
            head = node.chain.block_number
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
                    if self.owns(lane):
                        picked.append(record)
                        if self.listener:
                            self.listener.picked(record)
            self._scanned[chain_id] = head
        for lane in self._unchecked:  # resumed: what the hop took above its watermark is not delivered again
            queue = self._queue[lane]
            for sequence in self.network.nodes[lane[1]].gateway.taken(lane[0], list(queue)):
                del queue[sequence]
        self._unchecked.clear()
        if self.holds is not None:
            hold_what_is_read(self.network, self.holds, self._scanned, self._queue)
        return picked

    def plan(self, busy: Collection[Lane] = (), now: int | None = None) -> list[Planned]:
        """Deliveries for every lane with messages ready (lanes in `busy` wait).

        Given the chains' time `now`, a batch of acknowledgements alone waits until its oldest was
        sent `ack_wait_s` ago or the batch is full: data on its lane meanwhile takes it along, one
        delivery (and one verification) instead of two. Another relayer's lane is taken over when
        its oldest message has waited `takeover_after_s` (and the lane's hop has not moved on).
        """
        planned = []
        stalled = []
        for lane, queue in self._queue.items():
            if lane in busy or not queue:
                continue
            if not self.owns(lane):
                if self._stalled(queue, now):
                    stalled.append(lane)
                continue
            planned += self._plan_lane(lane, now, takeover=False)
        for lane in self._still_behind(stalled, now):
            planned += self._plan_lane(lane, now, takeover=True)
        return planned

    def _plan_lane(self, lane: Lane, now: int | None, takeover: bool) -> list[Planned]:
        if self.network.verifier(*lane).name == "optimistic":
            return self._plan_optimistic(lane, now, takeover)
        batch = self._ready(lane, self._queue[lane], now)
        if not batch or self._holds_acks(batch, now):
            return []
        retry = self._retry.get(lane)
        return [self.delivery(lane, batch, retry.gas_factor if retry else 1.0, now=now, careful=retry is not None,
                              takeover=takeover)]

    def _plan_optimistic(self, lane: Lane, now: int | None, takeover: bool) -> list[Planned]:
        """A posted batch whose challenge window has passed is delivered; else what no post covers is posted."""
        now = now if now is not None else self.network.nodes[lane[1]].chain.block().timestamp
        poster, queue = self._provers.poster, self._queue[lane]
        if final := poster.ready(lane, queue, now):
            return [self.delivery(lane, final, now=now, takeover=takeover)]
        covered = poster.covered(lane)
        fresh = self._ready(lane, {s: r for s, r in queue.items() if s not in covered}, now)
        if not fresh:
            return []
        pre, tx = poster.post(lane, fresh, self.account_index)
        return [Planned(lane, fresh, tx, takeover, tuple(pre), posts=True)]

    def _stalled(self, queue: dict[int, SentRecord], now: int | None) -> bool:
        if now is None or self.takeover_after_s is None:
            return False
        oldest = queue[min(queue)]
        wait = self.takeover_after_s + (self.ack_wait_s if oldest.message.is_ack else 0.0)
        return now - oldest.timestamp >= wait

    def _still_behind(self, lanes: list[Lane], now: int | None) -> list[Lane]:
        """Of other relayers' stalled lanes, those whose hop still waits (read from the chains, one
        call per destination); what the hop has taken meanwhile leaves the queue."""
        by_hop: dict[int, list[int]] = defaultdict(list)
        for src, dst in lanes:
            by_hop[dst].append(src)
        behind = []
        for dst, sources in by_hop.items():
            state = self.network.nodes[dst].gateway.hop_positions(sources)
            for src in sources:
                self._advance((src, dst), state[src][1])
                if self._queue[(src, dst)] and self._stalled(self._queue[(src, dst)], now):
                    behind.append((src, dst))
        return behind

    def _advance(self, lane: Lane, next_sequence: int) -> None:
        self._next[lane] = max(self._next.get(lane, 1), next_sequence)
        queue = self._queue[lane]
        for sequence in [s for s in queue if s < self._next[lane]]:
            del queue[sequence]

    def _holds_acks(self, batch: Sequence[SentRecord], now: int | None) -> bool:
        return (now is not None and self.ack_wait_s > 0 and len(batch) < self.batch_size
                and now - batch[0].timestamp < self.ack_wait_s and all(r.message.is_ack for r in batch))

    def settle(self, planned: Sequence[Planned], receipts: Sequence[Receipt]) -> int:
        """Take in the mined deliveries (each after what its verifier needed first: `Planned.pre`): what each hop
        processed, refused and acknowledged."""
        if len(receipts) != sum(len(p.pre) + 1 for p in planned):
            raise ValueError(f"{len(receipts)} receipts for {len(planned)} deliveries and what they need first")
        self._transactions += len(planned)
        handed = at = 0
        for p in planned:
            at += len(p.pre) + 1
            if p.posts:
                self._provers.poster.posted(p.lane, p.batch, receipts[at - 1])
            else:
                handed += self._record(p, receipts[at - 1])
        return handed

    # -- choosing a batch ---------------------------------------------------------------------------

    def _ready(self, lane: Lane, queue: dict[int, SentRecord], now: int | None) -> list[SentRecord]:
        """The next delivery on `lane` (smaller after one ran out of gas), without messages parked till deadline."""
        chain_ = self.network.nodes[lane[1]].chain
        if self._parked.get(lane):
            queue = unparked(queue, self._parked[lane], now if now is not None else chain_.block().timestamp)
        retry = self._retry.get(lane)
        limit = min(self.batch_size, retry.batch_limit if retry else self.batch_size)
        handlers = self._sizer.handlers(lane[1], now, careful=retry is not None)
        fair = self._sizer.principal if self._sizer.accounting else None
        return choose(queue, limit, chain_.block_gas_limit, handlers, fair)

    # -- proving and sizing -------------------------------------------------------------------------

    def delivery(self, lane: Lane, batch: Sequence[SentRecord], gas_factor: float = 1.0, now: int | None = None,
                 careful: bool = False, takeover: bool = False) -> Planned:
        """The delivery of `batch` (in the order given) over `lane` from this relayer's account, proven for the lane's
        verifier (after what it needs first: a light client's headers), with the gas it can use (times
        `gas_factor`, within the block)."""
        src, dst = lane
        net = self.network
        target = net.nodes[dst]
        pre, proof, verification = self._provers.prove(lane, batch, self.account_index)
        items = [(r.message, r.hop_sequence) for r in batch]
        tx = target.gateway.deliver(src, proof, items, by=net.relayer_account(dst, self.account_index), gas=0)
        gas = self._sizer.gas(dst, tx, [r.message for r in batch], now, careful or bool(pre), verification)
        tx = replace(tx, gas=min(target.chain.block_gas_limit, int(gas * gas_factor)))
        return Planned(lane, list(batch), tx, takeover, tuple(pre))

    # -- receipts -----------------------------------------------------------------------------------

    def _record(self, planned: Planned, receipt: Receipt) -> int:
        src, dst = planned.lane
        events = self.network.nodes[dst].gateway.events(receipt) if receipt.status else []
        records = typed_all(events)
        processed = [r for r in records if isinstance(r, Processed)]
        refused = [r for r in records if isinstance(r, Refused)]
        delivery = Delivery(src, dst, self.network.verifier(src, dst).name, len(planned.batch), len(processed),
                            len(refused), receipt.gas_used, receipt.block_number, receipt.timestamp, receipt.status,
                            planned.takeover)
        self.delivery_count += 1
        self.takeovers += planned.takeover
        if self.history:
            self.deliveries.append(delivery)
        if not receipt.status:
            after_failure(planned, receipt, self._retry, self._parked[planned.lane],
                          self.network.nodes[planned.lane[1]].chain.block_gas_limit)
            return 0
        self._retry.pop(planned.lane, None)
        share = receipt.gas_used // max(1, len(planned.batch))
        for event in records:
            if isinstance(event, Processed | Acknowledged):
                p = Processing(event.id, dst, event.outcome, receipt.block_number, receipt.timestamp, share)
                is_processed = isinstance(event, Processed)
                if self.history and is_processed:
                    self.processed[p.message_id].append(p)
                elif self.history:
                    self.acknowledged[p.message_id] = p
                if self.listener:
                    (self.listener.processed if is_processed else self.listener.acknowledged)(p)
        # what the hop took leaves the queue; so does what it refused for good (taken already by another
        # relayer's delivery, or refused for what it is: only a verifier's refusal may change on a later try)
        done = {p.id for p in processed}
        done |= {r.id for r in refused if decode_revert(r.reason).name not in VERIFICATION_ERRORS}
        queue = self._queue[planned.lane]
        for record in planned.batch:
            if record.message_id in done:
                queue.pop(record.hop_sequence, None)
        return len(planned.batch)
