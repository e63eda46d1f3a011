"""The cache of built networks: a loaded network is the network a build makes; any change to what
determines it is a new entry; a damaged entry is built again."""

from __future__ import annotations

from pathlib import Path

from registry import load_seed_data
from sim.bridge.cache import NetworkCache
from sim.bridge.provision import build_network
from sim.bridge.topology import Network, NetworkConfig

DATA = load_seed_data().only_zones(["Beijing", "Chengdu"])


def state(network: Network) -> dict[str, object]:
    """What a built network holds, read through the chains."""
    registry = network.registry
    return {
        "heads": {c: (n.chain.block_number(), n.chain.block().timestamp) for c, n in network.nodes.items()},
        "entities": [e.model_dump() for e in registry.entities()],
        "mirrors": [n.mirror.view("entityCount") for n in network.zones if n.mirror is not None],
        "hops": {c: n.gateway.hop_state(network.neighbours(c)) for c, n in network.nodes.items()},
        "nonces": {c: n.chain.nonce(network.admin(c).address) for c, n in network.nodes.items()},
    }


def test_a_loaded_network_is_the_built_one(tmp_path: Path) -> None:
    cache = NetworkCache(tmp_path)
    with build_network(data=DATA, cache=cache) as built:
        assert not built.from_cache and len(list(tmp_path.glob("*.net"))) == 1
        expected = state(built)
    with build_network(data=DATA, cache=cache) as loaded:
        assert loaded.from_cache
        assert state(loaded) == expected
        # and it works on: a transaction mined on top of it
        chengdu = loaded.node("Chengdu")
        chengdu.gateway.transact("setPaused", loaded.node("Beijing").chain_id, True, by=loaded.admin(chengdu.chain_id))
        assert chengdu.gateway.view("lanes", loaded.node("Beijing").chain_id)["paused"] is True


def test_what_determines_a_network_is_in_its_key(tmp_path: Path) -> None:
    cache = NetworkCache(tmp_path)
    base = cache.key(NetworkConfig(), DATA, sync=True)
    assert cache.key(NetworkConfig(), DATA, sync=True) == base
    assert cache.key(NetworkConfig(threshold=2), DATA, sync=True) != base
    assert cache.key(NetworkConfig(), DATA, sync=False) != base
    assert cache.key(NetworkConfig(), load_seed_data().only_zones(["Beijing", "Guiyang"]), sync=True) != base


def test_a_damaged_entry_is_built_again(tmp_path: Path) -> None:
    cache = NetworkCache(tmp_path)
    build_network(data=DATA, cache=cache).close()
    [entry] = list(tmp_path.glob("*.net"))
    entry.write_bytes(entry.read_bytes()[:1000])  # cut short, as by a full disk
    assert cache.load(entry.stem) is None
    with build_network(data=DATA, cache=cache) as again:
        assert not again.from_cache and again.registry.entity_count() == len(DATA.entities)
    assert cache.load(entry.stem) is not None  # and kept whole this time
