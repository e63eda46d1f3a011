"""The relayer and the watcher: restart-safe exactly-once delivery, acknowledgements that wait for
data to ride with, and a watcher that forgets what is done but still catches a second processing."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from bridge_kit import BRIDGE_ZONES, send

from registry import Contract, RevmChain
from registry.evm import history
from sim.bridge.deliveries import RelayerCrash
from sim.bridge.messages import Outcome
from sim.bridge.provision import build_network
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network
from sim.engine import simulation
from sim.engine.scenario import Scenario
from sim.engine.simulation import RunStopped, Simulation
from sim.engine.watcher import INVARIANTS, Watcher
from sim.experiment.run import run_scenario


def test_relayer_killed_mid_batch_and_restarted_delivers_exactly_once(net: Network, apps: dict[str, Contract]) -> None:
    ids = [send(net, apps, src, dst, f"{src}{i}".encode())
           for i in range(6) for src, dst in (("Beijing", "Chengdu"), ("Chengdu", "Guiyang"), ("Guiyang", "Beijing"))]
    first = Relayer(net, batch_size=4, max_transactions=2)
    with pytest.raises(RelayerCrash):
        first.run_until_idle()
    assert 0 < sum(d.processed for d in first.deliveries) < len(ids)
    second = Relayer(net, batch_size=4, max_transactions=5)  # dies again, later
    with pytest.raises(RelayerCrash):
        second.run_until_idle()
    third = Relayer(net, batch_size=4)
    third.run_until_idle()
    for message_id in ids:
        handled = sum(apps[name].view("timesHandled", message_id) for name in BRIDGE_ZONES)
        assert handled == 1, message_id.hex()
    senders = {name: apps[name] for name in BRIDGE_ZONES}
    assert all(any(a.view("outcomes", i) == Outcome.DELIVERED for a in senders.values()) for i in ids)
    processed = [p for r in (first, second, third) for ps in r.processed.values() for p in ps
                 if p.outcome is Outcome.DELIVERED and p.message_id in ids]
    assert len(processed) == len(ids)


def _round(net: Network, relayer: Relayer, now: int) -> list[tuple[tuple[int, int], int]]:
    """One relayer round at chain time `now`: the (lane, batch size) of each delivery made."""
    relayer.scan()
    planned = relayer.plan(now=now)
    for p in planned:
        relayer.settle([p], net.nodes[p.lane[1]].chain.send([p.tx]))
    return [(p.lane, len(p.batch)) for p in planned]


def test_acknowledgements_wait_for_data_to_ride_with_then_go_alone(net: Network, apps: dict[str, Contract]) -> None:
    beijing, guiyang = net.node("Beijing").chain_id, net.node("Guiyang").chain_id
    relayer = Relayer(net, ack_wait_s=30)
    request = send(net, apps, "Guiyang", "Beijing", b"question")
    assert _round(net, relayer, now=0) == [((guiyang, beijing), 1)]  # data never waits
    ack_sent = net.node("Beijing").chain.block().timestamp
    assert _round(net, relayer, now=ack_sent + 5) == [] and relayer.pending() == 1  # the lone ack waits
    answer = send(net, apps, "Beijing", "Guiyang", b"answer")
    assert _round(net, relayer, now=ack_sent + 6) == [((beijing, guiyang), 2)]  # ack and data, one delivery
    assert apps["Guiyang"].view("outcomes", request) == Outcome.DELIVERED
    assert apps["Guiyang"].view("timesHandled", answer) == 1
    second_ack = net.node("Guiyang").chain.block().timestamp
    assert _round(net, relayer, now=second_ack + 29) == []
    assert _round(net, relayer, now=second_ack + 30) == [((guiyang, beijing), 1)]  # waited long enough
    assert apps["Beijing"].view("outcomes", answer) == Outcome.DELIVERED and relayer.pending() == 0


def test_watcher_forgets_what_is_done_but_not_that_it_was_processed(net: Network,
                                                                   apps: dict[str, Contract]) -> None:
    watcher = Watcher(net, {c: n.chain.block_number + 1 for c, n in net.nodes.items()})
    in_flight = send(net, apps, "Beijing", "Guiyang", b"in flight")
    watcher.scan()
    assert in_flight in watcher.sent  # sent, not yet processed: kept
    Relayer(net).run_until_idle()
    watcher.scan()
    assert in_flight not in watcher.sent and in_flight not in watcher.outcomes  # done: forgotten
    assert watcher.invariants().violation_count == 0
    watcher.rewind(net.node("Guiyang").chain_id, 0)  # its Processed event, read a second time
    watcher.scan()
    found = watcher.invariants()
    assert found.held["exactly_once"] is False and found.broken == ["exactly_once"]
    assert [v.message_id for v in found.violations] == ["0x" + in_flight.hex()]


def test_watcher_flags_a_lane_that_does_not_move_while_it_could(net: Network, apps: dict[str, Contract]) -> None:
    """lanes_live: messages waiting, no relayer delivering them, chains up: flagged after the bound;
    with every relayer down, or a chain of the lane halted, the wait is excused."""
    first = {c: n.chain.block_number + 1 for c, n in net.nodes.items()}
    stuck = send(net, apps, "Beijing", "Guiyang", b"nobody carries me")
    guiyang = net.node("Guiyang").chain_id

    def watched(**conditions: object) -> Watcher:
        watcher = Watcher(net, first, lane_stall_s=30)
        watcher.scan(now=0)
        watcher.scan(now=40, **conditions)  # type: ignore[arg-type]
        return watcher

    assert watched(relayers_up=False).invariants().held["lanes_live"] is True
    assert watched(halted={guiyang}).invariants().held["lanes_live"] is True
    found = watched().invariants()
    assert found.held["lanes_live"] is False
    [stall] = [v for v in found.violations if v.invariant == "lanes_live"]
    assert stall.message_id == "0x" + stuck.hex() and "lane Beijing→Guiyang" in stall.detail


LONG_OUTAGE = """
name = "long-outage"
seed = 3
duration_s = 400
drain_s = 600

[workload]
rate_per_s = 3
ttl_s = 3600

[[faults]]
kind = "relayer-outage"
at_s = 50
duration_s = 300
"""


def test_a_relayer_down_longer_than_revms_history_window_resumes_from_the_chains(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Down while each chain mines more blocks than revm keeps (a window of 24 here, 64 in a run: the same
    code): the chains hold what the restarted relayer reads again, and it comes back from the gateways' hop
    state; every message ends, every invariant true. Without the hold the run cannot resume: the outage
    really outlasts the window."""
    monkeypatch.setattr(simulation, "RUN_HISTORY_BLOCKS", 24)
    monkeypatch.setattr(history, "FORGET_EVERY", 8)
    scenario = Scenario.model_validate(tomllib.loads(LONG_OUTAGE))
    report = run_scenario(scenario, tmp_path / "out", backend="revm")
    assert min(n for name, n in report.blocks.items() if name != "hub") > 2 * (24 + 8)
    assert report.relayers.restarts == 1 and report.messages.pending == 0
    assert report.messages.delivered == report.messages.sent > 0
    assert all(report.invariants.held[name] for name in INVARIANTS), report.invariants.violations[:3]

    monkeypatch.setattr(RevmChain, "hold_history", lambda self, block: 0)
    with pytest.raises(RunStopped, match=r"keeps blocks from \d+ on only: its lane to \d+ cannot be resumed"):
        run_scenario(scenario, tmp_path / "unheld", backend="revm")


EARLY_OUTAGE = """
name = "early-outage"
seed = 5
duration_s = 150
drain_s = 600

[relayers]
poll_interval_s = 10

[workload]
rate_per_s = 2
ttl_s = 3600

[[faults]]
kind = "relayer-outage"
at_s = 0
duration_s = 60
"""


def test_readers_hold_from_the_start_not_from_their_first_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watcher first reads after 100 s (ten polls) and the relayer is down before its first poll: many more
    blocks than the window (8 here) pass before either reads. Each holds from its starting block, so nothing
    it will read is forgotten; the run ends with every message delivered, every invariant true."""
    monkeypatch.setattr(simulation, "RUN_HISTORY_BLOCKS", 8)
    monkeypatch.setattr(history, "FORGET_EVERY", 4)
    report = run_scenario(Scenario.model_validate(tomllib.loads(EARLY_OUTAGE)), tmp_path / "out", backend="revm")
    assert min(n for name, n in report.blocks.items() if name != "hub") > 2 * (8 + 4)
    assert report.relayers.restarts == 1 and report.messages.delivered == report.messages.sent > 0
    assert all(report.invariants.held[name] for name in INVARIANTS), report.invariants.violations[:3]


def test_a_run_leaves_no_hold_on_the_chains(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a run is over, nothing it read holds the chains' history (a network reused by the next run would keep
    every block from the stale holds on) and each chain's window is what it was."""
    scenario = Scenario.model_validate(tomllib.loads(EARLY_OUTAGE)).with_overrides({"duration_s": 40})
    with build_network(scenario.network_config(), backend="revm") as network:
        chains = [node.chain for node in network.nodes.values()]
        windows = [chain.history.keep for chain in chains]  # type: ignore[attr-defined]
        Simulation(scenario, network).run()
        assert not any(chain.history.holds for chain in chains)  # type: ignore[attr-defined]
        assert [chain.history.keep for chain in chains] == windows  # type: ignore[attr-defined]
