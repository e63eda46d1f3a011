"""The cross-chain protocol under attack and failure, on a small real network.

Four eth-tester chains (hub, Beijing, Chengdu, Guiyang), deployed and wired as in production.
Beijing↔Chengdu is a committee lane (each message signed), every other lane a checkpoint lane
(a signed Merkle root per batch). Each test runs inside a snapshot of all four chains.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry import Contract, ContractRevert, EntityStatus, derive_account
from registry.seeds import load_seed_data
from sim.committee import MODE_CHECKPOINT, MODE_COMMITTEE, CommitteeKeys, digest, validator_key
from sim.gateway import GatewayClient
from sim.merkle import MerkleTree
from sim.messages import Outcome, SentRecord, subject
from sim.network import Network, NetworkConfig
from sim.relayer import Relayer, RelayerCrash
from sim.watcher import Watcher

ZONES = ["Beijing", "Chengdu", "Guiyang"]
RELAYER = derive_account(30)  # the same funded account on every chain


@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    config = NetworkConfig(lane_verifiers={"beijing:chengdu": "committee"})
    with Network.build(config, data=load_seed_data().only_zones(ZONES)) as net:
        yield net


@pytest.fixture
def net(network: Network) -> Iterator[Network]:
    with network.anchor():
        yield network


@pytest.fixture
def apps(net: Network) -> dict[str, Contract]:
    """A TestRecipient on each zone chain, to send from and deliver to."""
    return {z.name: Contract.create(z.chain, "TestRecipient", z.gateway.address, by=z.chain.accounts[0])
            for z in net.zones}


def send(net: Network, apps: dict[str, Contract], src: str, dst: str, payload: bytes = b"hello",
         ttl: int = 3600) -> bytes:
    app = apps[src]
    sent = app.transact("send", net.node(dst).chain_id, apps[dst].address, payload, ttl, by=app.chain.accounts[5],
                        gas=500_000)
    gateway = net.node(src).gateway
    return next(e for e in gateway.events(sent.receipt) if e.name == "Sent")["id"]


def pending_records(net: Network, src: str) -> list[SentRecord]:
    node = net.node(src)
    return node.gateway.sent_records(1, node.chain.block_number())


def signed_item(net: Network, record: SentRecord, keys: CommitteeKeys | None = None,
                signers: list | None = None) -> tuple:
    src, dst = net.nodes[record.chain_id], net.nodes[record.hop]
    keys = keys or net.committees[record.chain_id]
    signed = digest(MODE_COMMITTEE, src.chain_id, src.gateway.address, dst.chain_id, dst.gateway.address,
                    keys.epoch, subject(record.message_id, record.hop_sequence))
    return (record.message, record.hop_sequence, keys.sign(signed, signers))


def deliver_signed(net: Network, hop: int, dst: str, items: list[tuple]) -> list:
    node = net.node(dst)
    tx = node.gateway.deliver_signed(hop, items, by=net.relayer_account(node.chain_id), gas=5_000_000)
    receipt = node.chain.send([tx])[0].raise_for_status()
    return node.gateway.events(receipt)


def refusals(events: list) -> list[str]:
    from registry.artifacts import decode_revert

    return [decode_revert(bytes(e["reason"])).name for e in events if e.name == "Refused"]


def outcome_at_destination(net: Network, record: SentRecord) -> Outcome:
    m = record.message
    return net.nodes[m.dst_chain].gateway.inbound_outcome(m.src_chain, m.sequence)


# ------------------------------------------------------------------------------ the happy path


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
        assert net.node(src).gateway.outbound_outcome(record.message.dst_chain, record.message.sequence) \
            is Outcome.DELIVERED
    assert {d.mode for d in relayer.deliveries if d.src == net.node(src).chain_id} == \
        {MODE_COMMITTEE if dst == "Chengdu" else MODE_CHECKPOINT}


def test_a_checkpoint_batch_carries_many_messages_in_one_transaction(net: Network, apps: dict[str, Contract]) -> None:
    ids = [send(net, apps, "Guiyang", "Beijing", bytes([i])) for i in range(20)]
    relayer = Relayer(net, batch_size=8)
    relayer.run_until_idle()
    batches = [d for d in relayer.deliveries if d.src == net.node("Guiyang").chain_id]
    assert [d.size for d in batches] == [8, 8, 4]
    assert all(apps["Beijing"].view("timesHandled", i) == 1 for i in ids)


# ------------------------------------------------------------------------- forged and bad signatures


def test_forged_signature_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    message, hop_sequence, signatures = signed_item(net, record)
    forged = bytearray(signatures)
    forged[10] ^= 0xFF  # flip bits of the first r
    events = deliver_signed(net, record.chain_id, "Chengdu", [(message, hop_sequence, bytes(forged))])
    assert refusals(events) in (["SignerNotMember"], ["InvalidSignature"], ["DuplicateOrUnsortedSigner"])
    assert outcome_at_destination(net, record) is Outcome.NONE
    assert apps["Chengdu"].view("handled") == 0


def test_signer_outside_the_committee_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    keys = net.committees[record.chain_id]
    outsider = validator_key(record.chain_id, 99)
    item = signed_item(net, record, signers=keys.keys[:2] + [outsider])
    assert refusals(deliver_signed(net, record.chain_id, "Chengdu", [item])) == ["SignerNotMember"]


def test_duplicate_signer_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    message, hop_sequence, signatures = signed_item(net, record)
    duplicated = signatures[:65] + signatures[:65] + signatures[65:130]
    events = deliver_signed(net, record.chain_id, "Chengdu", [(message, hop_sequence, duplicated)])
    assert refusals(events) == ["DuplicateOrUnsortedSigner"]


def test_fewer_than_threshold_signatures_are_refused(net: Network, apps: dict[str, Contract]) -> None:
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    keys = net.committees[record.chain_id]
    item = signed_item(net, record, signers=keys.keys[:2])
    assert refusals(deliver_signed(net, record.chain_id, "Chengdu", [item])) == ["TooFewSignatures"]
    assert refusals(deliver_signed(net, record.chain_id, "Chengdu", [signed_item(net, record)])) == []


def test_malleable_high_s_signature_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    message, hop_sequence, signatures = signed_item(net, record)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(signatures[32:64], "big")
    v = signatures[64]
    flipped = signatures[:32] + (n - s).to_bytes(32, "big") + bytes([55 - v]) + signatures[65:]
    events = deliver_signed(net, record.chain_id, "Chengdu", [(message, hop_sequence, flipped)])
    assert refusals(events) == ["MalleableSignature"]


def test_checkpoint_signed_by_too_few_reverts_the_batch(net: Network, apps: dict[str, Contract]) -> None:
    send(net, apps, "Beijing", "Guiyang")
    record = pending_records(net, "Beijing")[-1]
    src, dst = net.node("Beijing"), net.node("Guiyang")
    leaf = subject(record.message_id, record.hop_sequence)
    tree = MerkleTree([leaf])
    keys = net.committees[src.chain_id]
    signed = digest(MODE_CHECKPOINT, src.chain_id, src.gateway.address, dst.chain_id, dst.gateway.address,
                    keys.epoch, tree.root)
    tx = dst.gateway.deliver_checkpoint(src.chain_id, tree.root, keys.sign(signed, keys.keys[:2]),
                                        [(record.message, record.hop_sequence, [])], by=RELAYER, gas=2_000_000)
    with pytest.raises(ContractRevert) as caught:
        dst.chain.send([tx])[0].raise_for_status()
    assert caught.value.name == "TooFewSignatures"
    assert caught.value.args_by_name == {"have": 2, "need": 3}


# ------------------------------------------------------------------- replays, wrong lanes, tampering


def test_replay_of_a_delivered_message_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    item = signed_item(net, record)
    assert refusals(deliver_signed(net, record.chain_id, "Chengdu", [item])) == []
    assert refusals(deliver_signed(net, record.chain_id, "Chengdu", [item])) == ["AlreadyProcessed"]
    assert refusals(deliver_signed(net, record.chain_id, "Chengdu", [item, item])) == ["AlreadyProcessed"] * 2
    assert apps["Chengdu"].view("handled") == 1


def test_a_message_replayed_on_another_chain_or_lane_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    item = signed_item(net, record)
    # the same signed message handed to another chain: not its destination
    guiyang = net.node("Guiyang")
    tx = guiyang.gateway.deliver_checkpoint(record.chain_id, b"\x00" * 32, b"", [], by=RELAYER,
                                            gas=1_000_000)
    with pytest.raises(ContractRevert, match="TooFewSignatures"):
        guiyang.chain.send([tx])[0].raise_for_status()
    node = net.node("Chengdu")
    hub = net.hub.chain_id
    # on its own destination but claimed to come over another lane (from the hub): wrong order / signatures
    tx = node.gateway.deliver_checkpoint(hub, b"\x11" * 32, b"", [], by=net.relayer_account(node.chain_id),
                                         gas=1_000_000)
    with pytest.raises(ContractRevert, match="TooFewSignatures"):
        node.chain.send([tx])[0].raise_for_status()
    # a message for Chengdu delivered to Guiyang over its real lane from Beijing is refused per message
    other = guiyang.gateway.deliver_signed(record.chain_id, [item], by=RELAYER, gas=2_000_000)
    with pytest.raises(ContractRevert, match="WrongVerifierMode"):  # Beijing→Guiyang is a checkpoint lane
        guiyang.chain.send([other])[0].raise_for_status()
    leaf_tree = MerkleTree([subject(record.message_id, record.hop_sequence)])
    src = net.node("Beijing")
    keys = net.committees[src.chain_id]
    signed = digest(MODE_CHECKPOINT, src.chain_id, src.gateway.address, guiyang.chain_id, guiyang.gateway.address,
                    keys.epoch, leaf_tree.root)
    tx = guiyang.gateway.deliver_checkpoint(src.chain_id, leaf_tree.root, keys.sign(signed),
                                            [(record.message, record.hop_sequence, [])], by=RELAYER,
                                            gas=2_000_000)
    events = guiyang.gateway.events(guiyang.chain.send([tx])[0].raise_for_status())
    assert refusals(events) == ["WrongDestination"]


def test_signatures_for_one_chain_do_not_verify_on_another(net: Network, apps: dict[str, Contract]) -> None:
    """Domain separation: a committee signature names the destination chain and gateway."""
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    src, dst = net.node("Beijing"), net.node("Chengdu")
    keys = net.committees[src.chain_id]
    wrong_chain = digest(MODE_COMMITTEE, src.chain_id, src.gateway.address, dst.chain_id + 1, dst.gateway.address,
                         keys.epoch, subject(record.message_id, record.hop_sequence))
    wrong_mode = digest(MODE_CHECKPOINT, src.chain_id, src.gateway.address, dst.chain_id, dst.gateway.address,
                        keys.epoch, subject(record.message_id, record.hop_sequence))
    for signed in (wrong_chain, wrong_mode):
        item = (record.message, record.hop_sequence, keys.sign(signed))
        events = deliver_signed(net, src.chain_id, "Chengdu", [item])
        assert refusals(events)[0] in ("SignerNotMember", "DuplicateOrUnsortedSigner")


def test_tampered_payload_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    import dataclasses

    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    message, hop_sequence, signatures = signed_item(net, record)
    tampered = dataclasses.replace(message, payload=b"evil")
    events = deliver_signed(net, record.chain_id, "Chengdu", [(tampered, hop_sequence, signatures)])
    assert refusals(events)[0] in ("SignerNotMember", "DuplicateOrUnsortedSigner")
    assert apps["Chengdu"].view("handled") == 0


def test_tampered_proof_or_payload_in_a_checkpoint_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    import dataclasses

    for i in range(3):
        send(net, apps, "Beijing", "Guiyang", bytes([i]))
    records = [r for r in pending_records(net, "Beijing") if r.hop == net.node("Guiyang").chain_id]
    src, dst = net.node("Beijing"), net.node("Guiyang")
    tree = MerkleTree([subject(r.message_id, r.hop_sequence) for r in records])
    keys = net.committees[src.chain_id]
    signed = digest(MODE_CHECKPOINT, src.chain_id, src.gateway.address, dst.chain_id, dst.gateway.address,
                    keys.epoch, tree.root)
    bad_proof = [b"\x00" * 32] + tree.proof(0)[1:]
    items = [(records[0].message, records[0].hop_sequence, bad_proof),
             (dataclasses.replace(records[0].message, payload=b"evil"), records[0].hop_sequence, tree.proof(0))]
    tx = dst.gateway.deliver_checkpoint(src.chain_id, tree.root, keys.sign(signed), items,
                                        by=net.relayer_account(dst.chain_id), gas=3_000_000)
    events = dst.gateway.events(dst.chain.send([tx])[0].raise_for_status())
    assert refusals(events) == ["NotInCheckpoint", "NotInCheckpoint"]
    good = [(r.message, r.hop_sequence, tree.proof(i)) for i, r in enumerate(records)]
    tx = dst.gateway.deliver_checkpoint(src.chain_id, tree.root, keys.sign(signed), good,
                                        by=net.relayer_account(dst.chain_id), gas=3_000_000)
    events = dst.gateway.events(dst.chain.send([tx])[0].raise_for_status())
    assert refusals(events) == [] and apps["Guiyang"].view("handled") == 3


def test_out_of_order_delivery_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    send(net, apps, "Beijing", "Chengdu", b"first")
    send(net, apps, "Beijing", "Chengdu", b"second")
    first, second = [r for r in pending_records(net, "Beijing") if r.hop == net.node("Chengdu").chain_id][-2:]
    events = deliver_signed(net, first.chain_id, "Chengdu", [signed_item(net, second), signed_item(net, first)])
    assert refusals(events) == ["OutOfOrder"]
    assert outcome_at_destination(net, first) is Outcome.DELIVERED
    assert outcome_at_destination(net, second) is Outcome.NONE
    Relayer(net).run_until_idle()
    assert outcome_at_destination(net, second) is Outcome.DELIVERED


# ------------------------------------------------------------------------------ deadlines and recipients


def test_delivery_after_the_deadline_times_out_on_both_sides(net: Network, apps: dict[str, Contract]) -> None:
    message_id = send(net, apps, "Beijing", "Chengdu", ttl=60)
    record = next(r for r in pending_records(net, "Beijing") if r.message_id == message_id)
    chengdu = net.node("Chengdu").chain
    chengdu.mine(timestamp=record.message.deadline + 1)
    relayer = Relayer(net)
    relayer.run_until_idle()
    assert apps["Chengdu"].view("timesHandled", message_id) == 0  # never delivered
    assert outcome_at_destination(net, record) is Outcome.TIMED_OUT
    assert net.node("Beijing").gateway.outbound_outcome(record.message.dst_chain, record.message.sequence) \
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
    """Poly Network's flaw: a relayed message reaching privileged functions. The gateway refuses."""
    chengdu = net.node("Chengdu")
    app = apps["Beijing"]
    calldata = chengdu.gateway.abi.function("setPaused").encode([net.node("Beijing").chain_id, True])
    for target in (chengdu.gateway.address, chengdu.committee.address):
        app.transact("send", chengdu.chain_id, target, calldata, 3600, by=app.chain.accounts[5], gas=500_000)
    relayer = Relayer(net)
    relayer.run_until_idle()
    outcomes = [p[0].outcome for p in relayer.processed.values() if p[0].chain_id == chengdu.chain_id]
    assert outcomes == [Outcome.REJECTED, Outcome.REJECTED]
    assert chengdu.gateway.view("lanes", net.node("Beijing").chain_id)["paused"] is False


# --------------------------------------------------------------------------- relayer crash and restart


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
        handled = sum(apps[name].view("timesHandled", message_id) for name in ZONES)
        assert handled == 1, message_id.hex()
    senders = {name: apps[name] for name in ZONES}
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
    watcher = Watcher(net, {c: n.chain.block_number() + 1 for c, n in net.nodes.items()})
    in_flight = send(net, apps, "Beijing", "Guiyang", b"in flight")
    watcher.scan()
    assert in_flight in watcher.sent  # sent, not yet processed: kept
    Relayer(net).run_until_idle()
    watcher.scan()
    assert in_flight not in watcher.sent and in_flight not in watcher.outcomes  # done: forgotten
    assert watcher.invariants()["violation_count"] == 0
    guiyang = net.node("Guiyang").chain_id
    watcher._scanned[guiyang] = watcher.first_block[guiyang] - 1  # its Processed event, seen a second time
    watcher.scan()
    found = watcher.invariants()
    assert found["exactly_once"] is False
    assert [v["message_id"] for v in found["violations"]] == ["0x" + in_flight.hex()]


# ---------------------------------------------------------------------------- rate limit and pause


def test_rate_limit_hit_and_refilled(net: Network, apps: dict[str, Contract]) -> None:
    beijing = net.node("Beijing")
    chengdu_id = net.node("Chengdu").chain_id
    beijing.gateway.transact("setRateLimit", chengdu_id, 2, 100, by=beijing.chain.accounts[0])  # 0.1 msg/s
    send(net, apps, "Beijing", "Chengdu")
    send(net, apps, "Beijing", "Chengdu")
    with pytest.raises(ContractRevert) as caught:
        send(net, apps, "Beijing", "Chengdu")
    assert caught.value.name == "RateLimited" and caught.value.args_by_name["chain"] == chengdu_id
    beijing.chain.mine(timestamp=beijing.chain.block().timestamp + 10)
    send(net, apps, "Beijing", "Chengdu")  # refilled one message
    send(net, apps, "Beijing", "Guiyang")  # other lanes never limited


def test_paused_lane_refuses_sends_and_deliveries(net: Network, apps: dict[str, Contract]) -> None:
    beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
    send(net, apps, "Beijing", "Chengdu")
    chengdu.gateway.transact("setPaused", beijing.chain_id, True, by=chengdu.chain.accounts[0])
    beijing.gateway.transact("setPaused", chengdu.chain_id, True, by=beijing.chain.accounts[0])
    with pytest.raises(ContractRevert, match="LanePaused"):
        send(net, apps, "Beijing", "Chengdu")
    relayer = Relayer(net)
    relayer.poll()
    assert [d.status for d in relayer.deliveries] == [False]  # the hop refuses the whole batch
    with pytest.raises(ContractRevert, match="NotAdmin"):
        chengdu.gateway.transact("setPaused", beijing.chain_id, False, by=chengdu.chain.accounts[7])
    chengdu.gateway.transact("setPaused", beijing.chain_id, False, by=chengdu.chain.accounts[0])
    relayer.run_until_idle()
    assert apps["Chengdu"].view("handled") == 1
    assert relayer.pending() == 1  # its acknowledgement waits: Beijing still refuses Chengdu's lane
    beijing.gateway.transact("setPaused", chengdu.chain_id, False, by=beijing.chain.accounts[0])
    relayer.run_until_idle()
    assert relayer.pending() == 0


# ---------------------------------------------------------------------------------- governance


def test_committee_rotation_refuses_old_keys(net: Network, apps: dict[str, Contract]) -> None:
    beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    old = net.committees[beijing.chain_id]
    new = old.rotated()
    with pytest.raises(ContractRevert, match="NotGovernor"):
        chengdu.committee.transact("rotate", beijing.chain_id, new.members, new.threshold,
                                   by=chengdu.chain.accounts[7])
    chengdu.committee.transact("rotate", beijing.chain_id, new.members, new.threshold, by=chengdu.chain.accounts[0])
    assert refusals(deliver_signed(net, beijing.chain_id, "Chengdu", [signed_item(net, record, keys=old)])) \
        == ["SignerNotMember"]
    stale_epoch = CommitteeKeys(old.chain_id, old.size, old.threshold, epoch=2, keys=old.keys)
    assert refusals(deliver_signed(net, beijing.chain_id, "Chengdu", [signed_item(net, record, keys=stale_epoch)])) \
        == ["SignerNotMember"]
    assert refusals(deliver_signed(net, beijing.chain_id, "Chengdu", [signed_item(net, record, keys=new)])) == []
    assert apps["Chengdu"].view("handled") == 1


# --------------------------------------------------------------------------- the data-exchange app


def test_policy_refusal_is_rejected_and_reported_to_the_requester(net: Network) -> None:
    from sim.exchange import round_trip

    result = round_trip(net, "CNOOC", "Chengdu healthcare pilot 03", "healthcare")
    assert (result.status, result.reason) == ("refused", "PolicyRefused")
    request = net.node("Beijing").exchange.view("requests", bytes.fromhex(result.request_id[2:]))
    assert request["status"] == 4  # REFUSED, learnt from the acknowledgement
    assert [s.step for s in result.steps] == ["sent", "delivered", "acknowledged"]


def test_inactive_entities_are_refused(net: Network) -> None:
    from sim.exchange import round_trip

    registry = net.registry
    provider = registry.find_entity("Chengdu healthcare pilot 03")
    registry.suspend_entity(provider.id, by=registry.roles.regulator)
    net.sync_mirrors([provider.id])
    assert net.node("Chengdu").mirror.view("isActive", provider.id) is False
    result = round_trip(net, "Beijing healthcare pilot 05", "Chengdu healthcare pilot 03", "healthcare")
    assert (result.status, result.reason) == ("refused", "ProviderCannotServe")

    requester = registry.find_entity("Beijing healthcare pilot 05")
    registry.suspend_entity(requester.id, by=registry.roles.regulator)
    net.sync_mirrors([requester.id])
    with pytest.raises(ContractRevert, match="EntityNotActive"):
        round_trip(net, "Beijing healthcare pilot 05", "Guizhou Province", "healthcare")
    assert registry.entity(requester.id).status is EntityStatus.SUSPENDED


def test_mirror_applies_only_newer_versions_from_the_hub_broadcaster(net: Network) -> None:
    """A mirror whose gateway is a test account, so versions can arrive in any order."""
    from eth_abi import encode

    chain = net.node("Beijing").chain
    gateway, broadcaster = chain.accounts[8], chain.accounts[9]
    mirror = Contract.create(chain, "RegistryMirror", gateway.address, net.hub.chain_id, broadcaster.address,
                             by=chain.accounts[0])
    account = chain.accounts[40].address

    def update(version: int, status: int, src: int = net.hub.chain_id, sender: str = broadcaster.address,
               by=gateway) -> list[tuple[int, int]]:
        word = mirror.view("pack", 7, account, 1, status, 3)
        payload = encode(["uint32", "uint256[]"], [version, [word]])
        sent = mirror.transact("handleMessage", src, sender, b"\x00" * 32, payload, by=by, gas=500_000)
        return [(e["applied"], e["stale"]) for e in sent.events]

    assert update(2, int(EntityStatus.ACTIVE)) == [(1, 0)]
    assert update(1, int(EntityStatus.SUSPENDED)) == [(0, 1)]
    assert mirror.view("records", 7)["status"] == int(EntityStatus.ACTIVE)
    assert update(3, int(EntityStatus.SUSPENDED)) == [(1, 0)]
    assert mirror.view("entityCount") == 1
    assert mirror.view("isActive", 7) is False and mirror.view("records", 7)["account"] == account
    assert update(4, int(EntityStatus.ACTIVE), src=net.node("Chengdu").chain_id) == []  # not from the hub
    assert update(4, int(EntityStatus.ACTIVE), sender=chain.accounts[10].address) == []  # not the broadcaster
    assert mirror.view("isActive", 7) is False
    with pytest.raises(ContractRevert, match="NotGateway"):
        update(5, int(EntityStatus.ACTIVE), by=chain.accounts[10])


def test_round_trip_in_both_directions_with_answer_recorded(net: Network) -> None:
    from sim.exchange import round_trip

    result = round_trip(net, "Beijing healthcare pilot 05", "Chengdu healthcare pilot 03", "healthcare",
                        dataset=b"x" * 1000)
    assert result.status == "answered" and result.answer_size == 1000
    assert [s.step for s in result.steps] == ["sent", "delivered", "acknowledged", "responded", "delivered back",
                                              "acknowledged"]
    assert [s.chain for s in result.steps] == ["Beijing", "Chengdu", "Beijing", "Chengdu", "Beijing", "Chengdu"]
    assert all(s.gas > 21_000 for s in result.steps)


def test_gateway_admin_functions_are_guarded(net: Network) -> None:
    gateway: GatewayClient = net.node("Beijing").gateway
    stranger = gateway.chain.accounts[7]
    for function, args in [("setLane", (5, 5, 1, stranger.address)), ("setPaused", (1, True)),
                           ("setRateLimit", (1, 1, 1)), ("setHandlerGasLimit", (1,))]:
        with pytest.raises(ContractRevert, match="NotAdmin"):
            gateway.transact(function, *args, by=stranger)
