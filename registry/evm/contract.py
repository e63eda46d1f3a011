"""A deployed contract of the project on a chain: build transactions, call views, decode events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..defaults import DEFAULT_GAS
from .abi import DecodedEvent
from .accounts import Account
from .artifacts import Artifact, load_artifact
from .base import Chain, Log, Receipt, Tx

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)


@dataclass(frozen=True)
class Sent:
    """Mined transactions (one, or one per chunk of a long batch) and the contract's events, in order."""

    receipts: list[Receipt]
    events: list[DecodedEvent]

    @property
    def receipt(self) -> Receipt:
        return self.receipts[-1]

    @property
    def gas_used(self) -> int:
        return sum(r.gas_used for r in self.receipts)

    def __repr__(self) -> str:
        blocks = sorted({r.block_number for r in self.receipts})
        where = f"block {blocks[0]}" if len(blocks) == 1 else f"blocks {blocks[0]}-{blocks[-1]}"
        events = ", ".join(sorted({e.name for e in self.events})) or "no events"
        return f"<Sent {len(self.receipts)} transaction(s) in {where}, {self.gas_used:,} gas; {events}>"


class Contract:
    """`name` deployed at `address` on `chain`. Transactions raise `ContractRevert` when refused."""

    def __init__(self, chain: Chain, address: str, artifact: Artifact | str) -> None:
        self.chain = chain
        self.address = address
        self.artifact = load_artifact(artifact) if isinstance(artifact, str) else artifact
        self.abi = self.artifact.abi

    def __repr__(self) -> str:
        return f"<{self.artifact.name} {self.address} on {self.chain!r}>"

    @classmethod
    def create(cls, chain: Chain, name: str, *args: Any, by: Account, gas: int = 8_000_000) -> Contract:
        """Deploy the project contract `name` with constructor `args`."""
        artifact = load_artifact(name)
        address = chain.deploy(by, artifact.bytecode + artifact.abi.encode_constructor(args), gas)
        return cls(chain, address, artifact)

    def tx(self, function: str, *args: Any, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        """An unsent transaction calling `function(*args)` from `by`."""
        return Tx(by, self.address, self.abi.function(function).encode(args), gas)

    def send(self, txs: Sequence[Tx]) -> Sent:
        """Mine several transactions together; raises on the first that failed."""
        receipts = self.chain.send(txs)
        for receipt in receipts:
            receipt.raise_for_status()
        return Sent(receipts, [e for r in receipts for e in self.events(r)])

    def transact(self, function: str, *args: Any, by: Account, gas: int = DEFAULT_GAS) -> Sent:
        return self.send([self.tx(function, *args, by=by, gas=gas)])

    def view(self, function: str, *args: Any, block: int | None = None) -> Any:
        fn = self.abi.function(function)
        return fn.decode(self.chain.call(self.address, fn.encode(args), block=block))

    def logged(self, from_block: int, to_block: int) -> list[tuple[Log, DecodedEvent]]:
        """This contract's events in the block range, decoded, each with the log it came from, in order."""
        decoded = ((log, self.abi.decode_event(log.address, log.topics, log.data))
                   for log in self.chain.logs(self.address, from_block, to_block))
        return [(log, event) for log, event in decoded if event is not None]

    def events(self, receipt: Receipt) -> list[DecodedEvent]:
        """This contract's events in `receipt`, decoded (other contracts' logs are left out)."""
        decoded = (self.abi.decode_event(log.address, log.topics, log.data)
                   for log in receipt.logs if log.address == self.address)
        return [e for e in decoded if e is not None]
