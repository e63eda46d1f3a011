"""Lane controls: the rate limit and the pause, and who may set them."""

from __future__ import annotations

import pytest
from bridge_kit import send

from registry import Contract, ContractRevert
from sim.bridge.gateway import GatewayClient
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network


def test_rate_limit_hit_and_refilled(net: Network, apps: dict[str, Contract]) -> None:
    beijing = net.node("Beijing")
    chengdu_id = net.node("Chengdu").chain_id
    beijing.gateway.transact("setRateLimit", chengdu_id, 2, 100, by=beijing.chain.accounts[0])  # 0.1 msg/s
    send(net, apps, "Beijing", "Chengdu")
    send(net, apps, "Beijing", "Chengdu")
    with pytest.raises(ContractRevert) as caught:
        send(net, apps, "Beijing", "Chengdu")
    assert caught.value.name == "RateLimited" and caught.value.args_by_name["chain"] == chengdu_id
    beijing.chain.mine(timestamp=beijing.chain.block().timestamp + 10)
    send(net, apps, "Beijing", "Chengdu")  # refilled one message
    send(net, apps, "Beijing", "Guiyang")  # other lanes never limited


def test_paused_lane_refuses_sends_and_deliveries(net: Network, apps: dict[str, Contract]) -> None:
    beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
    send(net, apps, "Beijing", "Chengdu")
    chengdu.gateway.transact("setPaused", beijing.chain_id, True, by=chengdu.chain.accounts[0])
    beijing.gateway.transact("setPaused", chengdu.chain_id, True, by=beijing.chain.accounts[0])
    with pytest.raises(ContractRevert, match="LanePaused"):
        send(net, apps, "Beijing", "Chengdu")
    relayer = Relayer(net)
    relayer.poll()
    assert [d.status for d in relayer.deliveries] == [False]  # the hop refuses the whole batch
    with pytest.raises(ContractRevert, match="OwnableUnauthorizedAccount"):
        chengdu.gateway.transact("setPaused", beijing.chain_id, False, by=chengdu.chain.accounts[7])
    chengdu.gateway.transact("setPaused", beijing.chain_id, False, by=chengdu.chain.accounts[0])
    relayer.run_until_idle()
    assert apps["Chengdu"].view("handled") == 1
    assert relayer.pending() == 1  # its acknowledgement waits: Beijing still refuses Chengdu's lane
    beijing.gateway.transact("setPaused", chengdu.chain_id, False, by=beijing.chain.accounts[0])
    relayer.run_until_idle()
    assert relayer.pending() == 0


def test_gateway_admin_functions_are_guarded(net: Network) -> None:
    gateway: GatewayClient = net.node("Beijing").gateway
    stranger = gateway.chain.accounts[7]
    for function, args in [("setLane", (5, 5, stranger.address, stranger.address)), ("setPaused", (1, True)),
                           ("setRateLimit", (1, 1, 1)), ("setHandlerGasLimit", (1,)),
                           ("setRateExempt", (stranger.address, True)),
                           ("setGasQuota", ([1], stranger.address, 10**12, 10**12)),
                           ("setOriginQuota", ([1], 5, 10**12, 10**12)),
                           ("setLanes", ([5], [5], [stranger.address], [stranger.address]))]:
        with pytest.raises(ContractRevert, match="OwnableUnauthorizedAccount"):
            gateway.transact(function, *args, by=stranger)
