"""Attacks: what the fault scenarios do as an adversary would, through the real contracts, from an
account no role uses; each recorded as an `Attack` with what the chains made of it.

Forgeries deliver messages no one sent, signed with stolen committee keys (or none, against a flawed
gateway); the rest send through the gateways like anyone may: calls aimed at privileged contracts,
payloads at and above the cap, floods of messages whose outcome callbacks burn their gas.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from registry import EntityStatus, Tx
from registry.evm.artifacts import contract_constant, load_artifact

from ..bridge import contracts
from ..bridge.messages import KIND_DATA, VERSION, Message
from ..bridge.topology import HUB_CHAIN_ID, ChainNode
from ..bridge.verifiers import VERIFICATION_ERRORS, CheckpointVerifier
from .attack_kit import ATTACK_GAS, ATTACKER, attack_tx, deploy_recipient, forged_requests, record
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
from .forgery import forged_proof
from .recorder import Attack
from .target import FaultProcess, FaultTarget

BURN = contract_constant("TestRecipient", "BURN")  # burns all the gas it is given


def forge(target: FaultTarget, fault: KeysCompromised | VerifierBypass | ZeroRoot) -> FaultProcess:
    """Forged messages from `source` to `chain`, signed with compromised keys (keys-compromised),
    or with none at all against a flawed gateway (verifier-bypass, zero-root)."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    keys = net.committees[source.chain_id]
    stolen = keys.keys[: fault.keys] if isinstance(fault, KeysCompromised) else []
    forged = forged_requests(net, source, victim, fault.forged, int(target.env.now) + target.epoch)
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
    claimed = forged_requests(net, third, victim, 1, now)
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
        target.breach_trust()
    first = source.gateway.hop_positions([hop])[hop][0] + 1
    sequences = list(range(first, first + len(forged)))
    pre: list[Tx] = []
    if zero_root:
        proof = CheckpointVerifier.zero_root(len(forged))
    else:  # the stolen committee keys, against whatever verifies the lane
        pre, proof = forged_proof(net, source, hop, forged, sequences, stolen, [])
    if pre:
        yield target.submit(hop, pre)
    items = list(zip(forged, sequences, strict=True))
    tx = receiver.gateway.deliver(source.chain_id, proof, items, by=ATTACKER, gas=ATTACK_GAS)
    attack = Attack(kind=kind, source=source.name, target=victim.name, messages=len(forged), keys=len(stolen),
                    threshold=keys.threshold, message_ids=["0x" + m.id.hex() for m in forged])
    yield from attack_tx(target, hop, tx, attack, receiver.gateway)
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
        yield from attack_tx(target, source.chain_id, tx, Attack(kind=fault.kind, target=recipient, function=function),
                           source.gateway)


def oversized_payload(target: FaultTarget, fault: OversizedPayload) -> FaultProcess:
    """A send at the payload cap (delivered like any other) and one a byte above it (refused at the
    source), to a recipient that takes anything."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    recipient = yield from deploy_recipient(target, victim)
    cap = net.config.max_payload_bytes
    for size in (cap, cap + 1):
        payload = b"\xff" * size  # every byte non-zero: calldata at its dearest
        tx = source.gateway.send_tx(victim.chain_id, recipient, payload, 3600, 0, by=ATTACKER,
                                    gas=1_000_000 + 60 * size)
        attack = Attack(kind=fault.kind, source=source.name, target=victim.name, function="send", messages=1,
                        payload_bytes=size)
        yield from attack_tx(target, source.chain_id, tx, attack, source.gateway)


def ack_bomb(target: FaultTarget, fault: AckBomb) -> FaultProcess:
    """A contract floods a lane with messages of handler gas 1 (each fails at the destination), and
    burns all the gas its outcome callback gets when their acknowledgement comes back."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    bomber = yield from deploy_recipient(target, source)
    sink = yield from deploy_recipient(target, victim)
    contract = contracts.TestRecipient(source.chain, bomber)
    yield target.submit(source.chain_id, [contract.set_behaviour_tx(BURN, by=ATTACKER, gas=100_000)])
    tx = contract.flood_tx(victim.chain_id, sink, 1, fault.messages, by=ATTACKER,
                           gas=min(source.chain.block_gas_limit, 300_000 + 150_000 * fault.messages))
    attack = Attack(kind=fault.kind, source=source.name, target=victim.name, function="flood",
                    messages=fault.messages)
    yield from attack_tx(target, source.chain_id, tx, attack, source.gateway)


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
        record(target, Attack(kind=fault.kind, source=source.name, target=victim.name, function="send",
                               messages=1), receipt, source.gateway)


def fan_out(target: FaultTarget, fault: FanOut) -> FaultProcess:
    """A contract on `chain` that sends `fan_out` messages back for each one it handles, and a contract on
    `source` sending it `messages` messages with handler gas enough for the fan-out."""
    net = target.network
    source, victim = net.node(fault.source), net.node(fault.chain)
    sender = yield from deploy_recipient(target, source)
    fanner = yield from deploy_recipient(target, victim)
    contract = load_artifact("TestRecipient").abi
    yield target.submit(victim.chain_id, [Tx(ATTACKER, fanner, contract.function("setFanOut").encode(
        [source.chain_id, sender, fault.fan_out, 0]), 200_000)])
    handler_gas = 100_000 + 150_000 * fault.fan_out
    flood = contract.function("flood").encode([victim.chain_id, fanner, handler_gas, fault.messages])
    tx = Tx(ATTACKER, sender, flood, min(source.chain.block_gas_limit, 300_000 + 150_000 * fault.messages))
    attack = Attack(kind=fault.kind, source=source.name, target=victim.name, function="flood",
                    messages=fault.messages)
    yield from attack_tx(target, source.chain_id, tx, attack, source.gateway)
