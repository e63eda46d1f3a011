"""The workload: data requests between entities of different zones, arriving as a Poisson process,
each answered by its provider a while after it is delivered."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from registry import Receipt
from registry.errors import ConfigError
from registry.evm.artifacts import decode_revert
from registry.evm.events import first_of
from registry.evm.hashing import keccak
from registry.seeds import slug

from ..bridge.deliveries import Processing
from ..bridge.events import RequestSent, ResponseSent, Sent
from ..bridge.exchange import REQUEST_GAS
from ..bridge.messages import Outcome, SentRecord
from ..bridge.topology import ChainNode, Network
from .driver import ChainDriver
from .recorder import Recorder
from .scenario import Workload as WorkloadSettings


class WorkloadPairs:
    """Draws (requester, provider, sector) for the workload, as the scenario and policy allow."""

    def __init__(self, network: Network, work: WorkloadSettings) -> None:
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
                mine = [data.sector_id(s) for s in data.entity(requester).sectors]
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
            raise ConfigError("the workload allows no request: no zone has a requester with a permitted provider")
        w = np.array([weights.get(slug(z), weights.get(slug(data.zones[data.zone_id(z) - 1].name), 1.0))
                      for z in self.zones], dtype=float)
        self.weights = w / w.sum()
        # what rng.choice(len(zones), p=weights) works out on every call, once: the same draws, a tenth the time
        self._cdf = self.weights.cumsum()
        self._cdf /= self._cdf[-1]
        self._requesters = {z: [r for r in self.by_zone[z] if r in self.choices] for z in self.zones}

    def draw(self, rng: np.random.Generator) -> tuple[int, int, int]:
        zone = self.zones[int(self._cdf.searchsorted(rng.random(), side="right"))]
        requesters = self._requesters[zone]
        requester = requesters[int(rng.integers(len(requesters)))]
        sector, provider = self.choices[requester][int(rng.integers(len(self.choices[requester])))]
        return requester, provider, sector


@dataclass(frozen=True, slots=True)
class PendingAnswer:
    """What a provider will answer once the request reaches it."""

    requester: int
    provider: int
    sector: int
    query: bytes
    size: int  # bytes of the answer
    delay_s: float  # how long the provider takes to answer


class Workload:
    """Sends requests on the simulated clock until `until_s`; answers each delivered one."""

    def __init__(self, env: simpy.Environment, network: Network, settings: WorkloadSettings, until_s: float,
                 drivers: dict[int, ChainDriver], recorder: Recorder, rng: np.random.Generator) -> None:
        self.env, self.network, self.settings, self.until_s = env, network, settings, until_s
        self.drivers, self.recorder, self.rng = drivers, recorder, rng
        self.pairs = WorkloadPairs(network, settings)
        self.pending_answers: dict[bytes, PendingAnswer] = {}  # request id → its answer, until delivered

    def arrivals(self) -> Generator[simpy.Event, Any, None]:
        rng, work = self.rng, self.settings
        while True:
            yield self.env.timeout(float(rng.exponential(1.0 / work.rate_per_s)))
            if self.env.now >= self.until_s:
                return
            requester, provider, sector = self.pairs.draw(rng)
            size = int(rng.integers(work.answer_bytes[0], work.answer_bytes[1] + 1))
            delay = float(rng.uniform(*work.respond_after_s))
            query = keccak(rng.bytes(32))
            self.env.process(self._request(PendingAnswer(requester, provider, sector, query, size, delay)))

    # -- what the relayers tell (a bridge Listener): a delivered request is answered ----------------

    def processed(self, processing: Processing) -> None:
        """A request reached its provider: the provider answers after its delay."""
        if processing.outcome is Outcome.DELIVERED:
            details = self.pending_answers.pop(processing.message_id, None)
            if details is not None:
                self.env.process(self._respond(processing.message_id, details))

    def picked(self, record: SentRecord) -> None:
        pass

    def acknowledged(self, processing: Processing) -> None:
        pass

    def _request(self, ask: PendingAnswer) -> Generator[simpy.Event, Any, None]:
        net = self.network
        home, away = net.home(ask.requester), net.home(ask.provider)
        submitted = float(self.env.now)
        tx = home.data_exchange.request_tx(ask.requester, ask.provider, away.chain_id, ask.sector, ask.query,
                                           self.settings.ttl_s, by=net.registry.roles.entity(ask.requester),
                                           gas=REQUEST_GAS)
        [receipt] = yield self.drivers[home.chain_id].submit([tx])
        if not receipt.status:
            self.recorder.refused("request", home.name, decode_revert(receipt.revert_data or b"").name, submitted)
            return
        sent = first_of(RequestSent, home.data_exchange.events(receipt))
        self.recorder.sent(sent.id, "request", (home.name, away.name, home.chain_id, away.chain_id),
                           net.data.sectors[ask.sector - 1].name, submitted, self._since_start(receipt.timestamp),
                           receipt.gas_used, _payload_bytes(home, receipt))
        self.pending_answers[sent.id] = ask

    def _respond(self, request_id: bytes, ask: PendingAnswer) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(ask.delay_s)
        net = self.network
        away, home = net.home(ask.provider), net.home(ask.requester)
        answer = keccak(request_id + ask.size.to_bytes(8, "big"))
        submitted = float(self.env.now)
        tx = away.data_exchange.respond_tx(request_id, home.chain_id, ask.requester, ask.provider, ask.sector,
                                           ask.query, answer, ask.size, self.settings.ttl_s,
                                           by=net.registry.roles.entity(ask.provider), gas=REQUEST_GAS)
        [receipt] = yield self.drivers[away.chain_id].submit([tx])
        if not receipt.status:
            self.recorder.refused("response", away.name, decode_revert(receipt.revert_data or b"").name, submitted)
            return
        self.recorder.executed(request_id, self._since_start(receipt.timestamp))
        response = first_of(ResponseSent, away.data_exchange.events(receipt))
        self.recorder.sent(response.response_id, "response", (away.name, home.name, away.chain_id, home.chain_id),
                           net.data.sectors[ask.sector - 1].name, submitted, self._since_start(receipt.timestamp),
                           receipt.gas_used, _payload_bytes(away, receipt), request_id=request_id)

    def _since_start(self, timestamp: int) -> float:
        return float(timestamp - self.recorder.epoch)


def _payload_bytes(node: ChainNode, receipt: Receipt) -> int:
    """The size of what the transaction sent through `node`'s gateway, as the chain has it."""
    return len(first_of(Sent, node.gateway.events(receipt)).message.payload)
