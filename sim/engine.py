"""The discrete-event simulation: one SimPy clock drives every chain's blocks, the relayers,
the workload, the faults and the watcher.

Chains read time only from their blocks, and every block carries the simulation clock (the
block timestamp of simulated second `t` is `epoch + t`). Wall time and simulated time are kept
apart and both reported. One root seed spawns a random stream per process, so a scenario and a
seed always give the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from eth_utils import keccak

from registry import Tx
from registry.seeds import slug

from .driver import ChainDriver, GasRecord
from .gateway import GatewayClient
from .messages import TERMINAL, Outcome, SentRecord
from .network import HUB_CHAIN_ID, ChainNode, Network, NetworkConfig
from .relayer import Lane, Planned, Processing, Relayer
from .scenario import Fault, Scenario
from .spool import Spool
from .watcher import Watcher

Progress = Callable[[str, float, float], None]
ATTACKER_INDEX = 198  # a funded account no role uses


@dataclass(slots=True)  # one per message or transaction: kept small for long runs
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
    def finished(self) -> bool:
        """Nothing more will happen to it: processed, acknowledged, and a delivered request answered."""
        return self.acked_s is not None and self.delivered_s is not None and \
            (self.kind == "response" or self.outcome != "delivered" or self.executed_s is not None)


@dataclass
class SourceRefusal:
    """A workload transaction the source chain refused (rate limit, inactive entity, …)."""

    kind: str
    zone: str
    reason: str
    time_s: float


@dataclass
class RelayerSlot:
    """One relayer position: the running relayer (replaced when restarted) and its faults."""

    index: int
    lanes: list[Lane]
    relayer: Relayer
    down: bool = False
    duplicate: bool = False
    reorder: bool = False
    restarts: int = 0
    inflight: set[Lane] = field(default_factory=set)


@dataclass
class RunResult:
    scenario: Scenario
    network: Network
    messages: dict[bytes, MessageRecord]
    refusals: list[SourceRefusal]
    gas: list[GasRecord]
    invariants: dict[str, Any]
    attacks: list[dict[str, Any]]
    sim_seconds: float
    wall_setup_s: float
    wall_run_s: float
    blocks: dict[int, int]
    relayer_restarts: int
    delivery_transactions: int
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (simulated s, resident MB) samples
    fault_starts: list[float] = field(default_factory=list)  # when each fault began (jitter drawn)


class Simulation:
    """Build the scenario's network, then run its workload and faults on the simulated clock."""

    def __init__(self, scenario: Scenario, *, backend: str = "eth-tester", progress: Progress | None = None,
                 chain_factory: Callable[[int, int], Any] | None = None) -> None:
        self.scenario = scenario
        self.backend = backend
        self.chain_factory = chain_factory
        self.progress = progress or (lambda label, done, total: None)
        streams = np.random.SeedSequence(scenario.seed).spawn(4)
        self.rng_workload = np.random.default_rng(streams[0])
        self.rng_faults = np.random.default_rng(streams[1])

    # -- setup --------------------------------------------------------------------------------------

    def run(self) -> RunResult:
        started = time.perf_counter()
        config = self._network_config()
        network = Network.build(config, backend=self.backend,  # type: ignore[arg-type]
                                progress=lambda label, done, total: self.progress(label, done, total),
                                chain_factory=self.chain_factory)
        try:
            setup = time.perf_counter() - started
            return self._simulate(network, setup)
        finally:
            network.close()

    def _network_config(self) -> NetworkConfig:
        config = self.scenario.network
        flawed = {f.chain: f.kind for f in self.scenario.faults if f.kind in ("verifier-bypass", "zero-root")}
        if flawed:
            config = config.model_copy(update={"vulnerable": config.vulnerable | flawed})
        return config

    def _simulate(self, network: Network, setup_s: float) -> RunResult:
        scenario = self.scenario
        env = simpy.Environment()
        self.env, self.network = env, network
        epoch = max(n.chain.block().timestamp for n in network.nodes.values()) + 1
        self.epoch = epoch
        self.messages: dict[bytes, MessageRecord] = {}  # in flight; finished ones go to the spool
        self.finished: Spool[MessageRecord] = Spool()
        self.refusals: list[SourceRefusal] = []
        self.gas: Spool[GasRecord] = Spool()
        self.attacks: list[dict[str, Any]] = []
        self._pending_answers: dict[bytes, tuple[int, int, int, bytes, int, float]] = {}
        self._picked: dict[bytes, float] = {}
        self._records = 0
        self.rss_mb: list[tuple[float, float]] = []
        self._retired_deliveries = 0  # delivery transactions of relayers since replaced
        names = _contract_names(network)
        self.drivers = {
            c: ChainDriver(env, node, scenario.chains.hub_block_interval_s or scenario.chains.block_interval_s
                           if node.is_hub else scenario.chains.block_interval_s, epoch, names, self.gas.add)
            for c, node in network.nodes.items()
        }
        first_block = {c: n.chain.block_number() + 1 for c, n in network.nodes.items()}
        self.watcher = Watcher(network, first_block)
        all_lanes = sorted((c, h) for c in network.nodes for h in network.neighbours(c))
        count = scenario.relayers.count
        self.slots = [RelayerSlot(i, all_lanes[i::count], self._new_relayer(i, all_lanes[i::count]))
                      for i in range(count)]
        for slot in self.slots:
            env.process(self._relay(slot))
        env.process(self._workload())
        env.process(self._watch())
        self.fault_starts = [fault.at_s + float(self.rng_faults.uniform(0, fault.jitter_s)) if fault.jitter_s
                             else fault.at_s for fault in scenario.faults]
        for fault, start in zip(scenario.faults, self.fault_starts, strict=True):
            env.process(self._fault(fault, start))
        end = scenario.duration_s + scenario.drain_s
        wall = time.perf_counter()
        step = max(1.0, end / 200)
        while env.now < end:
            env.run(until=min(end, env.now + step))
            self.progress("simulating", env.now, end)
            if env.now >= scenario.duration_s and self._settled():
                break
        self.watcher.scan()
        for attack in self.attacks:  # where each attack message ended, as the chains recorded it
            attack["outcomes"] = [
                [o.label for _, o in self.watcher.outcomes.get(bytes.fromhex(i[2:]), [])] for i in
                attack.get("message_ids", [])]
        messages = sorted([*self.finished, *self.messages.values()], key=lambda m: m.index)
        gas = list(self.gas)
        self.finished.close()
        self.gas.close()
        return RunResult(
            scenario=scenario, network=network, messages={m.message_id: m for m in messages}, refusals=self.refusals,
            gas=gas,
            invariants=self.watcher.invariants(), attacks=self.attacks, sim_seconds=float(env.now),
            wall_setup_s=setup_s, wall_run_s=time.perf_counter() - wall,
            blocks={c: d.blocks for c, d in self.drivers.items()},
            relayer_restarts=sum(s.restarts for s in self.slots),
            delivery_transactions=sum(s.relayer.delivery_count for s in self.slots) + self._retired_deliveries,
            rss_mb=self.rss_mb, fault_starts=self.fault_starts,
        )

    def _settled(self) -> bool:
        """After the workload: nothing waits in a mempool and every message is acknowledged."""
        if any(d.pending for d in self.drivers.values()) or any(s.inflight for s in self.slots):
            return False
        return all(m.acked_s is not None or m.outcome == "lost" for m in self.messages.values()) and \
            all(not s.relayer.pending() for s in self.slots if not s.down)

    def restart_relayer(self, slot: RelayerSlot) -> None:
        """Killed, then started again: a fresh relayer that knows only what the chains say."""
        self._retired_deliveries += slot.relayer.delivery_count
        slot.relayer = self._new_relayer(slot.index, slot.lanes)
        slot.inflight.clear()
        slot.restarts += 1
        slot.down = False

    def _new_relayer(self, index: int, lanes: list[Lane]) -> Relayer:
        return Relayer(self.network, batch_size=self.scenario.relayers.batch_size, account_index=index,
                       lanes=set(lanes), listener=self, history=False, ack_wait_s=self.scenario.relayers.ack_wait_s)

    # -- relayers -----------------------------------------------------------------------------------

    def _relay(self, slot: RelayerSlot):  # type: ignore[no-untyped-def]
        env = self.env
        interval = self.scenario.relayers.poll_interval_s
        while True:
            yield env.timeout(interval)
            if slot.down:
                continue
            relayer = slot.relayer
            relayer.scan()
            planned = relayer.plan(busy=slot.inflight, now=self.epoch + int(env.now))
            if slot.reorder:
                planned = [self._reordered(relayer, p) for p in planned]
            by_destination: dict[int, list[Planned]] = {}
            for p in planned:
                by_destination.setdefault(p.lane[1], []).append(p)
            for dst, group in by_destination.items():
                copies = 2 if slot.duplicate else 1
                event = self.drivers[dst].submit([p.tx for p in group for _ in range(copies)])
                slot.inflight.update(p.lane for p in group)
                env.process(self._settle(slot, relayer, group, copies, event))

    def _settle(self, slot: RelayerSlot, relayer: Relayer, group: list[Planned], copies: int,
                event: simpy.Event):  # type: ignore[no-untyped-def]
        receipts = yield event
        relayer.settle(group, receipts[::copies])
        for extra in range(1, copies):  # duplicates: refused by the hop, their gas spent all the same
            relayer.settle(group, receipts[extra::copies])
        if slot.relayer is relayer:
            slot.inflight.difference_update(p.lane for p in group)

    @staticmethod
    def _reordered(relayer: Relayer, planned: Planned) -> Planned:
        batch = list(reversed(planned.batch))
        return Planned(planned.lane, batch, relayer._delivery_tx(planned.lane, batch))

    # -- what relayers tell (Listener) ----------------------------------------------------------------

    def picked(self, record: SentRecord) -> None:
        message = self.messages.get(record.message_id)
        if message is None:
            # a relayer may read the block before the workload takes in its receipt; acks have no
            # record to wait for, and keeping their times would grow memory with every batch
            if not record.message.is_ack and record.chain_id == record.message.src_chain:
                self._picked.setdefault(record.message_id, float(self.env.now))
        elif message.picked_s is None:
            message.picked_s = float(self.env.now)

    def processed(self, processing: Processing) -> None:
        message = self.messages.get(processing.message_id)
        if message is None:
            return
        message.hops += 1
        message.gas_deliver += processing.gas_share
        if processing.chain_id == message.dst_chain and processing.outcome in TERMINAL:
            message.delivered_s = float(processing.timestamp - self.epoch)
            message.outcome = processing.outcome.label
            if message.kind == "response":
                message.executed_s = message.delivered_s
            elif processing.outcome is Outcome.DELIVERED:
                self._schedule_response(message)
            self._finish_if_done(message)

    def acknowledged(self, processing: Processing) -> None:
        message = self.messages.get(processing.message_id)
        if message is not None and message.acked_s is None:
            message.acked_s = float(processing.timestamp - self.epoch)
            message.gas_ack += processing.gas_share
            self._finish_if_done(message)

    def _finish_if_done(self, message: MessageRecord) -> None:
        if message.finished and self.messages.get(message.message_id) is message:
            del self.messages[message.message_id]
            self.finished.add(message)

    # -- workload -------------------------------------------------------------------------------------

    def _workload(self):  # type: ignore[no-untyped-def]
        rng = self.rng_workload
        work = self.scenario.workload
        pairs = WorkloadPairs(self.network, work)
        env = self.env
        while True:
            yield env.timeout(float(rng.exponential(1.0 / work.rate_per_s)))
            if env.now >= self.scenario.duration_s:
                return
            requester, provider, sector = pairs.draw(rng)
            size = int(rng.integers(work.payload_bytes[0], work.payload_bytes[1] + 1))
            delay = float(rng.uniform(*work.respond_after_s))
            query = keccak(rng.bytes(32))
            env.process(self._request(requester, provider, sector, query, size, delay))

    def _request(self, requester: int, provider: int, sector: int, query: bytes, size: int,
                 delay: float):  # type: ignore[no-untyped-def]
        net = self.network
        home, away = self._home(requester), self._home(provider)
        assert home.exchange is not None
        submitted = float(self.env.now)
        tx = home.exchange.tx("request", requester, provider, away.chain_id, sector, query,
                              self.scenario.workload.ttl_s, by=net.registry.roles.entity(requester), gas=400_000)
        receipt = yield self.drivers[home.chain_id].submit([tx])
        receipt = receipt[0]
        if not receipt.status:
            self.refusals.append(SourceRefusal("request", home.name, _reason(receipt), submitted))
            return
        event = next(e for e in home.exchange.events(receipt) if e.name == "RequestSent")
        self.messages[event["id"]] = MessageRecord(
            event["id"], "request", home.name, away.name, home.chain_id, away.chain_id,
            net.data.sectors[sector - 1].name, submitted, float(receipt.timestamp - self.epoch),
            picked_s=self._picked.pop(event["id"], None), gas_send=receipt.gas_used, payload_bytes=160,
            index=self._created())
        self._pending_answers[event["id"]] = (requester, provider, sector, query, size, delay)

    def _schedule_response(self, request: MessageRecord) -> None:
        details = self._pending_answers.pop(request.message_id, None)
        if details is not None:
            self.env.process(self._respond(request, *details))

    def _respond(self, request: MessageRecord, requester: int, provider: int, sector: int, query: bytes, size: int,
                 delay: float):  # type: ignore[no-untyped-def]
        yield self.env.timeout(delay)
        net = self.network
        away, home = self._home(provider), self._home(requester)
        assert away.exchange is not None
        answer = keccak(request.message_id + size.to_bytes(8, "big"))
        submitted = float(self.env.now)
        tx = away.exchange.tx("respond", request.message_id, home.chain_id, requester, provider, sector, query, answer,
                              size, self.scenario.workload.ttl_s, by=net.registry.roles.entity(provider), gas=400_000)
        receipt = (yield self.drivers[away.chain_id].submit([tx]))[0]
        if not receipt.status:
            self.refusals.append(SourceRefusal("response", away.name, _reason(receipt), submitted))
            return
        request.executed_s = float(receipt.timestamp - self.epoch)
        self._finish_if_done(request)
        event = next(e for e in away.exchange.events(receipt) if e.name == "ResponseSent")
        self.messages[event["responseId"]] = MessageRecord(
            event["responseId"], "response", away.name, home.name, away.chain_id, home.chain_id, request.sector,
            submitted, float(receipt.timestamp - self.epoch), picked_s=self._picked.pop(event["responseId"], None),
            gas_send=receipt.gas_used, payload_bytes=size, request_id=request.message_id, index=self._created())

    def _created(self) -> int:
        self._records += 1
        return self._records

    def _home(self, entity_id: int) -> ChainNode:
        return self.network.node(self.network.data.entities[entity_id - 1].zone)

    # -- watcher --------------------------------------------------------------------------------------

    def _watch(self):  # type: ignore[no-untyped-def]
        interval = max(10.0, self.scenario.relayers.poll_interval_s * 10)
        while True:
            yield self.env.timeout(interval)
            self.watcher.scan()
            self.rss_mb.append((float(self.env.now), _resident_mb()))

    # -- faults ---------------------------------------------------------------------------------------

    def _fault(self, fault: Fault, start_s: float):  # type: ignore[no-untyped-def]
        from .faults import apply_fault

        yield self.env.timeout(start_s)
        yield from apply_fault(self, fault)

    def submit_attack(self, chain_id: int, tx: Tx, description: dict[str, Any],
                      gateway: GatewayClient | None = None):  # type: ignore[no-untyped-def]
        receipt = (yield self.drivers[chain_id].submit([tx]))[0]
        gateway = gateway or self.network.nodes[chain_id].gateway
        events = gateway.events(receipt) if receipt.status else []
        sent = [e["id"] for e in events if e.name == "Sent"]
        if sent and "message_ids" not in description:  # a send: its messages are the attack
            description["message_ids"] = ["0x" + i.hex() for i in sent]
        self.watcher.keep.update(bytes.fromhex(i[2:]) for i in description.get("message_ids", []))
        description.update(time_s=float(self.env.now), status=receipt.status, gas_used=receipt.gas_used,
                           processed=sum(e.name == "Processed" for e in events),
                           refused=sum(e.name == "Refused" for e in events),
                           reason="" if receipt.status else _reason(receipt))
        self.attacks.append(description)


class WorkloadPairs:
    """Draws (requester, provider, sector) for the workload, as the scenario and policy allow."""

    def __init__(self, network: Network, work: Any) -> None:
        data = network.data
        zones = [z.code for z in data.zones] if work.zones == "all" else \
            [data.zones[data.zone_id(z) - 1].code for z in work.zones]
        sector_ids = list(range(1, len(data.sectors) + 1)) if work.sectors == "all" else \
            [data.sector_id(s) for s in work.sectors]
        policy = data.policy_masks()
        self.by_zone: dict[str, list[int]] = {z: [] for z in zones}
        holders: dict[int, list[tuple[int, str]]] = {s: [] for s in sector_ids}
        for i, entity in enumerate(data.entities, start=1):
            if entity.zone in self.by_zone:
                self.by_zone[entity.zone].append(i)
                for code in entity.sectors:
                    sector = data.sector_id(code)
                    if sector in holders:
                        holders[sector].append((i, entity.zone))
        self.choices: dict[int, list[tuple[int, int]]] = {}  # requester → [(sector, provider)]
        for zone, members in self.by_zone.items():
            for requester in members:
                mine = [data.sector_id(s) for s in data.entities[requester - 1].sectors]
                allowed = 0
                for s in mine:
                    allowed |= policy.get(s, 0)
                options = [(s, p) for s in sector_ids for p, pz in holders[s] if pz != zone and
                           (not work.respect_policy or allowed >> (s - 1) & 1)]
                if options:
                    self.choices[requester] = options
        weights = {slug(k): v for k, v in work.zone_weights.items()}
        self.zones = [z for z in zones if any(r in self.choices for r in self.by_zone[z])]
        if not self.zones:
            raise ValueError("the workload allows no request: no zone has a requester with a permitted provider")
        w = np.array([weights.get(slug(z), weights.get(slug(data.zones[data.zone_id(z) - 1].name), 1.0))
                      for z in self.zones], dtype=float)
        self.weights = w / w.sum()

    def draw(self, rng: np.random.Generator) -> tuple[int, int, int]:
        zone = self.zones[int(rng.choice(len(self.zones), p=self.weights))]
        requesters = [r for r in self.by_zone[zone] if r in self.choices]
        requester = requesters[int(rng.integers(len(requesters)))]
        sector, provider = self.choices[requester][int(rng.integers(len(self.choices[requester])))]
        return requester, provider, sector


def _contract_names(network: Network) -> dict[str, str]:
    names = {}
    for node in network.nodes.values():
        for attr in ("gateway", "committee", "mirror", "exchange", "registry", "broadcaster"):
            contract = getattr(node, attr)
            if contract is not None:
                names[contract.address] = contract.artifact.name
    return names


def _resident_mb() -> float:
    """This process's resident memory now (Linux /proc; 0 where it is not available)."""
    try:
        pages = int(open("/proc/self/statm").read().split()[1])  # noqa: SIM115 - a one-shot read
    except (OSError, IndexError, ValueError):
        return 0.0
    return round(pages * 4096 / 2**20, 1)


def _reason(receipt: Any) -> str:
    from registry.artifacts import decode_revert

    return decode_revert(receipt.revert_data or b"").name


__all__ = ["HUB_CHAIN_ID", "MessageRecord", "RunResult", "Simulation"]
