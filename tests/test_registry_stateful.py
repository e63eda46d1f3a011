"""PilotRegistry against a plain-Python reference model, under random sequences of calls by random
actors (admin, authorities of the right and wrong zone, regulators, entities, strangers).

Every call's result, or its refusal by name, must match the model; so must the state afterwards. The
model keeps each party's own suspension (the zone authority's, a regulator's hold), stacked, and the
status an entity or pilot returns to when the last is lifted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from registry import Account, ContractRevert, EthTesterChain, Registry
from registry.defaults import GENESIS_TIMESTAMP

ZONES, SECTORS = 3, 4
ENTITY_ACCOUNTS = list(range(100, 112))  # a pool of accounts for new entities
PENDING, ACTIVE, SUSPENDED = 1, 2, 3  # EntityStatus
PROPOSED, APPROVED, P_ACTIVE, P_SUSPENDED, COMPLETED = 1, 2, 3, 4, 5  # PilotStatus


@dataclass
class Model:
    regulators: set[str] = field(default_factory=set)
    entities: list[dict] = field(default_factory=list)  # zone, mask, status, account; held, by_authority, resume
    pilots: list[dict] = field(default_factory=list)  # entity, zone, sector, status; held, by_authority, resume
    entity_of: dict[str, int] = field(default_factory=dict)


def build_base() -> Registry:
    """A small registry (3 zones, 4 sectors) with a starting population, so random sequences reach
    deep states from the first step: two entities per zone (all approved but the last), each with a
    proposed pilot, one pilot further along."""
    chain = EthTesterChain(genesis_timestamp=GENESIS_TIMESTAMP, accounts=120)
    base = Registry.deploy(chain)
    base.register_zones([(f"Zone {z}", "P", chain.accounts[10 + z].address) for z in range(1, ZONES + 1)])
    base.register_sectors([(f"Sector {s}", s % 4) for s in range(1, SECTORS + 1)])
    base.add_regulator(chain.accounts[1].address)
    base.register_entities([(z, [1, 2 + z % 3], chain.accounts[ENTITY_ACCOUNTS[2 * (z - 1) + k]].address, "E", "P")
                            for z in range(1, ZONES + 1) for k in range(2)])
    for z in range(1, ZONES + 1):
        base.approve_entities([2 * z - 1, 2 * z] if z < ZONES else [2 * z - 1], by=chain.accounts[10 + z])
    for entity_id in range(1, 2 * ZONES):
        base.propose_pilot(1, "Pilot", by=chain.accounts[ENTITY_ACCOUNTS[entity_id - 1]])
    base.approve_pilots([1], by=chain.accounts[11])
    base.activate_pilots([1], by=chain.accounts[11])
    return base


ACTORS = st.sampled_from(["admin", "regulator", "authority1", "authority2", "authority3", "entity", "stranger"])


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self, base: Registry) -> None:
        super().__init__()
        self.chain = base.chain
        self.snapshot = self.chain.snapshot()
        self.registry = base
        self.model = Model(regulators={self.chain.accounts[1].address})
        for e in base.entities():
            self.model.entities.append({"zone": e.zone_id, "mask": sum(1 << (x - 1) for x in e.sectors),
                                        "status": int(e.status), "account": e.account})
            self.model.entity_of[e.account] = e.id
        for p in base.pilots():
            self.model.pilots.append({"entity": p.entity_id, "zone": p.zone_id, "sector": p.sector_id,
                                      "status": int(p.status)})

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    # -- actors ---------------------------------------------------------------------------------

    def actor(self, name: str, entity_hint: int = 0) -> Account:
        if name == "admin":
            return self.chain.accounts[0]
        if name == "regulator":
            return self.chain.accounts[1]
        if name.startswith("authority"):
            return self.chain.accounts[10 + int(name[-1])]
        if name == "entity" and self.model.entities:
            return self.chain.accounts[ENTITY_ACCOUNTS.index(self._account_index(entity_hint)) + 100]
        return self.chain.accounts[119]  # stranger

    def _account_index(self, entity_hint: int) -> int:
        # mostly an active entity (deep states need them), sometimes any
        active = [e for e in self.model.entities if e["status"] == ACTIVE]
        pool = active if active and entity_hint % 4 else self.model.entities
        entity = pool[entity_hint % len(pool)]
        return next(i for i in ENTITY_ACCOUNTS if self.chain.accounts[i].address == entity["account"])

    def is_authority(self, who: Account, zone: int) -> bool:
        return who.address == self.chain.accounts[10 + zone].address

    # -- the comparison -----------------------------------------------------------------------------

    def expect(self, action, error: str | None) -> None:  # type: ignore[no-untyped-def]
        try:
            action()
        except ContractRevert as refusal:
            assert error == refusal.name, f"chain refused with {refusal}, model expected {error or 'success'}"
            return
        assert error is None, f"chain accepted, model expected {error}"

    # -- rules ------------------------------------------------------------------------------------

    @rule(actor=st.sampled_from(["admin"] * 5 + ["regulator", "authority1", "stranger"]),
          zone=st.integers(0, ZONES + 1), mask=st.integers(0, 2**(SECTORS + 1) - 1),
          account=st.sampled_from(ENTITY_ACCOUNTS), empty_name=st.booleans())
    def register_entity(self, actor: str, zone: int, mask: int, account: int, empty_name: bool) -> None:
        who, m = self.actor(actor), self.model
        address = self.chain.accounts[account].address
        sectors = [b + 1 for b in range(SECTORS + 1) if mask >> b & 1]
        error = ("NotAdmin" if who.address != self.chain.accounts[0].address else
                 "UnknownZone" if not 1 <= zone <= ZONES else
                 "AccountInUse" if address in m.entity_of else
                 "EmptyName" if empty_name else
                 "EmptySectorMask" if mask == 0 else
                 "UnknownSector" if mask >> SECTORS else None)
        self.expect(lambda: self.registry.register_entities([(zone, sectors, address, "" if empty_name else "E",
                                                              "P")], by=who), error)
        if error is None:
            m.entities.append({"zone": zone, "mask": mask, "status": PENDING, "account": address})
            m.entity_of[address] = len(m.entities)

    @precondition(lambda self: len(self.model.entity_of) < len(ENTITY_ACCOUNTS))
    @rule(zone=st.integers(1, ZONES), mask=st.integers(1, 2**SECTORS - 1), approve=st.booleans())
    def onboard(self, zone: int, mask: int, approve: bool) -> None:
        """The common path, so that sequences reach deep states: a valid entity, often approved."""
        m = self.model
        account = next(a for a in ENTITY_ACCOUNTS if self.chain.accounts[a].address not in m.entity_of)
        self.register_entity("admin", zone, mask, account, False)
        if approve:
            self.approve_entity(f"authority{zone}", len(m.entities) - 1, 0)

    def _entity(self, index: int) -> int:
        return index % (len(self.model.entities) + 1) + 1  # sometimes one past the end: unknown

    def _modelled(self, entity_id: int) -> dict | None:
        """The model's entity, or None for the id one past the end."""
        return self.model.entities[entity_id - 1] if entity_id <= len(self.model.entities) else None

    @rule(actor=ACTORS, index=st.integers(0, 20), hint=st.integers(0, 20))
    def approve_entity(self, actor: str, index: int, hint: int) -> None:
        entity_id, who = self._entity(index), self.actor(actor, hint)
        e = self._modelled(entity_id)
        error = ("UnknownEntity" if e is None else
                 "NotZoneAuthority" if not self.is_authority(who, e["zone"]) else
                 "InvalidEntityTransition" if e["status"] != PENDING else None)
        self.expect(lambda: self.registry.approve_entities([entity_id], by=who), error)
        if error is None and e is not None:
            e["status"] = ACTIVE

    @rule(actor=ACTORS, index=st.integers(0, 20), hint=st.integers(0, 20))
    def suspend_entity(self, actor: str, index: int, hint: int) -> None:
        entity_id, who = self._entity(index), self.actor(actor, hint)
        e = self._modelled(entity_id)
        party = "held" if e is None or not self.is_authority(who, e["zone"]) else "by_authority"
        error = ("UnknownEntity" if e is None else
                 "NotAuthorityOrRegulator" if not (self.is_authority(who, e["zone"]) or
                                                   who.address in self.model.regulators) else
                 "InvalidEntityTransition" if e.get(party) or e["status"] not in (PENDING, ACTIVE, SUSPENDED)
                 else None)
        self.expect(lambda: self.registry.suspend_entity(entity_id, by=who), error)
        if error is None and e is not None:
            _suspend(e, party, SUSPENDED)

    @rule(actor=ACTORS, index=st.integers(0, 20), hint=st.integers(0, 20))
    def reinstate_entity(self, actor: str, index: int, hint: int) -> None:
        entity_id, who = self._entity(index), self.actor(actor, hint)
        e = self._modelled(entity_id)
        error = ("UnknownEntity" if e is None else self._reinstater_error(who, e["zone"], e.get("held", False)) or
                 ("InvalidEntityTransition" if e["status"] != SUSPENDED else None))
        self.expect(lambda: self.registry.reinstate_entity(entity_id, by=who), error)
        if error is None and e is not None:
            _lift(e)

    def _reinstater_error(self, who: Account, zone: int, held: bool) -> str | None:
        """What a regulator suspended only a regulator lifts; otherwise the zone authority does."""
        if held:
            return None if who.address in self.model.regulators else "HeldByRegulator"
        return None if self.is_authority(who, zone) else "NotZoneAuthority"

    @rule(actor=st.sampled_from(["entity"] * 4 + ["stranger", "authority1", "admin"]),
          sector=st.integers(0, SECTORS + 1), hint=st.integers(0, 20), empty=st.sampled_from([False] * 5 + [True]))
    def propose_pilot(self, actor: str, sector: int, hint: int, empty: bool) -> None:
        who, m = self.actor(actor, hint), self.model
        entity_id = m.entity_of.get(who.address, 0)
        e = m.entities[entity_id - 1] if entity_id else None
        error = ("NotEntityAccount" if e is None else
                 "EntityNotActive" if e["status"] != ACTIVE else
                 "UnknownSector" if not 1 <= sector <= SECTORS else
                 "SectorNotAllowed" if not e["mask"] >> (sector - 1) & 1 else
                 "EmptyName" if empty else None)
        self.expect(lambda: self.registry.propose_pilot(sector, "" if empty else "T", by=who), error)
        if error is None and e is not None:
            m.pilots.append({"entity": entity_id, "zone": e["zone"], "sector": sector, "status": PROPOSED})

    def _pilot(self, index: int) -> tuple[int, dict | None]:
        pilot_id = index % (len(self.model.pilots) + 1) + 1
        return pilot_id, self.model.pilots[pilot_id - 1] if pilot_id <= len(self.model.pilots) else None

    def _entity_active(self, p: dict) -> bool:
        return self.model.entities[p["entity"] - 1]["status"] == ACTIVE

    def _is_entity(self, who: Account, p: dict) -> bool:
        return who.address == self.model.entities[p["entity"] - 1]["account"]

    @precondition(lambda self: self.model.pilots)
    @rule(actor=ACTORS, index=st.integers(0, 20), hint=st.integers(0, 20),
          step=st.sampled_from(["approve", "activate", "suspend", "reinstate", "complete"]))
    def pilot_step(self, actor: str, index: int, hint: int, step: str) -> None:
        pilot_id, p = self._pilot(index)
        who = self.actor(actor, hint)
        error: str | None
        if p is None:
            error, new = "UnknownPilot", None
        elif step == "approve":
            error = ("NotZoneAuthority" if not self.is_authority(who, p["zone"]) else
                     "EntityNotActive" if not self._entity_active(p) else
                     "InvalidPilotTransition" if p["status"] != PROPOSED else None)
            new = APPROVED
        elif step == "activate":
            error = ("NotEntityOrAuthority" if not (self._is_entity(who, p) or self.is_authority(who, p["zone"])) else
                     "EntityNotActive" if not self._entity_active(p) else
                     "InvalidPilotTransition" if p["status"] != APPROVED else None)
            new = P_ACTIVE
        elif step == "suspend":
            party = "by_authority" if self.is_authority(who, p["zone"]) else "held"
            error = ("NotAuthorityOrRegulator" if not (self.is_authority(who, p["zone"]) or
                                                       who.address in self.model.regulators) else
                     "InvalidPilotTransition" if p.get(party) or p["status"] not in (P_ACTIVE, APPROVED, P_SUSPENDED)
                     else None)
            new = P_SUSPENDED
        elif step == "reinstate":
            error = (self._reinstater_error(who, p["zone"], p.get("held", False)) or
                     ("EntityNotActive" if not self._entity_active(p) else
                      "InvalidPilotTransition" if p["status"] != P_SUSPENDED else None))
            new = P_ACTIVE
        else:
            error = ("NotEntityOrAuthority" if not (self._is_entity(who, p) or self.is_authority(who, p["zone"])) else
                     "EntityNotActive" if not self._entity_active(p) else
                     "InvalidPilotTransition" if p["status"] != P_ACTIVE else None)
            new = COMPLETED
        calls = {"approve": lambda: self.registry.approve_pilots([pilot_id], by=who),
                 "activate": lambda: self.registry.activate_pilots([pilot_id], by=who),
                 "suspend": lambda: self.registry.suspend_pilot(pilot_id, by=who),
                 "reinstate": lambda: self.registry.reinstate_pilot(pilot_id, by=who),
                 "complete": lambda: self.registry.complete_pilot(pilot_id, by=who)}
        self.expect(calls[step], error)
        if error is None and p is not None:
            if step == "suspend":
                _suspend(p, party, P_SUSPENDED)
            elif step == "reinstate":
                _lift(p)
            else:
                p["status"] = new

    @precondition(lambda self: self.model.pilots)
    @rule(index=st.integers(0, 20), by_entity=st.booleans(), suspend=st.booleans())
    def advance_pilot(self, index: int, by_entity: bool, suspend: bool) -> None:
        """A pilot's usual next step by an actor allowed to take it (the model still decides)."""
        pilot_id = index % len(self.model.pilots) + 1
        p = self.model.pilots[pilot_id - 1]
        entity = "entity" if by_entity else f"authority{p['zone']}"
        step = {PROPOSED: ("approve", f"authority{p['zone']}"), APPROVED: ("activate", entity),
                P_ACTIVE: ("suspend", "regulator") if suspend else ("complete", entity),
                P_SUSPENDED: ("reinstate", "regulator" if p.get("held") else f"authority{p['zone']}"),
                COMPLETED: ("complete", entity)}[p["status"]]
        hint = next(i for i, e in enumerate(self.model.entities, start=0) if i + 1 == p["entity"])
        self.pilot_step(step[1], pilot_id - 1, hint, step[0])

    @rule(actor=ACTORS, account=st.sampled_from([2, 3, 1, 0]), add=st.booleans())
    def regulators(self, actor: str, account: int, add: bool) -> None:
        who = self.actor(actor)
        address = "0x" + "00" * 20 if account == 0 else self.chain.accounts[account].address
        known = address in self.model.regulators
        if add:
            error = ("NotAdmin" if who.address != self.chain.accounts[0].address else
                     "ZeroAddress" if account == 0 else "RegulatorExists" if known else None)
            self.expect(lambda: self.registry.add_regulator(address, by=who), error)
            if error is None:
                self.model.regulators.add(address)
        else:
            error = ("NotAdmin" if who.address != self.chain.accounts[0].address else
                     None if known else "UnknownRegulator")
            self.expect(lambda: self.registry.remove_regulator(address, by=who), error)
            if error is None:
                self.model.regulators.discard(address)

    # -- state ----------------------------------------------------------------------------------

    @invariant()
    def state_matches(self) -> None:
        r, m = self.registry, self.model
        assert r.entity_statuses() == [e["status"] for e in m.entities]  # their number too
        assert r.pilot_statuses() == [p["status"] for p in m.pilots]
        for kind, items in (("entity", m.entities), ("pilot", m.pilots)):
            for i, item in enumerate(items, start=1):
                if item["status"] in (SUSPENDED if kind == "entity" else P_SUSPENDED,):
                    assert (r.view(f"{kind}HeldByRegulator", i), r.view(f"{kind}SuspendedByAuthority", i)) == \
                        (bool(item.get("held")), bool(item.get("by_authority")))


def _suspend(item: dict, party: str, suspended: int) -> None:
    """A party's own suspension placed: the first one suspends (keeping what to return to)."""
    item[party] = True
    if item["status"] != suspended:
        item["resume"], item["status"] = item["status"], suspended


def _lift(item: dict) -> None:
    """The reinstater's own suspension lifted (a regulator's hold first: while it stands, nobody else can);
    with none left, back to what it was suspended from."""
    item["held" if item.get("held") else "by_authority"] = False
    if not item.get("held") and not item.get("by_authority"):
        item["status"] = item["resume"]


SETTINGS = settings(max_examples=20, stateful_step_count=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def base() -> Registry:
    return build_base()


def test_registry_against_model(base: Registry) -> None:
    # hypothesis annotates a class, but documents (and calls) any zero-argument factory of a machine
    run_state_machine_as_test(lambda: RegistryMachine(base), settings=SETTINGS)  # type: ignore[arg-type]
