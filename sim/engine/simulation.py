"""The discrete-event simulation: one SimPy clock drives every chain's blocks, the relayers,
the workload, the faults and the watcher, on a network already built.

Chains read time only from their blocks, and every block carries the simulation clock (the
block timestamp of simulated second `t` is `epoch + t`). One root seed spawns a random stream per
process, so a scenario and a seed on the same network always give the same run.

    records = Simulation(scenario, network).run()     # network: sim.bridge.provision.build_network
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from registry import PilotsimError, Tx
from registry.evm.base import HistoryHolds
from registry.progress import Progress, no_progress

from ..bridge.deliveries import Lane, Listeners, Planned, by_destination
from ..bridge.relayer import Relayer
from ..bridge.topology import Network
from .driver import ChainDriver
from .fault_kinds import Lasting
from .faults import inject
from .fraud_watch import FraudWatch
from .living_registry import LivingRegistry
from .recorder import Attack, NetworkSummary, Recorder, RelayerRecord, RunRecords
from .scenario import Scenario
from .transaction_watch import TransactionWatch
from .transactions import TransactionActivity, records_of
from .watcher import Watcher
from .workload import Workload

Process = Generator[simpy.Event, Any, None]


class RunStopped(PilotsimError):
    """A run could not go on: a chain refused or failed mid-run. Its cause is `__cause__`."""


# blocks a chain answers for during a run beyond what its readers (relayers, watchers, the broadcaster) hold:
# calls and receipts look at the latest block only
RUN_HISTORY_BLOCKS = 64


@dataclass
class RelayerSlot:
    """One relayer position: the running relayer (replaced when restarted) and its faults."""

    index: int
    lanes: list[Lane]
    relayer: Relayer
    down: bool = False
    duplicate: bool = False
    reorder: bool = False
    restarts_at_s: list[float] = field(default_factory=list)
    retired_deliveries: int = 0  # delivery transactions of the relayers it replaced
    retired_takeovers: int = 0
    inflight: set[Lane] = field(default_factory=set)
    retired: Relayer | None = None  # the relayer a restart replaced: its holds stay until the new one has read
    restarts_due: int = 0  # outages under way that end in a restart


class Simulation:
    """Runs a scenario's workload and faults on `network` (which must be built from
    `scenario.network_config()`); the network is left open, in the state the run left it."""

    def __init__(self, scenario: Scenario, network: Network, *, progress: Progress = no_progress) -> None:
        self.scenario, self.network, self.progress = scenario, network, progress
        streams = np.random.SeedSequence(scenario.seed).spawn(4)  # a child's draws do not depend on the count
        self.rng_workload = np.random.default_rng(streams[0])
        self.rng_faults = np.random.default_rng(streams[1])
        self.env = simpy.Environment()
        self.epoch = max(n.chain.block().timestamp for n in network.nodes.values()) + 1
        self.recorder = Recorder(self.epoch, lambda: float(self.env.now))
        chains = scenario.chains
        # contracts by address chain by chain: the same deployer and nonce put different contracts at one
        # address on different chains (the hub's registry where a zone has its mirror)
        self.drivers = {
            c: ChainDriver(self.env, node, (chains.hub_block_interval_s or chains.block_interval_s) if node.is_hub
                           else chains.block_interval_s, self.epoch,
                           {k.address: k for k in node.contracts()}, self.recorder.gas.add)
            for c, node in network.nodes.items()
        }
        self.watcher = Watcher(network, {c: n.chain.block_number + 1 for c, n in network.nodes.items()},
                               lane_stall_s=scenario.watcher.lane_stall_s, max_wait_s=scenario.watcher.max_wait_s,
                               epoch=self.epoch)
        self.workload = Workload(self.env, network, scenario.workload, scenario.duration_s, self.drivers,
                                 self.recorder, self.rng_workload)
        lanes, count = network.lanes(), scenario.relayers.count
        self.slots = [RelayerSlot(i, lanes[i::count], self._new_relayer(i, lanes[i::count])) for i in range(count)]
        self.attacks: list[Attack] = []
        self.blocked: set[Lane] = set()  # lanes no relayer carries (a lane outage)
        watchers = scenario.fraud_watchers
        self.fraud_watch = FraudWatch(self.env, network, watchers.count, watchers.poll_interval_s, self.submit)
        self.rss_mb: list[tuple[float, float]] = []
        entities = sorted(e for members in self.workload.pairs.by_zone.values() for e in members)
        self.registry = LivingRegistry.start(self.env, network, scenario.registry, scenario.duration_s, self.drivers,
                                             entities, self.watcher.first_block, self.epoch,
                                             np.random.default_rng(streams[2])) if scenario.registry.active else None
        self.transactions: TransactionActivity | None = None
        if scenario.transactions.active:
            watch = TransactionWatch(network, self.watcher.first_block, self.epoch,
                                     scenario.transactions.release_bound_s, halts=self.watcher.halts)
            self.transactions = TransactionActivity(self.env, network, scenario.transactions, scenario.duration_s,
                                                    self.drivers, watch, np.random.default_rng(streams[3]))

    # -- the run --------------------------------------------------------------------------------------

    def run(self) -> RunRecords:
        scenario, env = self.scenario, self.env
        for slot in self.slots:
            env.process(self._relay(slot))
        env.process(self.workload.arrivals())
        env.process(self._watch())
        if self.fraud_watch.chains:
            env.process(self.fraud_watch.run())
        for process in [*(self.registry.processes() if self.registry else []),
                        *(self.transactions.processes() if self.transactions else [])]:
            env.process(process)
        fault_starts = [fault.at_s + float(self.rng_faults.uniform(0, fault.jitter_s)) if fault.jitter_s
                        else fault.at_s for fault in scenario.faults]
        self.fault_windows: list[tuple[float, float | None]] = [(start, None) for start in fault_starts]
        for i, (fault, start) in enumerate(zip(scenario.faults, fault_starts, strict=True)):
            env.process(self._fault_at(i, start, inject(self, fault)))
        end = scenario.duration_s + scenario.drain_s
        wall = time.perf_counter()
        step = max(1.0, end / 200)
        # every reader holds what it will read again: the chains need answer for little more (memory stays flat)
        windows = {c: node.chain.keep_history(RUN_HISTORY_BLOCKS) for c, node in self.network.nodes.items()}
        try:
            while env.now < end:
                env.run(until=min(end, env.now + step))
                if env.now <= scenario.duration_s:  # the workload's time, then the drain's (which may end early)
                    self.progress("simulating", env.now, scenario.duration_s)
                else:
                    self.progress("draining", env.now, end)
                if env.now >= scenario.duration_s and self._settled():
                    break
            self._scan()
        except PilotsimError as exc:  # a chain or relayer gave up: say when, so the run can be looked into
            raise RunStopped(f"{scenario.name} stopped at simulated {float(env.now):g} s: {exc}") from exc
        finally:  # the chains as they were: their window, and nothing held
            for chain_id, blocks in windows.items():
                self.network.nodes[chain_id].chain.keep_history(blocks)
            self._release_holds()
        self.watcher.close(float(env.now))
        if self.registry:
            watch = self.registry.watch
            self.watcher.take(watch.violations, watch.violation_count)
        if self.transactions:
            judged = self.transactions.watch
            judged.judge(float(env.now))
            self.watcher.take(judged.violations, judged.violation_count)
        for attack in self.attacks:  # where each attack message ended, as the chains recorded it
            attack.outcomes = [[o.label for o in self.watcher.outcomes_of(bytes.fromhex(i[2:]))]
                               for i in attack.message_ids]
        return RunRecords(
            scenario=scenario, network=NetworkSummary.of(self.network), messages=self.recorder.messages(),
            refusals=self.recorder.refusals, gas=self.recorder.gas, invariants=self.watcher.invariants(),
            attacks=self.attacks,
            fault_windows=self.fault_windows, blocks={c: d.blocks for c, d in self.drivers.items()},
            relayers=[RelayerRecord(s.index, s.relayer.delivery_count + s.retired_deliveries,
                                    s.relayer.takeovers + s.retired_takeovers, s.restarts_at_s) for s in self.slots],
            sim_seconds=float(env.now), wall_run_s=time.perf_counter() - wall, rss_mb=self.rss_mb,
            registry=self.registry.records() if self.registry else None,
            transactions=records_of(self.transactions) if self.transactions else None,
        )

    def _settled(self) -> bool:
        """After the workload: every attack has run to its end (its outcome recorded), nothing waits in a mempool,
        every message is acknowledged, and the registry's broadcaster has sent everything the hub changed."""
        attacks_done = all(end is not None for (_, end), fault in zip(self.fault_windows, self.scenario.faults,
                                                                      strict=True) if not isinstance(fault, Lasting))
        if not attacks_done:
            return False
        if any(d.pending for d in self.drivers.values()) or any(s.inflight for s in self.slots):
            return False
        if self.registry and not self.registry.settled():
            return False
        if self.transactions and not self.transactions.watch.settled():
            return False
        return self.recorder.all_acknowledged() and all(not s.relayer.pending() for s in self.slots if not s.down)

    def held_per_message(self) -> dict[str, int]:
        """Sizes of what the run keeps per message beyond its records (all should stay bounded)."""
        return {"early_pickups": len(self.recorder.early_pickups),
                "pending_answers": len(self.workload.pending_answers),
                "relayer_history": sum(len(s.relayer.sent) + len(s.relayer.deliveries) + len(s.relayer.processed)
                                       + len(s.relayer.acknowledged) for s in self.slots),
                "relayer_queues": sum(s.relayer.pending() for s in self.slots),
                "observed_blocks": max(s.relayer.observed_blocks for s in self.slots)}

    # -- relayers -----------------------------------------------------------------------------------

    def _new_relayer(self, index: int, lanes: list[Lane]) -> Relayer:
        settings = self.scenario.relayers
        return Relayer(self.network, batch_size=settings.batch_size, account_index=index, lanes=set(lanes),
                       takeover_after_s=self.scenario.takeover_after_s() if settings.count > 1 else None,
                       listener=Listeners((self.recorder, self.workload)), history=False,
                       ack_wait_s=settings.ack_wait_s, holds=HistoryHolds())

    def _relay(self, slot: RelayerSlot) -> Process:
        env = self.env
        interval = self.scenario.relayers.poll_interval_s
        while True:
            yield env.timeout(interval)
            if slot.down:
                continue
            relayer = slot.relayer
            relayer.scan()
            if slot.retired is not None:  # the new one has read from the chains' hop state
                _release(slot.retired)
                slot.retired = None
            planned = relayer.plan(busy=slot.inflight | self.blocked, now=self.epoch + int(env.now))
            if slot.reorder:
                planned = [relayer.delivery(p.lane, p.batch[::-1]) for p in planned]
            for dst, group in by_destination(planned).items():
                copies = 2 if slot.duplicate else 1
                event = self.drivers[dst].submit([tx for _ in range(copies) for p in group for tx in p.transactions])
                slot.inflight.update(p.lane for p in group)
                env.process(self._settle(slot, relayer, group, copies, event))

    def _settle(self, slot: RelayerSlot, relayer: Relayer, group: list[Planned], copies: int,
                event: simpy.Event) -> Process:
        receipts = yield event
        each = len(receipts) // copies
        relayer.settle(group, receipts[:each])
        for extra in range(1, copies):  # duplicates: refused by the hop, their gas spent all the same
            relayer.settle(group, receipts[extra * each:(extra + 1) * each])
        if slot.relayer is relayer:
            slot.inflight.difference_update(p.lane for p in group)

    # -- watcher --------------------------------------------------------------------------------------

    def _watch(self) -> Process:
        interval = max(10.0, self.scenario.relayers.poll_interval_s * 10)
        while True:
            yield self.env.timeout(interval)
            self._scan()
            self.rss_mb.append((float(self.env.now), _resident_mb()))

    def _scan(self) -> None:
        halted = {c for c, driver in self.drivers.items() if driver.halted}
        self.watcher.scan(float(self.env.now), halted, relayers_up=any(not s.down for s in self.slots))
        if self.registry:
            self.registry.watch.scan(float(self.env.now))
        if self.transactions:
            self.transactions.watch.scan(float(self.env.now))

    # -- faults: the FaultTarget a fault acts on ------------------------------------------------------

    def _fault_at(self, index: int, start_s: float, fault: Process) -> Process:
        yield self.env.timeout(start_s)
        yield from fault
        self.fault_windows[index] = (start_s, float(self.env.now))  # over: lifted, or its attack settled

    def relayer_down(self, index: int, *, restarts: bool) -> None:
        slot = self.slots[index]
        slot.down = True
        if restarts:
            slot.restarts_due += 1
        elif not slot.restarts_due:  # no successor will read what they held
            _release(slot.relayer, slot.retired)
        self.watcher.relayers_changed(float(self.env.now), any(not s.down for s in self.slots))

    def restart_relayer(self, index: int) -> None:
        """Killed, then started again: a fresh relayer that knows only what the chains say."""
        slot = self.slots[index]
        slot.retired_deliveries += slot.relayer.delivery_count
        slot.retired_takeovers += slot.relayer.takeovers
        slot.restarts_due = max(0, slot.restarts_due - 1)
        # the relayer it replaces holds what the new one reads first (an earlier one, if that one never read)
        slot.retired = slot.retired or slot.relayer
        slot.relayer = self._new_relayer(slot.index, slot.lanes)
        slot.inflight.clear()
        slot.restarts_at_s.append(float(self.env.now))
        slot.down = False
        self.watcher.relayers_changed(float(self.env.now), True)

    def _release_holds(self) -> None:
        _release(*(relayer for slot in self.slots for relayer in (slot.relayer, slot.retired)))
        self.watcher.holds.release()
        if self.registry:
            self.registry.watch.holds.release()
            self.registry.broadcaster.holds.release()
        if self.transactions:
            self.transactions.watch.holds.release()

    def relayer_misbehaves(self, index: int, *, duplicate: bool = False, reorder: bool = False) -> None:
        self.slots[index].duplicate, self.slots[index].reorder = duplicate, reorder

    def halt_chain(self, chain_id: int, halted: bool) -> None:
        self.drivers[chain_id].halted = halted
        self.watcher.chain_halted(chain_id, float(self.env.now), halted)

    def block_lanes(self, lanes: set[Lane], blocked: bool) -> None:
        self.blocked = self.blocked | lanes if blocked else self.blocked - lanes
        for a, b in lanes:
            self.watcher.lane_blocked((a, b), float(self.env.now), blocked)

    def submit(self, chain_id: int, txs: list[Tx]) -> simpy.Event:
        return self.drivers[chain_id].submit(txs)

    def breach_trust(self) -> None:
        self.watcher.trust_breached = True

    def watchers_down(self, down: bool, count: int | None = None) -> None:
        self.fraud_watch.set_down(down, count)

    def record_attack(self, attack: Attack) -> None:
        self.watcher.keep_outcomes(bytes.fromhex(i[2:]) for i in attack.message_ids)
        self.attacks.append(attack)


def _release(*relayers: Relayer | None) -> None:
    for relayer in relayers:
        if relayer is not None and relayer.holds is not None:
            relayer.holds.release()


def _resident_mb() -> float:
    """This process's resident memory now (Linux /proc; 0 where it is not available)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return round(pages * 4096 / 2**20, 1)
