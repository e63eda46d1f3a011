"""Fault injection: each fault does what its name says, at the time the scenario gives.

Faults act on a `FaultTarget` — the few levers a running simulation offers (relayers, block
production, transaction submission, the watcher's threshold flag) — and know nothing else of it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Protocol

import simpy
from eth_abi import encode
from eth_utils import keccak

from registry import Tx, derive_account
from registry.defaults import ATTACKER_INDEX
from registry.evm.artifacts import decode_revert

from ..bridge.gateway import GatewayClient
from ..bridge.merkle import MerkleTree
from ..bridge.messages import KIND_DATA, MODE_CHECKPOINT, VERSION, Message, subject
from ..bridge.topology import HUB_CHAIN_ID, Network
from .recorder import Attack
from .scenario import (
    AdminCall,
    ChainHalt,
    Fault,
    KeysCompromised,
    RateLimit,
    RelayerDuplicate,
    RelayerOutage,
    RelayerReorder,
    VerifierBypass,
    ZeroRoot,
)

FaultProcess = Generator[simpy.Event, Any, None]


class FaultTarget(Protocol):
    """What a fault may do to a running simulation."""

    env: simpy.Environment
    network: Network
    epoch: int  # block timestamp of simulated second 0

    def relayer_down(self, index: int) -> None: ...
    def restart_relayer(self, index: int) -> None: ...
    def relayer_misbehaves(self, index: int, *, duplicate: bool = False, reorder: bool = False) -> None: ...
    def halt_chain(self, chain_id: int, halted: bool) -> None: ...
    def submit(self, chain_id: int, txs: list[Tx]) -> simpy.Event: ...
    def breach_threshold(self) -> None: ...
    def record_attack(self, attack: Attack) -> None: ...


def inject(target: FaultTarget, fault: Fault) -> FaultProcess:
    """The fault's process, from the moment it starts."""
    if isinstance(fault, RelayerOutage):
        target.relayer_down(fault.relayer)
        yield target.env.timeout(fault.duration_s)
        target.restart_relayer(fault.relayer)
    elif isinstance(fault, RelayerDuplicate | RelayerReorder):
        duplicate = isinstance(fault, RelayerDuplicate)
        target.relayer_misbehaves(fault.relayer, duplicate=duplicate, reorder=not duplicate)
        yield target.env.timeout(fault.duration_s)
        target.relayer_misbehaves(fault.relayer)
    elif isinstance(fault, ChainHalt):
        chain_id = target.network.chain_id(fault.chain)
        target.halt_chain(chain_id, True)
        yield target.env.timeout(fault.duration_s)
        target.halt_chain(chain_id, False)
    elif isinstance(fault, RateLimit):
        yield from _rate_limit(target, fault)
    elif isinstance(fault, AdminCall):
        yield from _admin_call(target, fault)
    else:
        yield from _forge(target, fault)


def _rate_limit(target: FaultTarget, fault: RateLimit) -> FaultProcess:
    def limit_every_zone_lane(capacity: int, refill_per_ms: int) -> None:
        net = target.network
        for zone in net.zones:
            others = [c for c in net.nodes if c not in (zone.chain_id, HUB_CHAIN_ID)]
            target.submit(zone.chain_id, [zone.gateway.tx("setRateLimit", c, capacity, refill_per_ms,
                                                          by=net.admin(zone.chain_id), gas=120_000) for c in others])

    limit_every_zone_lane(fault.capacity, int(fault.refill_per_s * 1000))
    if fault.duration_s:
        yield target.env.timeout(fault.duration_s)
        limit_every_zone_lane(0, 0)


def _admin_call(target: FaultTarget, fault: AdminCall) -> FaultProcess:
    """Poly Network: a cross-chain message whose target is the destination's own privileged
    contracts, calling their admin functions. Sent through the real gateway, by anyone."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    attacker = derive_account(ATTACKER_INDEX)
    calls = [
        (victim.gateway.address, "setPaused", victim.gateway.abi.function("setPaused").encode([source.chain_id, True])),
        (victim.committee.address, "setGovernor",
         victim.committee.abi.function("setGovernor").encode([attacker.address])),
    ]
    for i in range(fault.forged):
        recipient, function, calldata = calls[i % len(calls)]
        tx = source.gateway.tx("send", victim.chain_id, recipient, calldata, 3600, 0, by=attacker, gas=300_000)
        attack = Attack(kind=fault.kind, target=recipient, function=function)
        yield from _attack(target, source.chain_id, tx, attack, source.gateway)


def _forge(target: FaultTarget, fault: KeysCompromised | VerifierBypass | ZeroRoot) -> FaultProcess:
    """Forged messages from `source` to `chain`, signed with compromised keys (keys-compromised),
    or with none at all against a flawed gateway (verifier-bypass, zero-root)."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    hop = net.via(source.chain_id, victim.chain_id)
    receiver = net.nodes[hop]
    keys = net.committees[source.chain_id]
    stolen = keys.keys[: fault.keys] if isinstance(fault, KeysCompromised) else []
    if len(stolen) >= keys.threshold:
        target.breach_threshold()
    forged = _forged_messages(net, source.chain_id, victim.chain_id, fault.forged,
                              int(target.env.now) + target.epoch)
    next_hop_sequence = receiver.gateway.hop_state([source.chain_id])[source.chain_id][1]
    sequences = list(range(next_hop_sequence, next_hop_sequence + len(forged)))
    domain = net.domain(source.chain_id, hop)
    attacker = derive_account(ATTACKER_INDEX)
    if domain.mode == MODE_CHECKPOINT:
        if isinstance(fault, ZeroRoot):
            proofs: list[list[bytes]] = [[] for _ in forged]
            root, signatures = b"\x00" * 32, b""
        else:
            tree = MerkleTree([subject(m.id, s) for m, s in zip(forged, sequences, strict=True)])
            root, signatures = tree.root, keys.attest(domain, tree.root, stolen) if stolen else b""
            proofs = [tree.proof(i) for i in range(len(forged))]
        items = list(zip(forged, sequences, proofs, strict=True))
        tx = receiver.gateway.deliver_checkpoint(source.chain_id, root, signatures, items, by=attacker, gas=8_000_000)
    else:
        signed = [(m, s, keys.attest(domain, subject(m.id, s), stolen) if stolen else b"")
                  for m, s in zip(forged, sequences, strict=True)]
        tx = receiver.gateway.deliver_signed(source.chain_id, signed, by=attacker, gas=8_000_000)
    attack = Attack(kind=fault.kind, source=source.name, target=victim.name, messages=len(forged),
                    keys=len(stolen), threshold=keys.threshold, message_ids=["0x" + m.id.hex() for m in forged])
    yield from _attack(target, hop, tx, attack, receiver.gateway)


def _attack(target: FaultTarget, chain_id: int, tx: Tx, attack: Attack, gateway: GatewayClient) -> FaultProcess:
    """Submit an attack transaction and record what the chain made of it."""
    [receipt] = yield target.submit(chain_id, [tx])
    events = gateway.events(receipt) if receipt.status else []
    sent = [e["id"] for e in events if e.name == "Sent"]
    if sent and not attack.message_ids:  # a send: its messages are the attack
        attack.message_ids = ["0x" + i.hex() for i in sent]
    attack.time_s = float(target.env.now)
    attack.status = receipt.status
    attack.gas_used = receipt.gas_used
    attack.processed = sum(e.name == "Processed" for e in events)
    attack.refused = sum(e.name == "Refused" for e in events)
    attack.reason = "" if receipt.status else decode_revert(receipt.revert_data or b"").name
    target.record_attack(attack)


def _forged_messages(net: Network, src: int, dst: int, count: int, now: int) -> list[Message]:
    """Data requests that no one sent: from an entity of the source zone to a provider of the target."""
    source, target = net.nodes[src], net.nodes[dst]
    data = net.data
    requester = next(i for i, e in enumerate(data.entities, 1) if e.zone == data.zones[source.zone_id - 1].code)
    provider = next(i for i, e in enumerate(data.entities, 1) if e.zone == data.zones[target.zone_id - 1].code)
    sector = data.sector_id(data.entity(provider).sectors[0])
    messages = []
    for i in range(count):
        payload = encode(["uint8", "uint32", "uint32", "uint8", "bytes32"],
                         [1, requester, provider, sector, keccak(b"forged" + i.to_bytes(4, "big"))])
        messages.append(Message(VERSION, KIND_DATA, src, dst, 10**12 + i, now + 3_600, 200_000,
                                source.data_exchange.address, target.data_exchange.address, payload))
    return messages
