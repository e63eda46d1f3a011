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
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network
from sim.engine import simulation
from sim.engine.scenario import Scenario
from sim.engine.simulation import RunStopped
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
