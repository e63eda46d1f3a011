"""What every attack shares: the attacker's account, sending an attack transaction and recording what the chains
made of it, and forged data requests."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy
from eth_abi import encode
from eth_utils import keccak

from registry import Receipt, Tx, derive_account
from registry.defaults import ATTACKER_INDEX
from registry.evm.artifacts import decode_revert, load_artifact
from registry.evm.events import typed_all

from ..bridge.events import Processed, Refused, Sent
from ..bridge.gateway import GatewayClient
from ..bridge.messages import KIND_DATA, VERSION, Message
from ..bridge.topology import ChainNode, Network
from .recorder import Attack
from .target import FaultProcess, FaultTarget

ATTACKER = derive_account(ATTACKER_INDEX)
ATTACK_GAS = 8_000_000


def deploy_recipient(target: FaultTarget, node: ChainNode) -> Generator[simpy.Event, Any, str]:
    """Deploy a TestRecipient (accepts any message) on `node`'s chain; its address."""
    artifact = load_artifact("TestRecipient")
    init = artifact.bytecode + artifact.abi.encode_constructor([node.gateway.address])
    [receipt] = yield target.submit(node.chain_id, [Tx(ATTACKER, None, init, 2_000_000)])
    address = receipt.raise_for_status().contract_address
    assert address is not None
    return address


def attack_tx(target: FaultTarget, chain_id: int, tx: Tx, attack: Attack, gateway: GatewayClient) -> FaultProcess:
    """Submit an attack transaction and record what the chain made of it."""
    [receipt] = yield target.submit(chain_id, [tx])
    record(target, attack, receipt, gateway)


def record(target: FaultTarget, attack: Attack, receipt: Receipt, gateway: GatewayClient) -> None:
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


def forged_requests(net: Network, origin: ChainNode, victim: ChainNode, count: int, now: int) -> list[Message]:
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
