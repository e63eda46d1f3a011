"""A run's living registry: the activity on the hub's PilotRegistry, the broadcaster carrying it to
the mirrors, and the watch that measures how stale the mirrors were — started together when a
scenario's `[registry]` section asks for any activity."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import simpy

from ..bridge.topology import HUB_CHAIN_ID, Network
from .broadcaster import Broadcaster
from .driver import ChainDriver
from .registry_activity import Process, RegistryActivity
from .registry_settings import RegistrySettings
from .registry_watch import RegistryWatch, StaleDecision


@dataclass(frozen=True)
class RegistryRecords:
    """What the living registry left for the report: data only, no handle on the run."""

    settings: RegistrySettings
    refused: Counter[str]  # registry function → transactions the registry refused
    syncs_refused: int  # sync transactions refused at the hub (a paused lane)
    activity: dict[str, int]  # registry function → transactions it took
    propagation: dict[str, list[float]]  # zone → seconds each hub change took to reach its mirror
    unapplied: dict[str, int]  # zone → hub changes its mirror had not applied at the end
    decisions: dict[tuple[str, str], int]  # (zone, accepted | refused) → requests
    stale: list[StaleDecision]  # the first ones, as the watch kept them
    stale_counts: dict[str, int]  # every stale decision, by kind
    entity_names: dict[int, str]  # the entities `stale` names
    lag_timeline: list[tuple[float, dict[str, float]]]  # (t, zone → lag s)
    pilot_timeline: list[tuple[float, dict[str, int]]]  # (t, status → pilots)
    suspended_at: list[float]  # when the hub suspended an entity
    refused_per_10s: dict[int, int]  # requests the zones' chains refused, by 10 s bucket


@dataclass
class LivingRegistry:
    settings: RegistrySettings
    activity: RegistryActivity
    broadcaster: Broadcaster
    watch: RegistryWatch

    @classmethod
    def start(cls, env: simpy.Environment, network: Network, settings: RegistrySettings, until_s: float,
              drivers: dict[int, ChainDriver], entities: list[int], first: dict[int, int], epoch: int,
              rng: np.random.Generator) -> LivingRegistry:
        """`entities`: the workload's (random suspensions strike them); `first`: each chain's first block
        of the run."""
        hub = drivers[HUB_CHAIN_ID]
        return cls(settings, RegistryActivity(env, network, settings, until_s, hub, entities, rng),
                   Broadcaster(env, network, settings, hub), RegistryWatch(network, first, epoch, settings.max_stale_s))

    def processes(self) -> list[Process]:
        return [*self.activity.processes(), self.broadcaster.run()]

    def settled(self) -> bool:
        """Every scheduled suspension has happened and the broadcaster has nothing left to send (random
        activity still under way when the data settles is not waited for)."""
        return self.activity.scheduled_done and self.broadcaster.idle()

    def records(self) -> RegistryRecords:
        watch = self.watch
        zones = {z.chain_id: z.name for z in watch.network.zones}
        return RegistryRecords(
            self.settings, Counter(self.activity.refused), self.broadcaster.refused, dict(watch.activity),
            propagation={zones[c]: [seconds for _, seconds in found] for c, found in watch.propagation.items()},
            unapplied={zones[c]: sum(len(pending) for pending in waiting.values())
                       for c, waiting in watch.unapplied.items()},
            decisions=dict(watch.decisions), stale=list(watch.stale), stale_counts=dict(watch.stale_counts),
            entity_names={d.entity: watch.name(d.entity) for d in watch.stale},
            lag_timeline=watch.lag_timeline, pilot_timeline=watch.pilot_timeline, suspended_at=watch.suspended_at,
            refused_per_10s=dict(watch.refused_per_10s))
