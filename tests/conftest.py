"""Shared fixtures: an Anvil node for the tests that need a real one, and the seed data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry import AnvilNode, Chain, EthTesterChain, RpcChain, SeedData, load_seed_data
from registry.pytest_plugin import GENESIS_TIMESTAMP


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


@pytest.fixture(params=["eth-tester", pytest.param("anvil", marks=pytest.mark.anvil)])
def any_chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """The same test on both backends, each isolated by snapshot/revert."""
    name = "tester_chain" if request.param == "eth-tester" else "anvil_chain"
    backend: Chain = request.getfixturevalue(name)
    with backend.anchor():
        yield backend


@pytest.fixture(scope="session")
def seed_data() -> SeedData:
    return load_seed_data()
