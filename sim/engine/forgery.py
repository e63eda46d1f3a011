"""Forgeries against whatever verifies the lane, with what the attacker holds: stolen committee keys, stolen keys of
the source chain's own validators, a bond to post claims with. Each attempt is the attacker's best with those
means against that verifier; what the chains make of it is recorded like any attack (sim.engine.attack_kit).

- committee and checkpoint lanes take committee signatures: validator keys sign as outsiders;
- light-client lanes take receipt proofs against stored headers: the attacker builds a block whose receipts hold
  the forged Sent events and has its header signed by the stolen validator keys (too few: the header is refused);
- optimistic lanes take posted claims after the challenge window: the attacker bonds, posts, waits and delivers;
  watchers prove the claims false in the window unless they are down, or the attacker holds enough validator
  keys to store a forged header first (the watchers' real one then conflicts: no fraud proof can be made).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy
from eth_abi import encode
from eth_keys.datatypes import PrivateKey

from registry import PilotsimError, Tx
from registry.evm.artifacts import decode_revert
from registry.evm.base import Log, TxReceipt
from registry.evm.receipts import ReceiptsTrie

from ..bridge.light_client import SENT_TOPIC, BlockReceipts, LightClientProver, receipt_proof, sent_places
from ..bridge.merkle import MerkleTree
from ..bridge.messages import Message, SentRecord, subject
from ..bridge.optimistic import MIN_BOND, PROOF_LAYOUT, Claim, leaf
from ..bridge.topology import ChainNode, Network
from ..bridge.verifiers import SIGNED
from .attack_kit import ATTACK_GAS, ATTACKER, attack_tx, forged_requests, record
from .fault_kinds import FraudUnwatched, FraudWatched, HeaderForgery, ValidatorTakeover
from .recorder import Attack
from .target import FaultProcess, FaultTarget

FORGED_HEIGHT = 1_000_000  # light-client forgeries claim a block this far above the source's head

MESSAGE_TYPE = "(uint8,uint8,uint64,uint64,uint64,uint64,uint32,address,address,bytes)"


def forged_block(source: ChainNode, hop: int, messages: list[Message], sequences: list[int]) -> BlockReceipts:
    """A block that never was: one receipt holding `source`'s gateway's Sent events for `messages`."""
    logs = tuple(Log(source.gateway.address, (SENT_TOPIC, m.id, hop.to_bytes(32, "big")),
                     encode(["uint64", MESSAGE_TYPE], [s, m.as_tuple()]), i, 0)
                 for i, (m, s) in enumerate(zip(messages, sequences, strict=True)))
    receipts = (TxReceipt(True, 100_000, logs),)
    return BlockReceipts(ReceiptsTrie(receipts), sent_places(receipts, source.gateway.address))


def _records(source: ChainNode, hop: int, messages: list[Message], sequences: list[int],
             number: int) -> list[SentRecord]:
    return [SentRecord(source.chain_id, hop, s, m, m.id, number, 0) for m, s in zip(messages, sequences, strict=True)]


def forged_proof(net: Network, source: ChainNode, hop: int, messages: list[Message], sequences: list[int],
                 committee_keys: list[PrivateKey], validator_keys: list[PrivateKey]) -> tuple[list[Tx], bytes]:
    """What the attacker sends before the delivery, and its proof, on the lane from `source` to `hop` (no posting:
    `fraud` does that)."""
    verifier = net.verifier(source.chain_id, hop)
    if verifier.name in SIGNED:
        signers = committee_keys if committee_keys or not validator_keys else validator_keys
        return [], verifier.prove(net.committees[source.chain_id], net.domain(source.chain_id, hop),
                                  [subject(m.id, s) for m, s in zip(messages, sequences, strict=True)], signers)
    if verifier.name == "light-client":
        number = source.chain.block_number + FORGED_HEIGHT
        block = forged_block(source, hop, messages, sequences)
        validators = net.validators_at(source.chain_id, number)
        header = validators.header(number, net.nodes[hop].chain.block().timestamp, block.trie.root,
                                   signers=validator_keys or committee_keys)
        pre = [net.light_client(hop).submit_headers_tx(source.chain_id, [header], by=ATTACKER, gas=1_000_000)]
        return pre, receipt_proof(_records(source, hop, messages, sequences, number), {number: block})
    claims = [(m.id, s, (source.chain.block_number, 0, i)) for i, (m, s) in enumerate(zip(messages, sequences,
                                                                                           strict=True))]
    return [], _optimistic_proof(claims)  # a root no one posted


def _optimistic_proof(claims: list[Claim]) -> bytes:
    tree = MerkleTree([leaf(*c) for c in claims])
    return encode(PROOF_LAYOUT, [tree.root, [c[2] for c in claims], [tree.proof(i) for i in range(len(claims))]])


def validator_forgery(target: FaultTarget, fault: ValidatorTakeover | HeaderForgery) -> FaultProcess:
    """Forged messages from `source` into `chain` with `keys` of the source's own validators."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    validators = net.consensus[source.chain_id][-1]
    default = validators.threshold if isinstance(fault, ValidatorTakeover) else validators.threshold - 1
    stolen = validators.keys[: fault.keys or default]
    yield from _forge(target, fault.kind, source, victim, fault.forged, stolen, watched=True)


def fraud(target: FaultTarget, fault: FraudWatched | FraudUnwatched) -> FaultProcess:
    """A bonded poster's false claims (with no keys at all), watched or not."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    yield from _forge(target, fault.kind, source, victim, fault.forged, [], watched=isinstance(fault, FraudWatched))


def _forge(target: FaultTarget, kind: str, source: ChainNode, victim: ChainNode, count: int,
           validator_keys: list[PrivateKey], watched: bool) -> FaultProcess:
    net = target.network
    hop = net.via(source.chain_id, victim.chain_id)
    receiver = net.nodes[hop]
    validators = net.consensus[source.chain_id][-1]
    if len(validator_keys) >= validators.threshold:
        target.breach_trust()  # the source chain's own consensus is the attacker's
    messages = forged_requests(net, source, victim, count, int(target.env.now) + target.epoch)
    first = source.gateway.hop_positions([hop])[hop][0] + 1
    sequences = list(range(first, first + count))
    attack = Attack(kind=kind, source=source.name, target=victim.name, messages=count, keys=len(validator_keys),
                    threshold=validators.threshold, message_ids=["0x" + m.id.hex() for m in messages])
    if net.verifier(source.chain_id, hop).name == "optimistic":
        if not watched:
            target.watchers_down(True)
            target.breach_trust()  # no one watches: the optimistic assumption does not hold
        posted = yield from _post_and_wait(target, source, hop, messages, sequences, validator_keys, attack)
        if posted is None:  # the post was refused: that is the attack's outcome
            if not watched:
                target.watchers_down(False)
            return
        proof, pre = posted, list[Tx]()
    else:
        pre, proof = forged_proof(net, source, hop, messages, sequences, [], validator_keys)
    if pre:
        yield target.submit(hop, pre)
    tx = receiver.gateway.deliver(source.chain_id, proof, list(zip(messages, sequences, strict=True)), by=ATTACKER,
                                  gas=ATTACK_GAS)
    yield from attack_tx(target, hop, tx, attack, receiver.gateway)
    if not watched:
        target.watchers_down(False)


def _post_and_wait(target: FaultTarget, source: ChainNode, hop: int, messages: list[Message], sequences: list[int],
                   validator_keys: list[PrivateKey], attack: Attack) -> Generator[simpy.Event, Any, bytes | None]:
    """Bond, post claims of `messages` at the source's latest block (its header stored first: a forged one when the
    validator keys suffice, else the real one, which anyone may carry), and wait out the challenge window; the
    delivery proof, or None when the post itself was refused (recorded as the attack's outcome)."""
    net = target.network
    verifier = net.optimistic(hop)
    number = source.chain.block_number
    claims = [(m.id, s, (number, 0, i)) for i, (m, s) in enumerate(zip(messages, sequences, strict=True))]
    bond = Tx(ATTACKER, verifier.address, verifier.abi.function("bond").encode([]), 100_000, MIN_BOND)
    validators = net.validators_at(source.chain_id, number)
    if len(validator_keys) >= validators.threshold:  # the header the watchers would need, taken first
        block = forged_block(source, hop, messages, sequences)
        header = validators.header(number, source.chain.block(number).timestamp, block.trie.root,
                                   signers=validator_keys)
        headers = [verifier.submit_headers_tx(source.chain_id, [header], by=ATTACKER, gas=1_000_000)]
    else:
        headers = LightClientProver(net).headers(verifier, source.chain_id, [number], ATTACKER)
    setup = yield target.submit(hop, [bond, *headers])
    if not all(r.status for r in setup):
        raise PilotsimError(f"{attack.kind}: the attacker's bond or header on chain {hop} failed: "
                            f"{[decode_revert(r.revert_data or b'').name for r in setup if not r.status]}")
    post = verifier.post_tx(source.chain_id, source.gateway.address, claims, by=ATTACKER, gas=2_000_000)
    [posted] = yield target.submit(hop, [post])
    if not posted.status:
        record(target, attack, posted, net.nodes[hop].gateway)
        return None
    yield target.env.timeout(verifier.challenge_window() + 1)
    return _optimistic_proof(claims)
