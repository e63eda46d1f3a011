"""The sector policy lives on the hub's PilotRegistry and reaches every zone's DataExchange through the
bridge: set only by the national admin, sent only by the broadcaster's owner, taken by a DataExchange
only from the hub's broadcaster, and never rolled back by an older sync."""

from __future__ import annotations

import pytest
from bridge_kit import forged, stolen_delivery
from eth_abi import encode

from registry import Account, Contract
from registry.models import sectors_to_mask
from registry.testing import reverts
from sim.bridge.exchange import round_trip
from sim.bridge.messages import Outcome
from sim.bridge.relayer import Relayer
from sim.bridge.topology import HUB_CHAIN_ID, Network


def _sync(net: Network, sectors: list[int]) -> dict[str, tuple[Outcome, list[int]]]:
    """The hub's broadcaster sends `sectors`' policy to every zone, relayed: each zone's outcome and masks."""
    hub = net.hub
    assert hub.broadcaster is not None
    zones = [z.chain_id for z in net.zones]
    sent = hub.broadcaster.transact("syncPolicy", sectors, zones, 600, by=net.admin(HUB_CHAIN_ID), gas=3_000_000)
    ids = {e["chain"]: e["id"] for e in sent.events if e.name == "PolicyBroadcast"}
    relayer = Relayer(net)
    relayer.run_until_idle()
    return {z.name: (relayer.processed[ids[z.chain_id]][-1].outcome,
                     [z.data_exchange.view("policy", s) for s in sectors]) for z in net.zones}


def _policy(sectors: list[int], masks: list[int], version: int = 2**32 - 1) -> bytes:
    return encode(["uint32", "uint8[]", "uint32[]"], [version, sectors, masks])


def test_a_policy_change_on_the_hub_reaches_every_zone_and_decides_requests(net: Network) -> None:
    registry, hub = net.registry, net.hub
    assert hub.broadcaster is not None
    refused = round_trip(net, "CNOOC", "Chengdu healthcare pilot 03", "healthcare")
    assert (refused.status, refused.reason) == ("refused", "PolicyRefused")
    healthcare = net.data.sector_id("healthcare")
    requester = registry.find_entity("CNOOC")
    sectors = requester.sectors
    masks = [registry.view("dataPolicy", s) | sectors_to_mask([healthcare]) for s in sectors]
    registry.transact("setDataPolicies", sectors, masks, by=registry.roles.admin)
    zones = [z.chain_id for z in net.zones]
    hub.broadcaster.transact("syncPolicy", sectors, zones, 600, by=net.admin(HUB_CHAIN_ID), gas=2_000_000)
    Relayer(net).run_until_idle()
    for zone in net.zones:
        exchange = zone.data_exchange
        assert [exchange.view("policy", s) for s in sectors] == masks, zone.name
        assert all(exchange.view("policyVersion", s) == hub.broadcaster.view("version") for s in sectors)
    served = round_trip(net, "CNOOC", "Chengdu healthcare pilot 03", "healthcare")
    assert served.status == "answered", served


def test_only_the_national_admin_sets_the_policy_and_only_the_owner_syncs_it(net: Network) -> None:
    registry, hub = net.registry, net.hub
    assert hub.broadcaster is not None
    roles = registry.roles
    entity = registry.find_entity("CNOOC")
    for someone in (roles.authority(1), roles.regulator, roles.entity(entity.id), hub.chain.accounts[198]):
        with reverts("NotAdmin", caller=someone):
            registry.transact("setDataPolicies", [1], [1], by=someone)
    sectors = len(net.data.sectors)
    with reverts("UnknownSector", sectorId=0):
        registry.transact("setDataPolicies", [0], [1], by=roles.admin)
    with reverts("UnknownSector", sectorId=sectors + 1):
        registry.transact("setDataPolicies", [sectors + 1], [1], by=roles.admin)
    with reverts("UnknownSector", sectorId=sectors + 1):  # a data sector that does not exist
        registry.transact("setDataPolicies", [1], [1 << sectors], by=roles.admin)
    with reverts("LengthMismatch", sectors=2, masks=1):
        registry.transact("setDataPolicies", [1, 2], [1], by=roles.admin)
    for someone in (roles.regulator, hub.chain.accounts[198]):
        with reverts("OwnableUnauthorizedAccount", account=someone):
            hub.broadcaster.transact("syncPolicy", [1], [net.zones[0].chain_id], 600, by=someone, gas=1_000_000)
    with reverts("UnknownExchange", chain=4242):
        hub.broadcaster.transact("syncPolicy", [1], [4242], 600, by=net.admin(HUB_CHAIN_ID), gas=1_000_000)
    zone = net.zones[0]
    assert zone.mirror is not None
    for someone in (roles.regulator, hub.chain.accounts[198]):  # nobody else redirects where policy or entities go
        for function in ("setExchange", "setMirror"):
            with reverts("OwnableUnauthorizedAccount", account=someone):
                hub.broadcaster.transact(function, zone.chain_id, someone.address, by=someone, gas=200_000)
    assert (hub.broadcaster.view("exchanges", zone.chain_id), hub.broadcaster.view("mirrors", zone.chain_id)) \
        == (zone.data_exchange.address, zone.mirror.address)


def test_a_policy_sync_too_large_for_a_handler_is_refused_at_the_hub(net: Network) -> None:
    """A sync's handler budget grows with its sectors; past the gateway's cap the send is refused
    (BadGasLimit) rather than sent with a budget it could not have."""
    broadcaster = net.hub.broadcaster
    assert broadcaster is not None
    per_sector = broadcaster.view("GAS_PER_SECTOR") + broadcaster.view("GAS_PER_POLICY_BIT") * len(net.data.sectors)
    cap = net.hub.gateway.view("MAX_GAS_LIMIT")
    fits = (cap - 50_000) // per_sector
    zone = [net.zones[0].chain_id]
    admin = net.admin(HUB_CHAIN_ID)
    broadcaster.transact("syncPolicy", [1] * fits, zone, 600, by=admin, gas=5_000_000)
    with reverts("BadGasLimit"):
        broadcaster.transact("syncPolicy", [1] * (fits + 1), zone, 600, by=admin, gas=5_000_000)


@pytest.fixture
def exchange(net: Network) -> tuple[Network, Contract, Account]:
    """A DataExchange on Beijing whose gateway is a test account (messages in any order, from anyone),
    reading the real Beijing mirror (which names the hub and its broadcaster)."""
    node = net.node("Beijing")
    assert node.mirror is not None
    chain = node.chain
    gateway = chain.accounts[8]
    contract = Contract.create(chain, "DataExchange", gateway.address, node.mirror.address, node.zone_id,
                               chain.accounts[0].address, by=chain.accounts[0])
    return net, contract, gateway


def test_a_data_exchange_takes_the_policy_only_from_the_hub_broadcaster_and_only_newer(
        exchange: tuple[Network, Contract, Account]) -> None:
    net, contract, gateway = exchange
    broadcaster = net.hub.broadcaster
    assert broadcaster is not None
    chengdu = net.node("Chengdu")

    def deliver(version: int, sectors: list[int], masks: list[int], src: int = HUB_CHAIN_ID,
                sender: str = broadcaster.address, by: Account = gateway) -> list[tuple[int, int]]:
        payload = encode(["uint32", "uint8[]", "uint32[]"], [version, sectors, masks])
        sent = contract.transact("handleMessage", src, sender, b"\x00" * 32, payload, by=by, gas=1_000_000)
        return [(e["applied"], e["stale"]) for e in sent.events if e.name == "PolicySynced"]

    assert deliver(5, [3], [0b101]) == [(1, 0)]
    assert contract.view("policy", 3) == 0b101 and contract.view("allowedRequesters", 1) == 1 << 2
    assert deliver(4, [3], [0b111]) == [(0, 1)]  # an older sync arriving late: ignored
    assert contract.view("policy", 3) == 0b101
    assert deliver(6, [3, 0, 33], [0, 1, 1]) == [(1, 2)]  # sectors that cannot exist: ignored
    assert contract.view("policy", 3) == 0 and contract.view("allowedRequesters", 1) == 0
    assert deliver(9, [3], [1], src=chengdu.chain_id) == []  # the broadcaster's address, not on the hub
    stranger = net.hub.chain.accounts[198].address
    assert deliver(9, [3], [1], sender=stranger) == []  # on the hub, not the broadcaster
    contract.transact("setPeer", chengdu.chain_id, stranger, by=net.node("Beijing").chain.accounts[0])
    assert deliver(9, [3], [1], src=chengdu.chain_id, sender=stranger) == []  # a peer zone: data, not policy
    assert contract.view("policy", 3) == 0
    with reverts("NotGateway"):
        deliver(9, [3], [1], by=net.node("Beijing").chain.accounts[10])


@pytest.mark.parametrize(("sector", "mask"), [("government-services", 0), ("education", -1)])
def test_revoking_or_widening_a_whole_policy_reaches_every_zone(net: Network, sector: str, mask: int) -> None:
    """A policy that flips every data sector at once (government-services may read everything; revoked
    to nothing; education widened to everything): the handler's gas budget covers a bit per sector,
    so it is applied everywhere (it used to fail on every zone, which kept serving revoked data)."""
    sector_id = net.data.sector_id(sector)
    full = (1 << len(net.data.sectors)) - 1
    wanted = full if mask == -1 else mask
    assert net.registry.view("dataPolicy", sector_id) != wanted
    net.registry.transact("setDataPolicies", [sector_id], [wanted], by=net.registry.roles.admin)
    assert _sync(net, [sector_id]) == {z.name: (Outcome.DELIVERED, [wanted]) for z in net.zones}


def test_stolen_zone_keys_cannot_forge_the_hubs_policy(net: Network, hub_net: Network) -> None:
    """Guiyang's committee keys at threshold vouch, on Guiyang's lane, for a policy "from the hub's
    broadcaster" at the highest version (which would freeze Chengdu's policy): refused as WrongOrigin,
    in the mesh and through the hub."""
    for network, via, to in ((net, "Guiyang", "Chengdu"), (hub_net, "Beijing", "hub")):
        chengdu = network.node("Chengdu")
        assert network.hub.broadcaster is not None
        fake = forged(network, HUB_CHAIN_ID, chengdu.chain_id, network.hub.broadcaster.address,
                      chengdu.data_exchange.address, _policy([1, 2, 3], [2**16 - 1] * 3))
        before = chengdu.data_exchange.view("policyVersion", 1)  # the hub's sync when the network was built
        assert stolen_delivery(network, via, to, [fake]) == ["WrongOrigin"]
        assert chengdu.data_exchange.view("policyVersion", 1) == before


def test_a_policy_shaped_send_from_a_zone_is_rejected(net: Network) -> None:
    beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
    before = chengdu.data_exchange.view("policyVersion", 1)
    sent = beijing.gateway.transact("send", chengdu.chain_id, chengdu.data_exchange.address,
                                    _policy([1, 2, 3], [2**16 - 1] * 3), 600, 1_000_000, by=beijing.chain.accounts[150],
                                    gas=500_000)
    [message_id] = [e["id"] for e in sent.events if e.name == "Sent"]
    relayer = Relayer(net)
    relayer.run_until_idle()
    assert relayer.processed[message_id][-1].outcome is Outcome.REJECTED
    assert chengdu.data_exchange.view("policyVersion", 1) == before


def test_in_the_hub_topology_zone_traffic_and_the_hubs_policy_share_an_address_safely(hub_net: Network) -> None:
    """Every zone's DataExchange sits at the hub broadcaster's address (same deployer, same nonce): the
    gateway hands a handler the message's origin, so forwarded zone traffic is data and only the hub's
    own sends are policy."""
    net = hub_net
    assert net.hub.broadcaster is not None
    assert {z.data_exchange.address for z in net.zones} == {net.hub.broadcaster.address}
    healthcare = net.data.sector_id("healthcare")
    requester = net.registry.find_entity("CNOOC")
    masks = [net.registry.view("dataPolicy", s) | sectors_to_mask([healthcare]) for s in requester.sectors]
    net.registry.transact("setDataPolicies", requester.sectors, masks, by=net.registry.roles.admin)
    assert all(outcome is Outcome.DELIVERED for outcome, _ in _sync(net, requester.sectors).values())
    assert round_trip(net, "CNOOC", "Chengdu healthcare pilot 03", "healthcare").status == "answered"
