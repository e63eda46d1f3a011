"""Block production on the simulation clock: each chain's mempool, mined at its block interval."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from registry import Contract, Receipt, Tx

from ..bridge.topology import ChainNode


@dataclass(slots=True)  # one per transaction: kept small for long runs
class GasRecord:
    """One mined transaction, for the gas tables."""

    chain_id: int
    contract: str
    function: str
    gas_used: int
    status: bool
    time_s: float


@dataclass
class ChainDriver:
    """Collects transactions and mines them every `interval` simulated seconds, at a block time
    that is the simulation clock. Blocks with nothing to include are not materialised; a block
    takes what fits in its gas limit, the rest waits for the next one. A halted chain mines nothing."""

    env: simpy.Environment
    node: ChainNode
    interval: int
    epoch: int  # the block timestamp of simulated second 0
    contracts: dict[str, Contract]  # address → the project's contract there, to name calls in the gas table
    on_gas: Callable[[GasRecord], None]
    halted: bool = False
    blocks: int = 0
    _pool: list[tuple[Tx, simpy.Event]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env.process(self._produce())

    def submit(self, txs: list[Tx]) -> simpy.Event:
        """An event that fires with the receipts once all of `txs` are mined."""
        events = [self.env.event() for _ in txs]
        self._pool.extend(zip(txs, events, strict=True))
        done = self.env.all_of(events)
        result = self.env.event()

        def finish(_: object) -> None:
            result.succeed([e.value for e in events])

        done.callbacks.append(finish)
        return result

    @property
    def pending(self) -> int:
        return len(self._pool)

    def _produce(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(self.interval - (self.env.now % self.interval) or self.interval)
            if self.halted or not self._pool:
                continue
            chain = self.node.chain
            taken: list[tuple[Tx, simpy.Event]] = []
            gas = 0
            while self._pool and (not taken or gas + self._pool[0][0].gas <= chain.block_gas_limit):
                tx, event = self._pool.pop(0)
                taken.append((tx, event))
                gas += tx.gas
            timestamp = self.epoch + int(self.env.now)
            chain.set_next_timestamp(timestamp)
            receipts = chain.send([tx for tx, _ in taken])
            self.blocks += 1
            for (tx, event), receipt in zip(taken, receipts, strict=True):
                self.on_gas(self._gas_record(tx, receipt))
                event.succeed(receipt)

    def _gas_record(self, tx: Tx, receipt: Receipt) -> GasRecord:
        contract = self.contracts.get(tx.to or "")
        if tx.to is None:
            name, function = "?", "deploy"
        elif contract is None:
            name, function = "?", "0x" + tx.data[:4].hex()
        else:
            name, function = contract.artifact.name, contract.abi.function_name(tx.data[:4])
        return GasRecord(self.node.chain_id, name, function, receipt.gas_used, receipt.status, float(self.env.now))
