"""The data-exchange application on the bridge: policy and inactive-entity refusals reported back,
registry mirrors that take only newer versions from the hub, and an answered round trip."""

from __future__ import annotations

import pytest
from eth_abi import encode

from registry import Contract, ContractRevert, EntityStatus
from sim.bridge.exchange import round_trip
from sim.bridge.provision import sync_mirrors
from sim.bridge.topology import Network


def test_policy_refusal_is_rejected_and_reported_to_the_requester(net: Network) -> None:
    result = round_trip(net, "CNOOC", "Chengdu healthcare pilot 03", "healthcare")
    assert (result.status, result.reason) == ("refused", "PolicyRefused")
    request = net.node("Beijing").data_exchange.view("requests", bytes.fromhex(result.request_id[2:]))
    assert request["status"] == 4  # REFUSED, learnt from the acknowledgement
    assert [s.step for s in result.steps] == ["sent", "delivered", "acknowledged"]


def test_inactive_entities_are_refused(net: Network) -> None:
    registry = net.registry
    provider = registry.find_entity("Chengdu healthcare pilot 03")
    registry.suspend_entity(provider.id, by=registry.roles.regulator)
    sync_mirrors(net, [provider.id])
    mirror = net.node("Chengdu").mirror
    assert mirror is not None
    assert mirror.view("isActive", provider.id) is False
    result = round_trip(net, "Beijing healthcare pilot 05", "Chengdu healthcare pilot 03", "healthcare")
    assert (result.status, result.reason) == ("refused", "ProviderCannotServe")

    requester = registry.find_entity("Beijing healthcare pilot 05")
    registry.suspend_entity(requester.id, by=registry.roles.regulator)
    sync_mirrors(net, [requester.id])
    with pytest.raises(ContractRevert, match="EntityNotActive"):
        round_trip(net, "Beijing healthcare pilot 05", "Guizhou Province", "healthcare")
    assert registry.entity(requester.id).status is EntityStatus.SUSPENDED


def test_mirror_applies_only_newer_versions_from_the_hub_broadcaster(net: Network) -> None:
    """A mirror whose gateway is a test account, so versions can arrive in any order."""
    chain = net.node("Beijing").chain
    gateway, broadcaster = chain.accounts[8], chain.accounts[9]
    mirror = Contract.create(chain, "RegistryMirror", gateway.address, net.hub.chain_id, broadcaster.address,
                             by=chain.accounts[0])
    account = chain.accounts[40].address

    def update(version: int, status: int, src: int = net.hub.chain_id, sender: str = broadcaster.address,
               by=gateway) -> list[tuple[int, int]]:
        word = mirror.view("pack", 7, account, 1, status, 3)
        payload = encode(["uint32", "uint256[]"], [version, [word]])
        sent = mirror.transact("handleMessage", src, sender, b"\x00" * 32, payload, by=by, gas=500_000)
        return [(e["applied"], e["stale"]) for e in sent.events]

    assert update(2, int(EntityStatus.ACTIVE)) == [(1, 0)]
    assert update(1, int(EntityStatus.SUSPENDED)) == [(0, 1)]
    assert mirror.view("records", 7)["status"] == int(EntityStatus.ACTIVE)
    assert update(3, int(EntityStatus.SUSPENDED)) == [(1, 0)]
    assert mirror.view("entityCount") == 1
    assert mirror.view("isActive", 7) is False and mirror.view("records", 7)["account"] == account
    assert update(4, int(EntityStatus.ACTIVE), src=net.node("Chengdu").chain_id) == []  # not from the hub
    assert update(4, int(EntityStatus.ACTIVE), sender=chain.accounts[10].address) == []  # not the broadcaster
    assert mirror.view("isActive", 7) is False
    with pytest.raises(ContractRevert, match="NotGateway"):
        update(5, int(EntityStatus.ACTIVE), by=chain.accounts[10])


def test_round_trip_in_both_directions_with_answer_recorded(net: Network) -> None:
    result = round_trip(net, "Beijing healthcare pilot 05", "Chengdu healthcare pilot 03", "healthcare",
                        dataset=b"x" * 1000)
    assert result.status == "answered" and result.answer_size == 1000
    assert [s.step for s in result.steps] == ["sent", "delivered", "acknowledged", "responded", "delivered back",
                                              "acknowledged"]
    assert [s.chain for s in result.steps] == ["Beijing", "Chengdu", "Beijing", "Chengdu", "Beijing", "Chengdu"]
    assert all(s.gas > 21_000 for s in result.steps)
