"""Typed views of the registry's records, as the contract returns them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer

from .evm.abi import register_enum
from .evm.artifacts import check_mirror, contract_enum


class NamedInt(IntEnum):
    """An int the contract stores that prints as its name (`active`, not `3`), in str() and f-strings;
    it still equals its number."""

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")

    def __str__(self) -> str:
        return self.label

    def __format__(self, spec: str) -> str:
        return format(self.label, spec)


class Category(NamedInt):
    REAL_ECONOMY = 0
    SOCIAL_GOVERNANCE = 1
    LIVELIHOOD = 2
    FINTECH = 3


class EntityStatus(NamedInt):
    NONE = 0
    PENDING = 1
    ACTIVE = 2
    SUSPENDED = 3


class PilotStatus(NamedInt):
    NONE = 0
    PROPOSED = 1
    APPROVED = 2
    ACTIVE = 3
    SUSPENDED = 4
    COMPLETED = 5


for _enum in (EntityStatus, PilotStatus):  # events and views give these statuses as members
    check_mirror(_enum, contract_enum("PilotRegistry", _enum.__name__))
    register_enum(f"PilotRegistry.{_enum.__name__}", _enum)


def mask_to_sectors(mask: int) -> list[int]:
    return [bit + 1 for bit in range(mask.bit_length()) if mask >> bit & 1]


def sectors_to_mask(sector_ids: list[int]) -> int:
    mask = 0
    for sector_id in sector_ids:
        mask |= 1 << (sector_id - 1)
    return mask


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)

    @field_serializer("status", "category", check_fields=False, when_used="json")
    def _enum_name(self, value: NamedInt) -> str:
        return value.label

    @field_serializer("updated_at", check_fields=False, when_used="json")
    def _iso_time(self, value: int) -> str:
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")


class Zone(_Record):
    id: int
    name: str
    province: str
    authority: str


class Sector(_Record):
    id: int
    name: str
    category: Category


class Entity(_Record):
    id: int
    zone_id: int
    status: EntityStatus
    sectors: list[int]
    account: str
    name: str
    province: str

    @classmethod
    def from_chain(cls, raw: dict[str, Any]) -> Entity:
        return cls(id=raw["id"], zone_id=raw["zoneId"], status=EntityStatus(raw["status"]),
                   sectors=mask_to_sectors(raw["sectorMask"]), account=raw["account"], name=raw["name"],
                   province=raw["province"])


class Pilot(_Record):
    id: int
    entity_id: int
    zone_id: int
    sector_id: int
    status: PilotStatus
    updated_at: int
    title: str

    @classmethod
    def from_chain(cls, raw: dict[str, Any]) -> Pilot:
        return cls(id=raw["id"], entity_id=raw["entityId"], zone_id=raw["zoneId"], sector_id=raw["sectorId"],
                   status=PilotStatus(raw["status"]), updated_at=raw["updatedAt"], title=raw["title"])
