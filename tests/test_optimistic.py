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
from sim.bridge.messages import Message, Outcome
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


def _post(net: Network, src: str, dst: str, claims: list[Claim], by: Account, gateway: str | None = None) -> Posting:
    """`by` posts `claims` about `src`'s gateway (or `gateway`) on `dst`; the posting as a watcher reads it."""
    verifier = net.optimistic(net.chain_id(dst))
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
    assert verifier.posted(onet.chain_id("Beijing"), posting.root).voided
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


def test_a_claim_of_a_block_not_yet_produced_is_proven_by_time(onet: Network) -> None:
    items, claims = _forgery(onet)
    future = onet.node("Beijing").chain.block_number + 1_000
    claims = [(claims[0][0], claims[0][1], (future, 0, 0))]
    _bond(onet, "Chengdu", ATTACKER)
    posting = _post(onet, "Beijing", "Chengdu", claims, ATTACKER)
    prover = FraudProver(onet)
    assert prover.false_claim(posting) == 0
    verifier = onet.optimistic(onet.chain_id("Chengdu"))
    beijing = onet.node("Beijing").chain
    old = beijing.block()
    if old.timestamp >= posting.posted_at:  # the head must be older than the post for the twin below
        pytest.skip("Beijing's head is not older than the post")
    validators = onet.validators_at(posting.hop, old.number)
    stale = validators.header(old.number, old.timestamp, beijing.receipts_root(old.number))
    path = MerkleTree([leaf(*c) for c in claims]).proof(0)
    tx = verifier.challenge_future_tx(posting.hop, posting.root, claims[0], path, stale, by=WATCHER, gas=3_000_000)
    assert _refused(onet, "Chengdu", tx) == "HeaderNotAfterPost"
    assert prover.challenge(posting, 0, WATCHER) is None  # no block of Beijing's since the post yet
    beijing.mine(timestamp=posting.posted_at + 1)
    challenge = prover.challenge(posting, 0, WATCHER)
    assert challenge is not None
    _send(onet, "Chengdu", WATCHER, *challenge)
    assert verifier.slashed(ATTACKER.address)


def test_claims_about_another_gateway_are_refused(onet: Network) -> None:
    items, claims = _forgery(onet)
    _bond(onet, "Chengdu", ATTACKER)
    posting = _post(onet, "Beijing", "Chengdu", claims, ATTACKER, gateway=ATTACKER.address)
    assert FraudProver(onet).false_claim(posting) == 0
    _mine_after(onet, WINDOW)
    assert _refused(onet, "Chengdu", _deliver(onet, "Beijing", "Chengdu", items, claims)) == "WrongHopGateway"
