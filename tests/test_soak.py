"""The soak, shortened: relayers killed and restarted, a chain halted, on Anvil nodes."""

from __future__ import annotations

import tomllib

import pytest
from sim_kit import all_hold

from sim.bridge.attestation import OBSERVED_BLOCKS
from sim.bridge.messages import KIND_DATA, Message, SentRecord
from sim.bridge.provision import build_network
from sim.engine.recorder import Recorder
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



def test_pickups_of_messages_the_workload_never_sent_are_not_kept() -> None:
    """A relayer may read a workload message's block before the workload takes in its receipt, at the same
    moment: its pickup time waits for it. A flood of 2,000 messages that are not the workload's (a stranger's,
    syncs) leaves nothing behind once their moment has passed; it used to keep one entry each for good."""
    clock = [0.0]
    recorder = Recorder(epoch=0, now=lambda: clock[0])

    def picked(n: int) -> SentRecord:
        message = Message(1, KIND_DATA, 1001, 1002, n, 10**9, 100_000, "0x" + "11" * 20, "0x" + "22" * 20, b"")
        record = SentRecord(1001, 1002, n, message, n.to_bytes(32, "big"), n, n)
        recorder.picked(record)
        return record

    for n in range(1, 2_001):
        clock[0] = float(n)
        picked(n)
    assert len(recorder.early_pickups) <= 1
    early = picked(5_000)  # the workload's, picked at the moment its block was mined
    made = recorder.sent(early.message_id, "request", ("Beijing", "Shanghai", 1001, 1002), "finance", 2_000.0,
                         2_000.0, 100_000, 192)
    assert made.picked_s == 2_000.0
    assert list(recorder.early_pickups.values()) == [2_000.0]  # the stranger's of this moment, until the next
    clock[0] = 2_001.0
    stranger = picked(6_000)
    assert list(recorder.early_pickups) == [stranger.message_id]
