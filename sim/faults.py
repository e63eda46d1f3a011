"""Fault injection: each fault does what its name says, at the times the scenario gives."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from eth_abi import encode
from eth_utils import keccak

from registry import derive_account

from .committee import MODE_CHECKPOINT, MODE_COMMITTEE, digest
from .merkle import MerkleTree
from .messages import KIND_DATA, VERSION, Message, subject
from .network import HUB_CHAIN_ID, Network
from .scenario import Fault

if TYPE_CHECKING:
    from .engine import Simulation

ATTACKER = 198  # a funded account that plays no role in the registry


def apply_fault(sim: Simulation, fault: Fault) -> Generator[Any, Any, None]:
    handler = HANDLERS[fault.kind]
    yield from handler(sim, fault)


def _relayer_outage(sim: Simulation, fault: Fault) -> Generator[Any, Any, None]:
    slot = sim.slots[fault.relayer % len(sim.slots)]
    slot.down = True
    yield sim.env.timeout(fault.duration_s)
    sim.restart_relayer(slot)


def _chain_halt(sim: Simulation, fault: Fault) -> Generator[Any, Any, None]:
    driver = sim.drivers[sim.network.node(fault.chain).chain_id]
    driver.halted = True
    yield sim.env.timeout(fault.duration_s)
    driver.halted = False


def _relayer_misbehaves(flag: str):  # type: ignore[no-untyped-def]
    def handler(sim: Simulation, fault: Fault) -> Generator[Any, Any, None]:
        slot = sim.slots[fault.relayer % len(sim.slots)]
        setattr(slot, flag, True)
        yield sim.env.timeout(fault.duration_s)
        setattr(slot, flag, False)
    return handler


def _rate_limit(sim: Simulation, fault: Fault) -> Generator[Any, Any, None]:
    net = sim.network
    refill = int(fault.refill_per_s * 1000)
    for zone in net.zones:
        admin = zone.chain.accounts[0]
        others = [c for c in net.nodes if c not in (zone.chain_id, HUB_CHAIN_ID)]
        txs = [zone.gateway.tx("setRateLimit", c, fault.capacity, refill, by=admin, gas=120_000) for c in others]
        sim.env.process(_quietly(sim, zone.chain_id, txs))
    if fault.duration_s:
        yield sim.env.timeout(fault.duration_s)
        for zone in net.zones:
            admin = zone.chain.accounts[0]
            others = [c for c in net.nodes if c not in (zone.chain_id, HUB_CHAIN_ID)]
            txs = [zone.gateway.tx("setRateLimit", c, 0, 0, by=admin, gas=120_000) for c in others]
            sim.env.process(_quietly(sim, zone.chain_id, txs))


def _quietly(sim: Simulation, chain_id: int, txs: list[Any]) -> Generator[Any, Any, None]:
    yield sim.drivers[chain_id].submit(txs)


def _admin_call(sim: Simulation, fault: Fault) -> Generator[Any, Any, None]:
    """Poly Network: a cross-chain message whose target is the destination's own privileged
    contracts, calling their admin functions. Sent through the real gateway, by anyone."""
    net = sim.network
    source, target = net.node(fault.source), net.node(fault.chain)
    attacker = derive_account(ATTACKER)
    calls = [
        (target.gateway.address, target.gateway.abi.function("setPaused").encode([source.chain_id, True])),
        (target.committee.address, target.committee.abi.function("setGovernor").encode([attacker.address])),
    ]
    for i in range(max(1, fault.forged)):
        recipient, calldata = calls[i % len(calls)]
        tx = source.gateway.tx("send", target.chain_id, recipient, calldata, 3600, 0, by=attacker, gas=300_000)
        yield from sim.submit_attack(source.chain_id, tx, {"kind": fault.kind, "target": recipient,
                                                            "function": "setPaused" if i % 2 == 0 else "setGovernor"},
                                     gateway=source.gateway)


def _forge(sim: Simulation, fault: Fault) -> Generator[Any, Any, None]:
    """Forged messages from `source` to `chain`, signed with compromised keys (keys-compromised),
    or with none at all against a flawed gateway (verifier-bypass, zero-root)."""
    net = sim.network
    source, target = net.node(fault.source), net.node(fault.chain)
    hop = net.via(source.chain_id, target.chain_id)
    receiver = net.nodes[hop]
    keys = net.committees[source.chain_id]
    if fault.kind == "keys-compromised" and fault.keys >= keys.threshold:
        sim.watcher.threshold_breached = True
    attacker = derive_account(ATTACKER)
    forged = _forged_messages(net, source.chain_id, target.chain_id, fault.forged, int(sim.env.now) + sim.epoch)
    next_hop_sequence = receiver.gateway.hop_state([source.chain_id])[source.chain_id][1]
    sequences = list(range(next_hop_sequence, next_hop_sequence + len(forged)))
    mode = net.mode(source.chain_id, hop)
    signers = keys.keys[: fault.keys]
    description = {"kind": fault.kind, "source": source.name, "target": target.name, "messages": len(forged),
                   "keys": fault.keys if fault.kind == "keys-compromised" else 0, "threshold": keys.threshold,
                   "message_ids": ["0x" + m.id.hex() for m in forged]}
    if mode == MODE_CHECKPOINT:
        if fault.kind == "zero-root":
            proofs: list[list[bytes]] = [[] for _ in forged]
            root, signatures = b"\x00" * 32, b""
        else:
            tree = MerkleTree([subject(m.id, s) for m, s in zip(forged, sequences, strict=True)])
            signed = digest(MODE_CHECKPOINT, source.chain_id, source.gateway.address, hop, receiver.gateway.address,
                            keys.epoch, tree.root)
            root, signatures = tree.root, keys.sign(signed, signers) if signers else b""
            proofs = [tree.proof(i) for i in range(len(forged))]
        items = [(m, s, p) for m, s, p in zip(forged, sequences, proofs, strict=True)]
        tx = receiver.gateway.deliver_checkpoint(source.chain_id, root, signatures, items, by=attacker, gas=8_000_000)
    else:
        items_signed = []
        for m, s in zip(forged, sequences, strict=True):
            signed = digest(MODE_COMMITTEE, source.chain_id, source.gateway.address, hop, receiver.gateway.address,
                            keys.epoch, subject(m.id, s))
            sigs = keys.sign(signed, signers) if (signers and fault.kind == "keys-compromised") else b""
            items_signed.append((m, s, sigs))
        tx = receiver.gateway.deliver_signed(source.chain_id, items_signed, by=attacker, gas=8_000_000)
    yield from sim.submit_attack(hop, tx, description)


def _forged_messages(net: Network, src: int, dst: int, count: int, now: int) -> list[Message]:
    """Data requests that no one sent: from an entity of the source zone to a provider of the target."""
    source, target = net.nodes[src], net.nodes[dst]
    assert source.exchange is not None and target.exchange is not None
    data = net.data
    requester = next(i for i, e in enumerate(data.entities, 1) if e.zone == data.zones[source.zone_id - 1].code)
    provider = next(i for i, e in enumerate(data.entities, 1) if e.zone == data.zones[target.zone_id - 1].code)
    sector = data.sector_id(data.entities[provider - 1].sectors[0])
    messages = []
    for i in range(count):
        payload = encode(["uint8", "uint32", "uint32", "uint8", "bytes32"],
                         [1, requester, provider, sector, keccak(b"forged" + i.to_bytes(4, "big"))])
        messages.append(Message(VERSION, KIND_DATA, src, dst, 10**12 + i, now + 3_600, 200_000,
                                source.exchange.address, target.exchange.address, payload))
    return messages


HANDLERS = {
    "relayer-outage": _relayer_outage,
    "chain-halt": _chain_halt,
    "keys-compromised": _forge,
    "verifier-bypass": _forge,
    "zero-root": _forge,
    "admin-call": _admin_call,
    "rate-limit": _rate_limit,
    "relayer-duplicate": _relayer_misbehaves("duplicate"),
    "relayer-reorder": _relayer_misbehaves("reorder"),
}
