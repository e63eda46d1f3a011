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
    started = time.perf_counter()
    roles = registry.roles
    first_block = registry.chain.block_number
    gas = 0
    txs = 0

    def run(label: str, step: list[Tx]) -> None:
        nonlocal gas, txs
        if progress:
            progress(label, 0, len(step))
        gas += registry.send(step).gas_used
        txs += len(step)
        if progress:
            progress(label, len(step), len(step))

    zone_rows = [(z.name, z.province, roles.authority(i + 1).address) for i, z in enumerate(data.zones)]
    sector_rows = [(s.name, int(s.category_id)) for s in data.sectors]
    offset = registry.entity_count()
    entity_rows = [
        (data.zone_id(e.zone), sectors_to_mask([data.sector_id(s) for s in e.sectors]),
         roles.entity(offset + i + 1).address, e.name, e.province)
        for i, e in enumerate(data.entities)
    ]
    pilot_offset = registry.pilot_count()
    pilot_rows = [(offset + p.entity_index + 1, data.sector_id(p.sector_code), p.title) for p in data.pilots]
    policy = data.policy_masks()  # which sectors' data each sector may ask for: the zones get it from the hub
    setup = [registry.tx("registerZones", zone_rows, by=roles.admin),
             registry.tx("registerSectors", sector_rows, by=roles.admin),
             registry.tx("setDataPolicies", list(policy), list(policy.values()), by=roles.admin)]
    if not registry.is_regulator(roles.regulator.address):
        setup.append(registry.tx("addRegulator", roles.regulator.address, by=roles.admin))
    run("zones and sectors", setup)
    run("entities", [registry.tx("registerEntities", chunk, by=roles.admin) for chunk in chunks(entity_rows, batch)])
    run("pilots", [registry.tx("registerPilots", chunk, by=roles.admin) for chunk in chunks(pilot_rows, batch)])

    by_zone: dict[int, list[int]] = {}
    for i, entity_row in enumerate(entity_rows):
        by_zone.setdefault(entity_row[0], []).append(offset + i + 1)
    pilots_by_zone: dict[int, list[int]] = {}
    for i, pilot_row in enumerate(pilot_rows):
        zone_id = entity_rows[pilot_row[0] - offset - 1][0]
        pilots_by_zone.setdefault(zone_id, []).append(pilot_offset + i + 1)
    run("entity approvals", [registry.tx("approveEntities", ids, by=roles.authority(z))
                             for z, ids in by_zone.items() for ids in chunks(ids, batch)])
    run("pilot approvals", [registry.tx("approvePilots", ids, by=roles.authority(z))
                            for z, ids in pilots_by_zone.items() for ids in chunks(ids, batch)])
    if activate:
        run("pilot activations", [registry.tx("activatePilots", ids, by=roles.authority(z))
                                  for z, ids in pilots_by_zone.items() for ids in chunks(ids, batch)])
    return SeedReport(
        chain_id=registry.chain.chain_id,
        registry=registry.address,
        zones=registry.zone_count(),
        sectors=registry.sector_count(),
        entities=registry.entity_count(),
        pilots=registry.pilot_count(),
        active_pilots=len(registry.pilots(status=PilotStatus.ACTIVE)),
        gas_used=gas,
        transactions=txs,
        blocks=registry.chain.block_number - first_block,
        wall_s=round(time.perf_counter() - started, 3),
    )


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
