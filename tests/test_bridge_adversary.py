"""A second attacker's review of the hardened bridge, one test each: acknowledgements that speak only
of the message holding their slot, a hub that forwards only what its next hop will take, answers
only from the provider's chain, syncs that no stranger can hold back, acknowledgements that no
payload cap can wedge."""

from __future__ import annotations

import dataclasses

import pytest
from bridge_kit import BRIDGE_ZONES, RELAYER, refusals, send
from eth_abi import encode
from eth_utils import keccak

from registry import Contract, load_seed_data
from registry.evm.base import Chain
from sim.bridge.exchange import REQUEST_GAS
from sim.bridge.merkle import MerkleTree
from sim.bridge.messages import KIND_ACK, KIND_DATA, VERSION, Message, Outcome, subject
from sim.bridge.provision import SYNC_CHUNK, build_network
from sim.bridge.relayer import Relayer
from sim.bridge.topology import HUB_CHAIN_ID, MIN_PAYLOAD_CAP, Network, NetworkConfig

STOLEN = 3  # a zone's committee: 3 of 4 keys, its threshold
ACK_ENTRIES = "(bytes32,uint64,uint64,address,uint8)[]"
REJECTED = int(Outcome.REJECTED)


def forged(src: int, dst: int, sender: str, recipient: str, payload: bytes, now: int, *, kind: int = KIND_DATA,
           gas_limit: int = 100_000) -> Message:
    return Message(VERSION, kind, src, dst, 10**12, now + 3_600, gas_limit, sender, recipient, payload)


def with_stolen_keys(net: Network, via: str, to: str, messages: list[Message]) -> list[str]:
    """Deliver `messages` over the checkpoint lane `via` → `to`, the root signed with `via`'s keys at
    threshold; the names of the refusals."""
    src, dst = net.node(via), net.node(to)
    keys = net.committees[src.chain_id]
    first = dst.gateway.hop_positions([src.chain_id])[src.chain_id][1]
    sequences = range(first, first + len(messages))
    tree = MerkleTree([subject(m.id, s) for m, s in zip(messages, sequences, strict=True)])
    items = [(m, s, tree.proof(i)) for i, (m, s) in enumerate(zip(messages, sequences, strict=True))]
    signatures = keys.attest(net.domain(src.chain_id, dst.chain_id), tree.root, keys.keys[:STOLEN])
    tx = dst.gateway.deliver_checkpoint(src.chain_id, tree.root, signatures, items, by=RELAYER, gas=8_000_000)
    return refusals(dst.gateway.events(dst.chain.send([tx])[0].raise_for_status()))


def now_on(chain: Chain) -> int:
    return chain.block().timestamp


# ------------------------------------------------------------ acknowledgements bound to their message


def test_one_zones_keys_cannot_acknowledge_a_message_sent_elsewhere(net: Network, apps: dict[str, Contract]) -> None:
    """Guiyang's keys file an acknowledgement against a pending slot of Chengdu's lane to Guiyang, but
    naming a Chengdu → Beijing message: its sender must not be told, the slot must stay pending."""
    beijing, chengdu, guiyang = net.node("Beijing"), net.node("Chengdu"), net.node("Guiyang")
    to_beijing = send(net, apps, "Chengdu", "Beijing", b"for Beijing")
    send(net, apps, "Chengdu", "Guiyang", b"holds slot 1 of the lane to Guiyang")
    lie = encode([ACK_ENTRIES], [[(to_beijing, guiyang.chain_id, 1, apps["Chengdu"].address, REJECTED)]])
    fake = forged(guiyang.chain_id, chengdu.chain_id, guiyang.gateway.address, chengdu.gateway.address, lie,
                  now_on(chengdu.chain), kind=KIND_ACK, gas_limit=0)
    assert with_stolen_keys(net, "Guiyang", "Chengdu", [fake]) == []
    assert apps["Chengdu"].view("outcomes", to_beijing) == 0  # its sender heard nothing
    assert chengdu.gateway.outcome_out(guiyang.chain_id, 1) is Outcome.PENDING
    Relayer(net).run_until_idle()  # the true outcome of the message to Beijing lands
    assert apps["Chengdu"].view("outcomes", to_beijing) == int(Outcome.DELIVERED)
    assert chengdu.gateway.outcome_out(beijing.chain_id, 1) is Outcome.DELIVERED
    # (the forgery took the hop sequence of Guiyang's genuine acknowledgement, as keys at threshold
    # always can on their own lane: slot 1 toward Guiyang stays pending, flagged by all_terminal)


def test_through_the_hub_too(hub_net: Network, hub_apps: dict[str, Contract]) -> None:
    """Beijing's keys hand the hub an acknowledgement for Chengdu naming Chengdu's message to Guiyang."""
    beijing, chengdu = hub_net.node("Beijing"), hub_net.node("Chengdu")
    to_guiyang = send(hub_net, hub_apps, "Chengdu", "Guiyang", b"for Guiyang")
    send(hub_net, hub_apps, "Chengdu", "Beijing", b"holds slot 1 of the lane to Beijing")
    lie = encode([ACK_ENTRIES], [[(to_guiyang, beijing.chain_id, 1, hub_apps["Chengdu"].address, REJECTED)]])
    fake = forged(beijing.chain_id, chengdu.chain_id, beijing.gateway.address, chengdu.gateway.address, lie,
                  now_on(hub_net.hub.chain), kind=KIND_ACK, gas_limit=0)
    assert with_stolen_keys(hub_net, "Beijing", "hub", [fake]) == []
    Relayer(hub_net, lanes={(HUB_CHAIN_ID, chengdu.chain_id)}).run_until_idle()  # the forgery reaches Chengdu
    assert hub_apps["Chengdu"].view("outcomes", to_guiyang) == 0
    Relayer(hub_net).run_until_idle()
    assert hub_apps["Chengdu"].view("outcomes", to_guiyang) == int(Outcome.DELIVERED)


def test_only_the_providers_chain_answers_a_request(net: Network) -> None:
    beijing, chengdu, guiyang = net.node("Beijing"), net.node("Chengdu"), net.node("Guiyang")
    registry = net.registry
    requester = registry.find_entity("Beijing healthcare pilot 05")
    provider = registry.find_entity("Chengdu healthcare pilot 03")
    sent = beijing.data_exchange.transact("request", requester.id, provider.id, chengdu.chain_id,
                                          net.data.sector_id("healthcare"), keccak(text="q"), 3600,
                                          by=registry.roles.entity(requester.id), gas=REQUEST_GAS)
    request_id = next(e for e in sent.events if e.name == "RequestSent")["id"]
    answer = encode(["uint8", "bytes32", "bytes32", "uint64"], [2, request_id, b"\xee" * 32, 1])
    fake = forged(guiyang.chain_id, beijing.chain_id, guiyang.data_exchange.address, beijing.data_exchange.address,
                  answer, now_on(beijing.chain), gas_limit=200_000)
    assert with_stolen_keys(net, "Guiyang", "Beijing", [fake]) == []
    assert beijing.data_exchange.view("requests", request_id)["status"] == 1  # still SENT: not answered


# ----------------------------------------------------------- the hub forwards only what will be taken


@pytest.mark.parametrize("variant", ["duplicate", "huge-gas", "loop", "short-ack", "dirty-ack"])
def test_one_zones_keys_cannot_wedge_a_hub_lane_for_everyone(variant: str, hub_net: Network,
                                                             hub_apps: dict[str, Contract]) -> None:
    """Beijing's keys hand the hub messages that truly come from Beijing but that the next zone could
    never take: the hub refuses them, or forwards only what the zone takes and records; Guiyang's
    genuine traffic to that zone goes on."""
    beijing, chengdu = hub_net.node("Beijing"), hub_net.node("Chengdu")
    now = now_on(hub_net.hub.chain)
    message = forged(beijing.chain_id, chengdu.chain_id, hub_apps["Beijing"].address, hub_apps["Chengdu"].address,
                     b"x", now)
    victim = "Chengdu"
    if variant == "duplicate":
        assert with_stolen_keys(hub_net, "Beijing", "hub", [message, message]) == ["AlreadyProcessed"]
    elif variant == "huge-gas":  # more than any block could give its handler
        too_big = dataclasses.replace(message, gas_limit=2**32 - 1, deadline=2**64 - 1)
        assert with_stolen_keys(hub_net, "Beijing", "hub", [too_big]) == ["Malformed"]
    elif variant == "loop":  # to Beijing, from Beijing: Beijing would refuse its own origin
        victim = "Beijing"
        loop = dataclasses.replace(message, dst_chain=beijing.chain_id, recipient=hub_apps["Beijing"].address)
        assert with_stolen_keys(hub_net, "Beijing", "hub", [loop]) == ["Malformed"]
    else:  # an acknowledgement whose payload does not decode: forwarded, then rejected, not reverted
        words = [32, 1, 7, chengdu.chain_id, 1, int(hub_apps["Chengdu"].address, 16), 256]  # outcome: not a uint8
        payload = b"\x01" * 7 if variant == "short-ack" else b"".join(w.to_bytes(32, "big") for w in words)
        garbage = dataclasses.replace(message, kind=KIND_ACK, gas_limit=0, sender=beijing.gateway.address,
                                      recipient=chengdu.gateway.address, payload=payload)
        assert with_stolen_keys(hub_net, "Beijing", "hub", [garbage]) == []
    genuine = send(hub_net, hub_apps, "Guiyang", victim, b"genuine")
    Relayer(hub_net).run_until_idle()
    assert hub_apps[victim].view("timesHandled", genuine) == 1
    hub = hub_net.hub.chain_id
    sent = hub_net.hub.gateway.hop_positions([hub_net.node(victim).chain_id])[hub_net.node(victim).chain_id][0]
    assert hub_net.node(victim).gateway.hop_positions([hub])[hub][1] == sent + 1  # the zone took all the hub sent
    if variant.endswith("-ack"):
        assert chengdu.gateway.outcome_in(beijing.chain_id, message.sequence) is Outcome.REJECTED


# ----------------------------------------------------------------------- syncs and small payload caps


@pytest.mark.parametrize("topology", ["mesh", "hub"])
def test_a_stranger_draining_a_hub_lane_cannot_hold_back_a_sync(topology: str, net: Network, hub_net: Network,
                                                                hub_apps: dict[str, Contract]) -> None:
    network = net if topology == "mesh" else hub_net
    hub, chengdu = network.hub, network.node("Chengdu")
    hub.gateway.transact("setRateLimit", chengdu.chain_id, 3, 1, by=network.admin(HUB_CHAIN_ID))
    if topology == "mesh":  # straight at the hub's gateway
        stranger = hub.chain.accounts[150]
        for _ in range(3):
            hub.gateway.transact("send", chengdu.chain_id, stranger.address, b"", 60, 0, by=stranger)
    else:  # from a zone, through the hub's forwarding
        for i in range(3):
            send(hub_net, hub_apps, "Beijing", "Chengdu", bytes([i]))
        Relayer(hub_net).run_until_idle()
    entity = network.registry.entities(zone=chengdu.zone_id)[0]
    network.registry.suspend_entity(entity.id, by=network.registry.roles.regulator)
    assert hub.broadcaster is not None and chengdu.mirror is not None
    hub.broadcaster.transact("sync", [entity.id], [chengdu.chain_id], 600, by=network.admin(HUB_CHAIN_ID),
                             gas=2_000_000)
    Relayer(network).run_until_idle()
    assert chengdu.mirror.view("isActive", entity.id) is False


def test_a_small_payload_cap_does_not_wedge_acknowledgements() -> None:
    """Acknowledgements are bounded by their entry count, not by the data payload cap: 26 outcomes in
    one acknowledgement (4,224 bytes) travel back over a network at the smallest cap, 4,096 bytes."""
    assert 96 + 32 * SYNC_CHUNK <= MIN_PAYLOAD_CAP  # and the registry's syncs fit under it
    config = NetworkConfig(max_payload_bytes=MIN_PAYLOAD_CAP)
    with build_network(config, data=load_seed_data().only_zones(BRIDGE_ZONES), backend="revm") as small:
        beijing, chengdu = small.node("Beijing"), small.node("Chengdu")
        deployer = beijing.chain.accounts[0]
        flooder = Contract.create(beijing.chain, "TestRecipient", beijing.gateway.address, by=deployer)
        sink = Contract.create(chengdu.chain, "TestRecipient", chengdu.gateway.address, by=chengdu.chain.accounts[0])
        flooder.transact("flood", chengdu.chain_id, sink.address, 200_000, 26, by=deployer, gas=8_000_000)
        Relayer(small).run_until_idle()
        assert sink.view("handled") == 26
        outcomes = [beijing.gateway.outcome_out(chengdu.chain_id, s) for s in range(1, 27)]
        assert outcomes == [Outcome.DELIVERED] * 26
