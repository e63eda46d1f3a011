"""Seeding a registry: every zone, sector, entity and pilot of the seed data registered, approved by
the right authority and started, in batches that fit the block gas limit, several mined per block."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .evm.accounts import Account
from .evm.base import Chain, Tx
from .evm.contract import Sent
from .models import Pilot, PilotStatus, sectors_to_mask
from .progress import Progress
from .seeds import SeedData

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)


class _Roles(Protocol):
    @property
    def admin(self) -> Account: ...
    @property
    def regulator(self) -> Account: ...

    def authority(self, zone: int | str) -> Account: ...
    def entity(self, entity: int | str) -> Account: ...


class Seedable(Protocol):
    """What seeding needs of a registry client (`registry.Registry` is one)."""

    chain: Chain
    address: str

    @property
    def roles(self) -> _Roles: ...

    def tx(self, function: str, *args: Any, by: Account, gas: int | None = None) -> Tx: ...
    def send(self, txs: list[Tx]) -> Sent: ...
    def is_regulator(self, account: str) -> bool: ...
    def zone_count(self) -> int: ...
    def sector_count(self) -> int: ...
    def entity_count(self) -> int: ...
    def pilot_count(self) -> int: ...
    def pilots(self, *, status: PilotStatus) -> list[Pilot]: ...


@dataclass(frozen=True)
class SeedReport:
    chain_id: int
    registry: str
    zones: int
    sectors: int
    entities: int
    pilots: int
    active_pilots: int
    gas_used: int
    transactions: int
    blocks: int
    wall_s: float


def seed_registry(registry: Seedable, data: SeedData, progress: Progress | None, batch: int,
                  activate: bool) -> SeedReport:
    started, first_block = time.perf_counter(), registry.chain.block_number
    roles, plan = registry.roles, _plan(registry, data)
    sent = {"gas": 0, "transactions": 0}

    def run(label: str, step: list[Tx]) -> None:
        if progress:
            progress(label, 0, len(step))
        sent["gas"] += registry.send(step).gas_used
        sent["transactions"] += len(step)
        if progress:
            progress(label, len(step), len(step))

    def by_authority(function: str, by_zone: dict[int, list[int]]) -> list[Tx]:
        return [registry.tx(function, ids, by=roles.authority(z)) for z, all_ids in by_zone.items()
                for ids in chunks(all_ids, batch)]

    setup = [registry.tx("registerZones", plan.zones, by=roles.admin),
             registry.tx("registerSectors", plan.sectors, by=roles.admin),
             registry.tx("setDataPolicies", list(plan.policy), list(plan.policy.values()), by=roles.admin)]
    if not registry.is_regulator(roles.regulator.address):
        setup.append(registry.tx("addRegulator", roles.regulator.address, by=roles.admin))
    run("zones and sectors", setup)
    run("entities", [registry.tx("registerEntities", chunk, by=roles.admin) for chunk in chunks(plan.entities, batch)])
    run("pilots", [registry.tx("registerPilots", chunk, by=roles.admin) for chunk in chunks(plan.pilots, batch)])
    run("entity approvals", by_authority("approveEntities", plan.entities_by_zone))
    run("pilot approvals", by_authority("approvePilots", plan.pilots_by_zone))
    if activate:
        run("pilot activations", by_authority("activatePilots", plan.pilots_by_zone))
    return SeedReport(
        chain_id=registry.chain.chain_id, registry=registry.address, zones=registry.zone_count(),
        sectors=registry.sector_count(), entities=registry.entity_count(), pilots=registry.pilot_count(),
        active_pilots=len(registry.pilots(status=PilotStatus.ACTIVE)), gas_used=sent["gas"],
        transactions=sent["transactions"], blocks=registry.chain.block_number - first_block,
        wall_s=round(time.perf_counter() - started, 3),
    )


@dataclass(frozen=True)
class _Plan:
    """What seeding registers (the rows of each call) and, per zone, the ids its authority approves."""

    zones: list[tuple[str, str, str]]
    sectors: list[tuple[str, int]]
    entities: list[tuple[int, int, str, str, str]]
    pilots: list[tuple[int, int, str]]
    policy: dict[int, int]  # which sectors' data each sector may ask for: the zones get it from the hub
    entities_by_zone: dict[int, list[int]]
    pilots_by_zone: dict[int, list[int]]


def _plan(registry: Seedable, data: SeedData) -> _Plan:
    roles, offset, pilot_offset = registry.roles, registry.entity_count(), registry.pilot_count()
    entities = [(data.zone_id(e.zone), sectors_to_mask([data.sector_id(s) for s in e.sectors]),
                 roles.entity(offset + i + 1).address, e.name, e.province) for i, e in enumerate(data.entities)]
    pilots = [(offset + p.entity_index + 1, data.sector_id(p.sector_code), p.title) for p in data.pilots]
    entities_by_zone: dict[int, list[int]] = {}
    for i, row in enumerate(entities):
        entities_by_zone.setdefault(row[0], []).append(offset + i + 1)
    pilots_by_zone: dict[int, list[int]] = {}
    for i, pilot in enumerate(pilots):
        pilots_by_zone.setdefault(entities[pilot[0] - offset - 1][0], []).append(pilot_offset + i + 1)
    return _Plan([(z.name, z.province, roles.authority(i + 1).address) for i, z in enumerate(data.zones)],
                 [(s.name, int(s.category_id)) for s in data.sectors], entities, pilots, data.policy_masks(),
                 entities_by_zone, pilots_by_zone)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
