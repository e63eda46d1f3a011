"""Messages on the bridge, delivered as the protocol says: once, in any order, acknowledged to their
sender; late ones time out on both sides; a failing recipient fails alone; the gateway and its
verifiers cannot be called through the bridge."""

from __future__ import annotations

import pytest
from bridge_kit import deliver_signed, outcome_at_destination, pending_records, refusals, send, signed_item

from registry import Contract
from sim.bridge.messages import Outcome
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network


@pytest.mark.parametrize(("src", "dst"), [("Beijing", "Chengdu"), ("Beijing", "Guiyang")])
def test_messages_are_delivered_once_and_acknowledged(net: Network, apps: dict[str, Contract], src: str,
                                                      dst: str) -> None:
    ids = [send(net, apps, src, dst, f"m{i}".encode()) for i in range(5)]
    relayer = Relayer(net)
    relayer.run_until_idle()
    for message_id in ids:
        assert apps[dst].view("timesHandled", message_id) == 1
        assert apps[src].view("outcomes", message_id) == Outcome.DELIVERED  # the ack reached the sender
        assert relayer.acknowledged[message_id].outcome is Outcome.DELIVERED
    records = [r for r in pending_records(net, src) if r.message_id in ids]
    for record in records:
        assert outcome_at_destination(net, record) is Outcome.DELIVERED
        assert net.node(src).gateway.outcome_out(record.message.dst_chain, record.message.sequence) \
            is Outcome.DELIVERED
    assert {d.verifier for d in relayer.deliveries if d.src == net.node(src).chain_id} == \
        {"committee" if dst == "Chengdu" else "checkpoint"}


def test_a_checkpoint_batch_carries_many_messages_in_one_transaction(net: Network, apps: dict[str, Contract]) -> None:
    ids = [send(net, apps, "Guiyang", "Beijing", bytes([i])) for i in range(20)]
    relayer = Relayer(net, batch_size=8)
    relayer.run_until_idle()
    batches = [d for d in relayer.deliveries if d.src == net.node("Guiyang").chain_id]
    assert [d.size for d in batches] == [8, 8, 4]
    assert all(apps["Beijing"].view("timesHandled", i) == 1 for i in ids)


def test_messages_are_taken_in_any_order_once_each(net: Network, apps: dict[str, Contract]) -> None:
    """Unordered delivery with replay protection: a later message first, then the earlier one; the
    watermark a restarted relayer resumes from moves past both."""
    for payload in (b"first", b"second", b"third"):
        send(net, apps, "Beijing", "Chengdu", payload)
    first, second, third = [r for r in pending_records(net, "Beijing") if r.hop == net.node("Chengdu").chain_id][-3:]
    chengdu, beijing_id = net.node("Chengdu"), first.chain_id
    watermark = chengdu.gateway.hop_positions([beijing_id])[beijing_id][1]
    assert watermark == first.hop_sequence
    events = deliver_signed(net, beijing_id, "Chengdu", [signed_item(net, third)])
    assert refusals(events) == [] and outcome_at_destination(net, third) is Outcome.DELIVERED
    assert chengdu.gateway.hop_positions([beijing_id])[beijing_id][1] == watermark  # a gap below it
    assert chengdu.gateway.taken(beijing_id, [second.hop_sequence, third.hop_sequence]) == {third.hop_sequence}
    events = deliver_signed(net, beijing_id, "Chengdu", [signed_item(net, second), signed_item(net, first),
                                                         signed_item(net, third)])
    assert refusals(events) == ["AlreadyProcessed"]
    assert [outcome_at_destination(net, r) for r in (first, second)] == [Outcome.DELIVERED] * 2
    assert chengdu.gateway.hop_positions([beijing_id])[beijing_id][1] == third.hop_sequence + 1
    assert [apps["Chengdu"].view("timesHandled", r.message_id) for r in (first, second, third)] == [1, 1, 1]
    Relayer(net).run_until_idle()  # a relayer starting now delivers nothing again
    assert [apps["Chengdu"].view("timesHandled", r.message_id) for r in (first, second, third)] == [1, 1, 1]


def test_delivery_after_the_deadline_times_out_on_both_sides(net: Network, apps: dict[str, Contract]) -> None:
    message_id = send(net, apps, "Beijing", "Chengdu", ttl=60)
    record = next(r for r in pending_records(net, "Beijing") if r.message_id == message_id)
    chengdu = net.node("Chengdu").chain
    chengdu.mine(timestamp=record.message.deadline + 1)
    relayer = Relayer(net)
    relayer.run_until_idle()
    assert apps["Chengdu"].view("timesHandled", message_id) == 0  # never delivered
    assert outcome_at_destination(net, record) is Outcome.TIMED_OUT
    assert net.node("Beijing").gateway.outcome_out(record.message.dst_chain, record.message.sequence) \
        is Outcome.TIMED_OUT
    assert apps["Beijing"].view("outcomes", message_id) == Outcome.TIMED_OUT
    # and it can never be delivered afterwards
    assert refusals(deliver_signed(net, record.chain_id, "Chengdu", [signed_item(net, record)])) == ["AlreadyProcessed"]


def test_a_failing_recipient_does_not_sink_the_batch(net: Network, apps: dict[str, Contract]) -> None:
    ok_before = send(net, apps, "Guiyang", "Beijing", b"a")
    apps["Beijing"].transact("setBehaviour", 2, by=apps["Beijing"].chain.accounts[0])  # REVERT
    relayer = Relayer(net)
    relayer.run_until_idle()
    assert relayer.processed[ok_before][0].outcome is Outcome.FAILED
    apps["Beijing"].transact("setBehaviour", 0, by=apps["Beijing"].chain.accounts[0])
    ids = [send(net, apps, "Guiyang", "Beijing", b"b"), send(net, apps, "Guiyang", "Beijing", b"c")]
    apps["Beijing"].transact("setBehaviour", 1, by=apps["Beijing"].chain.accounts[0])  # REFUSE
    third = send(net, apps, "Guiyang", "Beijing", b"d")
    relayer.run_until_idle()
    assert [relayer.processed[i][0].outcome for i in ids] == [Outcome.REJECTED, Outcome.REJECTED]
    assert relayer.processed[third][0].outcome is Outcome.REJECTED
    assert apps["Guiyang"].view("outcomes", ok_before) == Outcome.FAILED
    assert apps["Guiyang"].view("outcomes", third) == Outcome.REJECTED


def test_failed_and_delivered_in_one_batch(net: Network, apps: dict[str, Contract]) -> None:
    burner = Contract.create(net.node("Beijing").chain, "TestRecipient", net.node("Beijing").gateway.address,
                             by=net.node("Beijing").chain.accounts[0])
    burner.transact("setBehaviour", 4, by=burner.chain.accounts[0])  # BURN all its gas
    app = apps["Guiyang"]
    good = send(net, apps, "Guiyang", "Beijing", b"good")
    bad = app.transact("send", net.node("Beijing").chain_id, burner.address, b"bad", 3600,
                       by=app.chain.accounts[5], gas=500_000)
    bad_id = next(e for e in net.node("Guiyang").gateway.events(bad.receipt) if e.name == "Sent")["id"]
    after = send(net, apps, "Guiyang", "Beijing", b"after")
    relayer = Relayer(net)
    relayer.run_until_idle()
    assert len({d.block_number for d in relayer.deliveries if d.dst == net.node("Beijing").chain_id}) == 1
    assert relayer.processed[good][0].outcome is Outcome.DELIVERED
    assert relayer.processed[bad_id][0].outcome is Outcome.FAILED
    assert relayer.processed[after][0].outcome is Outcome.DELIVERED


def test_a_recipient_that_reenters_the_gateway_fails(net: Network, apps: dict[str, Contract]) -> None:
    apps["Chengdu"].transact("setBehaviour", 3, by=apps["Chengdu"].chain.accounts[0])  # REENTER
    message_id = send(net, apps, "Beijing", "Chengdu")
    relayer = Relayer(net)
    relayer.run_until_idle()
    assert relayer.processed[message_id][0].outcome is Outcome.FAILED
    assert apps["Chengdu"].view("handled") == 0
    assert apps["Beijing"].view("outcomes", message_id) == Outcome.FAILED


def test_a_relayed_call_to_the_gateway_itself_is_rejected(net: Network, apps: dict[str, Contract]) -> None:
    """Poly Network's flaw: a relayed message reaching privileged functions. The gateway refuses calls to
    itself and to its verifiers."""
    chengdu = net.node("Chengdu")
    app = apps["Beijing"]
    calldata = chengdu.gateway.abi.function("setPaused").encode([net.node("Beijing").chain_id, True])
    for target in (chengdu.gateway.address, chengdu.verifiers["committee"].address):
        app.transact("send", chengdu.chain_id, target, calldata, 3600, by=app.chain.accounts[5], gas=500_000)
    relayer = Relayer(net)
    relayer.run_until_idle()
    outcomes = [p[0].outcome for p in relayer.processed.values() if p[0].chain_id == chengdu.chain_id]
    assert outcomes == [Outcome.REJECTED, Outcome.REJECTED]
    assert chengdu.gateway.view("lanes", net.node("Beijing").chain_id)["paused"] is False
