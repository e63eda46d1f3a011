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
from .registry_watch import RegistryWatch


@dataclass
class RegistryRecords:
    """What the living registry left for the report."""

    settings: RegistrySettings
    watch: RegistryWatch
    refused: Counter[str]  # registry function → transactions the registry refused
    syncs_refused: int  # sync transactions refused at the hub (a paused lane)


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
        return RegistryRecords(self.settings, self.watch, self.activity.refused, self.broadcaster.refused)
