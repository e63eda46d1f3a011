"""The `Chain` interface every backend implements, and the plain records it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import rlp
from eth_utils import to_canonical_address, to_checksum_address

from ..defaults import BLOCK_GAS_LIMIT, DEFAULT_ACCOUNTS, DEFAULT_GAS, TEST_MNEMONIC
from ..errors import ChainError, TransactionRejected
from .accounts import Account, derive_accounts
from .artifacts import decode_revert
from .gasrules import minimum_gas
from .hashing import keccak

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)


@dataclass(frozen=True, slots=True)
class Tx:
    """A transaction to sign and send: `to=None` deploys `data` as init code."""

    sender: Account
    to: str | None
    data: bytes
    gas: int = DEFAULT_GAS
    value: int = 0


@dataclass(frozen=True, slots=True)
class Log:
    address: str
    topics: tuple[bytes, ...]
    data: bytes
    log_index: int
    block_number: int


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_hash: bytes
    block_number: int
    timestamp: int
    status: bool
    gas_used: int
    contract_address: str | None
    logs: tuple[Log, ...]
    revert_data: bytes | None = field(default=None, repr=False)

    def raise_for_status(self) -> Receipt:
        if not self.status:
            raise decode_revert(self.revert_data or b"", self.tx_hash)
        return self


@dataclass(frozen=True, slots=True)
class TxReceipt:
    """What a block commits to of one transaction's outcome (`registry.evm.receipts` encodes it)."""

    status: bool
    cumulative_gas: int  # gas used in the block up to and including this transaction
    logs: tuple[Log, ...]
    tx_type: int = 2  # EIP-1559: every transaction signed here is of this type


@dataclass(frozen=True, slots=True)
class Block:
    number: int
    timestamp: int
    gas_used: int
    tx_count: int


class Chain(ABC):
    """One EVM chain: local signing, explicit gas, events from receipts, snapshots, time control.

    `send` signs and submits a list of transactions and mines them, in as few blocks as the
    block gas limit allows; failed transactions come back with `status=False` and their revert
    data. `transact` sends one and raises `ContractRevert` when it fails.
    """

    chain_id: int
    accounts: list[Account]
    block_gas_limit: int

    def __init__(self, accounts: int = DEFAULT_ACCOUNTS, mnemonic: str = TEST_MNEMONIC) -> None:
        self.accounts = derive_accounts(accounts, mnemonic)
        self._nonces: dict[str, int] = {}
        self._snapshots: dict[int, object] = {}  # snapshot id -> where the backend goes back to
        self._snapshots_taken = 0

    # -- transactions -------------------------------------------------------------------------

    @abstractmethod
    def send(self, txs: Sequence[Tx]) -> list[Receipt]:
        """Sign, submit and mine `txs` in order; one receipt each."""

    def transact(self, tx: Tx) -> Receipt:
        return self.send([tx])[0].raise_for_status()

    def deploy(self, sender: Account, init_code: bytes, gas: int = 8_000_000) -> str:
        receipt = self.transact(Tx(sender, None, init_code, gas))
        assert receipt.contract_address is not None
        return receipt.contract_address

    @abstractmethod
    def call(self, to: str, data: bytes, sender: str | None = None, gas: int = BLOCK_GAS_LIMIT,
             block: int | None = None) -> bytes:
        """Execute against the latest block (or the state after `block`) without a transaction;
        raises `ContractRevert`."""

    @abstractmethod
    def estimate_gas(self, tx: Tx) -> int:
        """The gas `tx` needs if it is mined next (its execution before refunds, or the node's estimate):
        what its gas limit must cover. Raises `ContractRevert` when it would fail with `tx.gas`."""

    def _next_nonce(self, account: Account) -> int:
        nonce = self._nonces.get(account.address)
        if nonce is None:
            nonce = self.nonce(account.address)
        self._nonces[account.address] = nonce + 1
        return nonce

    def _forget_nonces(self) -> None:
        self._nonces.clear()

    # -- state ----------------------------------------------------------------------------------

    @abstractmethod
    def nonce(self, address: str) -> int: ...

    @abstractmethod
    def balance(self, address: str) -> int: ...

    @abstractmethod
    def code(self, address: str) -> bytes: ...

    @property
    @abstractmethod
    def block_number(self) -> int:
        """Number of the latest mined block."""

    @abstractmethod
    def block(self, number: int | None = None) -> Block:
        """The block `number`, or the latest one."""

    @abstractmethod
    def logs(self, address: str, from_block: int, to_block: int) -> list[Log]:
        """Logs of `address` in a bounded block range (never scan from genesis on the hot path)."""

    @abstractmethod
    def block_receipts(self, number: int) -> tuple[TxReceipt, ...]:
        """The receipts of block `number`'s transactions, in order (what its receipts root commits to)."""

    @abstractmethod
    def receipts_root(self, number: int) -> bytes:
        """Block `number`'s receipts root: its header's (computed here on a backend without headers)."""

    def first_kept_block(self) -> int:
        """The oldest block whose state (`call(block=…)`) and logs this chain still answers for."""
        return 0

    def hold_history(self, from_block: int) -> int:
        """Keep answering for the blocks from `from_block` on (their logs, the state at each) until the
        hold is released: a relayer that will resume reads them again. Returns the hold's handle.
        Backends that forget nothing (eth-tester, Anvil) need no hold."""
        return 0

    def release_history(self, hold: int) -> None:  # noqa: B027 - as hold_history: nothing to release here
        """Let the chain forget, as usual, what the hold `hold_history` gave kept."""

    def keep_history(self, blocks: int | None) -> int | None:
        """Answer for the last `blocks` blocks (beyond what is held or pinned; None: the backend's default), and
        return what it answered for before: readers that hold what they will read again need few. Backends
        that forget nothing keep everything (None)."""
        return None

    # -- time and blocks ------------------------------------------------------------------------

    @abstractmethod
    def mine(self, timestamp: int | None = None) -> Block:
        """Mine one block (empty unless transactions wait), at `timestamp` if given."""

    @abstractmethod
    def set_next_timestamp(self, timestamp: int) -> None:
        """The next mined block carries `timestamp` (must be later than the latest block's)."""

    # -- snapshots ------------------------------------------------------------------------------

    def snapshot(self) -> int:
        """A snapshot to revert to. Reverting to it uses it up together with every snapshot taken after it:
        those lie on the branch being left, which cannot be gone back to (the same on every backend;
        eth-tester would bring that branch back, Anvil too)."""
        self._snapshots_taken += 1
        self._snapshots[self._snapshots_taken] = self._mark()
        return self._snapshots_taken

    def revert(self, snapshot_id: int) -> None:
        mark = self._snapshots.get(snapshot_id) if isinstance(snapshot_id, int) else None
        if mark is None:
            raise ChainError(f"chain {self.chain_id} has no snapshot {snapshot_id!r}: a snapshot is used up by "
                             "reverting to it or to one taken before it")
        self._snapshots = {taken: kept for taken, kept in self._snapshots.items() if taken < snapshot_id}
        self._return_to(mark)

    def _return_to(self, mark: object) -> None:
        self._go_back(mark)
        self._went_back()
        self._forget_nonces()

    def _snapshot_marks(self) -> list[object]:
        """Where the snapshots still held go back to, oldest first."""
        return list(self._snapshots.values())

    @abstractmethod
    def _mark(self) -> object:
        """Where a snapshot taken now goes back to (the backend's own token)."""

    @abstractmethod
    def _go_back(self, mark: object) -> None:
        """Make the chain what it was at `mark`, a snapshot's on the current branch."""

    def _went_back(self) -> None:  # noqa: B027 - a hook: backends that keep no pending block state leave it empty
        """Forget what was set for the next block."""

    @contextmanager
    def anchor(self) -> Iterator[None]:
        """Take a snapshot, run the block, then revert everything it did."""
        snapshot_id = self.snapshot()
        try:
            yield
        finally:
            self.revert(snapshot_id)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} chain id {self.chain_id}, block {self.block_number}>"

    def close(self) -> None:  # noqa: B027 - a hook: backends without resources keep it empty
        """Release connections or processes held by the backend."""

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HistoryHolds:
    """One reader's holds on chains' history: from the block it will read again, on each chain, moved on as
    it reads. A revm chain forgets blocks past its window that no one holds; the others keep every block."""

    def __init__(self) -> None:
        self._held: dict[int, tuple[Chain, int, int]] = {}  # chain id → (chain, block held from, hold)

    def keep(self, chain: Chain, from_block: int) -> None:
        """Hold `chain`'s history from `from_block` on, in place of what this reader held there."""
        previous = self._held.get(chain.chain_id)
        if previous is not None and previous[1] == from_block:
            return
        self._held[chain.chain_id] = (chain, from_block, chain.hold_history(from_block))
        if previous is not None:
            previous[0].release_history(previous[2])

    def keep_each(self, holds: Iterable[tuple[Chain, int]]) -> None:
        """`keep` for each (chain, from block)."""
        for chain, from_block in holds:
            self.keep(chain, from_block)

    def release(self) -> None:
        """The reader is gone: let the chains forget what it held."""
        for chain, _, hold in self._held.values():
            chain.release_history(hold)
        self._held.clear()


def contract_address(creator: bytes, nonce: int) -> str:
    """The address of the contract `creator` creates with its transaction of `nonce` (CREATE's rule)."""
    return to_checksum_address(keccak(rlp.encode([creator, nonce]))[12:])


@cache
def _tx_builder() -> Any:
    from eth.vm.forks import PragueVM  # noqa: PLC0415 - py-evm loads when a transaction is first signed

    return PragueVM.get_transaction_builder()


def sign(tx: Tx, chain_id: int, nonce: int, max_fee_per_gas: int) -> Any:
    """An EIP-1559 transaction signed with the sender's local key (py-evm's builder, coincurve)."""
    unsigned = _tx_builder().new_unsigned_dynamic_fee_transaction(
        chain_id=chain_id,
        nonce=nonce,
        max_priority_fee_per_gas=0,
        max_fee_per_gas=max_fee_per_gas,
        gas=tx.gas,
        to=to_canonical_address(tx.to) if tx.to else b"",
        value=tx.value,
        data=tx.data,
        access_list=(),
    )
    return unsigned.as_signed_transaction(tx.sender.key, chain_id=chain_id)


def check_gas_limits(txs: Sequence[Tx], chain_id: int, block_gas_limit: int) -> None:
    """Refuse, before any is mined, a transaction whose gas limit is under its minimum (intrinsic gas,
    Prague's calldata floor) or over the block's."""
    for tx in txs:
        least = minimum_gas(tx.data, creates=tx.to is None)
        if not least <= tx.gas <= block_gas_limit:
            raise TransactionRejected(f"chain {chain_id} refused the transaction: gas limit {tx.gas:,} is outside "
                                      f"[{least:,}, {block_gas_limit:,}]")


def split_by_gas(txs: Sequence[Tx], gas_limit: int) -> list[list[Tx]]:
    """Group transactions into blocks whose summed gas limits fit `gas_limit`."""
    blocks: list[list[Tx]] = []
    current: list[Tx] = []
    used = 0
    for tx in txs:
        if current and used + tx.gas > gas_limit:
            blocks.append(current)
            current, used = [], 0
        current.append(tx)
        used += tx.gas
    if current:
        blocks.append(current)
    return blocks
