"""The optimistic verifier: bonded posters' claims wait out a challenge window; a watcher's fraud proof (checked on
chain against the hop's own signed headers and receipts) voids a false root and slashes its poster for good. Every
refusal has an accepted twin that differs only in the defect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bridge_kit import BRIDGE_ZONES, RELAYER, forged, outcome_at_destination, pending_records, refusals, send
from conftest import recipients
from eth_abi import encode

from registry import Account, ContractRevert, Receipt, Tx, derive_account
from registry.defaults import ATTACKER_INDEX, SPARE_INDEX
from registry.seeds import load_seed_data
from sim.bridge.fraud import FraudProver, Posting
from sim.bridge.merkle import MerkleTree
from sim.bridge.messages import Message, Outcome, SentRecord
from sim.bridge.optimistic import MIN_BOND, PROOF_LAYOUT, Claim, leaf
from sim.bridge.provision import build_network
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network, NetworkConfig

WINDOW = 30
ATTACKER = derive_account(ATTACKER_INDEX)
WATCHER = derive_account(SPARE_INDEX)


@pytest.fixture(scope="module")
def optimistic_network() -> Iterator[Network]:
    config = NetworkConfig(verifier="optimistic", challenge_window_s=WINDOW)
    with build_network(config, data=load_seed_data().only_zones(BRIDGE_ZONES), backend="revm") as network:
        yield network


@pytest.fixture
def onet(optimistic_network: Network) -> Iterator[Network]:
    with optimistic_network.anchor():
        yield optimistic_network


def _mine_after(net: Network, seconds: int) -> None:
    """Every chain's clock `seconds` on."""
    later = max(n.chain.block().timestamp for n in net.nodes.values()) + seconds
    for node in net.nodes.values():
        node.chain.mine(timestamp=later)


def _send(net: Network, dst: str, by: Account, *txs: Tx) -> list[Receipt]:
    receipts = net.node(dst).chain.send(list(txs))
    for receipt in receipts:
        receipt.raise_for_status()
    return receipts


def _refused(net: Network, dst: str, tx: Tx) -> str:
    with pytest.raises(ContractRevert) as caught:
        _send(net, dst, RELAYER, tx)
    return caught.value.name


def _bond(net: Network, dst: str, by: Account) -> None:
    verifier = net.optimistic(net.chain_id(dst))
    _send(net, dst, by, Tx(by, verifier.address, verifier.abi.function("bond").encode([]), 100_000, MIN_BOND))


def _headers_up_to(net: Network, src: str, dst: str, number: int) -> None:
    """`src`'s real header at `number` stored on `dst`'s optimistic verifier (anyone may carry it)."""
    txs = FraudProver(net).receipts.headers(net.optimistic(net.chain_id(dst)), net.chain_id(src), [number], WATCHER)
    if txs:
        _send(net, dst, WATCHER, *txs)


def _post(net: Network, src: str, dst: str, claims: list[Claim], by: Account, gateway: str | None = None) -> Posting:
    """`by` posts `claims` about `src`'s gateway (or `gateway`) on `dst`, the header of the newest claimed block
    stored first; the posting as a watcher reads it."""
    verifier = net.optimistic(net.chain_id(dst))
    _headers_up_to(net, src, dst, max(c[2][0] for c in claims))
    tx = verifier.post_tx(net.chain_id(src), gateway or net.node(src).gateway.address, claims, by=by, gas=2_000_000)
    [receipt] = _send(net, dst, by, tx)
    [posting] = FraudProver(net).postings(net.chain_id(dst), receipt.block_number, receipt.block_number)
    return posting


def _deliver(net: Network, src: str, dst: str, items: list[tuple[Message, int]], claims: list[Claim]) -> Tx:
    tree = MerkleTree([leaf(*c) for c in claims])
    proof = encode(PROOF_LAYOUT, [tree.root, [c[2] for c in claims], [tree.proof(i) for i in range(len(claims))]])
    return net.node(dst).gateway.deliver(net.chain_id(src), proof, items, by=RELAYER, gas=5_000_000)


def _forgery(net: Network, src: str = "Beijing", dst: str = "Chengdu") -> tuple[list[tuple[Message, int]], list[Claim]]:
    """A message no one sent, claimed at a real place of `src` (its latest block's first log)."""
    source, target = net.node(src), net.node(dst)
    message = forged(net, source.chain_id, target.chain_id, source.data_exchange.address, target.data_exchange.address,
                     b"forged")
    sequence = target.gateway.hop_positions([source.chain_id])[source.chain_id][1] + 5
    return [(message, sequence)], [(message.id, sequence, (source.chain.block_number, 0, 0))]


def test_a_relayer_posts_claims_and_delivers_once_the_window_has_passed(onet: Network) -> None:
    apps = recipients(onet)
    send(onet, apps, "Beijing", "Chengdu")
    [record] = pending_records(onet, "Beijing")[-1:]
    relayer = Relayer(onet)
    relayer.poll()  # posts the claim: nothing delivered yet
    assert outcome_at_destination(onet, record) is Outcome.NONE
    relayer.run_until_idle()  # waits out the window
    assert outcome_at_destination(onet, record) is Outcome.DELIVERED
    [delivery] = [d for d in relayer.deliveries if d.dst == onet.chain_id("Chengdu")]
    posted_at = onet.node("Chengdu").chain.block(delivery.block_number).timestamp
    assert delivery.verifier == "optimistic" and posted_at >= onet.node("Beijing").chain.block(
        record.block_number).timestamp + WINDOW


def test_claims_are_usable_only_after_the_window(onet: Network) -> None:
    apps = recipients(onet)
    send(onet, apps, "Beijing", "Chengdu")
    [record] = pending_records(onet, "Beijing")[-1:]
    relayer = Relayer(onet)
    claim = relayer._provers.poster.claim(record)
    _bond(onet, "Chengdu", RELAYER)
    _post(onet, "Beijing", "Chengdu", [claim], RELAYER)
    delivery = _deliver(onet, "Beijing", "Chengdu", [(record.message, record.hop_sequence)], [claim])
    assert _refused(onet, "Chengdu", delivery) == "RootNotFinal"
    _mine_after(onet, WINDOW)
    [receipt] = _send(onet, "Chengdu", RELAYER, delivery)
    assert refusals(onet.node("Chengdu").gateway.events(receipt)) == []
    assert outcome_at_destination(onet, record) is Outcome.DELIVERED


def test_posting_needs_a_bond(onet: Network) -> None:
    items, claims = _forgery(onet)
    _headers_up_to(onet, "Beijing", "Chengdu", claims[0][2][0])
    verifier = onet.optimistic(onet.chain_id("Chengdu"))
    tx = verifier.post_tx(onet.chain_id("Beijing"), onet.node("Beijing").gateway.address, claims, by=ATTACKER,
                          gas=2_000_000)
    assert _refused(onet, "Chengdu", tx) == "BondTooSmall"
    _bond(onet, "Chengdu", ATTACKER)
    _send(onet, "Chengdu", ATTACKER, tx)


def test_a_false_claim_is_proven_voided_and_its_poster_slashed_for_good(onet: Network) -> None:
    items, claims = _forgery(onet)
    _bond(onet, "Chengdu", ATTACKER)
    posting = _post(onet, "Beijing", "Chengdu", claims, ATTACKER)
    prover = FraudProver(onet)
    assert prover.false_claim(posting) == 0
    verifier = onet.optimistic(onet.chain_id("Chengdu"))
    before = onet.node("Chengdu").chain.balance(WATCHER.address)
    challenge = prover.challenge(posting, 0, WATCHER)
    assert challenge is not None
    receipts = _send(onet, "Chengdu", WATCHER, *challenge)
    assert [e.name for e in verifier.events(receipts[-1])] == ["FraudProven"]
    assert verifier.slashed(ATTACKER.address) and verifier.bonds(ATTACKER.address) == 0
    assert verifier.posted(onet.chain_id("Beijing"), posting.hop_gateway, posting.root).voided
    assert onet.node("Chengdu").chain.balance(WATCHER.address) > before  # half the bond, less its gas
    _mine_after(onet, WINDOW)
    assert _refused(onet, "Chengdu", _deliver(onet, "Beijing", "Chengdu", items, claims)) == "RootVoided"
    _bond(onet, "Chengdu", ATTACKER)  # a fresh bond does not buy back the right to post
    again = verifier.post_tx(onet.chain_id("Beijing"), onet.node("Beijing").gateway.address, claims[:1], by=ATTACKER,
                             gas=2_000_000)
    assert _refused(onet, "Chengdu", again) == "PosterSlashed"


def test_an_honest_claim_cannot_be_slashed(onet: Network) -> None:
    apps = recipients(onet)
    send(onet, apps, "Beijing", "Chengdu")
    [record] = pending_records(onet, "Beijing")[-1:]
    claim = Relayer(onet)._provers.poster.claim(record)
    _bond(onet, "Chengdu", RELAYER)
    posting = _post(onet, "Beijing", "Chengdu", [claim], RELAYER)
    prover = FraudProver(onet)
    assert prover.false_claim(posting) is None
    challenge = prover.challenge(posting, 0, WATCHER)
    assert challenge is not None
    *headers, absent = challenge
    _send(onet, "Chengdu", WATCHER, *headers)
    assert _refused(onet, "Chengdu", absent) == "ClaimHolds"
    assert not onet.optimistic(onet.chain_id("Chengdu")).slashed(RELAYER.address)


def test_a_challenge_after_the_window_is_refused_and_the_fraud_goes_through(onet: Network) -> None:
    """With no watcher within the window, the false claim stands: the forged message is processed."""
    items, claims = _forgery(onet)
    _bond(onet, "Chengdu", ATTACKER)
    posting = _post(onet, "Beijing", "Chengdu", claims, ATTACKER)
    _mine_after(onet, WINDOW)
    challenge = FraudProver(onet).challenge(posting, 0, WATCHER)
    assert challenge is not None
    *headers, absent = challenge
    _send(onet, "Chengdu", WATCHER, *headers)
    assert _refused(onet, "Chengdu", absent) == "ChallengeWindowOver"
    [receipt] = _send(onet, "Chengdu", ATTACKER, _deliver(onet, "Beijing", "Chengdu", items, claims))
    events = onet.node("Chengdu").gateway.events(receipt)
    assert "Processed" in [e.name for e in events] and refusals(events) == []


def test_a_claim_of_a_block_the_store_does_not_know_is_refused_at_post(onet: Network) -> None:
    """Only blocks at or below the hop's highest stored header may be claimed: every false claim is then disprovable
    by a receipt proof (a claim of a block not produced yet could not be, within any window)."""
    items, claims = _forgery(onet)
    _bond(onet, "Chengdu", ATTACKER)
    verifier = onet.optimistic(onet.chain_id("Chengdu"))
    future = onet.node("Beijing").chain.block_number + 1_000
    ahead = [(claims[0][0], claims[0][1], (future, 0, 0))]
    tx = verifier.post_tx(onet.chain_id("Beijing"), onet.node("Beijing").gateway.address, ahead, by=ATTACKER,
                          gas=2_000_000)
    assert _refused(onet, "Chengdu", tx) == "ClaimAboveHeaders"
    _post(onet, "Beijing", "Chengdu", claims, ATTACKER)  # its block's header stored: the post goes through
    assert verifier.highest_header(onet.chain_id("Beijing")) >= claims[0][2][0]


def test_claims_about_another_gateway_cannot_capture_an_honest_root(onet: Network) -> None:
    """The same claims posted first for a gateway of the attacker's own: a posting of another gateway, unusable on
    this lane (UnknownRoot); the honest posting of the same root stands beside it and is delivered."""
    apps = recipients(onet)
    send(onet, apps, "Beijing", "Chengdu")
    [record] = pending_records(onet, "Beijing")[-1:]
    claim = Relayer(onet)._provers.poster.claim(record)
    _bond(onet, "Chengdu", ATTACKER)
    _bond(onet, "Chengdu", RELAYER)
    hostile = _post(onet, "Beijing", "Chengdu", [claim], ATTACKER, gateway=ATTACKER.address)
    assert FraudProver(onet).false_claim(hostile) == 0 and FraudProver(onet).challenge(hostile, 0, WATCHER) is None
    honest = _post(onet, "Beijing", "Chengdu", [claim], RELAYER)
    assert honest.root == hostile.root and honest.poster == RELAYER.address
    _mine_after(onet, WINDOW)
    [receipt] = _send(onet, "Chengdu", RELAYER, _deliver(onet, "Beijing", "Chengdu",
                                                         [(record.message, record.hop_sequence)], [claim]))
    assert refusals(onet.node("Chengdu").gateway.events(receipt)) == []
    assert outcome_at_destination(onet, record) is Outcome.DELIVERED


def test_a_slashed_posters_other_roots_are_refused(onet: Network) -> None:
    """One bond backs every root a poster posts: once a fraud of it is proven, none of its roots is usable."""
    items, claims = _forgery(onet)
    message, sequence = items[0]
    other = forged(onet, message.src_chain, message.dst_chain, message.sender, message.recipient, b"another")
    second = [(other.id, sequence + 1, claims[0][2][:2] + (1,))]
    _bond(onet, "Chengdu", ATTACKER)
    first = _post(onet, "Beijing", "Chengdu", claims, ATTACKER)
    _post(onet, "Beijing", "Chengdu", second, ATTACKER)
    challenge = FraudProver(onet).challenge(first, 0, WATCHER)
    assert challenge is not None
    _send(onet, "Chengdu", WATCHER, *challenge)
    _mine_after(onet, WINDOW)
    assert _refused(onet, "Chengdu", _deliver(onet, "Beijing", "Chengdu", [(other, sequence + 1)], second)) == \
        "PosterSlashed"


def test_a_posting_about_a_chain_the_network_lacks_leaves_the_watchers_standing(onet: Network) -> None:
    _, claims = _forgery(onet)
    _bond(onet, "Chengdu", ATTACKER)
    verifier = onet.optimistic(onet.chain_id("Chengdu"))
    prover = FraudProver(onet)
    _send(onet, "Chengdu", WATCHER, *prover.receipts.headers(verifier, onet.chain_id("Beijing"),
                                                             [claims[0][2][0]], WATCHER))
    # no chain 999999 has validators here: nothing can be stored for it, so nothing about it can be posted
    tx = verifier.post_tx(999_999, ATTACKER.address, claims, by=ATTACKER, gas=2_000_000)
    assert _refused(onet, "Chengdu", tx) == "ClaimAboveHeaders"
    posting = Posting(onet.chain_id("Chengdu"), 999_999, b"\x01" * 32, ATTACKER.address, ATTACKER.address,
                      tuple(claims), 0, 0)
    assert prover.false_claim(posting) is None and prover.challenge(posting, 0, WATCHER) is None


def _honest_claims(net: Network, count: int) -> tuple[list[SentRecord], list[Claim]]:
    apps = recipients(net)
    for i in range(count):
        send(net, apps, "Beijing", "Chengdu", b"honest %d" % i)
    records = pending_records(net, "Beijing")[-count:]
    poster = Relayer(net)._provers.poster
    return records, [poster.claim(r) for r in records]


def test_an_odd_batch_posted_is_delivered_message_by_message_and_nothing_else_is(onet: Network) -> None:
    """Three claims (an odd node carried up the tree, as sim.bridge.merkle builds it): each message delivered with
    its own path; a message not in the root, given a claim's place and path, is refused."""
    records, claims = _honest_claims(onet, 3)
    _bond(onet, "Chengdu", RELAYER)
    _post(onet, "Beijing", "Chengdu", claims, RELAYER)
    _mine_after(onet, WINDOW)
    items, forgery = _forgery(onet)
    [(message, sequence)] = items
    sneaked = [(message.id, sequence, claims[2][2])]  # its leaf is not in the root
    tree = MerkleTree([leaf(*c) for c in claims])
    proof = encode(PROOF_LAYOUT, [tree.root, [claims[2][2]], [tree.proof(2)]])
    tx = onet.node("Chengdu").gateway.deliver(onet.chain_id("Beijing"), proof, [(message, sequence)], by=RELAYER,
                                              gas=5_000_000)
    [receipt] = _send(onet, "Chengdu", RELAYER, tx)
    assert refusals(onet.node("Chengdu").gateway.events(receipt)) == ["NotInRoot"] and sneaked
    for index, record in enumerate(records):
        proof = encode(PROOF_LAYOUT, [tree.root, [claims[index][2]], [tree.proof(index)]])
        tx = onet.node("Chengdu").gateway.deliver(onet.chain_id("Beijing"), proof,
                                                  [(record.message, record.hop_sequence)], by=RELAYER, gas=5_000_000)
        [receipt] = _send(onet, "Chengdu", RELAYER, tx)
        assert refusals(onet.node("Chengdu").gateway.events(receipt)) == []
        assert outcome_at_destination(onet, record) is Outcome.DELIVERED


def test_a_claim_outside_the_root_cannot_get_an_honest_poster_slashed(onet: Network) -> None:
    _, claims = _honest_claims(onet, 1)
    _bond(onet, "Chengdu", RELAYER)
    posting = _post(onet, "Beijing", "Chengdu", claims, RELAYER)
    verifier = onet.optimistic(onet.chain_id("Chengdu"))
    prover = FraudProver(onet)
    made_up = (b"\x07" * 32, 1, claims[0][2])  # false, and not what the poster claimed
    number, tx, _ = made_up[2]
    challenge = verifier.challenge_tx(posting.hop, posting.hop_gateway, posting.root, made_up, [],
                                      prover.receipts.block(posting.hop, number).trie.path(tx), by=WATCHER,
                                      gas=3_000_000)
    assert _refused(onet, "Chengdu", challenge) == "ClaimNotInRoot"
    assert not verifier.slashed(RELAYER.address)


def test_posting_a_voided_root_again_does_not_revive_it(onet: Network) -> None:
    items, claims = _forgery(onet)
    _bond(onet, "Chengdu", ATTACKER)
    posting = _post(onet, "Beijing", "Chengdu", claims, ATTACKER)
    challenge = FraudProver(onet).challenge(posting, 0, WATCHER)
    assert challenge is not None
    _send(onet, "Chengdu", WATCHER, *challenge)
    _bond(onet, "Chengdu", RELAYER)  # another bonded poster posts the very same claims
    verifier = onet.optimistic(onet.chain_id("Chengdu"))
    _send(onet, "Chengdu", RELAYER, verifier.post_tx(onet.chain_id("Beijing"), onet.node("Beijing").gateway.address,
                                                     claims, by=RELAYER, gas=2_000_000))
    assert verifier.posted(posting.hop, posting.hop_gateway, posting.root).poster == ATTACKER.address
    _mine_after(onet, WINDOW)
    assert _refused(onet, "Chengdu", _deliver(onet, "Beijing", "Chengdu", items, claims)) == "RootVoided"


def test_the_bond_window_and_reward_are_exact(onet: Network) -> None:
    """A bond one wei short is refused; a root is refused one second before its window ends and usable at its end;
    a proven fraud pays the challenger half the bond, the rest stays locked in the verifier."""
    records, claims = _honest_claims(onet, 1)
    verifier = onet.optimistic(onet.chain_id("Chengdu"))
    poster = derive_account(196)  # funded, never bonded
    assert verifier.bonds(poster.address) == 0
    short = Tx(poster, verifier.address, verifier.abi.function("bond").encode([]), 100_000, MIN_BOND - 1)
    _send(onet, "Chengdu", poster, short)
    _headers_up_to(onet, "Beijing", "Chengdu", claims[0][2][0])
    post = verifier.post_tx(onet.chain_id("Beijing"), onet.node("Beijing").gateway.address, claims, by=poster,
                            gas=2_000_000)
    assert _refused(onet, "Chengdu", post) == "BondTooSmall"
    _send(onet, "Chengdu", poster, Tx(poster, verifier.address, verifier.abi.function("bond").encode([]), 100_000, 1))
    posting = _post(onet, "Beijing", "Chengdu", claims, poster)
    chengdu = onet.node("Chengdu").chain
    delivery = _deliver(onet, "Beijing", "Chengdu", [(records[0].message, records[0].hop_sequence)], claims)
    chengdu.set_next_timestamp(posting.posted_at + WINDOW - 1)
    assert _refused(onet, "Chengdu", delivery) == "RootNotFinal"
    chengdu.set_next_timestamp(posting.posted_at + WINDOW)
    _send(onet, "Chengdu", RELAYER, delivery)
    items, forged_claims = _forgery(onet)
    _bond(onet, "Chengdu", ATTACKER)
    fraud = _post(onet, "Beijing", "Chengdu", forged_claims, ATTACKER)
    locked = chengdu.balance(verifier.address)
    challenge = FraudProver(onet).challenge(fraud, 0, WATCHER)
    assert challenge is not None
    _send(onet, "Chengdu", WATCHER, *challenge)
    assert locked - chengdu.balance(verifier.address) == MIN_BOND // 2
