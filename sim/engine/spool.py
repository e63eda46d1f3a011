"""A spool: records written to a temporary file as they come, read back once the run is over, in the
order they came or in the order of a key given with each (a file offset per record is all it keeps).

A long simulation finishes tens of thousands of messages; what it is done with goes to disk, so its
memory holds only what is still in flight, and reading it back holds one record at a time.
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Spool(Generic[T]):
    def __init__(self) -> None:
        # deleted when closed, or when the process ends
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - open for the life of the spool
        self._offsets = array("q")
        self._keys = array("q")

    def add(self, item: T, key: int = 0) -> None:
        self._offsets.append(self._file.tell())
        self._keys.append(key)
        pickle.dump(item, self._file, protocol=pickle.HIGHEST_PROTOCOL)

    def __len__(self) -> int:
        return len(self._offsets)

    def __iter__(self) -> Iterator[T]:
        """In the order they were added."""
        yield from self._read(range(len(self._offsets)))

    def by_key(self) -> Iterator[T]:
        """In the order of their keys (ties: as added)."""
        yield from self._read(sorted(range(len(self._offsets)), key=self._keys.__getitem__))

    def _read(self, positions: range | list[int]) -> Iterator[T]:
        self._file.flush()
        end = self._file.tell()
        try:
            for position in positions:
                self._file.seek(self._offsets[position])
                yield pickle.load(self._file)
        finally:
            self._file.seek(end)  # back to the end, for more `add`s

    def close(self) -> None:
        self._file.close()
