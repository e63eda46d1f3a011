"""In-process backend: eth-tester's py-evm chain, driven directly for speed and determinism.

eth-tester builds the genesis (funded accounts, Prague VM) and the chain class, once per genesis in a
process: every further chain of the same genesis starts from a copy of that database (the state of 200
funded accounts costs 70 ms to build, a copy nothing). Blocks are mined with py-evm's
`MiningChain.mine_all`, which applies a whole block at once (eth-tester's own path,
`apply_transaction`, rebuilds the block's tries on every transaction). Signing is local (py-evm's
transaction builder, coincurve underneath). Block timestamps and `mix_hash` are set here, so a fixed
genesis timestamp gives a fully reproducible chain.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB
from eth.exceptions import Revert
from eth.vm.spoof import SpoofTransaction
from eth_tester import PyEVMBackend
from eth_tester.backends.pyevm.main import GENESIS_PARENT_HASH
from eth_utils import ValidationError, keccak, to_canonical_address

from ..defaults import (
    BLOCK_GAS_LIMIT,
    DEFAULT_ACCOUNTS,
    DEFAULT_BALANCE,
    DEFAULT_CHAIN_ID,
    GENESIS_TIMESTAMP,
    TEST_MNEMONIC,
)
from ..errors import ChainError, TransactionRejected
from .abi import checksum
from .artifacts import decode_revert
from .base import Block, Log, Receipt, Tx, TxReceipt, check_gas_limits, contract_address, sign, split_by_gas
from .gasrules import TX_GAS, calldata_costs
from .inprocess import ChainImage, InProcessChain

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

ZERO_ADDRESS = b"\x00" * 20
RECENT_BLOCKS = 512  # blocks whose logs a chain keeps decoded


class EthTesterChain(InProcessChain):
    """A py-evm chain in this process. Time starts at `genesis_timestamp` (as `RevmChain`: fixed unless None,
    the wall clock), and so does every block hash."""

    def __init__(
        self,
        chain_id: int = DEFAULT_CHAIN_ID,
        *,
        accounts: int = DEFAULT_ACCOUNTS,
        mnemonic: str = TEST_MNEMONIC,
        genesis_timestamp: int | None = GENESIS_TIMESTAMP,
        block_gas_limit: int = BLOCK_GAS_LIMIT,
        balance: int = DEFAULT_BALANCE,
    ) -> None:
        super().__init__(chain_id, accounts, mnemonic, genesis_timestamp, block_gas_limit)
        funded = tuple(a.address_bytes for a in self.accounts)
        base, store = _genesis(block_gas_limit, self.genesis, balance, funded)
        # eth-tester hard-codes one chain id on its chain class; each zone chain needs its own.
        chain_class = type(f"PilotChain{chain_id}", (base,), {"chain_id": chain_id})
        # py-evm's MiningChain underneath; a tool that mines on it directly leaves this object behind
        self.evm: Any = chain_class(AtomicDB(MemoryDB(dict(store))))
        self._head: Any = self.evm.get_canonical_head()  # kept up to date here, not read back each time
        self._recent_logs: dict[int, tuple[Log, ...]] = {}  # block number → its logs, for blocks mined here

    @property
    def _chain(self) -> Any:
        return self.evm

    # -- transactions -------------------------------------------------------------------------

    def send(self, txs: Sequence[Tx]) -> list[Receipt]:
        check_gas_limits(txs, self.chain_id, self.block_gas_limit)
        receipts: list[Receipt] = []
        for group in split_by_gas(txs, self.block_gas_limit):
            receipts.extend(self._mine_block(group))
        return receipts

    def _mine_block(self, txs: Sequence[Tx]) -> list[Receipt]:
        chain = self._chain
        # the transactions run on this header (py-evm's mine_all gives its own arguments to the mined
        # header only), so PREVRANDAO reads the block's mix_hash, as on revm
        mix_hash = self._mix_hash(chain.header.block_number)
        chain.header = chain.header.copy(timestamp=self._timestamp_for_next_block(), mix_hash=mix_hash)
        base_fee = chain.header.base_fee_per_gas
        try:
            signed = [sign(tx, self.chain_id, self._next_nonce(tx.sender), base_fee) for tx in txs]
            result, receipts, computations = chain.mine_all(signed, mix_hash=mix_hash)
        except ValidationError as exc:
            self._forget_nonces()
            raise TransactionRejected(f"chain {self.chain_id} refused the transaction: {exc}") from None
        self._next_timestamp = None
        header = self._head = result.imported_block.header
        out: list[Receipt] = []
        cumulative = 0
        log_index = 0
        for tx, evm_tx, receipt, computation in zip(txs, signed, receipts, computations, strict=True):
            logs = []
            for log in receipt.logs:
                topics = tuple(t.to_bytes(32, "big") for t in log.topics)
                logs.append(Log(checksum(log.address), topics, bytes(log.data), log_index,
                                header.block_number))
                log_index += 1
            created = None
            if tx.to is None and not computation.is_error:
                created = contract_address(evm_tx.sender, evm_tx.nonce)
            out.append(
                Receipt(
                    tx_hash=evm_tx.hash,
                    block_number=header.block_number,
                    timestamp=header.timestamp,
                    status=not computation.is_error,
                    gas_used=receipt.gas_used - cumulative,
                    contract_address=created,
                    logs=tuple(logs),
                    revert_data=_revert_data(computation),
                )
            )
            cumulative = receipt.gas_used
        self._remember_logs(header.block_number, tuple(log for r in out for log in r.logs))
        return out

    def _remember_logs(self, number: int, logs: tuple[Log, ...]) -> None:
        """Relayers and watchers read the latest blocks' logs again and again; decoding them from the
        receipt tries each time costs more than keeping the last RECENT_BLOCKS blocks' in memory."""
        self._recent_logs[number] = logs
        if len(self._recent_logs) > RECENT_BLOCKS:
            del self._recent_logs[next(iter(self._recent_logs))]

    def call(self, to: str, data: bytes, sender: str | None = None, gas: int = BLOCK_GAS_LIMIT,
             block: int | None = None) -> bytes:
        unsigned = self._chain.create_unsigned_transaction(
            nonce=0, gas_price=0, gas=gas, to=to_canonical_address(to), value=0, data=data
        )
        spoofed = SpoofTransaction(unsigned, from_=to_canonical_address(sender) if sender else ZERO_ADDRESS)
        with self._state_after(block) as state:
            computation = state.costless_execute_transaction(spoofed)
        if computation.is_error:
            raise decode_revert(_revert_data(computation) or b"")
        return bytes(computation.output)

    def estimate_gas(self, tx: Tx) -> int:
        unsigned = self._chain.create_unsigned_transaction(
            nonce=self.nonce(tx.sender.address), gas_price=0, gas=tx.gas,
            to=to_canonical_address(tx.to) if tx.to else b"", value=tx.value, data=tx.data)
        spoofed = SpoofTransaction(unsigned, from_=to_canonical_address(tx.sender.address))
        with self._state_after(None) as state:
            computation = state.costless_execute_transaction(spoofed)
        if computation.is_error:
            raise decode_revert(_revert_data(computation) or b"")
        standard, floor = calldata_costs(tx.data)
        return max(TX_GAS + standard + computation.get_gas_used(), floor)

    @contextmanager
    def _state_after(self, block: int | None) -> Iterator[Any]:
        """The state after `block` (or the latest), as the block after it sees it: a second later, its own
        prevrandao, no base fee (py-evm's `in_costless_state` takes the wall clock for the time). Whatever
        runs on it is undone."""
        chain = self._chain
        parent = self._head if block is None else chain.get_canonical_block_header_by_number(block)
        vm = chain.get_vm(parent)
        child = vm.generate_block_from_parent_header_and_coinbase(parent, parent.coinbase).header
        header = child.copy(timestamp=parent.timestamp + 1, mix_hash=self._mix_hash(child.block_number),
                            base_fee_per_gas=0)
        state = vm.build_state(vm.chaindb.db, header, vm.chain_context,
                               itertools.chain((parent.hash,), vm.previous_hashes))
        snapshot = state.snapshot()
        try:
            yield state
        finally:
            state.revert(snapshot)

    # -- state ----------------------------------------------------------------------------------

    def nonce(self, address: str) -> int:
        return int(self._latest_state().get_nonce(to_canonical_address(address)))

    def balance(self, address: str) -> int:
        return int(self._latest_state().get_balance(to_canonical_address(address)))

    def code(self, address: str) -> bytes:
        return bytes(self._latest_state().get_code(to_canonical_address(address)))

    def _latest_state(self) -> Any:
        return self._chain.get_vm(self._head).state

    @property
    def block_number(self) -> int:
        return int(self._head.block_number)

    def block(self, number: int | None = None) -> Block:
        chain = self._chain
        header = self._head if number is None else chain.get_canonical_block_header_by_number(number)
        block = chain.get_block_by_header(header)
        return Block(header.block_number, header.timestamp, header.gas_used, len(block.transactions))

    def logs(self, address: str, from_block: int, to_block: int) -> list[Log]:
        chain = self._chain
        wanted, checksummed = to_canonical_address(address), checksum(address)
        found: list[Log] = []
        for number in range(from_block, min(to_block, self.block_number) + 1):
            recent = self._recent_logs.get(number)
            if recent is not None:
                found.extend(log for log in recent if log.address == checksummed)
                continue
            block = chain.get_canonical_block_by_number(number)
            log_index = 0
            for receipt in block.get_receipts(chain.chaindb):
                for log in receipt.logs:
                    if log.address == wanted:
                        topics = tuple(t.to_bytes(32, "big") for t in log.topics)
                        found.append(Log(checksum(log.address), topics, bytes(log.data), log_index,
                                         number))
                    log_index += 1
        return found

    def block_receipts(self, number: int) -> tuple[TxReceipt, ...]:
        block = self._chain.get_canonical_block_by_number(number)
        receipts = []
        log_index = 0
        for tx, receipt in zip(block.transactions, block.get_receipts(self._chain.chaindb), strict=True):
            logs = []
            for log in receipt.logs:
                logs.append(Log(checksum(log.address), tuple(t.to_bytes(32, "big") for t in log.topics),
                                bytes(log.data), log_index, number))
                log_index += 1
            receipts.append(TxReceipt(bool(receipt.state_root == b"\x01"), receipt.gas_used, tuple(logs),
                                      getattr(tx, "type_id", None) or 0))
        return tuple(receipts)

    def receipts_root(self, number: int) -> bytes:
        return bytes(self._chain.get_canonical_block_header_by_number(number).receipt_root)

    # -- time and blocks ------------------------------------------------------------------------

    def _latest_timestamp(self) -> int:
        return int(self._head.timestamp)

    def _mix_hash(self, number: int) -> bytes:
        # post-merge prevrandao; derived, not random, so runs repeat exactly
        return keccak(self.chain_id.to_bytes(32, "big") + number.to_bytes(32, "big"))

    # -- images: the whole chain, to keep and load again --------------------------------------

    def image(self) -> ChainImage:
        """Everything the chain holds (its database) and its head block: what `load_image` restores."""
        return ChainImage(dict(self._store()), bytes(self._head.hash))

    def load_image(self, image: ChainImage) -> None:
        """Become the chain `image` was taken of (on a chain of the same id and genesis)."""
        self._store().update(image.store)
        self._snapshots.clear()  # they were the other chain's
        self._return_to(image.head)

    def _store(self) -> dict[bytes, bytes]:
        db = self._chain.chaindb.db.wrapped_db  # eth-tester's AtomicDB over a MemoryDB
        if not isinstance(db, MemoryDB):
            raise ChainError(f"chain {self.chain_id} does not keep its state in memory: no image")
        return db.kv_store

    # -- snapshots ------------------------------------------------------------------------------

    def _mark(self) -> object:
        return self._head.hash

    def _go_back(self, mark: object) -> None:
        # Make the snapshot's block the head again; unlike eth-tester's revert this does not
        # re-execute that block, so reverting after a heavy block is as cheap as after an empty one.
        chain = self._chain
        header = chain.get_block_header_by_hash(mark)
        chain.chaindb._set_as_canonical_chain_head(chain.chaindb.db, header, GENESIS_PARENT_HASH)
        chain.header = chain.create_header_from_parent(header)
        if header.hash != self._head.hash:
            self._recent_logs = {}  # the logs kept by block number may be another branch's now
        self._head = header


@lru_cache(maxsize=8)
def _genesis(gas_limit: int, timestamp: int, balance: int,
             funded: tuple[bytes, ...]) -> tuple[type, dict[bytes, bytes]]:
    """The chain class and genesis database eth-tester makes for these parameters (built once)."""
    params = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": gas_limit, "timestamp": timestamp})
    state = {address: {"balance": balance, "nonce": 0, "code": b"", "storage": {}} for address in funded}
    chain = PyEVMBackend(genesis_parameters=params, genesis_state=state).chain
    return type(chain), dict(chain.chaindb.db.wrapped_db.kv_store)


def _revert_data(computation: Any) -> bytes | None:
    if not computation.is_error:
        return None
    error = computation.error
    if isinstance(error, Revert) and error.args and isinstance(error.args[0], bytes):
        return error.args[0]
    return b""
