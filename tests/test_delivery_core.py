"""The delivery core: one delivery function behind one verifier interface, destination gas that is paid
for at the source, relayers that reserve only what can run and let senders take turns, and sends
refused at the source when their next hop is paused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from bridge_kit import BRIDGE_ZONES, RELAYER, pending_records, send
from conftest import recipients

from registry import Account, Contract, ContractRevert, derive_account
from registry.evm.artifacts import load_artifact
from registry.seeds import load_seed_data
from sim.bridge.gas import batch_bound
from sim.bridge.merkle import MerkleTree
from sim.bridge.messages import Outcome, subject
from sim.bridge.provision import build_network
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network, NetworkConfig
from sim.bridge.verifiers import SIGNED, VERIFIERS

STRANGER, OTHER_STRANGER = derive_account(150), derive_account(151)
NO_CODE = "0x" + "ab" * 20
MAX_CAP = 10_000_000


@pytest.fixture(scope="module")
def flawed_network() -> Iterator[Network]:
    """`bridge_network`'s zones without gas accounting (the documented flawed setting)."""
    config = NetworkConfig(lane_verifiers={"beijing:chengdu": "committee"}, gas_accounting=False)
    with build_network(config, data=load_seed_data().only_zones(BRIDGE_ZONES), backend="revm") as network:
        yield network


def stranger_send(net: Network, src: str, dst: str, gas_limit: int, by: Account = STRANGER) -> ContractRevert | None:
    """A send by an account no governance knows; the revert it met, if any."""
    gateway = net.node(src).gateway
    try:
        gateway.transact("send", net.node(dst).chain_id, NO_CODE, b"\xff" * 32, 3600, gas_limit, by=by,
                         gas=300_000)
    except ContractRevert as exc:
        return exc
    return None


def test_the_gateway_has_one_delivery_function_and_verifiers_behind_one_interface(net: Network) -> None:
    gateway = load_artifact("Gateway").abi
    assert sorted(f.name for f in gateway.functions.values() if f.name.startswith("deliver")) == ["deliver"]
    interface = {"verify", "kind"}
    for name, verifier in VERIFIERS.items():
        assert interface <= {f.name for f in load_artifact(verifier.contract).abi.functions.values()}
        assert net.node("Beijing").verifiers[name].view("kind") == name
        if name in SIGNED:  # committees sign digests of their mode (domain separation between verifiers)
            assert net.node("Beijing").verifiers[name].view("MODE") == verifier.mode
    beijing = net.node("Beijing")
    for other in ("Chengdu", "Guiyang", "hub"):  # each inbound lane names the verifier its settings say
        lane = beijing.gateway.view("lanes", net.node(other).chain_id)
        expected = net.verifier(beijing.chain_id, net.node(other).chain_id).name
        assert lane["verifier"] == beijing.verifiers[expected].address


def test_strangers_share_one_open_quota_and_apps_keep_their_own(net: Network, apps: dict[str, Contract]) -> None:
    """A stranger declaring the largest handler gas gets one message through, then GasQuotaExceeded; a second
    stranger account draws on the same share (no way around it with more accounts); the share refills over
    time; an application with a quota of its own is not touched by any of it."""
    assert stranger_send(net, "Beijing", "Chengdu", MAX_CAP) is None
    refused = stranger_send(net, "Beijing", "Chengdu", MAX_CAP)
    assert refused is not None and refused.name == "GasQuotaExceeded"
    assert refused.args_by_name["sender"] == STRANGER.address
    # the handler's cap, its acknowledgement and callback, the hop's work and 48 gas a payload byte
    assert refused.args_by_name["cost"] == MAX_CAP + 80_000 + 60_000 + 48 * 32
    again = stranger_send(net, "Beijing", "Chengdu", MAX_CAP, by=OTHER_STRANGER)
    assert again is not None and again.name == "GasQuotaExceeded"
    assert stranger_send(net, "Beijing", "Guiyang", MAX_CAP) is None  # a share per lane
    send(net, apps, "Beijing", "Chengdu", b"an app's message")  # its own quota
    chain = net.node("Beijing").chain
    chain.mine(timestamp=chain.block().timestamp + 60)  # 60 s at 200,000 gas a second: 12,000,000
    assert stranger_send(net, "Beijing", "Chengdu", MAX_CAP, by=OTHER_STRANGER) is None


def test_without_gas_accounting_nothing_limits_a_stranger(flawed_network: Network) -> None:
    with flawed_network.anchor():
        assert all(stranger_send(flawed_network, "Beijing", "Chengdu", MAX_CAP) is None for _ in range(5))


def test_only_governance_sets_quotas(net: Network) -> None:
    gateway = net.node("Beijing").gateway
    with pytest.raises(ContractRevert, match="OwnableUnauthorizedAccount"):
        gateway.transact("setGasQuota", [net.node("Chengdu").chain_id], STRANGER.address, 10**15, 10**15,
                         by=STRANGER)


def _flood_app(net: Network, src: str, dst: str) -> Contract:
    """A TestRecipient on `src` with a quota of its own toward `dst` (so only the relayer stands between its
    flood and the lane)."""
    source = net.node(src)
    app = Contract.create(source.chain, "TestRecipient", source.gateway.address, by=source.chain.accounts[0])
    source.gateway.transact("setGasQuota", [net.via(source.chain_id, net.node(dst).chain_id)], app.address, 10**15,
                            10**12, by=net.admin(source.chain_id), gas=200_000)
    return app


def _flood(net: Network, count: int, cap: int, recipient: str) -> Contract:
    """A sender with a quota of its own (so only the relayer stands between its flood and the lane)
    sending `count` messages to `recipient` on Chengdu, each declaring `cap` handler gas."""
    beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
    flooder = _flood_app(net, "Beijing", "Chengdu")
    flooder.transact("flood", chengdu.chain_id, recipient, cap, count, by=beijing.chain.accounts[5], gas=15_000_000)
    return flooder


def test_the_relayer_reserves_nothing_for_a_handler_that_will_not_run(net: Network, flawed_network: Network) -> None:
    """64 messages declaring the largest cap, to an address with no code: one delivery with the gas the
    gateway's own work needs. Without gas accounting the caps are reserved: two messages a delivery."""
    for network, batch in ((net, 64), (flawed_network, 2)):
        with network.anchor():
            _flood(network, 64, MAX_CAP, NO_CODE)
            relayer = Relayer(network)
            relayer.scan()
            [planned] = [p for p in relayer.plan() if p.lane == (network.node("Beijing").chain_id,
                                                               network.node("Chengdu").chain_id)]
            assert len(planned.batch) == batch
            if network is net:
                assert planned.tx.gas < 64 * 120_000 < batch_bound([r.message for r in planned.batch])
            relayer.run_until_idle()
            assert all(d.status for d in relayer.deliveries)


def test_senders_take_turns_so_a_flood_holds_no_one_back(net: Network, flawed_network: Network) -> None:
    """Twelve messages that may each burn 9,000,000 gas queued ahead of one small message of another sender:
    with gas accounting the small one rides in the first delivery; first come, first served, it waits for
    the flood to drain, three messages a delivery: in the fourth."""
    for network, deliveries_before in ((net, 0), (flawed_network, 3)):
        with network.anchor():
            apps = recipients(network)
            target = apps["Chengdu"]
            _flood(network, 12, 9_000_000, target.address)
            small = send(network, apps, "Guiyang", "Chengdu", b"small")  # another lane: its own
            late = send(network, apps, "Beijing", "Chengdu", b"behind the flood")
            relayer = Relayer(network)
            relayer.run_until_idle()
            lane = [d for d in relayer.deliveries if (d.src, d.dst) == (network.node("Beijing").chain_id,
                                                                       network.node("Chengdu").chain_id)]
            first = next(i for i, d in enumerate(lane) if relayer.processed[late][0].block_number == d.block_number)
            assert first == deliveries_before, [(d.size, d.processed) for d in lane]
            assert relayer.processed[small][0].outcome is Outcome.DELIVERED
            assert target.view("timesHandled", late) == 1


def test_a_large_batch_is_given_the_gas_it_uses_not_its_bound(net: Network, apps: dict[str, Contract]) -> None:
    """Twenty messages declaring 1,000,000 gas each to a handler that uses a few thousand: the bound is
    above an eighth of a block, so the delivery is simulated on Chengdu's state and given what it used,
    its largest reservation and a margin; it goes through."""
    target = apps["Chengdu"]
    _flood(net, 20, 1_000_000, target.address)
    relayer = Relayer(net)
    relayer.scan()
    [planned] = [p for p in relayer.plan() if p.lane[1] == net.node("Chengdu").chain_id]
    bound = batch_bound([r.message for r in planned.batch])
    assert len(planned.batch) == 20 and bound > net.node("Chengdu").chain.block_gas_limit // 8
    assert planned.tx.gas < bound / 4
    receipt = net.node("Chengdu").chain.send([planned.tx])[0]
    assert receipt.status and receipt.gas_used <= planned.tx.gas
    assert target.view("handled") == 20


@pytest.mark.parametrize("topology", ["mesh", "hub"])
def test_a_send_whose_next_hop_is_paused_is_refused_at_the_source(topology: str, net: Network,
                                                                  hub_net: Network) -> None:
    """Beijing pauses its lane to the next hop toward Chengdu (Chengdu itself, or the hub): a send to
    Chengdu is refused at once (LanePaused), not accepted and left to wait or be rejected later."""
    network = net if topology == "mesh" else hub_net
    beijing, chengdu = network.node("Beijing"), network.node("Chengdu")
    hop = network.via(beijing.chain_id, chengdu.chain_id)
    beijing.gateway.transact("setPaused", hop, True, by=network.admin(beijing.chain_id), gas=100_000)
    with pytest.raises(ContractRevert) as caught:
        beijing.gateway.transact("send", chengdu.chain_id, NO_CODE, b"x", 3600, 0, by=STRANGER, gas=300_000)
    assert caught.value.name == "LanePaused" and caught.value.args_by_name == {"chain": hop}
    beijing.gateway.transact("setPaused", hop, False, by=network.admin(beijing.chain_id), gas=100_000)
    beijing.gateway.transact("send", chengdu.chain_id, NO_CODE, b"x", 3600, 0, by=STRANGER, gas=300_000)


def test_a_fanning_handler_pays_for_its_fan_out_or_fails(net: Network, flawed_network: Network) -> None:
    """One message to a stranger's handler that answers it with fifty messages: the fifty must come from the
    handler's own share of the open quota on its lane back, which cannot pay for them, so the handler fails
    and nothing fans out. Without gas accounting one message buys fifty deliveries on the return lane."""
    for network, outcome, fanned in ((net, Outcome.FAILED, 0), (flawed_network, Outcome.DELIVERED, 50)):
        with network.anchor():
            apps = recipients(network)
            chengdu = network.node("Chengdu")
            fanner = Contract.create(chengdu.chain, "TestRecipient", chengdu.gateway.address, by=STRANGER)
            fanner.transact("setFanOut", network.node("Beijing").chain_id, apps["Beijing"].address, 50, 0,
                            by=STRANGER)
            app = apps["Beijing"]  # one message, with handler gas enough for fifty sends
            sent = app.transact("flood", chengdu.chain_id, fanner.address, 8_000_000, 1, by=app.chain.accounts[5],
                                gas=500_000)
            message_id = next(e for e in network.node("Beijing").gateway.events(sent.receipt) if e.name == "Sent")["id"]
            relayer = Relayer(network)
            relayer.run_until_idle()
            assert relayer.processed[message_id][0].outcome is outcome
            assert apps["Beijing"].view("handled") == fanned


def test_a_message_taken_after_thousands_above_it_costs_a_bounded_walk(net: Network) -> None:
    """A relayer holds back one hop sequence and delivers the 2,400 after it: whoever delivers the held one
    pays for a walk of at most eight words of taken bits (the watermark catches up over later deliveries),
    not for 2,400 steps."""
    beijing, guiyang = net.node("Beijing"), net.node("Guiyang")
    flooder = _flood_app(net, "Beijing", "Guiyang")
    for _ in range(10):
        flooder.transact("flood", guiyang.chain_id, NO_CODE, 0, 241, by=beijing.chain.accounts[5], gas=25_000_000)
    records = [r for r in pending_records(net, "Beijing") if r.hop == guiyang.chain_id][-2_410:]
    held, rest = records[0], records[1:]
    keys, domain = net.committees[beijing.chain_id], net.domain(beijing.chain_id, guiyang.chain_id)
    for batch in (rest[i:i + 400] for i in range(0, len(rest), 400)):
        tree = MerkleTree([subject(r.message_id, r.hop_sequence) for r in batch])
        items = [(r.message, r.hop_sequence, tree.proof(i)) for i, r in enumerate(batch)]
        tx = guiyang.gateway.deliver_checkpoint(beijing.chain_id, tree.root, keys.attest(domain, tree.root), items,
                                                by=RELAYER, gas=29_000_000)
        guiyang.chain.send([tx])[0].raise_for_status()
    watermark = guiyang.gateway.hop_positions([beijing.chain_id])[beijing.chain_id][1]
    assert watermark == held.hop_sequence
    tree = MerkleTree([subject(held.message_id, held.hop_sequence)])
    tx = guiyang.gateway.deliver_checkpoint(beijing.chain_id, tree.root, keys.attest(domain, tree.root),
                                            [(held.message, held.hop_sequence, [])], by=RELAYER, gas=1_000_000)
    receipt = guiyang.chain.send([tx])[0].raise_for_status()
    assert receipt.gas_used < 200_000
    walked = guiyang.gateway.hop_positions([beijing.chain_id])[beijing.chain_id][1] - held.hop_sequence
    assert 8 * 256 - 256 < walked <= 8 * 256  # eight words at most, then the next delivery walks on
    relayer = Relayer(net)  # a relayer starting now delivers nothing again: the bits above say what was taken
    relayer.run_until_idle()
    assert not [d for d in relayer.deliveries if (d.src, d.dst) == (beijing.chain_id, guiyang.chain_id)]


def test_a_message_refused_for_good_is_not_delivered_again(hub_net: Network) -> None:
    """Beijing's governance points a lane at a chain the hub does not know: the hub refuses the message sent
    there (WrongDestination) and the relayer drops it, instead of delivering it again every round."""
    beijing = hub_net.node("Beijing")
    beijing.gateway.transact("setLane", 4242, hub_net.hub.chain_id, NO_CODE, NO_CODE,
                             by=hub_net.admin(beijing.chain_id), gas=200_000)
    beijing.gateway.transact("send", 4242, NO_CODE, b"nowhere", 3600, 0, by=STRANGER, gas=300_000)
    relayer = Relayer(hub_net)
    relayer.run_until_idle()
    to_hub = [d for d in relayer.deliveries if (d.src, d.dst) == (beijing.chain_id, hub_net.hub.chain_id)]
    assert [(d.refused, d.processed) for d in to_hub] == [(1, 0)] and relayer.pending() == 0


def test_quotas_are_kept_by_next_hop_and_the_router_keeps_one_per_origin(hub_net: Network) -> None:
    """Hub topology: a stranger's sends to any zone leave by the lane to the hub, and draw on that one open
    share (the second at the largest cap is refused, whatever its destination). A zone whose governance lifts
    its own quotas still meets the hub's quota for what it may send through it: the hub rejects the rest."""
    beijing, hub = hub_net.node("Beijing"), hub_net.hub
    assert stranger_send(hub_net, "Beijing", "Chengdu", MAX_CAP) is None
    refused = stranger_send(hub_net, "Beijing", "Guiyang", MAX_CAP)
    assert refused is not None and refused.name == "GasQuotaExceeded"
    assert refused.args_by_name["lane"] == hub.chain_id
    beijing.gateway.transact("setGasQuota", [hub.chain_id], "0x" + "00" * 20, 0, 0, by=hub_net.admin(beijing.chain_id),
                             gas=200_000)  # Beijing's governance lets its strangers send without limit
    chengdu = hub_net.node("Chengdu").chain_id
    allowance = hub.gateway.view("originQuotas", chengdu, beijing.chain_id)
    assert allowance["capacity"] == hub.chain.block_gas_limit  # set when the network was built
    for i in range(5):
        assert stranger_send(hub_net, "Beijing", "Chengdu", MAX_CAP, by=derive_account(160 + i)) is None
    relayer = Relayer(hub_net)
    relayer.run_until_idle()
    at_hub = Counter(p[0].outcome for p in relayer.processed.values() if p[0].chain_id == hub.chain_id)
    # a block's worth at once, refilled at Beijing's share of the lane: of the six, the rest rejected at the hub
    assert 2 <= at_hub[Outcome.REJECTED] <= 4


def test_strangers_take_one_turn_together_however_many_accounts_they_use(net: Network) -> None:
    """One hundred strangers' messages queued ahead of an application's: they share the open quota, so they
    share one turn, and the application's message rides in the first delivery of 64."""
    apps = recipients(net)
    for i in range(100):
        stranger_send(net, "Beijing", "Chengdu", 1, by=derive_account(100 + i))
    late = send(net, apps, "Beijing", "Chengdu", b"the application's")
    relayer = Relayer(net, batch_size=64)
    relayer.run_until_idle()
    lane = [d for d in relayer.deliveries if (d.src, d.dst) == (net.node("Beijing").chain_id,
                                                               net.node("Chengdu").chain_id)]
    assert relayer.processed[late][0].block_number == lane[0].block_number and lane[0].size == 64
