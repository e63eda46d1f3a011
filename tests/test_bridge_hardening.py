"""The bridge against the findings of an attacker's review, one test each: origins that cannot be
spoofed, lanes that cannot be wedged, acknowledgements that cannot be bombed, hub timeouts filed on
the origin's own lane, forwarding that honours the outbound lane, relayers that cover for each other."""

from __future__ import annotations

import dataclasses

import pytest
from bridge_kit import RELAYER, forged, send, stolen_delivery
from eth_abi import encode

from registry import Contract, ContractRevert, Receipt
from registry.evm.gasrules import calldata_costs
from sim.bridge import batching, gas, messages
from sim.bridge.exchange import round_trip
from sim.bridge.messages import Outcome
from sim.bridge.provision import sync_mirrors
from sim.bridge.relayer import Relayer
from sim.bridge.topology import HUB_CHAIN_ID, Network


def test_the_protocol_constants_python_mirrors_are_the_gateways(net: Network) -> None:
    """The relayer's gas bound and the scenario checks use these: they must be the contract's."""
    gateway = net.node("Beijing").gateway
    assert gateway.view("OUTCOME_GAS") == gas.OUTCOME_GAS
    assert gateway.view("MAX_PAYLOAD_LIMIT") == messages.MAX_PAYLOAD_LIMIT
    assert gateway.view("MAX_TTL") == messages.MAX_TTL_S
    assert gateway.view("maxPayload") == net.config.max_payload_bytes


# ------------------------------------------------------------------------------ 1. origin spoofing


def test_one_zones_keys_cannot_forge_the_hubs_registry_broadcast(net: Network) -> None:
    """Beijing's keys at threshold, a message "from the hub's RegistryBroadcaster" over Beijing's lane
    into Chengdu's mirror: it would hand entity 1 to the attacker at the highest version."""
    chengdu = net.node("Chengdu")
    assert chengdu.mirror is not None and net.hub.broadcaster is not None
    before = chengdu.mirror.view("records", 1)
    word = chengdu.mirror.view("pack", 1, RELAYER.address, chengdu.zone_id, 2, 1)
    fake = forged(net, HUB_CHAIN_ID, chengdu.chain_id, net.hub.broadcaster.address, chengdu.mirror.address,
                  encode(["uint32", "uint256[]"], [2**32 - 1, [word]]))
    assert stolen_delivery(net, "Guiyang", "Chengdu", [fake]) == ["WrongOrigin"]
    assert chengdu.mirror.view("records", 1) == before
    assert chengdu.gateway.hop_positions([net.node("Guiyang").chain_id])[net.node("Guiyang").chain_id][1] == 1


def test_one_zones_keys_cannot_claim_another_zones_origin(net: Network, apps: dict[str, Contract]) -> None:
    guiyang, chengdu = net.node("Guiyang"), net.node("Chengdu")
    claimed = forged(net, net.node("Beijing").chain_id, chengdu.chain_id, apps["Beijing"].address,
                     apps["Chengdu"].address, b"from Beijing, says Guiyang")
    assert stolen_delivery(net, "Guiyang", "Chengdu", [claimed]) == ["WrongOrigin"]
    assert apps["Chengdu"].view("handled") == 0
    # and the lane is not taken: the next genuine message from Guiyang goes through
    send(net, apps, "Guiyang", "Chengdu", b"genuine")
    Relayer(net).run_until_idle()
    assert apps["Chengdu"].view("handled") == 1 and guiyang.chain_id != chengdu.chain_id


def test_the_hub_forwards_only_what_came_from_its_origin(hub_net: Network, hub_apps: dict[str, Contract]) -> None:
    """Hub topology: a forgery "from the hub" or "from Guiyang" handed to the hub over Beijing's lane is
    refused there, so the hub's honest committee never vouches for it onward."""
    chengdu = hub_net.node("Chengdu")
    assert chengdu.mirror is not None and hub_net.hub.broadcaster is not None
    fakes = [forged(hub_net, HUB_CHAIN_ID, chengdu.chain_id, hub_net.hub.broadcaster.address,
                    chengdu.mirror.address, encode(["uint32", "uint256[]"], [2**32 - 1, []])),
             forged(hub_net, hub_net.node("Guiyang").chain_id, chengdu.chain_id, hub_apps["Guiyang"].address,
                    hub_apps["Chengdu"].address, b"claimed")]
    def forwarded_to_chengdu() -> int:
        return hub_net.hub.gateway.hop_positions([chengdu.chain_id])[chengdu.chain_id][0]

    before = forwarded_to_chengdu()
    for fake in fakes:  # each refused, so each in turn is next in the hop's order
        assert stolen_delivery(hub_net, "Beijing", "hub", [fake]) == ["WrongOrigin"]
    assert forwarded_to_chengdu() == before  # nothing forwarded
    # genuine routed traffic: accepted from the hub with its true origin
    send(hub_net, hub_apps, "Beijing", "Chengdu", b"routed")
    Relayer(hub_net).run_until_idle()
    assert hub_apps["Chengdu"].view("handled") == 1


# ----------------------------------------------------------------------------- 2. wedged lanes


@pytest.mark.parametrize("topology", ["mesh", "hub"])
def test_a_payload_at_the_cap_is_delivered_at_every_hop_and_one_above_is_refused(
        topology: str, net: Network, hub_net: Network, apps: dict[str, Contract],
        hub_apps: dict[str, Contract]) -> None:
    network, recipients = (net, apps) if topology == "mesh" else (hub_net, hub_apps)
    cap = network.config.max_payload_bytes
    with pytest.raises(ContractRevert) as caught:
        send(network, recipients, "Beijing", "Chengdu", b"\xff" * (cap + 1))
    assert caught.value.name == "PayloadTooLarge" and caught.value.args_by_name == {"size": cap + 1, "max": cap}
    message_id = send(network, recipients, "Beijing", "Chengdu", b"\xff" * cap)
    relayer = Relayer(network)
    relayer.run_until_idle()
    assert recipients["Chengdu"].view("timesHandled", message_id) == 1
    assert recipients["Beijing"].view("outcomes", message_id) == Outcome.DELIVERED
    assert all(d.status for d in relayer.deliveries) and len(relayer.deliveries) == (2 if topology == "mesh" else 4)


def test_relayer_gas_respects_the_calldata_floor(net: Network, apps: dict[str, Contract]) -> None:
    """EIP-7623: a transaction pays at least 10 gas per calldata token; for a large payload the old
    16-gas-a-byte estimate fell below it and the delivery was never mined."""
    send(net, apps, "Beijing", "Chengdu", b"\xff" * net.config.max_payload_bytes)
    relayer = Relayer(net)
    relayer.scan()
    [planned] = relayer.plan()
    standard, floor = calldata_costs(planned.tx.data)
    assert planned.tx.gas >= floor and planned.tx.gas >= 21_000 + standard


def test_a_delivery_that_runs_out_of_gas_is_retried_smaller_with_more_gas(
        net: Network, apps: dict[str, Contract], monkeypatch: pytest.MonkeyPatch) -> None:
    """Never the same failing transaction again: half the batch, half as much gas again, until through."""
    ids = [send(net, apps, "Guiyang", "Beijing", bytes([i])) for i in range(8)]
    monkeypatch.setattr(batching, "transaction_bound", lambda *args: 150_000)  # far too little
    relayer = Relayer(net)
    relayer.run_until_idle()
    forward = [d for d in relayer.deliveries if d.src == net.node("Guiyang").chain_id]
    assert not forward[0].status and forward[0].size == 8 and any(d.status for d in forward)
    for failed, retried in zip(forward, forward[1:], strict=False):
        if not failed.status:
            assert retried.size == max(1, failed.size // 2)  # each failure halves the batch
    assert all(apps["Beijing"].view("timesHandled", i) == 1 for i in ids)


def test_a_message_failing_alone_with_a_blocks_gas_waits_for_its_deadline(
        net: Network, apps: dict[str, Contract]) -> None:
    """The last resort: a message that fails on its own at the block's gas limit ends timed out on both
    sides after its deadline, instead of blocking the lane."""
    message_id = send(net, apps, "Beijing", "Chengdu", b"stuck", ttl=60)
    relayer = Relayer(net)
    relayer.scan()
    [planned] = relayer.plan()
    chengdu = net.node("Chengdu").chain
    full = dataclasses.replace(planned, tx=dataclasses.replace(planned.tx, gas=chengdu.block_gas_limit))
    out_of_gas = Receipt(b"\x00" * 32, 0, 0, False, chengdu.block_gas_limit, None, (), b"")
    relayer.settle([full], [out_of_gas])
    assert relayer.plan() == []  # it waits
    deadline = planned.batch[0].message.deadline
    chengdu.mine(timestamp=deadline + 1)
    relayer.run_until_idle()
    assert apps["Chengdu"].view("timesHandled", message_id) == 0
    assert apps["Beijing"].view("outcomes", message_id) == Outcome.TIMED_OUT


# -------------------------------------------------------------------------- 3. hub timeouts


def test_a_timeout_at_the_hub_is_filed_on_the_origins_lane_to_the_real_destination(
        hub_net: Network, hub_apps: dict[str, Contract]) -> None:
    beijing, chengdu, hub = hub_net.node("Beijing"), hub_net.node("Chengdu"), hub_net.hub
    late = send(hub_net, hub_apps, "Beijing", "Chengdu", b"late", ttl=30)
    assert hub.broadcaster is not None
    # a message to the hub itself: its outcome on Beijing's lane to the hub, the timeout's on the lane to Chengdu
    broadcaster_call = beijing.gateway.transact("send", HUB_CHAIN_ID, hub.broadcaster.address, b"hi", 600, 0,
                                                by=beijing.chain.accounts[9])
    sent = next(e for e in beijing.gateway.events(broadcaster_call.receipt) if e.name == "Sent")
    to_hub, hub_sequence = sent["id"], sent["message"]["sequence"]
    hub.chain.mine(timestamp=hub.chain.block().timestamp + 60)  # the hub is late: the deadline passes there
    relayer = Relayer(hub_net)
    relayer.run_until_idle()
    assert hub_apps["Chengdu"].view("timesHandled", late) == 0
    assert beijing.gateway.outcome_out(chengdu.chain_id, 1) is Outcome.TIMED_OUT
    assert hub_apps["Beijing"].view("outcomes", late) == Outcome.TIMED_OUT
    assert beijing.gateway.outcome_out(HUB_CHAIN_ID, hub_sequence) is Outcome.REJECTED  # the broadcaster's
    assert relayer.processed[to_hub][0].outcome is Outcome.REJECTED and relayer.pending() == 0


# ---------------------------------------------------------------------- 4. acknowledgement bomb


def test_an_acknowledgement_bomb_stays_within_a_block(net: Network) -> None:
    """64 messages with handler gas 1 from a contract whose outcome callback burns all it is given: one
    acknowledgement of 64 entries comes back, each callback capped, and the lane keeps moving."""
    beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
    admin = beijing.chain.accounts[0]
    bomber = Contract.create(beijing.chain, "TestRecipient", beijing.gateway.address, by=admin)
    sink = Contract.create(chengdu.chain, "TestRecipient", chengdu.gateway.address, by=chengdu.chain.accounts[0])
    bomber.transact("setBehaviour", 4, by=admin)  # BURN
    sent = bomber.transact("flood", chengdu.chain_id, sink.address, 1, 64, by=admin, gas=12_000_000)
    ids = [e["id"] for e in beijing.gateway.events(sent.receipt) if e.name == "Sent"]
    relayer = Relayer(net)
    relayer.run_until_idle()
    acks = [d for d in relayer.deliveries if d.dst == beijing.chain_id]
    assert acks and all(d.status and d.gas_used < beijing.chain.block_gas_limit for d in acks)
    assert [bomber.view("outcomes", i) for i in ids] == [0] * 64  # every callback ran out: nothing recorded
    assert all(beijing.gateway.outcome_out(chengdu.chain_id, s) is Outcome.FAILED for s in range(1, 65))
    assert relayer.pending() == 0


# ------------------------------------------------------------------ 5. forwarding and pauses


def test_the_hub_does_not_forward_into_a_paused_or_exhausted_lane(hub_net: Network,
                                                                 hub_apps: dict[str, Contract]) -> None:
    beijing, chengdu, hub = hub_net.node("Beijing"), hub_net.node("Chengdu"), hub_net.hub
    hub_admin = hub_net.admin(HUB_CHAIN_ID)
    hub.gateway.transact("setPaused", chengdu.chain_id, True, by=hub_admin)
    paused = send(hub_net, hub_apps, "Beijing", "Chengdu", b"while paused")
    Relayer(hub_net).run_until_idle()
    assert hub_apps["Chengdu"].view("timesHandled", paused) == 0
    assert hub_apps["Beijing"].view("outcomes", paused) == Outcome.REJECTED
    hub.gateway.transact("setPaused", chengdu.chain_id, False, by=hub_admin)
    hub.gateway.transact("setRateLimit", chengdu.chain_id, 1, 0, by=hub_admin)  # one message, never refilled
    first, second = (send(hub_net, hub_apps, "Beijing", "Chengdu", bytes([i])) for i in range(2))
    Relayer(hub_net).run_until_idle()
    assert hub_apps["Beijing"].view("outcomes", first) == Outcome.DELIVERED
    assert hub_apps["Beijing"].view("outcomes", second) == Outcome.REJECTED
    assert beijing.chain_id != chengdu.chain_id


def test_a_zone_refuses_data_from_an_origin_it_paused_even_through_the_hub(
        hub_net: Network, hub_apps: dict[str, Contract]) -> None:
    beijing, chengdu = hub_net.node("Beijing"), hub_net.node("Chengdu")
    chengdu.gateway.transact("setPaused", beijing.chain_id, True, by=hub_net.admin(chengdu.chain_id))
    message_id = send(hub_net, hub_apps, "Beijing", "Chengdu", b"unwelcome")
    Relayer(hub_net).run_until_idle()
    assert hub_apps["Chengdu"].view("timesHandled", message_id) == 0
    assert hub_apps["Beijing"].view("outcomes", message_id) == Outcome.REJECTED


# --------------------------------------------------------------------------- 6. lower findings


def test_only_the_hubs_governance_syncs_the_mirrors(net: Network) -> None:
    broadcaster = net.hub.broadcaster
    assert broadcaster is not None
    stranger = net.hub.chain.accounts[150]
    with pytest.raises(ContractRevert, match="OwnableUnauthorizedAccount"):
        broadcaster.transact("sync", [1], [net.node("Chengdu").chain_id], 600, by=stranger, gas=2_000_000)


def test_a_suspended_provider_cannot_answer(net: Network) -> None:
    registry = net.registry
    provider = registry.find_entity("Chengdu healthcare pilot 03")
    trip = round_trip(net, "Beijing healthcare pilot 05", provider.name, "healthcare")
    assert trip.status == "answered"
    # a second request, accepted; then the provider is suspended and the mirror learns it
    chengdu = net.node("Chengdu")
    requester = registry.find_entity("Beijing healthcare pilot 05")
    home = net.node("Beijing")
    sent = home.data_exchange.transact("request", requester.id, provider.id, chengdu.chain_id, 12, b"\x01" * 32, 3600,
                                       by=registry.roles.entity(requester.id), gas=400_000)
    request_id = next(e for e in sent.events if e.name == "RequestSent")["id"]
    Relayer(net).run_until_idle()
    registry.suspend_entity(provider.id, by=registry.roles.regulator)
    sync_mirrors(net, [provider.id])
    with pytest.raises(ContractRevert) as caught:
        chengdu.data_exchange.transact("respond", request_id, home.chain_id, requester.id, provider.id, 12,
                                       b"\x01" * 32, b"\x02" * 32, 10, 3600, by=registry.roles.entity(provider.id),
                                       gas=400_000)
    assert caught.value.name == "EntityNotActive" and caught.value.args_by_name == {"entityId": provider.id}


# ---------------------------------------------------------------- 7. relayers cover for each other


def test_a_relayer_takes_over_the_lanes_of_one_that_is_down(net: Network, apps: dict[str, Contract]) -> None:
    lanes = net.lanes()
    down = Relayer(net, lanes=set(lanes[::2]), takeover_after_s=10, account_index=0)  # never polls
    up = Relayer(net, lanes=set(lanes[1::2]), takeover_after_s=10, account_index=1)
    ids = [send(net, apps, src, dst, f"{src}{dst}".encode()) for src in ("Beijing", "Chengdu", "Guiyang")
           for dst in ("Beijing", "Chengdu", "Guiyang") if src != dst]
    now = max(n.chain.block().timestamp for n in net.nodes.values())
    for step in range(6):
        up.scan()
        planned = up.plan(now=now + 5 * step)
        for p in planned:
            up.settle([p], net.nodes[p.lane[1]].chain.send([p.tx]))
    assert all(sum(a.view("timesHandled", i) for a in apps.values()) == 1 for i in ids)
    assert up.takeovers > 0 and down.delivery_count == 0
    assert all(any(a.view("outcomes", i) == Outcome.DELIVERED for a in apps.values()) for i in ids)
