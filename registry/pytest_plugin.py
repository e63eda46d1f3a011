"""pytest fixtures for the pilot registry, registered through the `pytest11` entry point.

This is the only module of the project that imports pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING

import pytest

from .defaults import GENESIS_TIMESTAMP

if TYPE_CHECKING:  # the rest is loaded by the fixtures that use it: a pytest run that takes none pays nothing
    from .client import Registry
    from .evm.base import Chain
    from .seeds import SeedData

BACKEND_NAMES = ("eth-tester", "revm", "anvil")  # registry.evm.BACKENDS, named here so addoption loads no EVM


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pilotsim")
    group.addoption("--pilotsim-rpc", default=None, metavar="URL",
                    help="run the pilotsim `chain`/`registry` fixtures against this JSON-RPC node")
    group.addoption("--pilotsim-backend", default="eth-tester", choices=BACKEND_NAMES,
                    help="where the pilotsim `chain`/`registry` fixtures run: eth-tester (py-evm, the default), "
                         "revm (in process, faster, the same gas) or anvil (a node started for the session)")


@pytest.fixture(scope="session")
def pilotsim_chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """Session: the chain the fixtures use — in process with a fixed genesis (`--pilotsim-backend`,
    eth-tester by default), an Anvil node started for the session, or the node given by
    `--pilotsim-rpc URL`. For fixtures of your own; tests take `chain`. On a node of yours, what the
    session did is reverted at its end where the node can (a dev node's snapshots), actors it had to
    fund included."""
    from .evm.anvil import AnvilNode  # noqa: PLC0415 - see the imports above
    from .evm.backends import in_process_chain  # noqa: PLC0415
    from .evm.funding import fund_actors  # noqa: PLC0415
    from .evm.rpc import RpcChain  # noqa: PLC0415

    url = request.config.getoption("--pilotsim-rpc")
    backend = request.config.getoption("--pilotsim-backend")
    with ExitStack() as stack:
        if url is None and backend == "anvil":
            url = stack.enter_context(AnvilNode.start(genesis_timestamp=GENESIS_TIMESTAMP, ipc=True)).endpoint
        elif url is not None:
            node = RpcChain(url)
            if node.is_dev_node:  # leave the user's node as it was found
                stack.callback(node.revert, node.snapshot())
        chain = RpcChain(url) if url else in_process_chain(backend, genesis_timestamp=GENESIS_TIMESTAMP)
        stack.callback(chain.close)
        if url is not None:  # in-process chains fund every actor at genesis
            fund_actors(chain)
        yield chain


@pytest.fixture(scope="session")
def seed_data() -> SeedData:
    """Session: the bundled pilot data the registry is seeded with (15 zones, 16 sectors, 164 entities
    with their provenance, one pilot each), with lookups by name: `seed_data.zone_id("Chengdu")`."""
    from .seeds import load_seed_data  # noqa: PLC0415

    return load_seed_data()


@pytest.fixture(scope="session")
def pilotsim_registry(pilotsim_chain: Chain, seed_data: SeedData) -> Registry:
    """Session: a `PilotRegistry` deployed on `pilotsim_chain` and seeded with the bundled 15 zones,
    16 sectors and 164 entities (approved, one active pilot each). Tests take `registry`."""
    from .client import Registry  # noqa: PLC0415

    registry = Registry.deploy(pilotsim_chain)
    registry.seed(seed_data)
    return registry


@pytest.fixture
def chain(pilotsim_chain: Chain) -> Iterator[Chain]:
    """Function: the session's chain inside a snapshot reverted after the test, so tests cannot leak."""
    with pilotsim_chain.anchor():
        yield pilotsim_chain


@pytest.fixture
def registry(pilotsim_registry: Registry, chain: Chain) -> Registry:
    """Function: the seeded registry, every change undone after the test (see `chain`)."""
    return pilotsim_registry
