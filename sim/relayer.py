"""The relayer: carries messages hop by hop, with the committee's signatures, in batches.

It reads `Sent` events from bounded block ranges of each chain, asks the source chain's committee
to sign (each message, or one Merkle root per batch), and delivers to the next hop in the order the
hop expects. It keeps no state of its own that matters: where to resume comes from the chains
(each gateway's hop counters, and a binary search for the block where a hop sequence was sent), so
a relayer killed at any point and started again delivers everything exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from registry import Receipt, Tx

from .committee import MODE_CHECKPOINT, MODE_COMMITTEE, digest
from .gateway import delivery_gas, event_args
from .merkle import MerkleTree
from .messages import Outcome, SentRecord, subject
from .network import Network

BATCH_BASE_GAS = 150_000
Progress = Callable[[str, int, int], None]


class RelayerCrash(RuntimeError):
    """Raised on purpose to simulate a relayer killed mid-run (see `max_transactions`)."""


class ForgeryRefused(RuntimeError):
    """The committee refused to sign a message it cannot see on its source chain."""


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


@dataclass
class Relayer:
    network: Network
    batch_size: int = 64
    account_index: int = 0
    max_transactions: int | None = None  # crash after this many delivery transactions (tests, faults)

    deliveries: list[Delivery] = field(default_factory=list)
    processed: dict[bytes, list[Processing]] = field(default_factory=lambda: defaultdict(list))
    acknowledged: dict[bytes, Processing] = field(default_factory=dict)
    sent: dict[bytes, SentRecord] = field(default_factory=dict)  # first sighting of each message id

    _scanned: dict[int, int] = field(default_factory=dict)
    _queue: dict[tuple[int, int], dict[int, SentRecord]] = field(default_factory=lambda: defaultdict(dict))
    _next: dict[tuple[int, int], int] = field(default_factory=dict)
    _started: bool = False
    _transactions: int = 0
    _observed: dict[tuple[int, int], set[tuple[bytes, int, int]]] = field(default_factory=dict)

    # -- position from chain state ---------------------------------------------------------------

    def start(self) -> None:
        """Find, for every lane, the next hop sequence its hop expects and the block it was sent in."""
        net = self.network
        state = {c: node.gateway.hop_state(net.neighbours(c)) for c, node in net.nodes.items()}
        for src, node in net.nodes.items():
            head = node.chain.block_number()
            start = head + 1
            for hop in net.neighbours(src):
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

    # -- one round ------------------------------------------------------------------------------

    def poll(self) -> int:
        """Read new blocks everywhere, then deliver every batch that is ready. Returns messages handed over."""
        if not self._started:
            self.start()
        self.scan()
        return self.deliver()

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
        raise RuntimeError(f"relayer still busy after {max_rounds} rounds")

    def pending(self) -> int:
        return sum(len(q) for q in self._queue.values())

    def scan(self) -> None:
        for chain_id, node in self.network.nodes.items():
            head = node.chain.block_number()
            first = self._scanned.get(chain_id, head) + 1
            if first > head:
                continue
            for record in node.gateway.sent_records(first, head):
                key = (chain_id, record.hop)
                self.sent.setdefault(record.message_id, record)
                if record.hop_sequence >= self._next.get(key, 1):
                    self._queue[key][record.hop_sequence] = record
            self._scanned[chain_id] = head

    def deliver(self) -> int:
        by_destination: dict[int, list[tuple[tuple[int, int], list[SentRecord], Tx]]] = defaultdict(list)
        for key, queue in self._queue.items():
            batch = self._ready(key, queue)
            if batch:
                by_destination[key[1]].append((key, batch, self._delivery_tx(key, batch)))
        handed = 0
        for dst, planned in by_destination.items():
            if self.max_transactions is not None and self._transactions + len(planned) > self.max_transactions:
                planned = planned[: max(0, self.max_transactions - self._transactions)]
                if planned:
                    self._submit(dst, planned)
                raise RelayerCrash(f"relayer stopped after {self.max_transactions} delivery transactions")
            handed += self._submit(dst, planned)
        return handed

    def _ready(self, key: tuple[int, int], queue: dict[int, SentRecord]) -> list[SentRecord]:
        """The contiguous run from the next expected hop sequence, within batch size and block gas."""
        chain = self.network.nodes[key[1]].chain
        handler_gas = self.network.config.handler_gas
        next_sequence = self._next.get(key, 1)
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

    # -- signing and submitting -------------------------------------------------------------------

    def _delivery_tx(self, key: tuple[int, int], batch: Sequence[SentRecord]) -> Tx:
        src, dst = key
        net = self.network
        source, target = net.nodes[src], net.nodes[dst]
        keys = net.committees[src]
        self.attest(batch)
        gas = min(target.chain.block_gas_limit,
                  BATCH_BASE_GAS + sum(delivery_gas(r.message, net.config.handler_gas) for r in batch))
        relayer = net.relayer_account(dst, self.account_index)
        if net.mode(src, dst) == MODE_CHECKPOINT:
            leaves = [subject(r.message_id, r.hop_sequence) for r in batch]
            tree = MerkleTree(leaves)
            signed = digest(MODE_CHECKPOINT, src, source.gateway.address, dst, target.gateway.address, keys.epoch,
                            tree.root)
            items = [(r.message, r.hop_sequence, tree.proof(i)) for i, r in enumerate(batch)]
            return target.gateway.deliver_checkpoint(src, tree.root, keys.sign(signed), items, by=relayer, gas=gas)
        signed_items = []
        for r in batch:
            signed = digest(MODE_COMMITTEE, src, source.gateway.address, dst, target.gateway.address, keys.epoch,
                            subject(r.message_id, r.hop_sequence))
            signed_items.append((r.message, r.hop_sequence, keys.sign(signed)))
        return target.gateway.deliver_signed(src, signed_items, by=relayer, gas=gas)

    def attest(self, batch: Sequence[SentRecord]) -> None:
        """What honest validators do before signing: find each message in their own view of the
        source chain (the Sent event in that block)."""
        for record in batch:
            key = (record.chain_id, record.block_number)
            if key not in self._observed:
                gateway = self.network.nodes[record.chain_id].gateway
                self._observed[key] = {(r.message_id, r.hop, r.hop_sequence)
                                       for r in gateway.sent_records(record.block_number, record.block_number)}
            if (record.message_id, record.hop, record.hop_sequence) not in self._observed[key]:
                raise ForgeryRefused(f"message 0x{record.message_id.hex()} is not on chain {record.chain_id}")

    def _submit(self, dst: int, planned: list[tuple[tuple[int, int], list[SentRecord], Tx]]) -> int:
        target = self.network.nodes[dst]
        receipts = target.chain.send([tx for _, _, tx in planned])
        self._transactions += len(planned)
        handed = 0
        for (key, batch, _), receipt in zip(planned, receipts, strict=True):
            handed += self._record(key, batch, receipt)
        expected = target.gateway.hop_state([src for (src, _), _, _ in planned])
        for (src, _), _, _ in planned:
            self._next[(src, dst)] = expected[src][1]
            queue = self._queue[(src, dst)]
            for sequence in [s for s in queue if s < expected[src][1]]:
                del queue[sequence]
        return handed

    def _record(self, key: tuple[int, int], batch: list[SentRecord], receipt: Receipt) -> int:
        src, dst = key
        events = self.network.nodes[dst].gateway.events(receipt) if receipt.status else []
        processed = event_args(events, "Processed")
        refused = event_args(events, "Refused")
        self.deliveries.append(Delivery(src, dst, self.network.mode(src, dst), len(batch), len(processed),
                                        len(refused), receipt.gas_used, receipt.block_number, receipt.timestamp,
                                        receipt.status))
        share = receipt.gas_used // max(1, len(batch))
        for args in processed:
            self.processed[args["id"]].append(Processing(args["id"], dst, Outcome(args["outcome"]),
                                                         receipt.block_number, receipt.timestamp, share))
        for args in event_args(events, "Acknowledged"):
            self.acknowledged[args["id"]] = Processing(args["id"], dst, Outcome(args["outcome"]),
                                                       receipt.block_number, receipt.timestamp, share)
        return len(batch) if receipt.status else 0
