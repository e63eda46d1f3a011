"""The light client: real receipts roots on every backend, headers signed by each chain's own validators (more than
two thirds; a set changes only by a handover the old set signs), and messages proven by receipt proofs. Every
refusal has an accepted twin that differs only in the defect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bridge_kit import BRIDGE_ZONES, RELAYER, forged, outcome_at_destination, pending_records, refusals, send
from conftest import recipients
from eth_abi import decode, encode

from registry import Chain, Contract, ContractRevert, Tx
from registry.evm.receipts import ReceiptsTrie
from registry.evm.revm import RevmChain
from registry.evm.tester import EthTesterChain
from registry.seeds import load_seed_data
from sim.bridge.consensus import ValidatorSet, consensus_key
from sim.bridge.light_client import PROOF_LAYOUT, SENT_TOPIC, BlockReceipts, LightClientProver, receipt_proof
from sim.bridge.messages import Outcome, SentRecord
from sim.bridge.provision import build_network
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network, NetworkConfig


@pytest.fixture(scope="module")
def light_network() -> Iterator[Network]:
    """`bridge_network`'s zones with every lane verified by the light client."""
    config = NetworkConfig(verifier="light-client")
    with build_network(config, data=load_seed_data().only_zones(BRIDGE_ZONES), backend="revm") as network:
        yield network


@pytest.fixture
def lnet(light_network: Network) -> Iterator[Network]:
    with light_network.anchor():
        yield light_network


# -- receipts roots ------------------------------------------------------------------------------------


def _mixed_block(chain: Chain) -> int:
    """One block of transactions with logs, without, and one that reverts; its number."""
    app = Contract.create(chain, "TestRecipient", chain.accounts[1].address, by=chain.accounts[0])
    txs = [app.tx("handleMessage", 7, chain.accounts[2].address, bytes(32), b"payload %d" % i, by=chain.accounts[1],
                  gas=300_000) for i in range(3)]
    txs.append(Tx(chain.accounts[3], app.address, b"\xde\xad\xbe\xef", 100_000))  # no such function: reverts
    receipts = chain.send(txs)
    assert [r.status for r in receipts] == [True, True, True, False] and receipts[0].logs
    assert len({r.block_number for r in receipts}) == 1
    return receipts[0].block_number


def test_receipts_root_is_the_headers_and_the_same_on_revm() -> None:
    """py-evm computes the header's receipts root itself: ours, from the receipts, must be it (the bloom, the
    type byte, a failed transaction's status included); revm, which has no header, gives the same root for the
    same transactions."""
    tester, revm = EthTesterChain(), RevmChain()
    roots = []
    for chain in (tester, revm):
        number = _mixed_block(chain)
        roots.append(ReceiptsTrie(chain.block_receipts(number)).root)
    assert roots[0] == tester.receipts_root(tester.block_number)
    assert roots[1] == revm.receipts_root(revm.block_number) == roots[0]


@pytest.mark.anvil
def test_receipts_root_is_anvils(anvil_chain: Chain) -> None:
    with anvil_chain.anchor():
        number = _mixed_block(anvil_chain)
        assert ReceiptsTrie(anvil_chain.block_receipts(number)).root == anvil_chain.receipts_root(number)


# -- delivery with receipt proofs ----------------------------------------------------------------------


def _sent(net: Network, src: str = "Beijing", dst: str = "Chengdu", count: int = 1) -> list[SentRecord]:
    apps = recipients(net)
    for i in range(count):
        send(net, apps, src, dst, b"light %d" % i)
    return pending_records(net, src)[-count:]


def _deliver(net: Network, records: list[SentRecord], proof: bytes) -> list[str]:
    """Deliver `records` to their hop with `proof` by hand; the refusals, by name (a revert raises)."""
    dst = net.nodes[records[0].hop]
    tx = dst.gateway.deliver(records[0].chain_id, proof, [(r.message, r.hop_sequence) for r in records], by=RELAYER,
                             gas=8_000_000)
    receipt = dst.chain.send([tx])[0].raise_for_status()
    return refusals(dst.gateway.events(receipt))


def _prove(net: Network, records: list[SentRecord], headers: bool = True) -> bytes:
    """The relayer's proof of `records`, with their headers stored on the hop first (unless `headers` is false)."""
    pre, proof = LightClientProver(net).prove((records[0].chain_id, records[0].hop), records)
    if headers:
        for receipt in net.nodes[records[0].hop].chain.send(pre):
            receipt.raise_for_status()
    return proof


def test_a_relayer_delivers_over_light_client_lanes(lnet: Network) -> None:
    records = _sent(lnet, count=3)
    relayer = Relayer(lnet)
    relayer.run_until_idle()
    assert all(outcome_at_destination(lnet, r) is Outcome.DELIVERED for r in records)
    assert {d.verifier for d in relayer.deliveries} == {"light-client"}


def test_a_message_without_a_stored_header_is_refused_until_the_header_comes(lnet: Network) -> None:
    [record] = _sent(lnet)
    proof = _prove(lnet, [record], headers=False)
    assert _deliver(lnet, [record], proof) == ["UnknownHeader"]
    assert _deliver(lnet, [record], _prove(lnet, [record])) == []  # the header stored: the same proof goes through
    assert outcome_at_destination(lnet, record) is Outcome.DELIVERED


def _edit_proof(proof: bytes, edit: str) -> bytes:
    blocks, receipts, refs = decode(PROOF_LAYOUT, proof)
    blocks = [list(b) for b in blocks]
    receipts = [list(r) for r in receipts]
    refs = list(refs)
    if edit == "tamper":  # one byte of the receipt's leaf (its last path node) changed
        nodes = list(blocks[0][1])
        leaf = bytearray(nodes[receipts[0][2][-1]])
        leaf[-5] ^= 0x01
        nodes[receipts[0][2][-1]] = bytes(leaf)
        blocks[0][1] = nodes
    elif edit == "other-log":  # the message's receipt, another of its logs (or one past the last)
        refs[0] ^= 1
    return encode(PROOF_LAYOUT, [blocks, receipts, refs])


def test_a_tampered_receipt_proof_reverts_the_batch(lnet: Network) -> None:
    """Several transactions in the block, so the receipt's leaf is below the root: a byte changed in it leaves no
    node with the hash its parent names."""
    apps = recipients(lnet)
    app = apps["Beijing"]
    chengdu = lnet.node("Chengdu")
    txs = [app.tx("send", chengdu.chain_id, apps["Chengdu"].address, b"together %d" % i, 3600,
                  by=app.chain.accounts[5 + i], gas=500_000) for i in range(4)]
    assert len({r.block_number for r in app.chain.send(txs)}) == 1
    record = pending_records(lnet, "Beijing")[-1]
    proof = _prove(lnet, [record])
    with pytest.raises(ContractRevert) as caught:
        _deliver(lnet, [record], _edit_proof(proof, "tamper"))
    assert "Incomplete Proof" in str(caught.value)  # the library finds no node with the child's hash
    assert _deliver(lnet, [record], proof) == []


def test_a_proof_against_another_root_is_refused(lnet: Network) -> None:
    first, second = _sent(lnet), _sent(lnet)
    assert first[0].block_number != second[0].block_number
    proof = _prove(lnet, first)
    blocks, receipts, refs = decode(PROOF_LAYOUT, proof)
    moved = encode(PROOF_LAYOUT, [[(second[0].block_number, blocks[0][1])], receipts, refs])  # first's trie
    _prove(lnet, second)  # the second block's header is stored too
    with pytest.raises(ContractRevert) as caught:
        _deliver(lnet, first, moved)
    assert caught.value.name == "WrongRoot"
    assert _deliver(lnet, first, proof) == []


def test_a_proven_log_that_is_not_the_messages_sent_event_is_refused(lnet: Network) -> None:
    [record] = _sent(lnet)
    proof = _prove(lnet, [record])
    assert _deliver(lnet, [record], _edit_proof(proof, "other-log")) == ["NotInReceipts"]
    assert _deliver(lnet, [record], proof) == []


def test_a_sent_event_toward_another_chain_is_refused_by_the_verifier(lnet: Network) -> None:
    """A Sent event toward Guiyang, checked by Chengdu's verifier as if sent there (asked directly: the gateway's
    own check of the destination would refuse it first): the log names another hop."""
    [record] = _sent(lnet, dst="Guiyang")
    beijing = lnet.node("Beijing")
    for name in ("Chengdu", "Guiyang"):
        pre, proof = LightClientProver(lnet).prove((record.chain_id, lnet.chain_id(name)), [record])
        for receipt in lnet.node(name).chain.send(pre):
            receipt.raise_for_status()
        reasons = lnet.light_client(lnet.chain_id(name)).verify(beijing.chain_id, beijing.gateway.address, proof,
                                                               [record.message_id], [record.hop_sequence])
        assert [r.hex() for r in reasons] == (["00000000"] if name == "Guiyang" else [_selector("NotInReceipts")])


def _selector(error: str) -> str:
    from registry.evm.artifacts import load_artifact

    abi = load_artifact("LightClientVerifier").abi
    return next(selector.hex() for selector, e in abi.errors.items() if e.name == error)


# -- the header store ------------------------------------------------------------------------------------


def _submit(net: Network, headers: list[tuple[int, int, bytes, int, bytes]], src: str = "Beijing",
            dst: str = "Chengdu") -> None:
    node = net.node(dst)
    tx = net.light_client(node.chain_id).submit_headers_tx(net.chain_id(src), headers, by=RELAYER, gas=2_000_000)
    node.chain.send([tx])[0].raise_for_status()


def _stored(net: Network, number: int, src: str = "Beijing", dst: str = "Chengdu") -> bytes:
    return net.light_client(net.chain_id(dst)).receipts_roots(net.chain_id(src), number)


def _refused(call: object, *args: object) -> str:
    with pytest.raises(ContractRevert) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.name


ROOT = b"\x42" * 32


def test_a_header_needs_more_than_two_thirds_of_the_validators(lnet: Network) -> None:
    validators = lnet.consensus[lnet.chain_id("Beijing")][0]
    assert (validators.size, validators.threshold) == (4, 3)
    too_few = validators.header(5, 0, ROOT, signers=validators.keys[:2])
    assert _refused(_submit, lnet, [too_few]) == "TooFewValidatorSignatures"
    outsiders = [consensus_key(lnet.chain_id("Beijing"), 90 + i) for i in range(3)]
    assert _refused(_submit, lnet, [validators.header(5, 0, ROOT, signers=outsiders)]) == "SignerNotValidator"
    committee = lnet.committees[lnet.chain_id("Beijing")].keys  # the bridge committee is not the chain's consensus
    assert _refused(_submit, lnet, [validators.header(5, 0, ROOT, signers=committee[:3])]) == "SignerNotValidator"
    _submit(lnet, [validators.header(5, 0, ROOT)])
    assert _stored(lnet, 5) == ROOT


def test_a_second_root_for_a_stored_height_is_refused(lnet: Network) -> None:
    validators = lnet.consensus[lnet.chain_id("Beijing")][0]
    _submit(lnet, [validators.header(5, 0, ROOT)])
    _submit(lnet, [validators.header(5, 0, ROOT)])  # the same again: skipped (relayers race)
    assert _refused(_submit, lnet, [validators.header(5, 0, b"\x43" * 32)]) == "HeaderConflict"
    assert _stored(lnet, 5) == ROOT


def _hand_over(net: Network, old: ValidatorSet, new: ValidatorSet, signatures: bytes) -> None:
    node = net.node("Chengdu")
    tx = net.light_client(node.chain_id).handover_tx(old.chain_id, new.from_block, new.members, signatures,
                                                     by=RELAYER, gas=1_000_000)
    node.chain.send([tx])[0].raise_for_status()


def test_a_handover_needs_the_old_set(lnet: Network) -> None:
    old = lnet.consensus[lnet.chain_id("Beijing")][0]
    new, signed_by_old = old.handover(100)
    _, signed_by_new = old.handover(100, signers=new.keys[:3])
    assert _refused(_hand_over, lnet, old, new, signed_by_new) == "SignerNotValidator"
    _, too_few = old.handover(100, signers=old.keys[:2])
    assert _refused(_hand_over, lnet, old, new, too_few) == "TooFewValidatorSignatures"
    _hand_over(lnet, old, new, signed_by_old)
    assert lnet.light_client(lnet.chain_id("Chengdu")).current_epoch(old.chain_id) == 2
    assert _refused(_hand_over, lnet, old, new, signed_by_old) in ("SignerNotValidator", "HandoverNotAfter")


def test_after_a_handover_the_old_set_signs_only_blocks_before_it(lnet: Network) -> None:
    old = lnet.consensus[lnet.chain_id("Beijing")][0]
    new, signatures = old.handover(100)
    _hand_over(lnet, old, new, signatures)
    assert _refused(_submit, lnet, [old.header(100, 0, ROOT)]) == "StaleHeader"  # old keys at the new set's height
    assert _refused(_submit, lnet, [new.header(99, 0, ROOT)]) == "HeaderBeforeSet"
    _submit(lnet, [old.header(99, 0, ROOT), new.header(100, 0, ROOT)])
    assert _stored(lnet, 99) == _stored(lnet, 100) == ROOT


def test_genesis_validators_are_set_once_by_governance(lnet: Network) -> None:
    node = lnet.node("Chengdu")
    light = lnet.light_client(node.chain_id)
    members = lnet.consensus[lnet.chain_id("Beijing")][0].members
    stranger = node.chain.accounts[7]
    with pytest.raises(ContractRevert) as caught:
        light.transact("setGenesisValidators", 4242, members, by=stranger, gas=1_000_000)
    assert caught.value.name == "OwnableUnauthorizedAccount"
    with pytest.raises(ContractRevert) as caught:  # Beijing's were set when the network was built
        light.transact("setGenesisValidators", lnet.chain_id("Beijing"), members, by=lnet.admin(node.chain_id),
                       gas=1_000_000)
    assert caught.value.name == "GenesisAlreadySet"
    light.transact("setGenesisValidators", 4242, members, by=lnet.admin(node.chain_id), gas=1_000_000)
    assert light.current_epoch(4242) == 1


def test_relayers_carry_a_handover_before_the_first_header_of_the_new_set(lnet: Network) -> None:
    """Beijing's validators hand over; a message from before and one from after go in one batch: the old set's
    header, the handover, then the new set's header reach Chengdu's store in that order."""
    [before] = _sent(lnet)
    beijing = lnet.chain_id("Beijing")
    successor = lnet.hand_over(beijing, lnet.node("Beijing").chain.block_number + 1)
    [after] = _sent(lnet)
    assert lnet.validators_at(beijing, after.block_number) is successor
    assert lnet.validators_at(beijing, before.block_number).epoch == 1
    relayer = Relayer(lnet)
    relayer.run_until_idle()
    assert outcome_at_destination(lnet, before) is outcome_at_destination(lnet, after) is Outcome.DELIVERED
    store = lnet.light_client(lnet.chain_id("Chengdu"))
    assert store.current_epoch(beijing) == 2
    assert store.validator_sets(beijing, 2).from_block == successor.from_block


def test_a_block_of_messages_goes_in_one_delivery_the_relayer_sized_right(lnet: Network) -> None:
    """Eight sends in one block, each its own receipt, to an address without code, their header stored already (no
    declared handler caps in the relayer's bound to hide in, and too small a batch to be simulated): its gas for
    the proof (trie nodes walked at the library's cost) lets the delivery through the first time."""
    apps = recipients(lnet)
    app, chengdu = apps["Beijing"], lnet.node("Chengdu")
    nobody = "0x000000000000000000000000000000000000dEaD"
    txs = [app.tx("send", chengdu.chain_id, nobody, b"block %d" % i, 3600, by=app.chain.accounts[40 + i],
                  gas=500_000) for i in range(8)]
    assert len({r.block_number for r in app.chain.send(txs)}) == 1
    records = pending_records(lnet, "Beijing")[-8:]
    _prove(lnet, records)  # the header, stored
    relayer = Relayer(lnet)
    relayer.run_until_idle()
    forward = [d for d in relayer.deliveries if d.dst == chengdu.chain_id]
    assert [(d.size, d.processed, d.status) for d in forward] == [(8, 8, True)]


def test_an_anchor_takes_back_a_handover_with_the_chains(light_network: Network) -> None:
    beijing = light_network.chain_id("Beijing")
    with light_network.anchor():
        light_network.hand_over(beijing, light_network.node("Beijing").chain.block_number + 1)
        assert len(light_network.consensus[beijing]) == 2
    assert [s.epoch for s in light_network.consensus[beijing]] == [1]


def test_one_validator_signing_three_times_is_not_three_validators(lnet: Network) -> None:
    validators = lnet.consensus[lnet.chain_id("Beijing")][0]
    one = validators.header(5, 0, ROOT, signers=validators.keys[:1])
    repeated = (*one[:4], one[4] * 3)
    assert _refused(_submit, lnet, [repeated]) == "BadValidatorSignature"
    _submit(lnet, [validators.header(5, 0, ROOT)])


def test_a_handover_must_come_after_the_set_it_replaces(lnet: Network) -> None:
    old = lnet.consensus[lnet.chain_id("Beijing")][0]
    first, signatures = old.handover(100)
    _hand_over(lnet, old, first, signatures)
    back, back_signatures = first.handover(100)  # not after block 100, where `first` starts
    assert _refused(_hand_over, lnet, first, back, back_signatures) == "HandoverNotAfter"
    later, later_signatures = first.handover(101)
    _hand_over(lnet, first, later, later_signatures)


def _log_maker(topics: list[bytes], word: bytes) -> bytes:
    """Init code that emits one LOG3 of `topics` with `word` as data, and deploys nothing."""
    code = b"\x7f" + word + b"\x60\x00\x52"  # PUSH32 word, PUSH1 0, MSTORE
    for topic in reversed(topics):
        code += b"\x7f" + topic  # PUSH32 topic (topic0 pushed last)
    return code + b"\x60\x20\x60\x00\xa3\x00"  # PUSH1 32, PUSH1 0, LOG3, STOP


def test_a_sent_shaped_log_of_another_contract_is_refused(lnet: Network) -> None:
    """Anyone can emit a log with the Sent event's topics and a hop sequence: only the hop gateway's counts."""
    beijing, chengdu = lnet.node("Beijing"), lnet.node("Chengdu")
    message = forged(lnet, beijing.chain_id, chengdu.chain_id, beijing.chain.accounts[3].address,
                     chengdu.chain.accounts[3].address, b"from a log maker")
    sequence = beijing.gateway.hop_positions([chengdu.chain_id])[chengdu.chain_id][0] + 1
    topics = [SENT_TOPIC, message.id, chengdu.chain_id.to_bytes(32, "big")]
    [made] = beijing.chain.send([Tx(beijing.chain.accounts[3], None, _log_maker(topics, sequence.to_bytes(32, "big")),
                                    200_000)])
    assert made.status and made.logs[0].topics == tuple(topics)
    record = SentRecord(beijing.chain_id, chengdu.chain_id, sequence, message, message.id, made.block_number, 0)
    prover = LightClientProver(lnet)
    block = prover.block(beijing.chain_id, made.block_number)
    receipts = beijing.chain.block_receipts(made.block_number)
    tx_index = next(i for i, r in enumerate(receipts) if r.logs and r.logs[0].address == made.logs[0].address)
    places = {(message.id, chengdu.chain_id): (tx_index, 0, sequence)}
    proof = receipt_proof([record], {made.block_number: BlockReceipts(block.trie, places)})
    for receipt in chengdu.chain.send(prover.headers(lnet.light_client(chengdu.chain_id), beijing.chain_id,
                                                     [made.block_number], RELAYER)):
        receipt.raise_for_status()
    assert _deliver(lnet, [record], proof) == ["NotInReceipts"]


def test_the_proven_log_must_be_this_messages_at_this_hop_sequence(lnet: Network) -> None:
    """Asked directly (the gateway's own checks aside): another message's genuine Sent event is not this one's,
    even with that message's hop sequence; this message's event is not for another hop sequence."""
    first, second = _sent(lnet), _sent(lnet)
    [a], [b] = first, second
    beijing = lnet.node("Beijing")
    proof = _prove(lnet, [b])
    verifier = lnet.light_client(lnet.chain_id("Chengdu"))

    def reasons(message_id: bytes, hop_sequence: int) -> list[str]:
        found = verifier.verify(beijing.chain_id, beijing.gateway.address, proof, [message_id], [hop_sequence])
        return [r.hex() for r in found]

    assert reasons(b.message_id, b.hop_sequence) == ["00000000"]
    assert reasons(a.message_id, b.hop_sequence) == [_selector("NotInReceipts")]  # b's event, a's id
    assert reasons(b.message_id, b.hop_sequence + 1) == [_selector("NotInReceipts")]  # b's event, another sequence


def test_another_event_of_the_gateway_with_the_same_shape_is_not_a_sent_event(lnet: Network) -> None:
    """Beijing's gateway logs Processed(id, srcChain) with the lane sequence as its first word: for a message from
    Chengdu that is [Processed, id, Chengdu] and a sequence, Sent's very shape toward Chengdu. Only Sent counts."""
    apps = recipients(lnet)
    beijing, chengdu = lnet.node("Beijing"), lnet.node("Chengdu")
    send(lnet, apps, "Chengdu", "Beijing", b"back to Beijing")
    [record] = pending_records(lnet, "Chengdu")[-1:]
    Relayer(lnet).run_until_idle()
    processed_topic = next(t for t, e in beijing.gateway.abi.events.items() if e.name == "Processed")
    number, tx_index, position = next(
        (n, t, p) for n in range(beijing.chain.block_number, 0, -1)
        for t, r in enumerate(beijing.chain.block_receipts(n)) for p, log in enumerate(r.logs)
        if log.topics[0] == processed_topic and log.topics[1] == record.message_id)
    prover = LightClientProver(lnet)
    block = prover.block(beijing.chain_id, number)
    places = {(record.message_id, chengdu.chain_id): (tx_index, position, record.message.sequence)}
    fake = SentRecord(beijing.chain_id, chengdu.chain_id, record.message.sequence, record.message, record.message_id,
                      number, 0)
    proof = receipt_proof([fake], {number: BlockReceipts(block.trie, places)})
    store = lnet.light_client(chengdu.chain_id)
    for receipt in chengdu.chain.send(prover.headers(store, beijing.chain_id, [number], RELAYER)):
        receipt.raise_for_status()
    reasons = store.verify(beijing.chain_id, beijing.gateway.address, proof, [record.message_id],
                           [record.message.sequence])
    assert [r.hex() for r in reasons] == [_selector("NotInReceipts")]
