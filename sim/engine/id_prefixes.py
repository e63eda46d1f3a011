"""What the watcher keeps of a message it is done with: its id's first 8 bytes, to catch it processed again."""

from __future__ import annotations

import numpy as np


class IdPrefixes:
    """The 8-byte id prefixes of messages done with, to catch one processed again: a sorted array and the few
    added since it was last merged. 8 bytes a message (as a set of ints: about 70), a week's run 10 MB."""

    MERGE_EVERY = 16_384

    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.uint64)
        self._recent: set[int] = set()

    def add(self, prefix: int) -> None:
        self._recent.add(prefix)
        if len(self._recent) >= self.MERGE_EVERY:
            self._sorted = np.union1d(self._sorted, np.fromiter(self._recent, np.uint64, len(self._recent)))
            self._recent.clear()

    def __contains__(self, prefix: int) -> bool:
        if prefix in self._recent:
            return True
        at = int(np.searchsorted(self._sorted, np.uint64(prefix)))
        return at < len(self._sorted) and int(self._sorted[at]) == prefix

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)
