"""Runs on chains that keep every transaction they mine, on any in-process backend: what the gas
snapshot reads, and what gas parity between backends compares, transaction by transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from registry import Chain, Receipt, Tx
from registry.evm.backends import in_process_class

from ..bridge.provision import build_network
from ..bridge.topology import Network
from ..engine.scenario import Scenario
from ..engine.simulation import Simulation


@dataclass(frozen=True, slots=True)
class Mined:
    chain_id: int
    tx: Tx
    receipt: Receipt

    def outcome(self) -> tuple[Any, ...]:
        """What must not differ between backends: the transaction, its status, gas, logs and revert data."""
        r = self.receipt
        return (self.chain_id, self.tx.sender.address, self.tx.to, self.tx.data, self.tx.gas, r.block_number,
                r.timestamp, r.status, r.gas_used, r.contract_address,
                tuple((log.address, log.topics, log.data) for log in r.logs), r.revert_data)


@cache
def _recording(backend: str) -> Any:
    kind: Any = in_process_class(backend)

    class Recording(kind):  # type: ignore[misc, valid-type]
        """A chain of `backend` that appends what it mines to `mined`."""

        mined: list[Mined]

        def send(self, txs: Sequence[Tx]) -> list[Receipt]:
            receipts = super().send(txs)
            self.mined.extend(Mined(self.chain_id, tx, r) for tx, r in zip(txs, receipts, strict=True))
            return receipts

    Recording.__name__ = f"Recording{kind.__name__}"
    return Recording


def record_run(scenario: Scenario, backend: str = "eth-tester",
               then: Callable[[Network], None] | None = None) -> list[Mined]:
    """Everything mined, in order, when `scenario` runs on a network of `backend` built from nothing
    (deployment, seeding and mirror syncs included); `then(network)` runs after the simulation."""
    mined: list[Mined] = []

    def factory(chain_id: int, genesis: int) -> Chain:
        chain = _recording(backend)(chain_id, genesis_timestamp=genesis)
        chain.mined = mined  # type: ignore[attr-defined]
        return chain

    with build_network(scenario.network_config(), chain_factory=factory) as network:
        Simulation(scenario, network).run()
        if then is not None:
            then(network)
    return mined


def gas_differences(a: list[Mined], b: list[Mined], limit: int = 10) -> list[str]:
    """Where two recordings of one run differ (empty when every transaction matches), at most `limit`."""
    found = [f"{len(a)} transactions against {len(b)}"] if len(a) != len(b) else []
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x.outcome() != y.outcome():
            found.append(f"transaction {index} on chain {x.chain_id} to {x.tx.to} ({x.tx.data[:4].hex()}): "
                         f"gas {x.receipt.gas_used} / {y.receipt.gas_used}, "
                         f"status {x.receipt.status} / {y.receipt.status}, logs {len(x.receipt.logs)} / "
                         f"{len(y.receipt.logs)}")
        if len(found) >= limit:
            break
    return found
