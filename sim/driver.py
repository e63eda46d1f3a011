"""Block production on the simulation clock: each chain's mempool, mined at its block interval."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import simpy

from registry import Receipt, Tx

from .network import ChainNode


@dataclass(slots=True)  # one per message or transaction: kept small for long runs
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
    takes what fits in its gas limit, the rest waits for the next one."""

    env: simpy.Environment
    node: ChainNode
    interval: int
    epoch: int  # the block timestamp of simulated second 0
    names: dict[str, str]  # address → contract name, for the gas table
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

    def _produce(self):  # type: ignore[no-untyped-def]
        while True:
            yield self.env.timeout(self.interval - (self.env.now % self.interval) or self.interval)
            if self.halted or not self._pool:
                continue
            chain = self.node.chain
            taken, gas = [], 0
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
        contract = self.names.get(tx.to or "", "?")
        function = "deploy" if tx.to is None else _function_name(contract, tx.data[:4])
        return GasRecord(self.node.chain_id, contract, function, receipt.gas_used, receipt.status,
                         float(self.env.now))


_SELECTORS: dict[str, dict[bytes, str]] = {}


def _function_name(contract: str, selector: bytes) -> str:
    if contract not in _SELECTORS:
        from registry.artifacts import load_artifact

        try:
            functions = load_artifact(contract).abi.functions.values()
            _SELECTORS[contract] = {f.selector: f.name for f in functions}
        except Exception:
            _SELECTORS[contract] = {}
    return _SELECTORS[contract].get(selector, "0x" + selector.hex())
