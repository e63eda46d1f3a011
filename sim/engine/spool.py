"""A spool: records written to a temporary file as they come, read back in order once the run is over.

A long simulation finishes tens of thousands of messages; what it is done with goes to disk, so its
memory holds only what is still in flight.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Spool(Generic[T]):
    def __init__(self) -> None:
        # deleted when closed, or when the process ends
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - open for the life of the spool
        self.count = 0

    def add(self, item: T) -> None:
        pickle.dump(item, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[T]:
        self._file.flush()
        self._file.seek(0)
        try:
            for _ in range(self.count):
                yield pickle.load(self._file)
        finally:
            self._file.seek(0, 2)  # back to the end, for more `add`s

    def close(self) -> None:
        self._file.close()
