"""The PilotRegistry events the program reads, typed (see `registry.evm.events`)."""

from __future__ import annotations

from dataclasses import dataclass

from .evm.events import EventRecord, event_of
from .models import EntityStatus, PilotStatus


@event_of("PilotRegistry")
@dataclass(frozen=True, slots=True)
class EntityRegistered(EventRecord):
    entity_id: int
    zone_id: int
    account: str
    sector_mask: int


@event_of("PilotRegistry")
@dataclass(frozen=True, slots=True)
class EntityStatusChanged(EventRecord):
    entity_id: int
    from_: EntityStatus
    to: EntityStatus
    by: str


@event_of("PilotRegistry")
@dataclass(frozen=True, slots=True)
class DataPolicySet(EventRecord):
    requester_sector: int
    data_sector_mask: int


@event_of("PilotRegistry")
@dataclass(frozen=True, slots=True)
class PilotProposed(EventRecord):
    pilot_id: int
    entity_id: int
    sector_id: int
    by: str


@event_of("PilotRegistry")
@dataclass(frozen=True, slots=True)
class PilotStatusChanged(EventRecord):
    pilot_id: int
    from_: PilotStatus
    to: PilotStatus
    by: str
