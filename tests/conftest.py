"""Shared fixtures: Anvil for the tests that need a real node, the seed data, and built networks.

Tests of the protocol and the simulator run their networks on revm, whose gas is py-evm's to the unit
(tests/test_revm_parity.py proves it on every transaction of the baseline), at over ten times
its speed; tests of the backends themselves and of the eth-tester network cache use what they test.
Tests share one network per configuration and isolate themselves with snapshots (`Network.anchor`),
as titanoboa's tests do with `anchor()`. Networks the CLI builds on eth-tester go to one cache for
the session (the xdist workers and the processes tests start share it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from bridge_kit import BRIDGE_ZONES

from registry import AnvilNode, Chain, Contract, EthTesterChain, RevmChain, RpcChain, load_seed_data
from registry.defaults import GENESIS_TIMESTAMP
from sim.bridge.cache import NetworkCache
from sim.bridge.provision import build_network
from sim.bridge.topology import Network, NetworkConfig


@pytest.fixture(scope="session", autouse=True)
def network_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetworkCache]:
    """The session's cache of built networks (PILOTSIM_CACHE, for the CLI and the processes tests start)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "pilotsim-cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PILOTSIM_CACHE", str(folder))
        yield NetworkCache.default()


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    with AnvilNode.start(chain_id=31337, genesis_timestamp=GENESIS_TIMESTAMP) as node:
        yield node


@pytest.fixture(scope="session")
def anvil_chain(anvil_node: AnvilNode) -> Iterator[RpcChain]:
    chain = RpcChain(anvil_node.url)
    yield chain
    chain.close()


@pytest.fixture(scope="session")
def tester_chain() -> EthTesterChain:
    return EthTesterChain(genesis_timestamp=GENESIS_TIMESTAMP)


@pytest.fixture(scope="session")
def revm_chain() -> RevmChain:
    return RevmChain(genesis_timestamp=GENESIS_TIMESTAMP)


@pytest.fixture(params=["eth-tester", "revm", pytest.param("anvil", marks=pytest.mark.anvil)])
def any_chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """The same test on every backend, each isolated by snapshot/revert."""
    name = {"eth-tester": "tester_chain", "revm": "revm_chain", "anvil": "anvil_chain"}[request.param]
    backend: Chain = request.getfixturevalue(name)
    with backend.anchor():
        yield backend


class Networks:
    """Full revm networks, one per `NetworkConfig`, built on first use and kept for the session."""

    def __init__(self) -> None:
        self._built: dict[str, Network] = {}

    def get(self, config: NetworkConfig) -> Network:
        key = config.model_dump_json()
        if key not in self._built:
            self._built[key] = build_network(config, backend="revm")
        return self._built[key]

    def close(self) -> None:
        for network in self._built.values():
            network.close()


@pytest.fixture(scope="session")
def networks() -> Iterator[Networks]:
    """Built networks to run scenarios on: `networks.get(scenario.network_config())`. Callers isolate
    with `network.anchor()` (`run_scenario(..., network=…)` does)."""
    pool = Networks()
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def bridge_network() -> Iterator[Network]:
    """A small real network for protocol tests: hub, Beijing, Chengdu and Guiyang, deployed and wired
    as in production. Beijing↔Chengdu is a committee lane (each message signed), every other lane a
    checkpoint lane (a signed Merkle root per batch)."""
    config = NetworkConfig(lane_verifiers={"beijing:chengdu": "committee"})
    with build_network(config, data=load_seed_data().only_zones(BRIDGE_ZONES), backend="revm") as network:
        yield network


@pytest.fixture
def net(bridge_network: Network) -> Iterator[Network]:
    """`bridge_network` inside a snapshot of all its chains, reverted after the test."""
    with bridge_network.anchor():
        yield bridge_network


def recipients(network: Network) -> dict[str, Contract]:
    """A TestRecipient on each zone chain of `network`, to send from and deliver to: an application of
    governance's, with a destination-gas quota of its own on every lane (strangers share the open one)."""
    apps = {z.name: Contract.create(z.chain, "TestRecipient", z.gateway.address, by=z.chain.accounts[0])
            for z in network.zones}
    for zone in network.zones:
        others = [c for c in network.nodes if c != zone.chain_id]
        zone.gateway.transact("setGasQuota", others, apps[zone.name].address, 10**12, 10**9,
                              by=network.admin(zone.chain_id), gas=1_000_000)
    return apps


@pytest.fixture
def apps(net: Network) -> dict[str, Contract]:
    """`recipients` on `net`."""
    return recipients(net)


@pytest.fixture(scope="session")
def hub_bridge_network() -> Iterator[Network]:
    """`bridge_network`'s zones in hub topology: every message between zones goes through the hub."""
    config = NetworkConfig(topology="hub")
    with build_network(config, data=load_seed_data().only_zones(BRIDGE_ZONES), backend="revm") as network:
        yield network


@pytest.fixture
def hub_net(hub_bridge_network: Network) -> Iterator[Network]:
    with hub_bridge_network.anchor():
        yield hub_bridge_network


@pytest.fixture
def hub_apps(hub_net: Network) -> dict[str, Contract]:
    """`recipients` on `hub_net`."""
    return recipients(hub_net)
