"""Helpers for the protocol tests on `bridge_network`: send through a TestRecipient, read what left a
chain, sign as a committee would (or as an attacker would), deliver by hand, read refusals."""

from __future__ import annotations

from eth_keys.datatypes import PrivateKey

from registry import Contract, derive_account
from registry.defaults import RELAYER_INDEX
from registry.evm.abi import DecodedEvent
from registry.evm.artifacts import decode_revert
from sim.bridge.committee import CommitteeKeys
from sim.bridge.merkle import MerkleTree
from sim.bridge.messages import KIND_DATA, VERSION, Message, Outcome, SentRecord, subject
from sim.bridge.topology import Network

BRIDGE_ZONES = ["Beijing", "Chengdu", "Guiyang"]  # the zones of `bridge_network`
RELAYER = derive_account(RELAYER_INDEX)  # the same funded account on every chain


def send(net: Network, apps: dict[str, Contract], src: str, dst: str, payload: bytes = b"hello",
         ttl: int = 3600) -> bytes:
    """`src`'s TestRecipient sends `payload` to `dst`'s; the message id."""
    app = apps[src]
    sent = app.transact("send", net.node(dst).chain_id, apps[dst].address, payload, ttl, by=app.chain.accounts[5],
                        gas=500_000 + 60 * len(payload))
    return next(e for e in net.node(src).gateway.events(sent.receipt) if e.name == "Sent")["id"]


def pending_records(net: Network, src: str) -> list[SentRecord]:
    """Every message `src`'s gateway has emitted."""
    node = net.node(src)
    return node.gateway.sent_records(1, node.chain.block_number)


def signed_item(net: Network, record: SentRecord, keys: CommitteeKeys | None = None,
                signers: list[PrivateKey] | None = None) -> tuple[Message, int, bytes]:
    """`record` ready for `deliverSigned` on its hop, signed by `keys` (or `signers` of them)."""
    keys = keys or net.committees[record.chain_id]
    signatures = keys.attest(net.domain(record.chain_id, record.hop), subject(record.message_id, record.hop_sequence),
                             signers)
    return (record.message, record.hop_sequence, signatures)


def deliver_signed(net: Network, hop: int, dst: str, items: list[tuple[Message, int, bytes]]) -> list[DecodedEvent]:
    """Deliver `items` from chain `hop` to `dst` in one transaction; the gateway's events."""
    node = net.node(dst)
    tx = node.gateway.deliver_signed(hop, items, by=net.relayer_account(node.chain_id), gas=5_000_000)
    receipt = node.chain.send([tx])[0].raise_for_status()
    return node.gateway.events(receipt)


def refusals(events: list[DecodedEvent]) -> list[str]:
    """The names of the errors of every item the gateway refused."""
    return [decode_revert(bytes(e["reason"])).name for e in events if e.name == "Refused"]


def outcome_at_destination(net: Network, record: SentRecord) -> Outcome:
    m = record.message
    return net.nodes[m.dst_chain].gateway.outcome_in(m.src_chain, m.sequence)


def forged(net: Network, src: int, dst: int, sender: str, recipient: str, payload: bytes) -> Message:
    """A message no one sent: claiming `src`, from `sender`, to `recipient` on `dst`."""
    now = net.nodes[dst].chain.block().timestamp
    return Message(VERSION, KIND_DATA, src, dst, 10**12, now + 3_600, 1_000_000, sender, recipient, payload)


def stolen_delivery(net: Network, via: str, to: str, messages: list[Message]) -> list[str]:
    """Deliver `messages` over the checkpoint lane from `via` to `to`, the root signed with `via`'s keys
    at threshold (as a thief of them would); the refusals, by name."""
    src, dst = net.node(via), net.node(to)
    keys = net.committees[src.chain_id]
    first = dst.gateway.hop_positions([src.chain_id])[src.chain_id][1]
    domain = net.domain(src.chain_id, dst.chain_id)
    sequences = range(first, first + len(messages))
    tree = MerkleTree([subject(m.id, s) for m, s in zip(messages, sequences, strict=True)])
    items = [(m, s, tree.proof(i)) for i, (m, s) in enumerate(zip(messages, sequences, strict=True))]
    signatures = keys.attest(domain, tree.root, keys.keys[:keys.threshold])
    tx = dst.gateway.deliver_checkpoint(src.chain_id, tree.root, signatures, items, by=RELAYER, gas=8_000_000)
    return refusals(dst.gateway.events(dst.chain.send([tx])[0].raise_for_status()))
