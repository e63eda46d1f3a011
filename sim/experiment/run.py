"""Run one scenario end to end and write its outputs.

A run is a straight line of typed stages:
scenario → provision (Network) → engine (RunRecords) → metrics (Report) → outputs → the caller.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from registry import PilotsimError
from registry.progress import Progress, no_progress

from ..bridge.cache import NetworkCache
from ..bridge.provision import build_network
from ..bridge.topology import Backend, Network
from ..engine.scenario import Scenario, ScenarioError
from ..engine.simulation import Simulation
from ..results.metrics import Machine, build_report
from ..results.outputs import check_output_folder, write_outputs
from ..results.report import Report

if TYPE_CHECKING:  # a revm run never starts Anvil: its module (and requests) stays unloaded
    from registry import AnvilNode

RUNS_DIR = Path("runs")


def default_out(scenario: Scenario) -> Path:
    """A new folder under runs/, named by the scenario (its name made a plain file name: never a path that
    leaves runs/), seed and time."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", scenario.name).strip(".-") or "scenario"
    return RUNS_DIR / f"{name}-seed{scenario.seed}-{stamp}"


@dataclass
class KeptNodes:
    """The Anvil nodes a run was asked to keep (`run_scenario(keep=…)`), hub first, and the registry on
    the hub. Filled (and `on_ready` called) as soon as the network is built, so they can be queried
    while the run goes on; a run that fails stops them; once it completed they are the caller's to stop
    (also when writing the outputs fails afterwards)."""

    nodes: list[AnvilNode] = field(default_factory=list)
    registry: str = ""
    on_ready: Callable[[KeptNodes], None] | None = None  # called once the network is built, before the run

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes.clear()


@contextmanager
def _network_for(scenario: Scenario, backend: Backend, progress: Progress, network: Network | None,
                 cache: NetworkCache | None, keep: KeptNodes | None = None) -> Iterator[Network]:
    """A network for the scenario (built, or loaded from `cache`), closed afterwards (its Anvil nodes
    handed to `keep` instead of stopped, once the run completed); or `network`, reverted afterwards."""
    data = scenario.seed_data()
    if keep is not None and (backend != "anvil" or network is not None):
        raise PilotsimError("only the Anvil nodes a run starts itself can be kept (backend anvil)")
    if network is None:
        with build_network(scenario.network_config(), backend=backend, data=data, progress=progress,
                           cache=cache, keep_nodes=keep is not None) as built:
            if keep is not None:
                keep.nodes = sorted(built.anvils, key=lambda node: node.chain_id)  # the hub (1000) first
                keep.registry = built.registry.address
                if keep.on_ready is not None:
                    keep.on_ready(keep)
            yield built
            if keep is not None:  # reached only when the run completed: a failed run stops its nodes
                built.anvils = []  # so closing the network closes its connections and stops no node
        return
    if network.config != scenario.network_config():
        raise ScenarioError(f"{scenario.name}: the network given was built for other network settings")
    if [z.name for z in network.data.zones] != [z.name for z in data.zones]:
        raise ScenarioError(f"{scenario.name}: the network given was built for other zones")
    with network.anchor():
        yield network


def run_scenario(scenario: Scenario, out: Path, *, backend: Backend = "eth-tester", progress: Progress = no_progress,
                 network: Network | None = None, cache: NetworkCache | None = None,
                 keep: KeptNodes | None = None) -> Report:
    """Run `scenario` and write its outputs into `out`. With `network` (built from
    `scenario.network_config()`), run on it and leave it as it was, instead of building one; with
    `cache`, an in-process network is loaded from it when it holds one; with `keep` (backend anvil),
    the run's nodes are left running and handed to it (see `KeptNodes`)."""
    check_output_folder(out)  # before the run, not after it
    started = time.perf_counter()
    with _network_for(scenario, backend, progress, network, cache, keep) as net:
        setup_s, from_cache = time.perf_counter() - started, net.from_cache
        records = Simulation(scenario, net, progress=progress).run()
    machine = Machine(backend, setup_s, from_cache, time.perf_counter() - started)
    try:
        report = build_report(records, machine)
        report = write_outputs(out, report, records.messages)
    finally:
        records.close()
    return report
