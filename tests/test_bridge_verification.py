"""Verification under attack: forged, outside, duplicate, too few and malleable signatures; replays,
wrong lanes and chains, tampered payloads and proofs; rotated committees."""

from __future__ import annotations

import dataclasses

import pytest
from bridge_kit import RELAYER, deliver_signed, outcome_at_destination, pending_records, refusals, send, signed_item

from registry import Contract, ContractRevert
from sim.bridge.committee import CommitteeKeys, validator_key
from sim.bridge.merkle import MerkleTree
from sim.bridge.messages import Outcome, subject
from sim.bridge.topology import Network
from sim.bridge.verifiers import VERIFIERS, checkpoint_proof


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
    signatures = keys.attest(net.domain(src.chain_id, dst.chain_id), tree.root, keys.keys[:2])
    tx = dst.gateway.deliver_checkpoint(src.chain_id, tree.root, signatures,
                                        [(record.message, record.hop_sequence, [])], by=RELAYER, gas=2_000_000)
    with pytest.raises(ContractRevert) as caught:
        dst.chain.send([tx])[0].raise_for_status()
    assert caught.value.name == "TooFewSignatures"
    assert caught.value.args_by_name == {"have": 2, "need": 3}


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
    with pytest.raises(ContractRevert, match="BadProof"):  # Beijing→Guiyang is a checkpoint lane
        guiyang.chain.send([other])[0].raise_for_status()
    leaf_tree = MerkleTree([subject(record.message_id, record.hop_sequence)])
    src = net.node("Beijing")
    keys = net.committees[src.chain_id]
    signatures = keys.attest(net.domain(src.chain_id, guiyang.chain_id), leaf_tree.root)
    tx = guiyang.gateway.deliver_checkpoint(src.chain_id, leaf_tree.root, signatures,
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
    lane = net.domain(src.chain_id, dst.chain_id)
    wrong_chain = dataclasses.replace(lane, dst_chain=dst.chain_id + 1)
    wrong_mode = dataclasses.replace(lane, mode=VERIFIERS["checkpoint"].mode)
    for domain in (wrong_chain, wrong_mode):
        item = (record.message, record.hop_sequence, keys.attest(domain, subject(record.message_id,
                                                                                 record.hop_sequence)))
        events = deliver_signed(net, src.chain_id, "Chengdu", [item])
        assert refusals(events)[0] in ("SignerNotMember", "DuplicateOrUnsortedSigner")


def test_tampered_payload_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    message, hop_sequence, signatures = signed_item(net, record)
    tampered = dataclasses.replace(message, payload=b"evil")
    events = deliver_signed(net, record.chain_id, "Chengdu", [(tampered, hop_sequence, signatures)])
    assert refusals(events)[0] in ("SignerNotMember", "DuplicateOrUnsortedSigner")
    assert apps["Chengdu"].view("handled") == 0


def test_tampered_proof_or_payload_in_a_checkpoint_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    for i in range(3):
        send(net, apps, "Beijing", "Guiyang", bytes([i]))
    records = [r for r in pending_records(net, "Beijing") if r.hop == net.node("Guiyang").chain_id]
    src, dst = net.node("Beijing"), net.node("Guiyang")
    tree = MerkleTree([subject(r.message_id, r.hop_sequence) for r in records])
    keys = net.committees[src.chain_id]
    signatures = keys.attest(net.domain(src.chain_id, dst.chain_id), tree.root)
    bad_proof = [b"\x00" * 32] + tree.proof(0)[1:]
    items = [(records[0].message, records[0].hop_sequence, bad_proof),
             (dataclasses.replace(records[0].message, payload=b"evil"), records[0].hop_sequence, tree.proof(0))]
    tx = dst.gateway.deliver_checkpoint(src.chain_id, tree.root, signatures, items,
                                        by=net.relayer_account(dst.chain_id), gas=3_000_000)
    events = dst.gateway.events(dst.chain.send([tx])[0].raise_for_status())
    assert refusals(events) == ["NotInCheckpoint", "NotInCheckpoint"]
    good = [(r.message, r.hop_sequence, tree.proof(i)) for i, r in enumerate(records)]
    tx = dst.gateway.deliver_checkpoint(src.chain_id, tree.root, signatures, good,
                                        by=net.relayer_account(dst.chain_id), gas=3_000_000)
    events = dst.gateway.events(dst.chain.send([tx])[0].raise_for_status())
    assert refusals(events) == [] and apps["Guiyang"].view("handled") == 3


def test_committee_rotation_refuses_old_keys(net: Network, apps: dict[str, Contract]) -> None:
    beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
    send(net, apps, "Beijing", "Chengdu")
    record = pending_records(net, "Beijing")[-1]
    old = net.committees[beijing.chain_id]
    new = old.rotated()
    with pytest.raises(ContractRevert, match="OwnableUnauthorizedAccount"):
        chengdu.verifiers["committee"].transact("rotate", beijing.chain_id, new.members, new.threshold,
                                                by=chengdu.chain.accounts[7])
    chengdu.verifiers["committee"].transact("rotate", beijing.chain_id, new.members, new.threshold,
                                            by=chengdu.chain.accounts[0])
    assert refusals(deliver_signed(net, beijing.chain_id, "Chengdu", [signed_item(net, record, keys=old)])) \
        == ["SignerNotMember"]
    stale_epoch = CommitteeKeys(old.chain_id, old.size, old.threshold, epoch=2, keys=old.keys)
    assert refusals(deliver_signed(net, beijing.chain_id, "Chengdu", [signed_item(net, record, keys=stale_epoch)])) \
        == ["SignerNotMember"]
    assert refusals(deliver_signed(net, beijing.chain_id, "Chengdu", [signed_item(net, record, keys=new)])) == []
    assert apps["Chengdu"].view("handled") == 1


def test_a_proof_whose_layout_is_broken_reverts_the_delivery(net: Network, apps: dict[str, Contract]) -> None:
    """A verifier reads its proof strictly: a byte too many, one too few, or a count beyond what follows
    reverts the whole delivery (BadProof) instead of reading another message's proof."""
    send(net, apps, "Beijing", "Guiyang")
    record = pending_records(net, "Beijing")[-1]
    src, dst = net.node("Beijing"), net.node("Guiyang")
    tree = MerkleTree([subject(record.message_id, record.hop_sequence)])
    keys = net.committees[src.chain_id]
    good = checkpoint_proof(tree.root, keys.attest(net.domain(src.chain_id, dst.chain_id), tree.root), [[]])
    for broken in (good + b"\x00", good[:-1], good[:32] + b"\x09" + good[33:]):
        tx = dst.gateway.deliver(src.chain_id, broken, [(record.message, record.hop_sequence)], by=RELAYER,
                                 gas=2_000_000)
        with pytest.raises(ContractRevert) as caught:
            dst.chain.send([tx])[0].raise_for_status()
        assert caught.value.name == "BadProof"
    tx = dst.gateway.deliver(src.chain_id, good, [(record.message, record.hop_sequence)], by=RELAYER, gas=2_000_000)
    assert refusals(dst.gateway.events(dst.chain.send([tx])[0].raise_for_status())) == []
