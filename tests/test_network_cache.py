"""The cache of built networks: a loaded network is the network a build makes; any change to what
determines it is a new entry; a damaged entry is built again; the cache never fails a run and keeps
only its newest entries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from registry import load_seed_data
from registry.evm.inprocess import ChainImage
from sim.bridge import cache as network_cache
from sim.bridge.cache import NetworkCache
from sim.bridge.provision import build_network
from sim.bridge.topology import Network, NetworkConfig

DATA = load_seed_data().only_zones(["Beijing", "Chengdu"])


def state(network: Network) -> dict[str, object]:
    """What a built network holds, read through the chains."""
    registry = network.registry
    return {
        "heads": {c: (n.chain.block_number, n.chain.block().timestamp) for c, n in network.nodes.items()},
        "entities": [e.model_dump() for e in registry.entities()],
        "mirrors": [n.mirror.view("entityCount") for n in network.zones if n.mirror is not None],
        "hops": {c: n.gateway.hop_positions(network.neighbours(c)) for c, n in network.nodes.items()},
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
    whole = entry.read_bytes()
    entry.write_bytes(whole[:1000])  # cut short, as by a full disk
    assert cache.load(entry.stem) is None
    flipped = bytearray(whole)
    flipped[len(whole) // 2] ^= 1  # one bit of some account's state: it would still decode
    entry.write_bytes(bytes(flipped))
    assert cache.load(entry.stem) is None
    with build_network(data=DATA, cache=cache) as again:
        assert not again.from_cache and again.registry.entity_count() == len(DATA.entities)
    assert cache.load(entry.stem) is not None  # and kept whole this time


def image(tag: int) -> dict[int, ChainImage]:
    return {1000: ChainImage({bytes([tag]): b"state"}, bytes(32))}


def test_a_cache_that_cannot_be_written_is_no_cache(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    cache = NetworkCache(blocked)
    cache.save("entry", image(1))  # no error: the run goes on without the cache
    assert cache.load("entry") is None


def test_the_newest_entries_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(network_cache, "KEEP", 3)
    cache = NetworkCache(tmp_path)
    for tag in range(3):
        cache.save(f"entry{tag}", image(tag))
        os.utime(tmp_path / f"entry{tag}.net", (1_000 + tag, 1_000 + tag))  # saved in this order, long ago
    assert cache.load("entry0") == image(0)  # loading counts as use: entry0 is now the newest of the three
    cache.save("entry3", image(3))
    assert sorted(p.stem for p in tmp_path.glob("*.net")) == ["entry0", "entry2", "entry3"]
