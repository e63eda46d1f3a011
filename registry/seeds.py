"""Seed data: the 15 zones, the 16 sector fields, the entities and their pilots, validated.

Bundled CSVs live in `seeds/`; `load_seed_data(entities=PATH)` swaps in another entity list.
A bad row raises `SeedDataError` naming the file, line and field.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import NotFound, SeedDataError, first_error
from .models import Category
from .paths import SEEDS_DIR

Provenance = Literal["reported", "synthetic"]
T = TypeVar("T", bound=BaseModel)
MAX_TITLE_BYTES = 64


@lru_cache(maxsize=4096)  # zones and sectors are looked up by name for every message a workload draws
def slug(text: str) -> str:
    """`Xiong'an New Area` → `xiongannewarea`: how names are matched, whatever the spelling."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="ignore")


class ZoneSeed(_Row):
    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    name_zh: str = ""
    province: str = Field(min_length=1)
    anchor: str = ""
    provenance: Provenance
    source: str = ""


class SectorSeed(_Row):
    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    name_zh: str = ""
    category: str

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        labels = [c.label for c in Category]
        if value not in labels:
            raise ValueError(f"unknown category {value!r} (expected one of {', '.join(labels)})")
        return value

    @property
    def category_id(self) -> Category:
        return Category[self.category.upper().replace("-", "_")]


def _split_semicolons(value: object) -> object:
    """`a; b;c` → ["a", "b", "c"] (CSV cells hold lists this way)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


SemicolonList = Annotated[list[str], BeforeValidator(_split_semicolons)]


class EntitySeed(_Row):
    name: str = Field(min_length=1, max_length=120)
    sectors: SemicolonList = Field(min_length=1)
    province: str = Field(min_length=1)
    zone: str = Field(min_length=1)
    provenance: Provenance
    source: str = ""
    note: str = ""
    pilot_title: str = ""

    @field_validator("pilot_title")
    @classmethod
    def _short_title(cls, value: str) -> str:
        if len(value.encode()) > MAX_TITLE_BYTES:
            raise ValueError(f"longer than {MAX_TITLE_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def _reported_has_source(self) -> EntitySeed:
        if self.provenance == "reported" and not self.source:
            raise ValueError("a reported entity needs a source")
        return self


class PolicySeed(_Row):
    """Entities of `requester_sector` may receive data of `data_sectors` (`*`: every sector)."""

    requester_sector: str = Field(min_length=1)
    data_sectors: SemicolonList = Field(min_length=1)
    reason: str = ""


class PilotSeed(BaseModel):
    entity_index: int  # 0-based position in the entity list; on chain the entity id is index + 1
    sector_code: str
    title: str


class SeedData(BaseModel):
    zones: list[ZoneSeed]
    sectors: list[SectorSeed]
    entities: list[EntitySeed]
    pilots: list[PilotSeed]
    policy: list[PolicySeed]

    def __repr__(self) -> str:  # short where it is shown whole: a failing test's arguments, a REPL
        return (f"SeedData({len(self.zones)} zones, {len(self.sectors)} sectors, {len(self.entities)} entities, "
                f"{len(self.pilots)} pilots)")
    entities_source: str

    def policy_masks(self) -> dict[int, int]:
        """Requester sector id → bit mask of the data sectors it may receive (bit i-1 for sector i)."""
        everything = (1 << len(self.sectors)) - 1
        masks: dict[int, int] = {}
        for row in self.policy:
            mask = 0
            for name in row.data_sectors:
                mask |= everything if name == "*" else 1 << (self.sector_id(name) - 1)
            masks[self.sector_id(row.requester_sector)] = mask
        return masks

    def only_zones(self, names: list[str]) -> SeedData:
        """The same data restricted to some zones (renumbered in the order given) and their entities."""
        keep = [self.zones[self.zone_id(n) - 1] for n in names]
        codes = {z.code for z in keep}
        old_index = [i for i, e in enumerate(self.entities) if e.zone in codes]
        new_index = {old: new for new, old in enumerate(old_index)}
        pilots = [p.model_copy(update={"entity_index": new_index[p.entity_index]})
                  for p in self.pilots if p.entity_index in new_index]
        return self.model_copy(update={"zones": keep, "entities": [self.entities[i] for i in old_index],
                                       "pilots": pilots})

    def first_entities(self, count: int) -> SeedData:
        """The same data with only the first `count` entities and their pilots."""
        return self.model_copy(update={"entities": self.entities[:count],
                                       "pilots": [p for p in self.pilots if p.entity_index < count]})

    def zone_id(self, name: str) -> int:
        """1-based id of a zone, by code or name in any spelling; `NotFound` suggests close names."""
        wanted = slug(name)
        for i, zone in enumerate(self.zones):
            if wanted in (slug(zone.code), slug(zone.name)) or (wanted and slug(zone.name).startswith(wanted)):
                return i + 1
        raise NotFound("zone", name, [z.name for z in self.zones] + [z.code for z in self.zones],
                       listed=[z.name for z in self.zones])

    def sector_id(self, name: str) -> int:
        wanted = slug(name)
        for i, sector in enumerate(self.sectors):
            if wanted in (slug(sector.code), slug(sector.name)):
                return i + 1
        raise NotFound("sector", name, [s.code for s in self.sectors] + [s.name for s in self.sectors],
                       listed=[s.code for s in self.sectors])

    def entity(self, entity_id: int) -> EntitySeed:
        """The entity whose registry id is `entity_id` (ids count from 1 in list order)."""
        if not 1 <= entity_id <= len(self.entities):
            raise NotFound("entity", str(entity_id), [e.name for e in self.entities])
        return self.entities[entity_id - 1]

    def entity_id(self, name: str) -> int:
        wanted = slug(name)
        for i, entity in enumerate(self.entities):
            if slug(entity.name) == wanted:
                return i + 1
        raise NotFound("entity", name, [e.name for e in self.entities])


MAX_ERRORS = 20  # problems of an entity list reported at once


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows with the line they start on; a missing file or header is a `SeedDataError`."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise SeedDataError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            if not reader.fieldnames:
                raise SeedDataError(f"{path}: empty file, expected a CSV header")
            line = reader.line_num + 1
            for row in reader:
                if None in row:
                    raise SeedDataError(f"{path}:{line}: more fields than the header has")
                missing = [k for k, v in row.items() if v is None]
                if missing:
                    raise SeedDataError(f"{path}:{line}: field '{missing[0]}': missing (row too short)")
                yield line, row
                line = reader.line_num + 1
        except csv.Error as exc:
            raise SeedDataError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
        except UnicodeDecodeError:
            raise SeedDataError(f"{path}: not UTF-8 text") from None


def _parse(model: type[T], path: Path, line: int, row: dict[str, str]) -> T:
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        field, message = first_error(exc, "row")
        raise SeedDataError(f"{path}:{line}: field '{field}': {message}") from None


def _require_columns(path: Path, row: dict[str, str], required: list[str]) -> None:
    missing = [c for c in required if c not in row]
    if missing:
        raise SeedDataError(f"{path}: missing column(s) {', '.join(missing)} (need {', '.join(required)})")


def _entity(path: Path, line: int, raw: dict[str, str], zone_names: dict[str, ZoneSeed],
            sector_names: dict[str, SectorSeed], zones: list[ZoneSeed], sectors: list[SectorSeed],
            seen: dict[str, int]) -> EntitySeed:
    """One row of the entity list, checked against the zones and sectors, its names made codes."""
    entity = _parse(EntitySeed, path, line, raw)
    zone = zone_names.get(slug(entity.zone))
    if zone is None:
        hint = NotFound("zone", entity.zone, [z.name for z in zones])  # display names, as people write them
        raise SeedDataError(f"{path}:{line}: field 'zone': {hint}")
    codes = []
    for name in entity.sectors:
        sector = sector_names.get(slug(name))
        if sector is None:
            hint = NotFound("sector", name, [s.code for s in sectors])
            raise SeedDataError(f"{path}:{line}: field 'sectors': {hint}")
        codes.append(sector.code)
    if slug(entity.name) in seen:
        raise SeedDataError(f"{path}:{line}: field 'name': {entity.name!r} already on line {seen[slug(entity.name)]}")
    seen[slug(entity.name)] = line
    return entity.model_copy(update={"zone": zone.code, "sectors": codes})


def load_seed_data(entities: Path | None = None, seeds_dir: Path = SEEDS_DIR) -> SeedData:
    """Zones and sectors from `seeds_dir`; entities from `entities` or the bundled list."""
    zones = [_parse(ZoneSeed, seeds_dir / "zones.csv", n, r) for n, r in _read_csv(seeds_dir / "zones.csv")]
    sectors = [_parse(SectorSeed, seeds_dir / "sectors.csv", n, r) for n, r in _read_csv(seeds_dir / "sectors.csv")]
    path = entities or seeds_dir / "entities.csv"
    zone_names = {slug(z.code): z for z in zones} | {slug(z.name): z for z in zones}
    sector_names = {slug(s.code): s for s in sectors} | {slug(s.name): s for s in sectors}
    rows: list[EntitySeed] = []
    pilots: list[PilotSeed] = []
    seen: dict[str, int] = {}
    errors: list[str] = []  # every row's first problem, reported together (up to MAX_ERRORS)
    for line, raw in _read_csv(path):
        _require_columns(path, raw, ["name", "sectors", "province", "zone", "provenance"])
        try:
            entity = _entity(path, line, raw, zone_names, sector_names, zones, sectors, seen)
        except SeedDataError as error:
            errors.append(str(error))
            continue
        primary = next(s for s in sectors if s.code == entity.sectors[0])
        title = entity.pilot_title or f"{primary.name} pilot"[:MAX_TITLE_BYTES]
        pilots.append(PilotSeed(entity_index=len(rows), sector_code=entity.sectors[0], title=title))
        rows.append(entity)
    if errors:  # one line still: the first in full, the others by line
        shown = [errors[0]] + [e.replace(f"{path}:", "line ", 1) for e in errors[1:MAX_ERRORS]]
        more = f"; and {len(errors) - MAX_ERRORS} more" if len(errors) > MAX_ERRORS else ""
        raise SeedDataError("; ".join(shown) + more)
    if not rows:
        raise SeedDataError(f"{path}: no entities")
    policy_path = seeds_dir / "policy.csv"
    policy = [_parse(PolicySeed, policy_path, n, r) for n, r in _read_csv(policy_path)]
    for line, row in enumerate(policy, start=2):
        for name in [row.requester_sector, *row.data_sectors]:
            if name != "*" and slug(name) not in sector_names:
                hint = NotFound("sector", name, [s.code for s in sectors])
                raise SeedDataError(f"{policy_path}:{line}: {hint}")
    return SeedData(zones=zones, sectors=sectors, entities=rows, pilots=pilots, policy=policy,
                    entities_source=str(path))
