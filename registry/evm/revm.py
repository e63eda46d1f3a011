"""In-process backend on revm, the Rust EVM under Anvil, through `pyrevm` (a run about 30x faster than on py-evm).

pyrevm 0.3.7 (revm 8) runs calls, not transactions: its journal is never finalised, so accounts and
storage slots stay warm from one call to the next, the caller's nonce does not move, and a slot's
"original value" (what SSTORE pricing compares against) stays what it was at its first load. This
backend establishes transaction semantics on top of it, so gas is exactly py-evm's:

- every transaction runs inside a journal checkpoint on a state that holds nothing warm; its changes
  are read from the journal, the checkpoint is reverted (everything cold again) and the changes are
  written to the database underneath, which revm does not journal: the next transaction loads them
  cold, with them as its original values;
- nonces are kept here; gas is priced at zero (balances move by value only);
- Prague's calldata floor (EIP-7623), which revm 8 predates, is applied to the gas used.

Chain snapshots are positions in the log of those database writes (see `history`): a revert undoes
the writes after it; a call at an earlier block undoes to it, calls, and redoes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import pyrevm

from ..defaults import (
    BLOCK_GAS_LIMIT,
    DEFAULT_ACCOUNTS,
    DEFAULT_BALANCE,
    DEFAULT_CHAIN_ID,
    GENESIS_TIMESTAMP,
    TEST_MNEMONIC,
)
from ..errors import TransactionRejected
from .abi import canonical, checksum
from .artifacts import decode_revert
from .base import Block, Log, Receipt, Tx, TxReceipt, check_gas_limits, contract_address, split_by_gas
from .gasrules import calldata_costs
from .hashing import keccak
from .history import History, Write
from .inprocess import InProcessChain
from .revm_code import code_info
from .revm_journal import Change, read_changes

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

SPEC = "Cancun"  # revm 8's newest complete fork (its spelling); the Prague rule transactions meet is applied here
ZERO = "0x" + "00" * 20
COINBASE = ZERO  # as on eth-tester's chains (warm in every transaction, EIP-3651, like any coinbase)

_REVERT = re.compile(r"Revert \{ gas_used: \d+, output: 0x([0-9a-f]*) \}")


class RevmChain(InProcessChain):
    """A revm chain in this process, gas-exact to py-evm. Time starts at `genesis_timestamp` (the pilot
    announcement, 29 Jan 2022, unless given; None: the wall clock) and moves a second a block, so the same calls
    give the same blocks; the logs of the last `history_blocks` blocks (1,024 unless given), the state of
    the last 64 of them at most, and both from any snapshot taken or hold placed are kept (see History)."""

    def __init__(
        self,
        chain_id: int = DEFAULT_CHAIN_ID,
        *,
        accounts: int = DEFAULT_ACCOUNTS,
        mnemonic: str = TEST_MNEMONIC,
        genesis_timestamp: int | None = GENESIS_TIMESTAMP,
        block_gas_limit: int = BLOCK_GAS_LIMIT,
        balance: int = DEFAULT_BALANCE,
        history_blocks: int | None = None,  # None: HISTORY_BLOCKS
    ) -> None:
        super().__init__(chain_id, accounts, mnemonic, genesis_timestamp, block_gas_limit)
        env = pyrevm.Env(cfg=pyrevm.CfgEnv(chain_id=chain_id), block=self._block_env(0, self.genesis))
        self.evm: Any = pyrevm.EVM(env=env, gas_limit=block_gas_limit, spec_id=SPEC)
        self._infos: dict[str, tuple[int, int]] = {}  # address -> (balance, nonce), every account that exists
        self._codes: dict[str, bytes] = {}
        for account in self.accounts:
            self._put_info(account.address.lower(), (balance, 0, None))
        self.history = History(chain_id, self.genesis, keep=history_blocks)
        self._expect_next_block()

    # -- transactions -------------------------------------------------------------------------

    def send(self, txs: Sequence[Tx]) -> list[Receipt]:
        check_gas_limits(txs, self.chain_id, self.block_gas_limit)
        receipts: list[Receipt] = []
        for group in split_by_gas(txs, self.block_gas_limit):
            receipts.extend(self._mine_block(group))
        return receipts

    def _mine_block(self, txs: Sequence[Tx]) -> list[Receipt]:
        number = self.history.head + 1
        timestamp = self._timestamp_for_next_block()
        self.evm.set_block_env(self._block_env(number, timestamp))
        receipts: list[Receipt] = []
        logs: list[Log] = []
        try:
            for tx in txs:
                receipt = self._apply(tx, number, timestamp, len(logs))
                receipts.append(receipt)
                logs.extend(receipt.logs)
        except BaseException:  # one refused: the block is not mined, nothing of it stays
            for write in reversed(self.history.discard_unmined()):
                self._restore(write, write.old)
            self._forget_nonces()
            raise
        self.history.add_block(timestamp, sum(r.gas_used for r in receipts), len(txs), tuple(logs),
                               tuple((r.status, r.gas_used, len(r.logs)) for r in receipts))
        self._next_timestamp = None
        self._expect_next_block()
        return receipts

    def _apply(self, tx: Tx, number: int, timestamp: int, log_index: int) -> Receipt:
        sender = tx.sender.address.lower()
        nonce = self._next_nonce(tx.sender)
        balance = self._infos.get(sender, (0, 0))[0]
        if tx.value > balance:
            self._forget_nonces()
            raise TransactionRejected(f"chain {self.chain_id} refused the transaction: {sender} holds {balance} wei, "
                                      f"not {tx.value}")
        created = None
        if tx.to is None:
            created = contract_address(canonical(sender), nonce)
        result, revert_data, changes = self._execute(tx, sender)
        for address, change in changes.items():
            if change.destroyed:  # created and self-destructed in this transaction (EIP-6780): gone
                self._write_info(address, 0, 0, b"")
                continue
            if change.code is not None:
                self._write_info(address, change.balance, change.nonce, change.code)
            elif self._infos.get(address, (0, 0)) != (change.balance, change.nonce):
                self._write_info(address, change.balance, change.nonce)
            for key, (old, new) in change.slots.items():
                self._put_slot(address, key, new)
                self.history.record(Write(address, key, old, new))
        balance_now = self._infos.get(sender, (0, 0))[0]
        self._write_info(sender, balance_now, nonce + 1)
        gas_used = max(result.gas_used, calldata_costs(tx.data)[1])  # Prague's floor, which revm 8 predates
        logs = tuple(
            Log(checksum(log.address), tuple(log.data[0]), bytes(log.data[1]), log_index + i, number)
            for i, log in enumerate(result.logs))
        return Receipt(
            tx_hash=_tx_hash(self.chain_id, sender, nonce),
            block_number=number,
            timestamp=timestamp,
            status=result.is_success,
            gas_used=gas_used,
            contract_address=created if result.is_success else None,
            logs=logs,
            revert_data=None if result.is_success else revert_data,
        )

    def _execute(self, tx: Tx, sender: str) -> tuple[Any, bytes | None, dict[str, Change]]:
        """Run `tx` on a cold state and read what it changed; revm's journal is left as it was, whatever
        happens (a transaction it refuses raises `TransactionRejected`)."""
        checkpoint = self.evm.snapshot()
        try:
            revert_data: bytes | None = None
            try:
                if tx.to is None:
                    self.evm.deploy(sender, tx.data, value=tx.value, gas=tx.gas)
                else:
                    self.evm.message_call(sender, tx.to, tx.data, value=tx.value, gas=tx.gas)
            except RuntimeError as exc:
                revert_data = _revert_data(exc)
                if self.evm.result is None:  # refused before it ran: revm's validation
                    raise TransactionRejected(f"chain {self.chain_id} refused the transaction: {exc}") from None
            except (ValueError, OverflowError, TypeError) as exc:  # pyrevm could not even read it (a negative value)
                raise TransactionRejected(f"chain {self.chain_id} refused the transaction: {exc}") from None
            result = self.evm.result
            changes = read_changes(self.evm.journal_str) if result.is_success else {}
            for address, change in changes.items():
                if change.code_length is not None:  # revm pads analysed code; the journal has its length
                    change.code = bytes(self.evm.get_code(address) or b"")[:change.code_length]
            return result, revert_data, changes
        finally:
            self.evm.revert(checkpoint)
            self.evm.reset_transient_storage()

    def call(self, to: str, data: bytes, sender: str | None = None, gas: int = BLOCK_GAS_LIMIT,
             block: int | None = None) -> bytes:
        if block is not None and block < self.block_number:
            with self._at_block(block):
                return self.call(to, data, sender, gas)
        with self._probe():
            return bytes(self.evm.message_call(sender or ZERO, to, data, gas=gas))

    def estimate_gas(self, tx: Tx) -> int:
        with self._probe():
            self.evm.message_call(tx.sender.address.lower(), tx.to, tx.data, value=tx.value, gas=tx.gas)
            result = self.evm.result
            return max(result.gas_used + result.gas_refunded, calldata_costs(tx.data)[1])

    @contextmanager
    def _probe(self) -> Iterator[None]:
        """Run something that must leave no trace (a call, an estimate): undone whatever happens, a revert
        raised as `ContractRevert`."""
        checkpoint = self.evm.snapshot()
        try:
            yield
        except RuntimeError as exc:
            raise decode_revert(_revert_data(exc)) from None
        finally:
            self.evm.revert(checkpoint)
            self.evm.reset_transient_storage()

    # -- the database underneath, and its undo log ------------------------------------------------

    def _write_info(self, address: str, balance: int, nonce: int, code: bytes | None = None) -> None:
        """An account's new balance and nonce (and code, when created), kept with what it was."""
        old = self._account(address)
        new = (balance, nonce, old[2] if code is None and old else code)
        self.history.record(Write(address, None, old, new))
        self._put_info(address, new)

    def _account(self, address: str) -> tuple[int, int, bytes | None] | None:
        if address not in self._infos:
            return None
        return (*self._infos[address], self._codes.get(address))

    def _put_info(self, address: str, account: tuple[int, int, bytes | None] | None) -> None:
        if account is None:  # an account undone out of existence: empty again, which the EVM treats alike
            self._infos.pop(address, None)
            self._codes.pop(address, None)
            self.evm.insert_account_info(address, pyrevm.AccountInfo())
            return
        balance, nonce, code = account
        self._infos[address] = (balance, nonce)
        if code:
            self._codes[address] = code
            self.evm.insert_account_info(address, code_info(balance, nonce, code))  # analysed once, not per call
        else:
            self._codes.pop(address, None)
            self.evm.insert_account_info(address, pyrevm.AccountInfo(balance=balance, nonce=nonce))  # type: ignore[call-arg]

    def _put_slot(self, address: str, key: int, value: int) -> None:
        # the account is cold, so this writes the database; the load it also does is undone at once
        checkpoint = self.evm.snapshot()
        self.evm.insert_account_storage(address, key, value)
        self.evm.revert(checkpoint)

    def _restore(self, write: Write, value: Any) -> None:
        if write.key is None:
            self._put_info(write.address, value)
        else:
            self._put_slot(write.address, write.key, value)

    # -- state ----------------------------------------------------------------------------------

    def nonce(self, address: str) -> int:
        return self._infos.get(address.lower(), (0, 0))[1]

    def balance(self, address: str) -> int:
        return self._infos.get(address.lower(), (0, 0))[0]

    def code(self, address: str) -> bytes:
        return self._codes.get(address.lower(), b"")

    @property
    def block_number(self) -> int:
        return self.history.head

    def block(self, number: int | None = None) -> Block:
        return self.history.block(self.history.head if number is None else number)

    def logs(self, address: str, from_block: int, to_block: int) -> list[Log]:
        checksummed = checksum(address)
        return [log for log in self.history.logs(from_block, to_block) if log.address == checksummed]

    def block_receipts(self, number: int) -> tuple[TxReceipt, ...]:
        return self.history.receipts(number)

    def receipts_root(self, number: int) -> bytes:
        from .receipts import ReceiptsTrie  # loads py-trie: only a chain asked for it

        return ReceiptsTrie(self.block_receipts(number)).root

    def first_kept_block(self) -> int:
        return self.history.state_start  # its logs go back further

    def hold_history(self, from_block: int) -> int:
        return self.history.hold(from_block)

    def release_history(self, hold: int) -> None:
        self.history.release(hold)

    def keep_history(self, blocks: int | None) -> int | None:
        return self.history.set_window(blocks)

    # -- time and blocks ------------------------------------------------------------------------

    def _block_env(self, number: int, timestamp: int) -> Any:
        mix_hash = _mix_hash(self.chain_id, number)
        return pyrevm.BlockEnv(number=number, timestamp=timestamp, prevrandao=mix_hash, coinbase=COINBASE,
                               gas_limit=self.block_gas_limit)

    def _latest_timestamp(self) -> int:
        return int(self.history.timestamp())

    # -- snapshots ------------------------------------------------------------------------------

    def _mark(self) -> object:
        number = self.block_number
        self.history.pins.add(number)  # the blocks after it keep their history while it is held
        return number

    def _go_back(self, mark: object) -> None:
        assert isinstance(mark, int)
        for write in reversed(self.history.truncate(mark)):
            self._restore(write, write.old)
        self.history.pins = {number for number in self._snapshot_marks() if isinstance(number, int)}
        self._expect_next_block()

    def _expect_next_block(self) -> None:
        """What calls see as the current block: the one after the head (its number, a time after it)."""
        head = self.history.head
        self.evm.set_block_env(self._block_env(head + 1, self.history.timestamp() + 1))

    @contextmanager
    def _at_block(self, number: int) -> Iterator[None]:
        """The state after block `number` for the time of the block: undone to it, then redone."""
        later = self.history.writes_after(number)
        for write in reversed(later):
            self._restore(write, write.old)
        self.evm.set_block_env(self._block_env(number + 1, self.history.block(number).timestamp + 1))
        try:
            yield
        finally:
            for write in later:
                self._restore(write, write.new)
            self._expect_next_block()


def _revert_data(exc: RuntimeError) -> bytes:
    """The revert data in pyrevm's text of a failed call (empty when it has none)."""
    found = _REVERT.search(str(exc))
    return bytes.fromhex(found.group(1)) if found else b""


@lru_cache(maxsize=64)  # each block's asked for twice: as the next block for calls, then when it is mined
def _mix_hash(chain_id: int, number: int) -> bytes:
    """PREVRANDAO, as eth-tester's: keccak(chain id, block number)."""
    return keccak(chain_id.to_bytes(32, "big") + number.to_bytes(32, "big"))


def _tx_hash(chain_id: int, sender: str, nonce: int) -> bytes:
    """Transactions are not signed here, so not hashed as signed: this names each one uniquely."""
    return keccak(chain_id.to_bytes(32, "big") + canonical(sender) + nonce.to_bytes(32, "big"))
