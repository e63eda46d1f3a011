"""A revm chain keeps the logs and undo writes of its latest blocks only (memory stays flat over a
simulated day), and refuses, with the reason, what it no longer knows; snapshots keep theirs."""

from __future__ import annotations

import pytest

from registry import ChainError, RevmChain, Tx
from registry.defaults import GENESIS_TIMESTAMP
from registry.evm.artifacts import load_artifact
from registry.evm.history import FORGET_EVERY, STATE_BLOCKS

PROBE = load_artifact("Probe")
VALUE = PROBE.abi.function("value")


def store(chain: RevmChain, probe: str, value: int) -> int:
    tx = Tx(chain.accounts[0], probe, PROBE.abi.function("store").encode([value]), 100_000)
    return chain.transact(tx).block_number


def read(chain: RevmChain, probe: str, block: int | None = None) -> int:
    return int(VALUE.decode(chain.call(probe, VALUE.encode(()), block=block)))


def test_old_blocks_are_forgotten_and_asking_for_them_says_so() -> None:
    chain = RevmChain(genesis_timestamp=GENESIS_TIMESTAMP, history_blocks=10)
    probe = chain.deploy(chain.accounts[0], PROBE.bytecode)
    first = store(chain, probe, 1)
    for _ in range(FORGET_EVERY + 20):
        chain.mine()
    last = store(chain, probe, 2)
    assert chain.first_kept_block() > first
    assert chain.block(first).tx_count == 1  # times and gas of every block stay
    with pytest.raises(ChainError, match="keeps logs of its last 10 blocks"):
        chain.logs(probe, first, last)
    with pytest.raises(ChainError, match="keeps the state of its last 10 blocks"):
        read(chain, probe, block=first)
    assert len(chain.logs(probe, chain.first_kept_block(), last)) == 1
    assert read(chain, probe, block=last - 1) == 1 and read(chain, probe) == 2
    assert chain.history.writes_kept < 10


def test_a_snapshot_keeps_its_history_until_reverted_to() -> None:
    chain = RevmChain(genesis_timestamp=GENESIS_TIMESTAMP, history_blocks=10)
    probe = chain.deploy(chain.accounts[0], PROBE.bytecode)
    store(chain, probe, 1)
    outer = chain.snapshot()
    inner = chain.snapshot()  # at the same height: each is held on its own
    store(chain, probe, 2)
    chain.revert(inner)
    for value in range(2, FORGET_EVERY + 40):  # far past the window
        store(chain, probe, value)
    height = chain.block_number - (FORGET_EVERY + 38)
    assert chain.first_kept_block() <= height
    chain.revert(outer)
    assert read(chain, probe) == 1 and chain.block_number == height
    for _ in range(FORGET_EVERY + 20):  # nothing held now: the window moves on
        chain.mine()
    assert chain.first_kept_block() > height


def test_a_hold_keeps_logs_and_state_from_its_block_until_released() -> None:
    """What a relayer coming back reads again: logs and past state from the held block, however many blocks
    pass; released, the window moves on. Two holds are one each."""
    chain = RevmChain(genesis_timestamp=GENESIS_TIMESTAMP, history_blocks=10)
    probe = chain.deploy(chain.accounts[0], PROBE.bytecode)
    first = store(chain, probe, 1)
    hold, other = chain.hold_history(first - 1), chain.hold_history(first + 5)
    for value in range(2, FORGET_EVERY + 40):
        store(chain, probe, value)
    assert chain.first_kept_block() <= first - 1
    assert len(chain.logs(probe, first, chain.block_number)) == FORGET_EVERY + 39
    assert read(chain, probe, block=first) == 1
    chain.release_history(hold)
    for _ in range(FORGET_EVERY):
        chain.mine()
    assert first - 1 < chain.first_kept_block() <= first + 5  # the other hold still counts
    chain.release_history(other)
    for _ in range(FORGET_EVERY):
        chain.mine()
    assert chain.first_kept_block() > first + 5
    with pytest.raises(ChainError, match="keeps logs of its last 10 blocks"):
        chain.logs(probe, first, chain.block_number)


def test_logs_outlive_the_state_of_their_blocks() -> None:
    """The undo writes (most of the memory) go after STATE_BLOCKS; the logs, which readers come back for, later."""
    chain = RevmChain(genesis_timestamp=GENESIS_TIMESTAMP)
    probe = chain.deploy(chain.accounts[0], PROBE.bytecode)
    first = store(chain, probe, 1)
    for _ in range(STATE_BLOCKS + FORGET_EVERY + 1):
        chain.mine()
    assert chain.first_kept_block() > first
    with pytest.raises(ChainError, match=f"keeps the state of its last {STATE_BLOCKS} blocks"):
        read(chain, probe, block=first)
    assert len(chain.logs(probe, first, chain.block_number)) == 1
    assert chain.history.writes_kept < 10
