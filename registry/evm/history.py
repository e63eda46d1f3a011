"""A revm chain's past: every block's time and gas in compact arrays; the logs of its latest blocks; the
database writes that undo the very latest (the state at a past block, and a revert, need them); and both
from any snapshot or hold still held.

What is older than that is forgotten, so a day-long run keeps flat memory: a call at, or a log query
from, a forgotten block is refused with the reason rather than answered wrongly. Logs are kept longer
than state: readers come back for them (a relayer attesting a message that waited); a past state is
asked for by a relayer finding where to resume, which holds what it needs.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import ChainError
from .base import Block, Log, TxReceipt

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

Outcomes = tuple[tuple[bool, int, int], ...]  # each transaction's status, gas used and number of logs
HISTORY_BLOCKS = 1_024  # blocks whose logs are kept: 34 minutes at one block per 2 s
STATE_BLOCKS = 64  # blocks whose undo writes are kept (a few kB each: most of a long run's memory once kept longer)
FORGET_EVERY = 32  # blocks between two trims


@dataclass(frozen=True, slots=True)
class Write:
    """One database write: a slot (`key` not None) or an account's (balance, nonce); old and new values."""

    address: str
    key: int | None
    old: Any
    new: Any


class History:
    def __init__(self, chain_id: int, genesis_timestamp: int, keep: int | None = None) -> None:
        self.chain_id = chain_id
        self.keep = self.state_keep = 0
        self.set_window(keep)
        self._timestamps = array("q", [genesis_timestamp])
        self._gas = array("q", [0])
        self._tx_counts = array("q", [0])
        self._marks = array("q", [0])  # after each block: how many writes had been made in all
        self._ids = array("q", [0])  # each block's own number among every block ever mined here
        self._mined = 0
        self._logs: dict[int, tuple[Log, ...]] = {}  # kept blocks that have logs
        self._outcomes: dict[int, Outcomes] = {}  # kept blocks that have transactions: their receipts' own parts
        self._writes: list[Write] = []
        self._forgotten = 0  # writes made before the first one in `_writes`
        self.start = 0  # the oldest block whose logs are kept
        self.state_start = 0  # the oldest block whose state is kept
        self.pins: set[int] = set()  # heights of the snapshots held: the blocks after them keep their history
        self.holds: dict[int, int] = {}  # handle → height: kept from there on for a reader to come (a relayer)
        self._holds_made = 0

    @property
    def head(self) -> int:
        return len(self._timestamps) - 1

    def block(self, number: int) -> Block:
        if not 0 <= number <= self.head:
            raise ChainError(f"chain {self.chain_id} has no block {number} (head {self.head})")
        return Block(number, self._timestamps[number], self._gas[number], self._tx_counts[number])

    @property
    def writes_kept(self) -> int:
        return len(self._writes)

    def timestamp(self) -> int:
        return self._timestamps[-1]

    def record(self, write: Write) -> None:
        self._writes.append(write)

    def add_block(self, timestamp: int, gas: int, transactions: int, logs: tuple[Log, ...],
                  outcomes: Outcomes = ()) -> None:
        self._timestamps.append(timestamp)
        self._gas.append(gas)
        self._tx_counts.append(transactions)
        self._marks.append(self._forgotten + len(self._writes))
        self._mined += 1
        self._ids.append(self._mined)
        if logs:
            self._logs[self.head] = logs
        if outcomes:
            self._outcomes[self.head] = outcomes
        if self.head % FORGET_EVERY == 0:
            self._forget()

    def logs(self, from_block: int, to_block: int) -> Iterator[Log]:
        first, last = max(from_block, 0), min(to_block, self.head)
        if first < self.start and first <= last:
            raise ChainError(f"chain {self.chain_id} keeps logs of its last {self.keep} blocks (from block "
                             f"{self.start}); asked from block {first}")
        for number in range(first, last + 1):
            yield from self._logs.get(number, ())

    def receipts(self, number: int) -> tuple[TxReceipt, ...]:
        """Block `number`'s receipts, from its transactions' outcomes and its logs (kept as long as logs are)."""
        if not self.start <= number <= self.head:
            raise ChainError(f"chain {self.chain_id} keeps receipts of its last {self.keep} blocks (from block "
                             f"{self.start}); asked for block {number}")
        logs = self._logs.get(number, ())
        receipts = []
        cumulative = start = 0
        for status, gas, count in self._outcomes.get(number, ()):
            cumulative += gas
            receipts.append(TxReceipt(status, cumulative, logs[start:start + count]))
            start += count
        return tuple(receipts)

    def writes_after(self, number: int) -> list[Write]:
        """The writes made after block `number`, oldest first (to undo them: newest first)."""
        if number < self.state_start:
            raise ChainError(f"chain {self.chain_id} keeps the state of its last {self.state_keep} blocks (from "
                             f"block {self.state_start}); asked for block {number}")
        return self._writes[self._marks[number] - self._forgotten:]

    def block_id(self, number: int) -> int:
        """Which block is at height `number` now: a revert and new blocks put another one there."""
        return self._ids[number]

    def discard_unmined(self) -> list[Write]:
        """The writes made since the latest block (a block being mined that was refused), forgotten."""
        start = self._marks[-1] - self._forgotten
        undone = self._writes[start:]
        del self._writes[start:]
        return undone

    def truncate(self, number: int) -> list[Write]:
        """Forget the blocks after `number`; the writes they made, oldest first, for the caller to undo."""
        undone = self.writes_after(number)
        del self._writes[self._marks[number] - self._forgotten:]
        for past in range(number + 1, self.head + 1):
            self._logs.pop(past, None)
            self._outcomes.pop(past, None)
        for column in (self._timestamps, self._gas, self._tx_counts, self._marks, self._ids):
            del column[number + 1:]
        return undone

    def set_window(self, blocks: int | None) -> int:
        """Keep the logs of the last `blocks` blocks (None: HISTORY_BLOCKS), the state of STATE_BLOCKS of them at
        most; returns the window it had."""
        before = self.keep
        self.keep = HISTORY_BLOCKS if blocks is None else blocks  # blocks whose logs are kept
        self.state_keep = min(self.keep, STATE_BLOCKS)  # blocks whose state is
        return before

    def hold(self, from_block: int) -> int:
        """Keep the logs and state of the blocks from `from_block` on (what is still kept of them) until released."""
        self._holds_made += 1
        self.holds[self._holds_made] = from_block
        return self._holds_made

    def release(self, hold: int) -> None:
        self.holds.pop(hold, None)

    def _forget(self) -> None:
        held = [*self.pins, *self.holds.values()]
        state_from = min([self.head - self.state_keep, *held])
        if state_from > self.state_start:
            drop = self._marks[state_from] - self._forgotten
            del self._writes[:drop]
            self._forgotten += drop
            self.state_start = state_from
        logs_from = min([self.head - self.keep, *held])
        if logs_from > self.start:
            for kept in (self._logs, self._outcomes):
                for number in [n for n in kept if n < logs_from]:
                    del kept[number]
            self.start = logs_from
