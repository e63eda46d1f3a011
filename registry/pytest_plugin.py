"""pytest fixtures for the pilot registry, registered through the `pytest11` entry point.

- `chain`: a chain (eth-tester by default; `--pilotsim-rpc URL` for a node), each test inside a
  snapshot that is reverted afterwards.
- `registry`: a `Registry` deployed and seeded with the bundled data once per session, on that
  chain, so each test starts from the same seeded state.
- `pilotsim_chain` / `pilotsim_registry`: the session-wide objects, for fixtures of your own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .chain.base import Chain
from .chain.rpc import RpcChain
from .chain.tester import EthTesterChain
from .client import Registry
from .seeds import load_seed_data

GENESIS_TIMESTAMP = 1_643_414_400  # 2022-01-29 00:00 UTC, the day the pilot list was announced


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pilotsim")
    group.addoption("--pilotsim-rpc", default=None, metavar="URL",
                    help="run the pilotsim `chain`/`registry` fixtures against this JSON-RPC node")


@pytest.fixture(scope="session")
def pilotsim_chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    url = request.config.getoption("--pilotsim-rpc")
    chain: Chain = RpcChain(url) if url else EthTesterChain(genesis_timestamp=GENESIS_TIMESTAMP)
    yield chain
    chain.close()


@pytest.fixture(scope="session")
def pilotsim_registry(pilotsim_chain: Chain) -> Registry:
    registry = Registry.deploy(pilotsim_chain)
    registry.seed(load_seed_data())
    return registry


@pytest.fixture
def chain(pilotsim_chain: Chain) -> Iterator[Chain]:
    with pilotsim_chain.anchor():
        yield pilotsim_chain


@pytest.fixture
def registry(pilotsim_registry: Registry, chain: Chain) -> Registry:
    return pilotsim_registry
