"""deadlines_met: a message that waits on a lane longer than the bound, or times out, while nothing the run
knows of held the lane up (a halt, a pause, no relayer), is a finding, named with its lane and how long."""

from __future__ import annotations

from bridge_kit import send

from registry import Contract
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network
from sim.engine.watcher import Watcher

BOUND = 60


def _late_delivery(net: Network, apps: dict[str, Contract], wait_s: int, ttl: int = 3600) -> tuple[Watcher, int]:
    """Beijing sends Guiyang a message that waits `wait_s` seconds before a relayer delivers it; the watcher
    (block times as they are: epoch 0) and the send's block time."""
    watcher = Watcher(net, {c: n.chain.block_number + 1 for c, n in net.nodes.items()}, max_wait_s=BOUND)
    send(net, apps, "Beijing", "Guiyang", b"late", ttl=ttl)
    sent_at = net.node("Beijing").chain.block().timestamp
    guiyang = net.node("Guiyang").chain
    guiyang.mine(timestamp=max(guiyang.block().timestamp, sent_at) + wait_s)
    watcher.scan()
    Relayer(net).run_until_idle()
    return watcher, sent_at


def test_a_wait_past_the_bound_is_a_finding_and_one_within_it_is_not(net: Network, apps: dict[str, Contract]) -> None:
    with net.anchor():
        watcher, _ = _late_delivery(net, apps, wait_s=BOUND - 20)
        watcher.scan()
        assert watcher.invariants().held["deadlines_met"] is True
    watcher, _ = _late_delivery(net, apps, wait_s=BOUND + 30)
    watcher.scan()
    found = watcher.invariants()
    assert found.held["deadlines_met"] is False
    [late] = [v for v in found.violations if v.invariant == "deadlines_met"]
    assert late.detail.startswith("lane Beijing→Guiyang: waited") and f"(bound {BOUND} s)" in late.detail


def test_a_halt_or_a_pause_or_no_relayer_excuses_the_wait(net: Network, apps: dict[str, Contract]) -> None:
    for excuse in ("halt", "relayers", "pause"):
        with net.anchor():
            watcher = Watcher(net, {c: n.chain.block_number + 1 for c, n in net.nodes.items()}, max_wait_s=BOUND)
            start = net.node("Beijing").chain.block().timestamp
            guiyang = net.node("Guiyang")
            if excuse == "halt":
                watcher.chain_halted(guiyang.chain_id, start, True)
                watcher.chain_halted(guiyang.chain_id, start + 80, False)
            elif excuse == "relayers":
                watcher.relayers_changed(start, any_up=False)
                watcher.relayers_changed(start + 80, any_up=True)
            else:  # Guiyang's governance pauses its lane with Beijing, and lifts it 80 s later
                admin = net.admin(guiyang.chain_id)
                guiyang.gateway.transact("setPaused", net.node("Beijing").chain_id, True, by=admin, gas=100_000)
                send(net, apps, "Beijing", "Guiyang", b"waits for the pause")
                guiyang.chain.mine(timestamp=guiyang.chain.block().timestamp + 80)
                guiyang.gateway.transact("setPaused", net.node("Beijing").chain_id, False, by=admin, gas=100_000)
            if excuse != "pause":
                send(net, apps, "Beijing", "Guiyang", b"waits for the excuse")
                guiyang.chain.mine(timestamp=start + 90)
            Relayer(net).run_until_idle()
            watcher.scan()
            assert watcher.invariants().held["deadlines_met"] is True, (excuse, watcher.invariants().violations)


def test_a_missed_deadline_is_judged_by_what_was_excused(net: Network, apps: dict[str, Contract]) -> None:
    """A timeout counts when the sender gave at least the bound and the message would have been late even
    without the excused time: a halt that explains it excuses it, a one-second blip does not hide it, and a
    1 s deadline (no network meets it) is the sender's own choice."""
    with net.anchor():
        watcher, _ = _late_delivery(net, apps, wait_s=5, ttl=1)
        watcher.scan()
        assert watcher.invariants().held["deadlines_met"] is True
    with net.anchor():  # Guiyang halted for 60 of the 70 s: without the halt it was in time
        watcher = Watcher(net, {c: n.chain.block_number + 1 for c, n in net.nodes.items()}, max_wait_s=BOUND)
        start = net.node("Beijing").chain.block().timestamp
        watcher.chain_halted(net.node("Guiyang").chain_id, start, True)
        watcher.chain_halted(net.node("Guiyang").chain_id, start + 60, False)
        send(net, apps, "Beijing", "Guiyang", b"halted out", ttl=BOUND)
        net.node("Guiyang").chain.mine(timestamp=start + 70)
        Relayer(net).run_until_idle()
        watcher.scan()
        assert watcher.invariants().held["deadlines_met"] is True
    watcher = Watcher(net, {c: n.chain.block_number + 1 for c, n in net.nodes.items()}, max_wait_s=BOUND)
    start = net.node("Beijing").chain.block().timestamp
    watcher.relayers_changed(start + 1, any_up=False)  # a one-second blip
    watcher.relayers_changed(start + 2, any_up=True)
    send(net, apps, "Beijing", "Guiyang", b"throttled", ttl=BOUND)
    net.node("Guiyang").chain.mine(timestamp=start + BOUND + 8)
    Relayer(net).run_until_idle()
    watcher.scan()
    late = [v.detail for v in watcher.invariants().violations if v.invariant == "deadlines_met"]
    assert any(d.startswith("lane Beijing→Guiyang: timed out") and "1 s of its wait excused" in d for d in late), late


def test_a_message_still_waiting_at_the_end_is_judged_then(net: Network, apps: dict[str, Contract]) -> None:
    watcher = Watcher(net, {c: n.chain.block_number + 1 for c, n in net.nodes.items()}, max_wait_s=BOUND)
    send(net, apps, "Beijing", "Guiyang", b"never carried")
    sent_at = net.node("Beijing").chain.block().timestamp
    watcher.scan()
    watcher.close(sent_at + BOUND - 1)
    assert watcher.invariants().held["deadlines_met"] is True
    watcher.close(sent_at + BOUND + 10)
    [late] = [v for v in watcher.invariants().violations if v.invariant == "deadlines_met"]
    assert "still waits" in late.detail
