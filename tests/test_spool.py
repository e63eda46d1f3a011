"""The spool: what a run is done with, on disk, read back in order or by key (sorted in runs on disk)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import spool as spool_module
from sim.engine.id_prefixes import IdPrefixes
from sim.engine.spool import Spool


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), max_size=200), st.integers(1, 40))
def test_read_by_key_is_a_stable_sort_across_runs(keys: list[int], run: int) -> None:
    spool_module.RUN_RECORDS, before = run, spool_module.RUN_RECORDS  # many runs to merge, or one
    try:
        spool: Spool[tuple[int, int]] = Spool()
        for position, key in enumerate(keys):
            spool.add((key, position), key=key)
        assert list(spool) == [(k, p) for p, k in enumerate(keys)]  # as added
        assert list(spool.by_key()) == sorted(((k, p) for p, k in enumerate(keys)), key=lambda e: e[0])
        assert len(spool) == len(keys)
    finally:
        spool_module.RUN_RECORDS = before


def test_adding_while_a_reader_is_part_way_appends_and_the_reader_goes_on() -> None:
    spool: Spool[str] = Spool()
    for key, item in ((3, "a"), (1, "b"), (2, "c")):
        spool.add(item, key=key)
    reading = iter(spool)
    assert next(reading) == "a"
    spool.add("d", key=0)  # while a reader is part way: at the end, nothing it has yet to read overwritten
    assert list(reading) == ["b", "c"]  # the reader counted what was there when it began
    assert list(spool) == ["a", "b", "c", "d"]
    assert list(spool.by_key()) == ["d", "b", "c", "a"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=300, unique=True), st.lists(st.integers(0, 2**64 - 1), max_size=50))
def test_the_watchers_id_prefixes_answer_as_a_set_would(added: list[int], asked: list[int]) -> None:
    """The compact record of messages done with (a sorted array, merged every so often) knows exactly the added."""
    IdPrefixes.MERGE_EVERY, before = 7, IdPrefixes.MERGE_EVERY  # several merges
    try:
        prefixes = IdPrefixes()
        for prefix in added:
            prefixes.add(prefix)
        assert len(prefixes) == len(added)
        for prefix in added + asked:
            assert (prefix in prefixes) == (prefix in set(added))
    finally:
        IdPrefixes.MERGE_EVERY = before
