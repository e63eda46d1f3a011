"""The soak, shortened: relayers killed and restarted, a chain halted, on Anvil nodes."""

from __future__ import annotations

import tomllib

import pytest
from sim_kit import all_hold

from sim.bridge.attestation import OBSERVED_BLOCKS
from sim.bridge.provision import build_network
from sim.engine.scenario import Scenario
from sim.engine.simulation import Simulation
from sim.results.metrics import build_report

SOAK_SHORT = """
name = "soak-short"
description = "The soak scenario, shortened for CI"
seed = 3
duration_s = 60
drain_s = 900

[relayers]
count = 2
poll_interval_s = 2.0

[workload]
rate_per_s = 4.0
ttl_s = 900

[[faults]]
kind = "relayer-outage"
relayer = 0
at_s = 3
jitter_s = 8
duration_s = 13

[[faults]]
kind = "chain-halt"
chain = "Guangzhou"
at_s = 20
jitter_s = 6
duration_s = 20

[[faults]]
kind = "relayer-outage"
relayer = 1
at_s = 28
jitter_s = 6
duration_s = 9

[[faults]]
kind = "relayer-outage"
relayer = 0
at_s = 44
jitter_s = 6
duration_s = 5
"""


@pytest.mark.anvil
def test_soak_shortened_on_anvil() -> None:
    """The soak, shortened: relayers killed and restarted three times at seeded random moments and
    a chain halted, on Anvil nodes: nothing lost, nothing delivered twice, and nothing kept per
    message beyond the records the report is made of. (The full soak: `pilotsim run soak --rpc`.)"""
    scenario = Scenario.model_validate(tomllib.loads(SOAK_SHORT))
    with build_network(scenario.network_config(), backend="anvil") as network:
        simulation = Simulation(scenario, network)
        records = simulation.run()
    report = build_report(records)
    messages = report.messages
    assert messages.sent > 300 and messages.pending == 0
    assert messages.delivered == messages.sent == messages.acknowledged
    assert all_hold(report)
    assert report.relayers.restarts == 3
    starts = [(f.fault.at_s, f.started_s, f.fault.at_s + f.fault.jitter_s) for f in report.faults]
    assert all(low <= start <= high for low, start, high in starts)
    assert len({start for _, start, _ in starts} - {low for low, _, _ in starts}) == 4, "moments are drawn"
    # memory: relayers of a simulation keep no per-message history, the committee's view of past
    # blocks is bounded, pickup times and pending answers are dropped once used
    held = simulation.held_per_message()
    assert held == held | {"early_pickups": 0, "pending_answers": 0, "relayer_history": 0, "relayer_queues": 0}
    assert 0 < held["observed_blocks"] <= OBSERVED_BLOCKS
    assert records.rss_mb, "memory is sampled during the run"
