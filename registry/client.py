"""Typed client for `PilotRegistry`: one method per contract function, queries return models."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .defaults import GAS_BASE, GAS_PER_ITEM, SEED_BATCH
from .errors import ChainError, ContractRevert, NotFound
from .events import EntityRegistered, PilotProposed
from .evm.accounts import Account
from .evm.artifacts import Artifact, load_artifact
from .evm.base import Chain, Tx
from .evm.contract import Contract, Sent
from .evm.events import first_of
from .labels import explained
from .models import Entity, EntityStatus, Pilot, PilotStatus, Sector, Zone, mask_to_sectors, sectors_to_mask
from .naming import Ref, by_name, id_of, status_of
from .progress import Progress
from .roles import Roles
from .seeding import SeedReport, chunks, seed_registry
from .seeds import SeedData

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

PAGE = 100


class Registry(Contract):
    """A deployed `PilotRegistry` on `chain`. Transactions raise `ContractRevert` when refused."""

    def __init__(self, chain: Chain, address: str, artifact: Artifact | None = None) -> None:
        super().__init__(chain, address, artifact or load_artifact("PilotRegistry"))
        self.roles = Roles.for_chain(chain, zone_id=lambda name: self.zone(name).id,
                                     entity_id=lambda name: self.entity(name).id, registered=self._registered)


    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def deploy(cls, chain: Chain, admin: Account | None = None) -> Registry:
        """Deploy a new, empty registry whose national admin is `admin` (the chain's admin account by default)."""
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
        """Mine `txs` together; a refusal raises `ContractRevert` with statuses and actors named."""
        try:
            return super().send(txs)
        except ContractRevert as error:  # statuses by name (from=active), actors by role (Chengdu authority)
            raise explained(error, self.actor_labels()) from None

    def transact(self, function: str, *args: Any, by: Account, gas: int | None = None) -> Sent:
        """Call `function(*args)` as `by` and mine it."""
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

    def appoint_authority(self, zone: Ref, authority: str, by: Account | None = None) -> Sent:
        """Make `authority` the zone's authority (the national admin's call)."""
        return self.transact("appointAuthority", self.zone_id(zone), authority, by=by or self.roles.admin)

    def add_regulator(self, account: str, by: Account | None = None) -> Sent:
        """Give `account` the regulator's powers (the national admin's call)."""
        return self.transact("addRegulator", account, by=by or self.roles.admin)

    def remove_regulator(self, account: str, by: Account | None = None) -> Sent:
        """Take them back (the national admin's call)."""
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

    def data_policy(self, sector: Ref) -> list[int]:
        """The data sector ids entities of `sector` (id or name) may request."""
        return mask_to_sectors(int(self.view("dataPolicy", self.sector_id(sector))))

    def register_entity(self, *, zone: Ref, sectors: Sequence[Ref], name: str, province: str,
                        account: str | Account, by: Account | None = None) -> int:
        """Register one entity, pending until its zone's authority approves it (zone, sectors by name or id); its id."""
        address = account.address if isinstance(account, Account) else account
        row = (self.zone_id(zone), [self.sector_id(s) for s in sectors], address, name, province)
        sent = self.register_entities([row], by=by)
        return first_of(EntityRegistered, sent.events).entity_id

    def register_pilot(self, *, entity: Ref, sector: Ref, title: str, by: Account | None = None) -> int:
        """Register one pilot for an entity (by name or id), admin-side; it starts Proposed. Its id."""
        sent = self.register_pilots([(self.entity_id(entity), self.sector_id(sector), title)], by=by)
        return first_of(PilotProposed, sent.events).pilot_id

    # -- entity lifecycle: entities by id or name ---------------------------------------------------

    def approve_entities(self, entities: Ref | Sequence[Ref], by: Account) -> Sent:
        """Pending → active, by the authority of each entity's zone (one entity, or several)."""
        every = list(entities) if isinstance(entities, Sequence) and not isinstance(entities, str) else [entities]
        ids = [self.entity_id(e) for e in every]
        return self.transact_batch("approveEntities", ids, by=by)

    def suspend_entity(self, entity: Ref, by: Account) -> Sent:
        """Place a hold on an active entity: its zone's authority's or the regulator's; it stays suspended
        while either holds it."""
        return self.transact("suspendEntity", self.entity_id(entity), by=by)

    def reinstate_entity(self, entity: Ref, by: Account) -> Sent:
        """Lift the hold `by` placed (the authority's or the regulator's); active again once no hold is left."""
        return self.transact("reinstateEntity", self.entity_id(entity), by=by)

    # -- pilot lifecycle: proposed → approved → active (started) → completed --------------------------

    def propose_pilot(self, sector: Ref, title: str, by: Account) -> int:
        """Propose a pilot in `sector` (id or name) as the active entity whose account is `by`; its id."""
        sent = self.transact("proposePilot", self.sector_id(sector), title, by=by)
        return first_of(PilotProposed, sent.events).pilot_id

    def approve_pilots(self, pilot_ids: Sequence[int] | int, by: Account) -> Sent:
        """Proposed → approved, by the authority of each pilot's zone."""
        return self.transact_batch("approvePilots", _ids(pilot_ids), by=by)

    def activate_pilots(self, pilot_ids: Sequence[int] | int, by: Account) -> Sent:
        """Approved → active (started), by the entity that runs each pilot or its zone's authority."""
        return self.transact_batch("activatePilots", _ids(pilot_ids), by=by)

    def start_pilot(self, pilot_id: int, by: Account) -> Sent:
        """Start one approved pilot (`activate_pilots` for several), by its entity or its zone's authority."""
        return self.activate_pilots([pilot_id], by=by)

    def suspend_pilot(self, pilot_id: int, by: Account) -> Sent:
        """Place a hold on an approved or active pilot: its zone's authority's or the regulator's."""
        return self.transact("suspendPilot", pilot_id, by=by)

    def reinstate_pilot(self, pilot_id: int, by: Account) -> Sent:
        """Lift the hold `by` placed; active again once no hold is left."""
        return self.transact("reinstatePilot", pilot_id, by=by)

    def complete_pilot(self, pilot_id: int, by: Account) -> Sent:
        """Active → completed, by the entity that runs it or its zone's authority."""
        return self.transact("completePilot", pilot_id, by=by)

    def zone_id(self, zone: Ref) -> int:
        """A zone's id from its id, record or name (any spelling the CLI takes)."""
        found = id_of(zone)
        return found if found is not None else self.zone(zone).id

    def sector_id(self, sector: Ref) -> int:
        """A sector's id from its id, record or name."""
        found = id_of(sector)
        return found if found is not None else self.sector(sector).id

    def entity_id(self, entity: Ref) -> int:
        """An entity's id from its id, record or name."""
        found = id_of(entity)
        return found if found is not None else self.find_entity(str(entity)).id

    # -- views ----------------------------------------------------------------------------------

    def admin(self) -> str:
        """The national admin's address."""
        return str(self.view("admin"))

    def is_regulator(self, account: str) -> bool:
        """Whether `account` holds the regulator's powers."""
        return bool(self.view("isRegulator", account))

    def entity_of(self, account: str) -> int:
        """The id of the entity registered with `account` (0: none)."""
        return int(self.view("entityOf", account))

    def zone_count(self) -> int:
        """How many zones are registered."""
        return int(self.view("zoneCount"))

    def sector_count(self) -> int:
        """How many sectors are registered."""
        return int(self.view("sectorCount"))

    def entity_count(self) -> int:
        """How many entities are registered."""
        return int(self.view("entityCount"))

    def pilot_count(self) -> int:
        """How many pilots are registered."""
        return int(self.view("pilotCount"))

    def _registered(self, kind: str, key: int) -> str:
        """The address a zone's authority or an entity is registered with."""
        return self.zone(key).authority if kind == "zone" else self.entity(key).account

    def zone(self, zone: Ref) -> Zone:
        """A zone by id or by name (`"Chengdu"`, `"chengdu"`, `"成都市"`, `"xiongan"`); `NotFound`, with the
        closest names, if none."""
        found = id_of(zone)
        if found is None:
            return by_name("zone", str(zone), self.zones())
        return Zone.model_validate(self._known("zone", found, "getZone", lambda: [z.name for z in self.zones()]))

    def sector(self, sector: Ref) -> Sector:
        """A sector by id or by name (`"healthcare"`, `"卫生健康"`, any case and punctuation)."""
        found = id_of(sector)
        if found is None:
            return by_name("sector", str(sector), self.sectors())
        return Sector.model_validate(self._known("sector", found, "getSector",
                                                 lambda: [s.name for s in self.sectors()]))

    def entity(self, entity: Ref) -> Entity:
        """An entity by id or by name (see `find_entity`)."""
        found = id_of(entity)
        if found is None:
            return self.find_entity(str(entity))
        return Entity.from_chain(self._known("entity", found, "getEntity", lambda: []))

    def pilot(self, pilot_id: int) -> Pilot:
        """A pilot by id."""
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
        """Every zone, in id order."""
        return [Zone.model_validate(z) for z in self.view("listZones")]

    def sectors(self) -> list[Sector]:
        """Every sector, in id order."""
        return [Sector.model_validate(s) for s in self.view("listSectors")]

    def entity_statuses(self) -> list[EntityStatus]:
        """Every entity's status, in id order (entity 1 first), in one call."""
        return [EntityStatus(s) for s in self.view("entityStatuses")]

    def pilot_statuses(self) -> list[PilotStatus]:
        """Every pilot's status, in id order (pilot 1 first), in one call."""
        return [PilotStatus(s) for s in self.view("pilotStatuses")]

    def is_active_in(self, entity: Ref, sector: Ref) -> bool:
        """Whether the entity is active and registered in the sector."""
        return bool(self.view("isActiveIn", self.entity_id(entity), self.sector_id(sector)))

    def entities(self, zone: Ref = 0, sector: Ref = 0, status: EntityStatus | int | str = EntityStatus.NONE,
                 page_size: int = PAGE) -> list[Entity]:
        """Every entity matching the filters (0 / NONE: any; zone and sector by id or name, the status by
        member or name), fetched page by page."""
        total = self.entity_count()
        return [Entity.from_chain(raw) for raw in self._paged("listEntities", total, self._filters(zone, sector),
                                                               status_of(EntityStatus, status), page_size)]

    def pilots(self, zone: Ref = 0, sector: Ref = 0, status: PilotStatus | int | str = PilotStatus.NONE,
               page_size: int = PAGE) -> list[Pilot]:
        """Every pilot matching the filters, as `entities` takes them."""
        total = self.pilot_count()
        return [Pilot.from_chain(raw) for raw in self._paged("listPilots", total, self._filters(zone, sector),
                                                              status_of(PilotStatus, status), page_size)]

    def _filters(self, zone: Ref, sector: Ref) -> tuple[int, int]:
        return (self.zone_id(zone) if zone else 0), (self.sector_id(sector) if sector else 0)

    def _paged(self, function: str, total: int, filters: tuple[int, int], status: int,
               page_size: int) -> Iterator[Any]:
        """Pages of `function` over ids 1..`total`. Each asks for no more rows than ids are left: the
        contract allocates the whole page in memory first, and a 100-row page for 6 rows costs 15 times
        the EVM work."""
        cursor = 1
        while total:
            limit = max(1, min(page_size, total - cursor + 1))
            result = self.view(function, *filters, int(status), cursor, limit)
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
        """An entity by name, whatever the case and punctuation, or the start of one name only; `NotFound`
        suggests close names."""
        return by_name("entity", name, self.entities())  # type: ignore[no-any-return]

    # -- seeding --------------------------------------------------------------------------------

    def seed(self, data: SeedData, progress: Progress | None = None, batch: int = SEED_BATCH,
             activate: bool = True) -> SeedReport:
        """Register zones, sectors, entities and pilots, approve everything and start the pilots, in
        batches that fit the block gas limit, mined several per block (see `registry.seeding`)."""
        return seed_registry(self, data, progress, batch, activate)


def _ids(ids: Sequence[int] | int) -> list[int]:
    return [ids] if isinstance(ids, int) else list(ids)
