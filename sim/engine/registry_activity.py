"""The registry's life during a run: entities apply and are approved, pilots are proposed, approved,
started and completed, the regulator suspends and reinstates entities — each a transaction on the
hub's PilotRegistry by the account of the role that may do it, on the simulated clock, drawn from
the run's seed. A refusal (a pilot whose entity was suspended meanwhile) is the registry's to make:
it is counted, not avoided.

What these transactions change reaches the zones through sim.engine.broadcaster; what it came to is
read back from chain events by sim.engine.registry_watch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from registry import Receipt, Tx, derive_account
from registry.events import EntityRegistered, PilotProposed
from registry.evm.events import first_of

from ..bridge.topology import Network
from .driver import ChainDriver
from .registry_settings import RegistrySettings

Process = Generator[simpy.Event, Any, None]
APPLICANT_BASE = 1_000  # new entities' accounts: m/44'/60'/0'/0/(1000 + k), clear of every role's
REGISTRY_GAS = 400_000


class RegistryActivity:
    """Runs the `[registry]` section's activity against the hub's PilotRegistry."""

    def __init__(self, env: simpy.Environment, network: Network, settings: RegistrySettings, until_s: float,
                 hub: ChainDriver, entities: list[int], rng: np.random.Generator) -> None:
        self.env, self.network, self.settings, self.until_s = env, network, settings, until_s
        self.hub, self.rng = hub, rng
        self.registry = network.registry
        self.roles = network.registry.roles
        self.entities = entities  # the workload's entities: the ones random suspensions strike
        self.suspended: set[int] = set()  # by this activity, not yet reinstated
        self.scheduled = {network.data.entity_id(s.entity) for s in settings.suspend}  # random ones leave these be
        self.refused: Counter[str] = Counter()  # function → transactions the registry refused
        self.applicants = 0
        self._scheduled_left = 0  # scheduled suspensions not yet over

    def processes(self) -> list[Process]:
        s = self.settings
        found = [self._poisson(s.applications_per_min, self._apply), self._poisson(s.pilots_per_min, self._pilot),
                 self._poisson(s.suspensions_per_min, self._random_suspension),
                 self._poisson(s.policy_changes_per_min, self._policy_change)]
        for scheduled in s.suspend:
            entity_id = self.network.data.entity_id(scheduled.entity)
            found.append(self._scheduled(entity_id, scheduled.at_s, scheduled.for_s))
        return found

    @property
    def scheduled_done(self) -> bool:
        """Every scheduled suspension (and its reinstatement) has happened: the run may end."""
        return self._scheduled_left == 0

    def _scheduled(self, entity_id: int, at_s: float, for_s: float) -> Process:
        self._scheduled_left += 1
        yield from self._suspension(entity_id, at_s, for_s)
        self._scheduled_left -= 1

    # -- the kinds of activity ------------------------------------------------------------------------

    def _poisson(self, per_min: float, start: Any) -> Process:
        if not per_min:
            return
        while True:
            yield self.env.timeout(float(self.rng.exponential(60.0 / per_min)))
            if self.env.now >= self.until_s:
                return
            self.env.process(start())

    def _apply(self) -> Process:
        """A new entity applies in a zone (registered pending by the admin); its zone authority approves
        it after the review."""
        data, rng = self.network.data, self.rng
        self.applicants += 1
        zone_id = int(rng.integers(1, len(data.zones) + 1))
        sectors = rng.choice(len(data.sectors), size=int(rng.integers(1, 3)), replace=False)
        mask = sum(1 << int(s) for s in sectors)
        account = derive_account(APPLICANT_BASE + self.applicants).address
        name = f"Applicant {self.applicants} ({data.zones[zone_id - 1].name})"
        review = float(rng.uniform(*self.settings.review_s))
        receipt = yield from self._send("registerEntities", [(zone_id, mask, account, name, "")],
                                        by=self.roles.admin)
        if receipt is None:
            return
        entity_id = first_of(EntityRegistered, self.registry.events(receipt)).entity_id
        yield self.env.timeout(review)
        yield from self._send("approveEntities", [entity_id], by=self.roles.authority(zone_id))

    def _pilot(self) -> Process:
        """An active entity proposes a pilot in one of its sectors; its zone authority approves and
        starts it, each after a step; the entity completes it after its run."""
        data, rng, s = self.network.data, self.rng, self.settings
        entity_id = self.entities[int(rng.integers(len(self.entities)))]
        entity = data.entity(entity_id)
        sector = data.sector_id(entity.sectors[int(rng.integers(len(entity.sectors)))])
        steps = [float(rng.uniform(*s.pilot_step_s)) for _ in range(2)]
        run = float(rng.uniform(*s.pilot_run_s))
        authority = self.roles.authority(data.zone_id(entity.zone))
        receipt = yield from self._send("proposePilot", sector, "Simulated pilot", by=self.roles.entity(entity_id))
        if receipt is None:
            return
        pilot_id = first_of(PilotProposed, self.registry.events(receipt)).pilot_id
        for function, wait in (("approvePilots", steps[0]), ("activatePilots", steps[1])):
            yield self.env.timeout(wait)
            if (yield from self._send(function, [pilot_id], by=authority)) is None:
                return
        yield self.env.timeout(run)
        yield from self._send("completePilot", pilot_id, by=self.roles.entity(entity_id))

    def _random_suspension(self) -> Process:
        active = [e for e in self.entities if e not in self.suspended and e not in self.scheduled]
        if not active:
            return
        entity_id = active[int(self.rng.integers(len(active)))]
        duration = float(self.rng.uniform(*self.settings.suspension_s))
        yield from self._suspension(entity_id, 0.0, duration)

    def _suspension(self, entity_id: int, at_s: float, for_s: float) -> Process:
        """The regulator suspends the entity `at_s` from now, and reinstates it `for_s` later (0: never)."""
        yield self.env.timeout(at_s)
        self.suspended.add(entity_id)
        if (yield from self._send("suspendEntity", entity_id, by=self.roles.regulator)) is None:
            self.suspended.discard(entity_id)
            return
        if for_s:
            yield self.env.timeout(for_s)
            yield from self._send("reinstateEntity", entity_id, by=self.roles.regulator)
            self.suspended.discard(entity_id)  # (a suspension for good stays remembered)

    def _policy_change(self) -> Process:
        """The national admin lets a requester sector ask for one more data sector, or one fewer."""
        sectors = len(self.network.data.sectors)
        requester = int(self.rng.integers(1, sectors + 1))
        flipped = 1 << int(self.rng.integers(sectors))
        mask = int(self.registry.view("dataPolicy", requester)) ^ flipped
        yield from self._send("setDataPolicies", [requester], [mask], by=self.roles.admin)

    def _send(self, function: str, *args: Any, by: Any) -> Generator[simpy.Event, Any, Receipt | None]:
        """One registry transaction on the hub; its receipt, or None (counted) when the registry refused."""
        tx: Tx = self.registry.tx(function, *args, by=by, gas=REGISTRY_GAS)
        [receipt] = yield self.hub.submit([tx])
        if not receipt.status:
            self.refused[function] += 1
            return None
        return receipt
