"""What a run leaves behind: a record per message (phase by phase), per refused send, per attack, and
the `RunRecords` the engine hands to the metrics.

The recorder hears what relayers see (it is their `Listener`) and what the workload sends. A message
it is done with goes to a spool on disk, so memory holds what is in flight, not the run's history.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from ..bridge.deliveries import Processing
from ..bridge.messages import TERMINAL, SentRecord
from ..bridge.topology import Network, NetworkConfig
from .driver import GasRecord
from .living_registry import RegistryRecords
from .scenario import Scenario
from .spool import Spool
from .transactions import TransactionRecords
from .watcher import InvariantReport


@dataclass(slots=True)  # one per message: kept small for long runs
class MessageRecord:
    """One data message of the workload, phase by phase (simulated seconds from the start)."""

    message_id: bytes
    kind: str  # request | response
    src_zone: str
    dst_zone: str
    src_chain: int
    dst_chain: int
    sector: str
    submitted_s: float
    included_s: float
    picked_s: float | None = None
    delivered_s: float | None = None
    executed_s: float | None = None
    acked_s: float | None = None
    outcome: str = "pending"
    hops: int = 0
    gas_send: int = 0
    gas_deliver: int = 0
    gas_ack: int = 0
    payload_bytes: int = 0
    request_id: bytes = b""  # a response's request
    index: int = 0  # creation order: the order of messages.csv

    @property
    def latency_s(self) -> float | None:
        """Submitted → processed at its destination."""
        return None if self.delivered_s is None else self.delivered_s - self.submitted_s

    @property
    def finished(self) -> bool:
        """Nothing more will happen to it: processed, acknowledged, and a delivered request answered."""
        return self.acked_s is not None and self.delivered_s is not None and \
            (self.kind == "response" or self.outcome != "delivered" or self.executed_s is not None)


@dataclass(frozen=True)
class SourceRefusal:
    """A workload transaction the source chain refused (rate limit, inactive entity, …)."""

    kind: str
    zone: str
    reason: str
    time_s: float


class Attack(BaseModel):
    """What an attack transaction did, as the chains recorded it. Forgeries name the zones
    (`source`, `target`, `messages`, `keys`, `threshold`); admin calls their `target` contract and
    `function`; sends through a gateway their `function` and, oversized ones, `payload_bytes`."""

    kind: str
    source: str | None = Field(None, exclude_if=lambda v: v is None)
    target: str
    function: str | None = Field(None, exclude_if=lambda v: v is None)
    messages: int | None = Field(None, exclude_if=lambda v: v is None)
    keys: int | None = Field(None, exclude_if=lambda v: v is None)
    threshold: int | None = Field(None, exclude_if=lambda v: v is None)
    payload_bytes: int | None = Field(None, exclude_if=lambda v: v is None)
    message_ids: list[str] = Field(default_factory=list)
    time_s: float = 0.0
    status: bool = False
    gas_used: int = 0
    processed: int = 0
    refused: int = 0
    refusals: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)  # the reasons given, by name
    # a forgery: whether the gateway checked it for what it is (its verifier, or origin authentication) before
    # processing or refusing it; False: turned away before (a paused lane, a message taken already)
    checked: bool | None = Field(None, exclude_if=lambda v: v is None)
    reason: str = ""
    outcomes: list[list[str]] = Field(default_factory=list)  # per message, where it ended (watcher)


@dataclass(frozen=True)
class NetworkSummary:
    """What the report says of the network, kept after its chains are closed."""

    config: NetworkConfig
    zone_names: list[str]
    entities: int
    sectors: int
    chain_names: dict[int, str]  # chain id → name, hub first

    @classmethod
    def of(cls, network: Network) -> NetworkSummary:
        return cls(network.config, [z.name for z in network.zones], len(network.data.entities),
                   len(network.data.sectors), {c: n.name for c, n in sorted(network.nodes.items())})


@dataclass(frozen=True)
class RelayerRecord:
    """What one relayer position did over the run (its restarts included)."""

    index: int
    deliveries: int  # delivery transactions
    takeovers: int  # of them, on lanes of another relayer's that had stalled
    restarts_at_s: list[float]  # simulated seconds of each restart

    @property
    def restarts(self) -> int:
        return len(self.restarts_at_s)


class MessageLog:
    """A run's messages in creation order, as many times as they are iterated: the finished ones from
    the spool one at a time, merged with the few still in flight at the end."""

    def __init__(self, finished: Spool[MessageRecord], unfinished: list[MessageRecord]) -> None:
        self.finished, self.unfinished = finished, unfinished

    def __len__(self) -> int:
        return len(self.finished) + len(self.unfinished)

    def __iter__(self) -> Iterator[MessageRecord]:
        return heapq.merge(self.finished.by_key(), self.unfinished, key=lambda m: m.index)


@dataclass
class RunRecords:
    """Everything a run recorded, for the metrics: the engine's output."""

    scenario: Scenario
    network: NetworkSummary
    messages: MessageLog  # in creation order
    refusals: list[SourceRefusal]
    gas: Spool[GasRecord]
    invariants: InvariantReport
    attacks: list[Attack]
    fault_windows: list[tuple[float, float | None]]  # when each fault began (jitter drawn) and ended (None: never)
    blocks: dict[int, int]  # chain id → blocks mined during the run
    relayers: list[RelayerRecord]
    sim_seconds: float
    wall_run_s: float
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (simulated s, resident MB) samples
    registry: RegistryRecords | None = None  # when the scenario's registry lives
    transactions: TransactionRecords | None = None  # when the scenario has atomic transactions

    def close(self) -> None:
        """Let go of the spooled messages and gas (temporary files, gone with the process anyway)."""
        self.messages.finished.close()
        self.gas.close()


class Recorder:
    """Keeps a `MessageRecord` per workload message up to date from the relayers' reports."""

    def __init__(self, epoch: int, now: Callable[[], float]) -> None:
        self.epoch, self.now = epoch, now
        self.in_flight: dict[bytes, MessageRecord] = {}
        self.finished: Spool[MessageRecord] = Spool()
        self.gas: Spool[GasRecord] = Spool()
        self.refusals: list[SourceRefusal] = []
        self.early_pickups: dict[bytes, float] = {}  # picked before the workload took in its receipt
        self.created = 0

    # -- what the workload tells -------------------------------------------------------------------

    def sent(self, message_id: bytes, kind: str, route: tuple[str, str, int, int], sector: str, submitted_s: float,
             included_s: float, gas_send: int, payload_bytes: int, request_id: bytes = b"") -> MessageRecord:
        """A message the workload sent, now in flight; `route` is (source zone, destination zone,
        source chain, destination chain)."""
        self.created += 1
        record = MessageRecord(message_id, kind, *route, sector, submitted_s, included_s,
                               picked_s=self.early_pickups.pop(message_id, None), gas_send=gas_send,
                               payload_bytes=payload_bytes, request_id=request_id, index=self.created)
        self.in_flight[message_id] = record
        return record

    def executed(self, request_id: bytes, time_s: float) -> None:
        """The provider answered the request at `time_s`."""
        request = self.in_flight.get(request_id)
        if request is not None:
            request.executed_s = time_s
            self._finish_if_done(request)

    def refused(self, kind: str, zone: str, reason: str, time_s: float) -> None:
        self.refusals.append(SourceRefusal(kind, zone, reason, time_s))

    # -- what relayers tell (the bridge's Listener) ------------------------------------------------

    def picked(self, record: SentRecord) -> None:
        message = self.in_flight.get(record.message_id)
        if message is None:
            # a relayer may read the block before the workload takes in its receipt; acks have no
            # record to wait for, and keeping their times would grow memory with every batch
            if not record.message.is_ack and record.chain_id == record.message.src_chain:
                now = self.now()
                # the workload takes in a receipt at the moment its block is mined: one picked earlier than
                # now was not the workload's (a sync, an attack's), and would stay for good
                while self.early_pickups and next(iter(self.early_pickups.values())) < now:
                    del self.early_pickups[next(iter(self.early_pickups))]
                self.early_pickups.setdefault(record.message_id, now)
        elif message.picked_s is None:
            message.picked_s = self.now()

    def processed(self, processing: Processing) -> None:
        message = self.in_flight.get(processing.message_id)
        if message is None:
            return
        message.hops += 1
        message.gas_deliver += processing.gas_share
        if processing.outcome in TERMINAL:  # at its destination, or ended by the hub (timed out, refused)
            message.delivered_s = float(processing.timestamp - self.epoch)
            message.outcome = processing.outcome.label
            if message.kind == "response":
                message.executed_s = message.delivered_s
            self._finish_if_done(message)

    def acknowledged(self, processing: Processing) -> None:
        message = self.in_flight.get(processing.message_id)
        if message is not None and message.acked_s is None:
            message.acked_s = float(processing.timestamp - self.epoch)
            message.gas_ack += processing.gas_share
            self._finish_if_done(message)

    def _finish_if_done(self, message: MessageRecord) -> None:
        if message.finished and self.in_flight.get(message.message_id) is message:
            del self.in_flight[message.message_id]
            self.finished.add(message, key=message.index)

    # -- the end -------------------------------------------------------------------------------------

    def all_acknowledged(self) -> bool:
        return all(m.acked_s is not None for m in self.in_flight.values())

    def messages(self) -> MessageLog:
        """Every message of the run, in creation order, read back from the spool as it is iterated."""
        return MessageLog(self.finished, sorted(self.in_flight.values(), key=lambda m: m.index))
