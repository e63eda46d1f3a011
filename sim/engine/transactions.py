"""Atomic transactions during a run: entities begin them as a Poisson process (each over two to five zones,
drawn from the run's seed), and keepers do what anyone may: roll back a transaction past its decision deadline
and release a lock past its expiry. What they came to is read back from chain events by
sim.engine.transaction_watch.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from registry import Tx
from registry.seeds import slug

from ..bridge.atomic import ABORT_GAS, CONSENT_VALID_S, RELEASE_GAS, AtomicClient
from ..bridge.topology import Network
from .driver import ChainDriver
from .transaction_settings import TransactionSettings
from .transaction_watch import TransactionWatch, TxRecord

Process = Generator[simpy.Event, Any, None]
ADMIN_GAS = 100_000


class TransactionActivity:
    """Runs the `[transactions]` section: arrivals, and the keepers."""

    def __init__(self, env: simpy.Environment, network: Network, settings: TransactionSettings, until_s: float,
                 drivers: dict[int, ChainDriver], watch: TransactionWatch, rng: np.random.Generator) -> None:
        self.env, self.network, self.settings, self.until_s = env, network, settings, until_s
        self.drivers, self.watch, self.rng = drivers, watch, rng
        self.client = AtomicClient(network)
        data = network.data
        codes = None if settings.zones == "all" else {slug(data.zones[data.zone_id(z) - 1].code)
                                                      for z in settings.zones}
        self.by_zone: dict[int, list[int]] = {}  # zone chain → its entities
        for entity_id, entity in enumerate(data.entities, start=1):
            if codes is None or slug(entity.zone) in codes:
                self.by_zone.setdefault(network.home(entity_id).chain_id, []).append(entity_id)
        self.zones = sorted(self.by_zone)
        self.recent: dict[int, float] = {}  # entity → when a begin naming it was mined (inf: not yet), until read
        self.begun = 0  # begin transactions sent
        self.begin_refused = 0  # begin transactions the coordinator refused
        self.asked: dict[tuple[bytes, int], float] = {}  # (transaction, chain) → when a keeper last asked there

    def processes(self) -> list[Process]:
        found = [self._arrivals(), self._keeper()]
        if self.settings.unsafe_commit:
            found.append(self._unsafe())
        return found

    def _unsafe(self) -> Process:
        """The flawed variant: every participant commits on prepare, set by governance before any transaction."""
        txs = {c: self.network.nodes[c].participant.set_unsafe_commit_tx(  # type: ignore[union-attr]
            True, by=self.network.admin(c), gas=ADMIN_GAS) for c in self.zones}
        yield self.env.all_of([self.drivers[chain_id].submit([tx]) for chain_id, tx in txs.items()])

    # -- arrivals -----------------------------------------------------------------------------------

    def _arrivals(self) -> Process:
        if self.settings.unsafe_commit:  # after the flaw is in place (the zones' first block)
            yield self.env.timeout(max(self.drivers[c].interval for c in self.zones))
        while True:
            yield self.env.timeout(float(self.rng.exponential(1.0 / self.settings.rate_per_s)))
            if self.env.now >= self.until_s:
                return
            self.env.process(self._begin())

    def _draw(self) -> list[int]:
        """The parties: one entity in each of k zones; with conflict_probability, one of them an entity an
        unfinished transaction named (whose lock may still hold)."""
        s, rng = self.settings, self.rng
        k = int(rng.integers(s.participants[0], s.participants[1] + 1))
        chains = [self.zones[int(i)] for i in rng.choice(len(self.zones), size=min(k, len(self.zones)),
                                                          replace=False)]
        held = self.watch.busy_entities() | set(self.recent)
        conflict = float(rng.random()) < s.conflict_probability
        parties = []
        for chain_id in chains:
            members = self.by_zone[chain_id]
            busy = [e for e in members if e in held]
            pool = busy if conflict and busy else [e for e in members if e not in held] or members
            if conflict and busy:
                conflict = False  # one conflicting party per transaction
            parties.append(pool[int(rng.integers(len(pool)))])
        return parties

    def _begin(self) -> Process:
        s = self.settings
        parties = self._draw()
        self.begun += 1  # each transaction's consents carry a nonce of their own: the count, for a reproducible run
        # signed now, on the simulated clock (a quiet chain's last block may be long past)
        valid_until = self.watch.epoch + int(self.env.now) + CONSENT_VALID_S
        tx, node = self.client.begin_tx(parties, protocol=s.protocol, coordinator=s.coordinator,
                                        lock_timeout=s.lock_timeout_s, nonce=self.begun.to_bytes(32, "big"),
                                        valid_until=valid_until)
        for entity in parties:  # busy until the watch reads the begin: from its block on
            self.recent[entity] = float("inf")
        [receipt] = yield self.drivers[node.chain_id].submit([tx])
        for entity in parties:
            self.recent[entity] = float(self.env.now)
        if not receipt.status:
            self.begin_refused += 1

    # -- keepers ------------------------------------------------------------------------------------

    def _keeper(self) -> Process:
        interval = self.settings.keeper_interval_s
        while True:
            yield self.env.timeout(interval)
            now = float(self.env.now)
            self.watch.scan(now)
            # what the watch has read of: begun (and mined) more than a keeper round ago
            self.recent = {e: t for e, t in self.recent.items() if now - t <= 2 * interval}
            for chain_id, txs in self._due(now).items():
                self.env.process(self._keep(chain_id, txs))

    def _due(self, now: float) -> dict[int, list[Tx]]:
        """Roll-backs of transactions past their decision deadline with no decision, releases of locks past their
        expiry; each asked again only after three keeper rounds."""
        due: dict[int, list[Tx]] = {}
        again = 3 * self.settings.keeper_interval_s
        for tx in self.watch.open.values():
            if tx.decision is None and now > tx.decide_by_s and self._ask(tx.tx_id, tx.coordinator, now, again):
                coordinator = self.network.nodes[tx.coordinator].coordinator
                assert coordinator is not None
                due.setdefault(tx.coordinator, []).append(coordinator.abort_expired_tx(
                    tx.tx_id, by=self.network.admin(tx.coordinator), gas=ABORT_GAS))
            for party in tx.parties.values():
                if party.state == "prepared" and now > tx.expires_at_s and self._ask(tx.tx_id, party.chain, now, again):
                    participant = self.network.nodes[party.chain].participant
                    assert participant is not None
                    due.setdefault(party.chain, []).append(participant.release_tx(
                        tx.tx_id, by=self.network.admin(party.chain), gas=RELEASE_GAS))
        return due

    def _ask(self, tx_id: bytes, chain_id: int, now: float, again: float) -> bool:
        last = self.asked.get((tx_id, chain_id))
        if last is not None and now - last < again:
            return False
        self.asked[(tx_id, chain_id)] = now
        return True

    def _keep(self, chain_id: int, txs: list[Tx]) -> Process:
        yield self.drivers[chain_id].submit(txs)  # a revert (another got there first) costs its gas, nothing more


@dataclass(frozen=True)
class TransactionRecords:
    """What the run's atomic transactions left for the report: data only, no handle on the run."""

    settings: TransactionSettings
    transactions: list[TxRecord]  # in the order they began
    begin_refused: int
    conflicts: int  # parties that voted no because another transaction held their record
    chain_names: dict[int, str]
    entity_names: dict[int, str]


def records_of(activity: TransactionActivity) -> TransactionRecords:
    watch = activity.watch
    txs = sorted(watch.transactions.values(), key=lambda t: (t.begun_s, t.tx_id))
    entities = {p.entity for t in txs for p in t.parties.values()}
    return TransactionRecords(activity.settings, txs, activity.begin_refused, watch.conflicts,
                              {c: n.name for c, n in activity.network.nodes.items()},
                              {e: activity.network.data.entity(e).name for e in sorted(entities)})
