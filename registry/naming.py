"""One way to name things in the Python API: a zone, sector or entity by id, by record, or by name in any
spelling the CLI takes (`"Chengdu"`, `"chengdu"`, `"成都市"`, `"xiongan"`); a status by member, number or
name (`"active"`). An unknown name is one `NotFound` that suggests the closest, or lists what there is."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from functools import cache
from typing import Any, Protocol, TypeVar

from .errors import NotFound
from .seeds import load_seed_data, slug

E = TypeVar("E", bound=IntEnum)


class Record(Protocol):
    @property
    def id(self) -> int: ...


Ref = int | str | Record  # an id, a name, or a record (`Zone`, `Entity`, …) for its id


def status_of(enum: type[E], value: E | int | str) -> E:
    """`EntityStatus.ACTIVE`, `2` or `"active"` (any case, `-` for `_`) → the member."""
    if isinstance(value, enum):
        return value
    if isinstance(value, int):
        return enum(value)
    try:
        return enum[str(value).strip().upper().replace("-", "_")]
    except KeyError:
        names = [m.name.lower() for m in enum if m.value]  # NONE is "any", not a status to ask for
        raise NotFound("status", str(value), names) from None


def by_name(kind: str, name: str, records: Sequence[Any]) -> Any:
    """The record called `name`: its name in any case and punctuation, its Chinese name or seed code (zones
    and sectors), or the start of one name only (`"xiong"`)."""
    wanted = slug(name)
    english = _aliases(kind).get(name.strip()) or _aliases(kind).get(wanted)
    for record in records:
        if slug(record.name) in (wanted, slug(english or "")):
            return record
    starting = [r for r in records if wanted and slug(r.name).startswith(wanted)]
    if len(starting) == 1:
        return starting[0]
    raise NotFound(kind, name, [r.name for r in records])


def id_of(ref: Any) -> int | None:
    """The id a reference gives directly (an int, or a record's `id`); None for a name."""
    if isinstance(ref, bool):
        raise TypeError(f"{ref!r} is no id or name")
    if isinstance(ref, int):
        return ref
    if isinstance(ref, str):
        return None
    if isinstance(getattr(ref, "id", None), int):
        return int(ref.id)
    raise TypeError(f"{ref!r} is no id or name")


@cache
def _aliases(kind: str) -> dict[str, str]:
    """Other names of the packaged zones and sectors → their registry name (entities have none)."""
    data = load_seed_data()
    seeds: Sequence[Any] = data.zones if kind == "zone" else data.sectors if kind == "sector" else []
    aliases: dict[str, str] = {}
    for seed in seeds:
        aliases[slug(seed.code)] = seed.name
        if seed.name_zh:
            aliases[seed.name_zh] = seed.name
    return aliases
