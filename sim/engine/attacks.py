"""Attacks: what the fault scenarios do as an adversary would, through the real contracts, from an
account no role uses; each recorded as an `Attack` with what the chains made of it.

Forgeries deliver messages no one sent, signed with stolen committee keys (or none, against a flawed
gateway); the rest send through the gateways like anyone may: calls aimed at privileged contracts,
payloads at and above the cap, floods of messages whose outcome callbacks burn their gas.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy
from eth_abi import encode
from eth_utils import keccak

from registry import EntityStatus, Receipt, Tx, derive_account
from registry.defaults import ATTACKER_INDEX
from registry.evm.artifacts import contract_constant, decode_revert, load_artifact
from registry.evm.events import typed_all

from ..bridge import contracts
from ..bridge.events import Processed, Refused, Sent
from ..bridge.gateway import GatewayClient
from ..bridge.messages import KIND_DATA, VERSION, Message, subject
from ..bridge.topology import HUB_CHAIN_ID, ChainNode, Network
from ..bridge.verifiers import VERIFICATION_ERRORS, CheckpointVerifier
from .fault_kinds import (
    AckBomb,
    AdminCall,
    FanOut,
    GasCapFlood,
    KeysCompromised,
    OriginSpoof,
    OversizedPayload,
    VerifierBypass,
    ZeroRoot,
)
from .recorder import Attack
from .target import FaultProcess, FaultTarget

ATTACKER = derive_account(ATTACKER_INDEX)
ATTACK_GAS = 8_000_000
BURN = contract_constant("TestRecipient", "BURN")  # burns all the gas it is given


def forge(target: FaultTarget, fault: KeysCompromised | VerifierBypass | ZeroRoot) -> FaultProcess:
    """Forged messages from `source` to `chain`, signed with compromised keys (keys-compromised),
    or with none at all against a flawed gateway (verifier-bypass, zero-root)."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    keys = net.committees[source.chain_id]
    stolen = keys.keys[: fault.keys] if isinstance(fault, KeysCompromised) else []
    forged = _requests(net, source, victim, fault.forged, int(target.env.now) + target.epoch)
    zero_root = isinstance(fault, ZeroRoot)
    yield from _deliver_forged(target, fault.kind, source, victim, forged, len(stolen), zero_root=zero_root)


def origin_spoof(target: FaultTarget, fault: OriginSpoof) -> FaultProcess:
    """`source`'s stolen keys vouch for two messages of other origins into `chain`: the hub's
    RegistryBroadcaster handing entity 1's record to the attacker at the highest version (so no later
    sync could undo it), and a data request claiming a third zone as its origin."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    now = int(target.env.now) + target.epoch
    assert net.hub.broadcaster is not None and victim.mirror is not None
    word = victim.mirror.pack(1, ATTACKER.address, victim.zone_id, EntityStatus.ACTIVE, 1)  # sector 1
    broadcast = Message(VERSION, KIND_DATA, HUB_CHAIN_ID, victim.chain_id, 10**12, now + 3_600, 1_000_000,
                        net.hub.broadcaster.address, victim.mirror.address,
                        encode(["uint32", "uint256[]"], [2**32 - 1, [word]]))
    third = next(z for z in net.zones if z.chain_id not in (source.chain_id, victim.chain_id))
    claimed = _requests(net, third, victim, 1, now)
    keys = fault.keys or net.committees[source.chain_id].threshold
    yield from _deliver_forged(target, fault.kind, source, victim, [broadcast, *claimed], keys)


def _deliver_forged(target: FaultTarget, kind: str, source: ChainNode, victim: ChainNode, forged: list[Message],
                    stolen_keys: int, zero_root: bool = False) -> FaultProcess:
    """Hand `forged` to the next hop from `source` toward `victim`, as hop sequences `source` has not used
    yet, proven with `stolen_keys` of `source`'s committee (none: unsigned; `zero_root`: the zero root)."""
    net = target.network
    hop = net.via(source.chain_id, victim.chain_id)
    receiver = net.nodes[hop]
    keys = net.committees[source.chain_id]
    stolen = keys.keys[:stolen_keys]
    if len(stolen) >= keys.threshold:
        target.breach_threshold()
    first = source.gateway.hop_positions([hop])[hop][0] + 1
    sequences = list(range(first, first + len(forged)))
    if zero_root:
        proof = CheckpointVerifier.zero_root(len(forged))
    else:
        proof = net.verifier(source.chain_id, hop).prove(
            keys, net.domain(source.chain_id, hop), [subject(m.id, s) for m, s in zip(forged, sequences, strict=True)],
            stolen)
    items = list(zip(forged, sequences, strict=True))
    tx = receiver.gateway.deliver(source.chain_id, proof, items, by=ATTACKER, gas=ATTACK_GAS)
    attack = Attack(kind=kind, source=source.name, target=victim.name, messages=len(forged), keys=len(stolen),
                    threshold=keys.threshold, message_ids=["0x" + m.id.hex() for m in forged])
    yield from _attack(target, hop, tx, attack, receiver.gateway)
    # what its messages met: a verifier's or the origin check's reasons, or a processing (all passed them)
    met = {attack.reason} if not attack.status else set(attack.refusals)
    attack.checked = attack.processed > 0 or bool(met & (VERIFICATION_ERRORS | {"WrongOrigin"}))


def admin_call(target: FaultTarget, fault: AdminCall) -> FaultProcess:
    """Poly Network: a cross-chain message whose target is the destination's own privileged
    contracts, calling their admin functions. Sent through the real gateway, by anyone."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    verifier = victim.verifiers[net.verifier(net.via(victim.chain_id, source.chain_id), victim.chain_id).name]
    calls = [
        (victim.gateway.address, "setPaused", victim.gateway.abi.function("setPaused").encode([source.chain_id, True])),
        (verifier.address, "transferOwnership", verifier.abi.function("transferOwnership").encode([ATTACKER.address])),
    ]
    for i in range(fault.forged):
        recipient, function, calldata = calls[i % len(calls)]
        tx = source.gateway.send_tx(victim.chain_id, recipient, calldata, 3600, 0, by=ATTACKER, gas=300_000)
        yield from _attack(target, source.chain_id, tx, Attack(kind=fault.kind, target=recipient, function=function),
                           source.gateway)


def oversized_payload(target: FaultTarget, fault: OversizedPayload) -> FaultProcess:
    """A send at the payload cap (delivered like any other) and one a byte above it (refused at the
    source), to a recipient that takes anything."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    recipient = yield from _deploy_recipient(target, victim)
    cap = net.config.max_payload_bytes
    for size in (cap, cap + 1):
        payload = b"\xff" * size  # every byte non-zero: calldata at its dearest
        tx = source.gateway.send_tx(victim.chain_id, recipient, payload, 3600, 0, by=ATTACKER,
                                    gas=1_000_000 + 60 * size)
        attack = Attack(kind=fault.kind, source=source.name, target=victim.name, function="send", messages=1,
                        payload_bytes=size)
        yield from _attack(target, source.chain_id, tx, attack, source.gateway)


def ack_bomb(target: FaultTarget, fault: AckBomb) -> FaultProcess:
    """A contract floods a lane with messages of handler gas 1 (each fails at the destination), and
    burns all the gas its outcome callback gets when their acknowledgement comes back."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    bomber = yield from _deploy_recipient(target, source)
    sink = yield from _deploy_recipient(target, victim)
    contract = contracts.TestRecipient(source.chain, bomber)
    yield target.submit(source.chain_id, [contract.set_behaviour_tx(BURN, by=ATTACKER, gas=100_000)])
    tx = contract.flood_tx(victim.chain_id, sink, 1, fault.messages, by=ATTACKER,
                           gas=min(source.chain.block_gas_limit, 300_000 + 150_000 * fault.messages))
    attack = Attack(kind=fault.kind, source=source.name, target=victim.name, function="flood",
                    messages=fault.messages)
    yield from _attack(target, source.chain_id, tx, attack, source.gateway)


def gas_cap_flood(target: FaultTarget, fault: GasCapFlood) -> FaultProcess:
    """A stranger's sends, each declaring `gas_limit` handler gas, to an address with no code: each its own
    transaction, all submitted at once (those its quota cannot pay for revert alone)."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    keyless = "0x" + keccak(b"pilotsim: no code here")[:20].hex()
    txs = [source.gateway.send_tx(victim.chain_id, keyless, i.to_bytes(32, "big"), 3600, fault.gas_limit,
                                  by=ATTACKER, gas=200_000) for i in range(fault.messages)]
    receipts = yield target.submit(source.chain_id, txs)
    for receipt in receipts:
        _record(target, Attack(kind=fault.kind, source=source.name, target=victim.name, function="send",
                               messages=1), receipt, source.gateway)


def fan_out(target: FaultTarget, fault: FanOut) -> FaultProcess:
    """A contract on `chain` that sends `fan_out` messages back for each one it handles, and a contract on
    `source` sending it `messages` messages with handler gas enough for the fan-out."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    sender = yield from _deploy_recipient(target, source)
    fanner = yield from _deploy_recipient(target, victim)
    contract = load_artifact("TestRecipient").abi
    yield target.submit(victim.chain_id, [Tx(ATTACKER, fanner, contract.function("setFanOut").encode(
        [source.chain_id, sender, fault.fan_out, 0]), 200_000)])
    handler_gas = 100_000 + 150_000 * fault.fan_out
    flood = contract.function("flood").encode([victim.chain_id, fanner, handler_gas, fault.messages])
    tx = Tx(ATTACKER, sender, flood, min(source.chain.block_gas_limit, 300_000 + 150_000 * fault.messages))
    attack = Attack(kind=fault.kind, source=source.name, target=victim.name, function="flood",
                    messages=fault.messages)
    yield from _attack(target, source.chain_id, tx, attack, source.gateway)


def _deploy_recipient(target: FaultTarget, node: ChainNode) -> Generator[simpy.Event, Any, str]:
    """Deploy a TestRecipient (accepts any message) on `node`'s chain; its address."""
    artifact = load_artifact("TestRecipient")
    init = artifact.bytecode + artifact.abi.encode_constructor([node.gateway.address])
    [receipt] = yield target.submit(node.chain_id, [Tx(ATTACKER, None, init, 2_000_000)])
    address = receipt.raise_for_status().contract_address
    assert address is not None
    return address


def _attack(target: FaultTarget, chain_id: int, tx: Tx, attack: Attack, gateway: GatewayClient) -> FaultProcess:
    """Submit an attack transaction and record what the chain made of it."""
    [receipt] = yield target.submit(chain_id, [tx])
    _record(target, attack, receipt, gateway)


def _record(target: FaultTarget, attack: Attack, receipt: Receipt, gateway: GatewayClient) -> None:
    """What the chain made of an attack transaction."""
    events = typed_all(gateway.events(receipt)) if receipt.status else []
    sent = [e.id for e in events if isinstance(e, Sent)]
    if sent and not attack.message_ids:  # a send: its messages are the attack
        attack.message_ids = ["0x" + i.hex() for i in sent]
    attack.time_s = float(target.env.now)
    attack.status = receipt.status
    attack.gas_used = receipt.gas_used
    attack.processed = sum(isinstance(e, Processed) for e in events)
    refusals = [decode_revert(e.reason).name for e in events if isinstance(e, Refused)]
    attack.refused = len(refusals)
    attack.refusals = sorted(set(refusals))
    attack.reason = "" if receipt.status else decode_revert(receipt.revert_data or b"").name
    target.record_attack(attack)


def _requests(net: Network, origin: ChainNode, victim: ChainNode, count: int, now: int) -> list[Message]:
    """Data requests that no one sent: from an entity of `origin`'s zone to a provider of `victim`'s,
    as `origin`'s DataExchange would address them."""
    data = net.data
    requester = next(i for i, e in enumerate(data.entities, 1) if e.zone == data.zones[origin.zone_id - 1].code)
    provider = next(i for i, e in enumerate(data.entities, 1) if e.zone == data.zones[victim.zone_id - 1].code)
    sector = data.sector_id(data.entity(provider).sectors[0])
    messages = []
    for i in range(count):
        payload = encode(["uint8", "uint32", "uint32", "uint8", "bytes32", "uint64"],  # DataExchange.request's
                         [1, requester, provider, sector, keccak(b"forged" + i.to_bytes(4, "big")), now + 3_600])
        messages.append(Message(VERSION, KIND_DATA, origin.chain_id, victim.chain_id, 10**12 + i, now + 3_600,
                                200_000, origin.data_exchange.address, victim.data_exchange.address, payload))
    return messages
