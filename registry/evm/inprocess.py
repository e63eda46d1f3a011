"""What the in-process backends (py-evm, revm) share: their clock — a fixed genesis makes every block
time, and so every run, reproducible; without one, blocks follow the wall clock — and mining."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from .base import Block, Chain, Receipt, Tx

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)


@dataclass(frozen=True)
class ChainImage:
    """A py-evm chain's whole database and the hash of its head block (what the network cache keeps)."""

    store: dict[bytes, bytes]
    head: bytes


class InProcessChain(Chain):
    def __init__(self, chain_id: int, accounts: int, mnemonic: str, genesis_timestamp: int | None,
                 block_gas_limit: int) -> None:
        super().__init__(accounts, mnemonic)
        self.chain_id = chain_id
        self.block_gas_limit = block_gas_limit
        # a genesis timestamp given: block times count from it, a second a block, so runs repeat exactly
        self.deterministic = genesis_timestamp is not None
        self.genesis = int(time.time()) if genesis_timestamp is None else genesis_timestamp  # 0 is a time too
        self._next_timestamp: int | None = None

    @abstractmethod
    def _latest_timestamp(self) -> int: ...

    @abstractmethod
    def _mine_block(self, txs: Sequence[Tx]) -> list[Receipt]: ...

    def _timestamp_for_next_block(self) -> int:
        parent = self._latest_timestamp()
        if self._next_timestamp is not None:
            return self._next_timestamp
        return parent + 1 if self.deterministic else max(parent + 1, int(time.time()))

    def _went_back(self) -> None:
        self._next_timestamp = None

    def mine(self, timestamp: int | None = None) -> Block:
        if timestamp is not None:
            self.set_next_timestamp(timestamp)
        self._mine_block([])
        return self.block()

    def set_next_timestamp(self, timestamp: int) -> None:
        latest = self._latest_timestamp()
        if timestamp <= latest:
            raise ConfigError(f"timestamp {timestamp} is not after the latest block's ({latest})")
        self._next_timestamp = timestamp
