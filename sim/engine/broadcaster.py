"""The hub's broadcaster at work: every `broadcast_interval_s` it reads the registry's events since
its last look and sends each zone what changed since that zone's last sync — entities to its
RegistryMirror, the sector policy to its DataExchange — through the RegistryBroadcaster and the same
gateways and relayers as data messages.

Each zone has its own queue and its own sync transaction, so a zone whose lane is paused (the send
reverts) keeps its queue and only it falls behind; a sync that times out or fails on the way is
queued again. The mirrors apply versions in order (an older version never overwrites a newer one),
so a resend cannot roll an entity back.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from registry import ChainError
from registry.events import DataPolicySet, EntityRegistered, EntityStatusChanged
from registry.evm.artifacts import contract_constant, contract_constants, decode_revert
from registry.evm.base import HistoryHolds
from registry.evm.events import typed, typed_all

from ..bridge.events import Broadcast, PolicyBroadcast, SyncOutcome
from ..bridge.messages import Outcome
from ..bridge.topology import HUB_CHAIN_ID, Network
from .driver import ChainDriver
from .registry_settings import RegistrySettings

SYNCS = ("entities", "policy")  # what changed: entity records, or sectors' policy


class Broadcaster:
    """Keeps every zone's mirror up to date with the hub's registry, batch by batch."""

    def __init__(self, env: simpy.Environment, network: Network, settings: RegistrySettings,
                 hub: ChainDriver) -> None:
        self.env, self.network, self.settings, self.hub = env, network, settings, hub
        assert network.hub.broadcaster is not None  # the hub is deployed with one
        self.contract = network.hub.broadcaster
        # what each zone still needs, as ordered sets: entity ids, and requester sectors of the policy
        self.queues: dict[tuple[str, int], dict[int, None]] = {(kind, z.chain_id): {} for kind in SYNCS
                                                               for z in network.zones}
        self.in_flight: dict[bytes, tuple[tuple[str, int], list[int]]] = {}  # sync message id → (queue, items)
        self.refused = 0  # sync transactions refused at the hub (a paused lane)
        self._sending = 0  # sync transactions submitted, not yet mined
        # a policy sync's handler gas grows with the sectors it carries; keep it under the gateway's cap
        # (the figures are the contracts' own: RegistryBroadcaster.syncPolicy's budget, the gateway's cap)
        budget = contract_constants("RegistryBroadcaster")
        per_sector = budget["GAS_PER_SECTOR"] + budget["GAS_PER_POLICY_BIT"] * len(network.data.sectors)
        cap = contract_constant("GatewayConfig", "MAX_GAS_LIMIT")
        self._policy_batch = max(1, min(settings.broadcast_batch, (cap - 50_000) // per_sector))
        self._next_block = network.hub.chain.block_number + 1
        self.holds = HistoryHolds()  # what it has not read stays on the hub (revm forgets past a window)
        self.holds.keep(network.hub.chain, self._next_block - 1)  # from the start: its first read may come late

    def run(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(self.settings.broadcast_interval_s)
            self._read_hub()
            for key, queue in self.queues.items():
                if queue:
                    size = self.settings.broadcast_batch if key[0] == "entities" else self._policy_batch
                    batch = list(queue)[:size]
                    for item in batch:
                        del queue[item]
                    self.env.process(self._sync(key, batch))

    def _read_hub(self) -> None:
        """Entities changed since the last look go to every zone's queue; syncs that ended without
        being applied go back to their zone's."""
        chain = self.network.hub.chain
        head = chain.block_number
        if head < self._next_block:
            return
        for _, event in self.network.registry.logged(self._next_block, head):
            match typed(event):
                case EntityRegistered(entity_id=entity) | EntityStatusChanged(entity_id=entity):
                    self._queue("entities", entity)
                case DataPolicySet(requester_sector=sector):
                    self._queue("policy", sector)
        for _, event in self.contract.logged(self._next_block, head):
            if isinstance(outcome := typed(event), SyncOutcome):
                key, items = self.in_flight.pop(outcome.id, (("", 0), []))
                if items and outcome.outcome is not Outcome.DELIVERED:
                    self.queues[key].update(dict.fromkeys(items))
        self._next_block = head + 1
        self.holds.keep(chain, head)

    def idle(self) -> bool:
        """Everything the hub changed has been read, sent and settled: a run may end."""
        head = self.network.hub.chain.block_number
        return self._next_block > head and not self.in_flight and not any(self.queues.values()) \
            and not self._sending

    def _queue(self, kind: str, item: int) -> None:
        for zone in self.network.zones:
            self.queues[(kind, zone.chain_id)][item] = None

    def _sync(self, key: tuple[str, int], items: list[int]) -> Generator[simpy.Event, Any, None]:
        kind, zone = key
        gas = 150_000 + 25_000 * len(items)  # measured: 535,595 for 32 seeded entities, 3.4 M for 256
        sync = self.contract.sync_tx if kind == "entities" else self.contract.sync_policy_tx
        tx = sync(items, [zone], self.network.config.sync_ttl, by=self.network.admin(HUB_CHAIN_ID), gas=gas)
        self._sending += 1
        [receipt] = yield self.hub.submit([tx])
        self._sending -= 1
        if not receipt.status:
            reason = decode_revert(receipt.revert_data or b"").name
            if reason != "LanePaused":  # nothing would change by waiting: say so rather than retry forever
                raise ChainError(f"the hub refused a {kind} sync to {self.network.nodes[zone].name}: {reason}")
            self.refused += 1  # the lane toward the zone is paused: try again next round
            self.queues[key] = dict.fromkeys([*items, *self.queues[key]])
            return
        for record in typed_all(self.contract.events(receipt)):
            if isinstance(record, Broadcast | PolicyBroadcast):
                self.in_flight[record.id] = (key, items)
