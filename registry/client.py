"""Typed client for `PilotRegistry`: one method per contract function, queries return models."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .errors import ChainError, ContractRevert, NotFound
from .evm.accounts import Account
from .evm.artifacts import Artifact, load_artifact
from .evm.base import Chain, Tx
from .evm.contract import Contract, Sent
from .labels import explained
from .models import Entity, EntityStatus, Pilot, PilotStatus, Sector, Zone, mask_to_sectors, sectors_to_mask
from .progress import Progress
from .roles import Roles
from .seeding import SeedReport, chunks, seed_registry
from .seeds import SeedData, slug

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

PAGE = 100

# Gas limits per item of a batch call: explicit, generous, so nothing is estimated.
GAS_BASE = 80_000
GAS_PER_ITEM = {
    "registerZones": 160_000,
    "registerSectors": 90_000,
    "registerEntities": 190_000,
    "registerPilots": 200_000,
    "approveEntities": 30_000,
    "approvePilots": 35_000,
    "activatePilots": 35_000,
    "setDataPolicies": 30_000,
}
SEED_BATCH = 40


class Registry(Contract):
    """A deployed `PilotRegistry` on `chain`. Transactions raise `ContractRevert` when refused."""

    def __init__(self, chain: Chain, address: str, artifact: Artifact | None = None) -> None:
        super().__init__(chain, address, artifact or load_artifact("PilotRegistry"))
        self.roles = Roles.for_chain(chain, zone_id=lambda name: self.zone(name).id,
                                     entity_id=lambda name: self.entity(name).id, registered=self._registered)


    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def deploy(cls, chain: Chain, admin: Account | None = None) -> Registry:
        artifact = load_artifact("PilotRegistry")
        address = chain.deploy(admin or Roles.for_chain(chain).admin, artifact.bytecode)
        return cls(chain, address, artifact)

    @classmethod
    def at(cls, chain: Chain, address: str) -> Registry:
        """Attach to a registry already deployed at `address`; checks that code is there."""
        artifact = load_artifact("PilotRegistry")
        code = chain.code(address)
        if not code:
            raise ChainError(f"no contract at {address} on chain {chain.chain_id}")
        if not artifact.matches_runtime(code):
            raise ChainError(f"the contract at {address} on chain {chain.chain_id} is not this PilotRegistry build")
        return cls(chain, address, artifact)

    # -- plumbing -------------------------------------------------------------------------------

    def tx(self, function: str, *args: Any, by: Account, gas: int | None = None) -> Tx:
        """An unsent transaction; its gas limit scales with the length of a batch argument."""
        items = len(args[0]) if args and isinstance(args[0], list | tuple) else 1
        limit = gas or GAS_BASE + GAS_PER_ITEM.get(function, 150_000) * max(items, 1)
        return super().tx(function, *args, by=by, gas=limit)

    def send(self, txs: Sequence[Tx]) -> Sent:
        try:
            return super().send(txs)
        except ContractRevert as error:  # statuses by name (from=active), actors by role (Chengdu authority)
            raise explained(error, self.actor_labels()) from None

    def transact(self, function: str, *args: Any, by: Account, gas: int | None = None) -> Sent:
        return self.send([self.tx(function, *args, by=by, gas=gas)])

    def transact_batch(self, function: str, rows: Sequence[Any], by: Account, batch: int = SEED_BATCH) -> Sent:
        """Call a batch function over `rows`, `batch` rows per transaction so each fits in a block."""
        return self.send([self.tx(function, list(chunk), by=by) for chunk in chunks(list(rows), batch)])

    @contextmanager
    def snapshot(self) -> Iterator[Registry]:
        """Everything done inside the block is undone on exit."""
        with self.chain.anchor():
            yield self

    # -- admin ----------------------------------------------------------------------------------

    def register_zones(self, zones: Sequence[tuple[str, str, str]], by: Account | None = None) -> Sent:
        """`zones`: (name, province, authority address) each."""
        return self.transact_batch("registerZones", [tuple(z) for z in zones], by=by or self.roles.admin)

    def appoint_authority(self, zone_id: int, authority: str, by: Account | None = None) -> Sent:
        return self.transact("appointAuthority", zone_id, authority, by=by or self.roles.admin)

    def add_regulator(self, account: str, by: Account | None = None) -> Sent:
        return self.transact("addRegulator", account, by=by or self.roles.admin)

    def remove_regulator(self, account: str, by: Account | None = None) -> Sent:
        return self.transact("removeRegulator", account, by=by or self.roles.admin)

    def register_sectors(self, sectors: Sequence[tuple[str, int]], by: Account | None = None) -> Sent:
        """`sectors`: (name, category) each."""
        return self.transact_batch("registerSectors", [tuple(s) for s in sectors], by=by or self.roles.admin)

    def register_entities(self, entities: Sequence[tuple[int, Sequence[int], str, str, str]],
                          by: Account | None = None) -> Sent:
        """`entities`: (zone id, sector ids, account, name, province) each."""
        rows = [(z, sectors_to_mask(list(s)), a, n, p) for z, s, a, n, p in entities]
        return self.transact_batch("registerEntities", rows, by=by or self.roles.admin)

    def register_pilots(self, pilots: Sequence[tuple[int, int, str]], by: Account | None = None) -> Sent:
        """`pilots`: (entity id, sector id, title) each; they start Proposed."""
        return self.transact_batch("registerPilots", [tuple(p) for p in pilots], by=by or self.roles.admin)

    def set_data_policies(self, policy: dict[int, Sequence[int]], by: Account | None = None) -> Sent:
        """The sector policy: requester sector id → the data sector ids its entities may request
        (the zones apply it when the hub's broadcaster brings it)."""
        masks = [sectors_to_mask(list(data)) for data in policy.values()]
        return self.transact("setDataPolicies", list(policy), masks, by=by or self.roles.admin)

    def data_policy(self, sector: int | str) -> list[int]:
        """The data sector ids entities of `sector` may request."""
        return mask_to_sectors(int(self.view("dataPolicy", self.sector(sector).id if isinstance(sector, str)
                                                 else sector)))

    def register_entity(self, *, zone: int | str, sectors: Sequence[int | str], name: str, province: str,
                        account: str | Account, by: Account | None = None) -> int:
        """Register one entity (pending until its zone's authority approves it), zone and sectors by
        name or id; returns its id."""
        address = account.address if isinstance(account, Account) else account
        row = (self.zone(zone).id, [self.sector(s).id if isinstance(s, str) else s for s in sectors], address, name,
               province)
        sent = self.register_entities([row], by=by)
        return int(next(e for e in sent.events if e.name == "EntityRegistered")["entityId"])

    def register_pilot(self, *, entity: int | str, sector: int | str, title: str, by: Account | None = None) -> int:
        """Register one pilot for an entity (by name or id), admin-side; it starts Proposed. Its id."""
        row = (self.entity(entity).id if isinstance(entity, str) else entity,
               self.sector(sector).id if isinstance(sector, str) else sector, title)
        sent = self.register_pilots([row], by=by)
        return int(next(e for e in sent.events if e.name == "PilotProposed")["pilotId"])

    # -- entity lifecycle -----------------------------------------------------------------------

    def approve_entities(self, entity_ids: Sequence[int] | int, by: Account) -> Sent:
        ids = [entity_ids] if isinstance(entity_ids, int) else entity_ids  # one id, or several
        return self.transact_batch("approveEntities", ids, by=by)

    def suspend_entity(self, entity_id: int, by: Account) -> Sent:
        return self.transact("suspendEntity", entity_id, by=by)

    def reinstate_entity(self, entity_id: int, by: Account) -> Sent:
        return self.transact("reinstateEntity", entity_id, by=by)

    # -- pilot lifecycle ------------------------------------------------------------------------

    def propose_pilot(self, sector_id: int, title: str, by: Account) -> int:
        """Propose a pilot as the entity whose account is `by`; returns the new pilot's id."""
        sent = self.transact("proposePilot", sector_id, title, by=by)
        return int(next(e for e in sent.events if e.name == "PilotProposed")["pilotId"])

    def approve_pilots(self, pilot_ids: Sequence[int], by: Account) -> Sent:
        return self.transact_batch("approvePilots", list(pilot_ids), by=by)

    def activate_pilots(self, pilot_ids: Sequence[int], by: Account) -> Sent:
        return self.transact_batch("activatePilots", list(pilot_ids), by=by)

    def suspend_pilot(self, pilot_id: int, by: Account) -> Sent:
        return self.transact("suspendPilot", pilot_id, by=by)

    def reinstate_pilot(self, pilot_id: int, by: Account) -> Sent:
        return self.transact("reinstatePilot", pilot_id, by=by)

    def complete_pilot(self, pilot_id: int, by: Account) -> Sent:
        return self.transact("completePilot", pilot_id, by=by)

    # -- views ----------------------------------------------------------------------------------

    def admin(self) -> str:
        return str(self.view("admin"))

    def is_regulator(self, account: str) -> bool:
        return bool(self.view("isRegulator", account))

    def entity_of(self, account: str) -> int:
        return int(self.view("entityOf", account))

    def zone_count(self) -> int:
        return int(self.view("zoneCount"))

    def sector_count(self) -> int:
        return int(self.view("sectorCount"))

    def entity_count(self) -> int:
        return int(self.view("entityCount"))

    def pilot_count(self) -> int:
        return int(self.view("pilotCount"))

    def _registered(self, kind: str, key: int) -> str:
        """The address a zone's authority or an entity is registered with."""
        return self.zone(key).authority if kind == "zone" else self.entity(key).account

    def zone(self, zone: int | str) -> Zone:
        """A zone by id or by name (`"Chengdu"`, any case); `NotFound`, with the closest names, if none."""
        if isinstance(zone, str):
            return _by_name("zone", zone, self.zones())
        return Zone.model_validate(self._known("zone", zone, "getZone", lambda: [z.name for z in self.zones()]))

    def sector(self, sector: int | str) -> Sector:
        """A sector by id or by name (`"healthcare"`, any case and punctuation)."""
        if isinstance(sector, str):
            return _by_name("sector", sector, self.sectors())
        return Sector.model_validate(self._known("sector", sector, "getSector",
                                                 lambda: [s.name for s in self.sectors()]))

    def entity(self, entity: int | str) -> Entity:
        """An entity by id or by name (see `find_entity`)."""
        if isinstance(entity, str):
            return self.find_entity(entity)
        return Entity.from_chain(self._known("entity", entity, "getEntity", lambda: []))

    def pilot(self, pilot_id: int) -> Pilot:
        return Pilot.from_chain(self._known("pilot", pilot_id, "getPilot", lambda: []))

    def _known(self, kind: str, key: int, function: str, names: Callable[[], list[str]]) -> Any:
        """`function(key)`, with the contract's Unknown… refusal turned into the one `NotFound`."""
        try:
            return self.view(function, key)
        except ContractRevert as error:
            if error.name.startswith("Unknown"):
                raise NotFound(kind, str(key), names()) from None
            raise

    def zones(self) -> list[Zone]:
        return [Zone.model_validate(z) for z in self.view("listZones")]

    def sectors(self) -> list[Sector]:
        return [Sector.model_validate(s) for s in self.view("listSectors")]

    def entity_statuses(self) -> list[EntityStatus]:
        """Every entity's status, in id order (entity 1 first), in one call."""
        return [EntityStatus(s) for s in self.view("entityStatuses")]

    def pilot_statuses(self) -> list[PilotStatus]:
        """Every pilot's status, in id order (pilot 1 first), in one call."""
        return [PilotStatus(s) for s in self.view("pilotStatuses")]

    def is_active_in(self, entity_id: int, sector_id: int) -> bool:
        return bool(self.view("isActiveIn", entity_id, sector_id))

    def entities(self, zone_id: int = 0, sector_id: int = 0, status: EntityStatus = EntityStatus.NONE,
                 page_size: int = PAGE) -> list[Entity]:
        """Every entity matching the filters (0 / NONE: any), fetched page by page."""
        total = self.entity_count()
        return [Entity.from_chain(raw) for raw in self._paged("listEntities", total, zone_id, sector_id, status,
                                                               page_size)]

    def pilots(self, zone_id: int = 0, sector_id: int = 0, status: PilotStatus = PilotStatus.NONE,
               page_size: int = PAGE) -> list[Pilot]:
        total = self.pilot_count()
        return [Pilot.from_chain(raw) for raw in self._paged("listPilots", total, zone_id, sector_id, status,
                                                              page_size)]

    def _paged(self, function: str, total: int, zone_id: int, sector_id: int, status: int,
               page_size: int) -> Iterator[Any]:
        """Pages of `function` over ids 1..`total`. Each asks for no more rows than ids are left: the
        contract allocates the whole page in memory first, and a 100-row page for 6 rows costs 15 times
        the EVM work."""
        cursor = 1
        while total:
            limit = max(1, min(page_size, total - cursor + 1))
            result = self.view(function, zone_id, sector_id, int(status), cursor, limit)
            yield from result["page"]
            cursor = result["next"]
            if cursor == 0:
                return

    def actor_labels(self) -> dict[str, str]:
        """Who is who: admin, regulator, each zone's authority and each entity's account, by address."""
        labels = {self.roles.admin.address: "admin", self.roles.regulator.address: "regulator"}
        labels |= {z.authority: f"{z.name} authority" for z in self.zones()}
        labels |= {e.account: e.name for e in self.entities()}
        return labels

    def find_entity(self, name: str) -> Entity:
        """An entity by name, whatever the case and punctuation; `NotFound` suggests close names."""
        everyone = self.entities()
        for entity in everyone:
            if slug(entity.name) == slug(name):
                return entity
        raise NotFound("entity", name, [e.name for e in everyone])

    # -- seeding --------------------------------------------------------------------------------

    def seed(self, data: SeedData, progress: Progress | None = None, batch: int = SEED_BATCH,
             activate: bool = True) -> SeedReport:
        """Register zones, sectors, entities and pilots, approve everything and start the pilots, in
        batches that fit the block gas limit, mined several per block (see `registry.seeding`)."""
        return seed_registry(self, data, progress, batch, activate)


def _by_name(kind: str, name: str, records: Sequence[Any]) -> Any:
    for record in records:
        if slug(record.name) == slug(name):
            return record
    raise NotFound(kind, name, [r.name for r in records])


