"""A spool: records written to a temporary file as they come, read back once the run is over, in the
order they came or in the order of a key given with each.

A long simulation finishes hundreds of thousands of messages; what it is done with goes to disk, and
memory keeps nothing per record: reading in order reads the file through; reading by key sorts it in
runs of RUN_RECORDS on disk and merges them, holding one run at a time, then one record per run.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any, Generic, TypeVar

T = TypeVar("T")
RUN_RECORDS = 4_096  # records sorted in memory at once when read by key


class Spool(Generic[T]):
    def __init__(self) -> None:
        # deleted when closed, or when the process ends
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - open for the life of the spool
        self._count = 0
        self._at_end = True  # no reader moved the file since the last add (a seek would flush its buffer)

    def add(self, item: T, key: int = 0) -> None:
        if not self._at_end:
            self._file.seek(0, 2)  # at the end, wherever a reader left the file
            self._at_end = True
        pickle.dump((key, item), self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[T]:
        """In the order they were added."""
        for _, item in self._entries():
            yield item

    def by_key(self) -> Iterator[T]:
        """In the order of their keys (ties: as added)."""
        with tempfile.TemporaryFile() as runs_file:
            runs: list[tuple[int, int]] = []  # (offset, records) of each sorted run
            entries = self._entries()
            while run := [entry for _, entry in zip(range(RUN_RECORDS), entries, strict=False)]:
                start = len(runs) * RUN_RECORDS
                runs.append((runs_file.tell(), len(run)))
                for order, (key, item) in sorted(enumerate(run, start), key=lambda e: (e[1][0], e[0])):
                    pickle.dump((key, order, item), runs_file, protocol=pickle.HIGHEST_PROTOCOL)
            runs_file.flush()
            readers = [_read_run(runs_file, offset, count) for offset, count in runs]
            for _, _, item in heapq.merge(*readers, key=lambda e: (e[0], e[1])):
                yield item

    def _entries(self) -> Iterator[tuple[int, Any]]:
        self._file.flush()
        self._at_end = False
        yield from _read_run(self._file, 0, self._count)

    def close(self) -> None:
        self._file.close()


def _read_run(file: IO[bytes], offset: int, count: int) -> Iterator[Any]:
    """`count` records from `offset` on, read where it left off each time (readers share the file)."""
    for _ in range(count):
        file.seek(offset)
        entry = pickle.load(file)
        offset = file.tell()
        yield entry
