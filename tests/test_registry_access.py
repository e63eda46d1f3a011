"""Access control and lifecycle of PilotRegistry: every role path and every custom error.

Each test starts from the seeded registry (the `registry` fixture of the pytest plugin) and is
reverted afterwards. A refusal is asserted by the error's name and arguments, so removing the check
in the contract makes the transaction succeed and the test fail.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest

from registry import Account, ContractRevert, EntityStatus, PilotStatus, Registry

MANUFACTURING, ENERGY, HEALTHCARE = 1, 2, 12


def refused(action: Callable[[], object], name: str, **args: object) -> ContractRevert:
    with pytest.raises(ContractRevert) as caught:
        action()
    assert caught.value.name == name, str(caught.value)
    for key, value in args.items():
        assert caught.value.args_by_name[key] == value, caught.value.args_by_name
    return caught.value


def stranger(registry: Registry) -> Account:
    return registry.chain.accounts[199]


def entity_in(registry: Registry, zone_id: int) -> int:
    return registry.entities(zone=zone_id)[0].id


def other_zone(zone_id: int) -> int:
    return 1 if zone_id != 1 else 2


# ------------------------------------------------------------------------------------- admin


ADMIN_CALLS: dict[str, Callable[[Registry, Account], object]] = {
    "registerZones": lambda r, by: r.register_zones([("Extra", "Nowhere", r.roles.regulator.address)], by=by),
    "appointAuthority": lambda r, by: r.appoint_authority(1, r.roles.regulator.address, by=by),
    "addRegulator": lambda r, by: r.add_regulator(r.chain.accounts[197].address, by=by),
    "removeRegulator": lambda r, by: r.remove_regulator(r.roles.regulator.address, by=by),
    "registerSectors": lambda r, by: r.register_sectors([("Extra", 0)], by=by),
    "registerEntities": lambda r, by: r.register_entities(
        [(1, [1], r.chain.accounts[197].address, "Extra", "Beijing")], by=by),
    "registerPilots": lambda r, by: r.register_pilots([(1, 1, "Extra pilot")], by=by),
    "setDataPolicies": lambda r, by: r.set_data_policies({1: [1, 2]}, by=by),
}


@pytest.mark.parametrize("function", sorted(ADMIN_CALLS))
def test_admin_functions_refuse_everyone_else(registry: Registry, function: str) -> None:
    call = ADMIN_CALLS[function]
    for who in (registry.roles.regulator, registry.roles.authority(1), registry.roles.entity(1), stranger(registry)):
        refused(partial(call, registry, who), "NotAdmin", caller=who.address)
    call(registry, registry.roles.admin)  # and the admin may


def test_admin_appoints_authority_and_the_old_one_loses_power(registry: Registry) -> None:
    zone = registry.entity(1).zone_id
    old, new = registry.roles.authority(zone), registry.chain.accounts[196]
    sent = registry.appoint_authority(zone, new.address)
    assert [e.name for e in sent.events] == ["AuthorityAppointed"]
    assert registry.zone(zone).authority == new.address
    refused(lambda: registry.suspend_entity(1, by=old), "NotAuthorityOrRegulator", caller=old.address, zoneId=zone)
    registry.suspend_entity(1, by=new)
    assert registry.entity(1).status is EntityStatus.SUSPENDED


def test_regulators_are_added_and_removed(registry: Registry) -> None:
    newcomer = registry.chain.accounts[197]
    registry.add_regulator(newcomer.address)
    assert registry.is_regulator(newcomer.address)
    refused(lambda: registry.add_regulator(newcomer.address), "RegulatorExists", account=newcomer.address)
    registry.remove_regulator(newcomer.address)
    refused(lambda: registry.suspend_entity(1, by=newcomer), "NotAuthorityOrRegulator")
    refused(lambda: registry.remove_regulator(newcomer.address), "UnknownRegulator", account=newcomer.address)


def test_zero_addresses_and_empty_names_are_refused(registry: Registry) -> None:
    zero = "0x" + "00" * 20
    refused(lambda: registry.appoint_authority(1, zero), "ZeroAddress")
    refused(lambda: registry.add_regulator(zero), "ZeroAddress")
    refused(lambda: registry.register_entities([(1, [1], zero, "Nobody", "Beijing")]), "ZeroAddress")
    refused(lambda: registry.register_zones([("", "Beijing", zero)]), "EmptyName")
    refused(lambda: registry.register_sectors([("", 0)]), "EmptyName")
    account = registry.chain.accounts[197].address
    refused(lambda: registry.register_entities([(1, [1], account, "", "Beijing")]), "EmptyName")
    refused(lambda: registry.register_pilots([(1, MANUFACTURING, "")]), "EmptyName")


def test_registration_checks_references(registry: Registry) -> None:
    account = registry.chain.accounts[197].address
    refused(lambda: registry.register_entities([(99, [1], account, "X", "Beijing")]), "UnknownZone", zoneId=99)
    refused(lambda: registry.register_entities([(1, [17], account, "X", "Beijing")]), "UnknownSector", sectorId=17)
    refused(lambda: registry.register_entities([(1, [], account, "X", "Beijing")]), "EmptySectorMask")
    taken = registry.entity(1).account
    refused(lambda: registry.register_entities([(1, [1], taken, "X", "Beijing")]), "AccountInUse", account=taken)
    refused(lambda: registry.register_sectors([("Space", 4)]), "UnknownCategory", category=4)
    refused(lambda: registry.register_pilots([(999, 1, "X")]), "UnknownEntity", entityId=999)
    refused(lambda: registry.register_pilots([(1, 40, "X")]), "UnknownSector", sectorId=40)
    refused(lambda: registry.appoint_authority(0, account), "UnknownZone", zoneId=0)


def test_capacity_limits(registry: Registry) -> None:
    room = 32 - registry.sector_count()
    registry.register_sectors([(f"Extra {i}", 0) for i in range(room)])
    refused(lambda: registry.register_sectors([("One too many", 0)]), "TooManySectors")
    registry.register_zones([(f"Zone {i}", "P", "0x" + "00" * 20) for i in range(255 - registry.zone_count())])
    assert registry.zone_count() == 255
    refused(lambda: registry.register_zones([("Zone 256", "P", "0x" + "00" * 20)]), "TooManyZones")


def test_a_new_entity_starts_pending(registry: Registry) -> None:
    account = registry.chain.accounts[197]
    sent = registry.register_entities([(3, [MANUFACTURING, HEALTHCARE], account.address, "Newcomer", "Chongqing")])
    entity_id = sent.events[0]["entityId"]
    entity = registry.entity(entity_id)
    assert (entity.status, entity.sectors, entity.zone_id) == (EntityStatus.PENDING, [MANUFACTURING, HEALTHCARE], 3)
    assert registry.entity_of(account.address) == entity_id


# ----------------------------------------------------------------------------- entity lifecycle


def fresh_entity(registry: Registry, zone_id: int = 3,
                 sectors: tuple[int, ...] = (MANUFACTURING,)) -> tuple[int, Account]:
    account = registry.chain.accounts[197]
    sent = registry.register_entities([(zone_id, list(sectors), account.address, "Fresh", "Somewhere")])
    return int(sent.events[0]["entityId"]), account


def test_only_the_own_zone_authority_approves_entities(registry: Registry) -> None:
    entity_id, _ = fresh_entity(registry, zone_id=3)
    wrong = registry.roles.authority(4)
    refused(lambda: registry.approve_entities([entity_id], by=wrong), "NotZoneAuthority",
            caller=wrong.address, zoneId=3)
    refused(lambda: registry.approve_entities([entity_id], by=registry.roles.regulator), "NotZoneAuthority")
    refused(lambda: registry.approve_entities([entity_id], by=registry.roles.admin), "NotZoneAuthority")
    sent = registry.approve_entities([entity_id], by=registry.roles.authority(3))
    assert sent.events[0].name == "EntityStatusChanged"
    assert registry.entity(entity_id).status is EntityStatus.ACTIVE
    refused(lambda: registry.approve_entities([entity_id], by=registry.roles.authority(3)), "InvalidEntityTransition",
            entityId=entity_id, to=int(EntityStatus.ACTIVE))


def test_a_batch_approval_is_all_or_nothing(registry: Registry) -> None:
    own, other = entity_in(registry, 5), entity_in(registry, 6)
    registry.suspend_entity(own, by=registry.roles.authority(5))
    registry.reinstate_entity(own, by=registry.roles.authority(5))
    fresh, _ = fresh_entity(registry, zone_id=5)
    refused(lambda: registry.approve_entities([fresh, other], by=registry.roles.authority(5)), "NotZoneAuthority")
    assert registry.entity(fresh).status is EntityStatus.PENDING


def test_suspension_by_authority_or_regulator_only(registry: Registry) -> None:
    entity = registry.entities(zone=7)[0]
    roles = registry.roles
    for who in (roles.authority(8), roles.entity(entity.id), stranger(registry), roles.admin):
        refused(partial(registry.suspend_entity, entity.id, by=who), "NotAuthorityOrRegulator",
                caller=who.address, zoneId=7)
    registry.suspend_entity(entity.id, by=registry.roles.regulator)
    assert registry.entity(entity.id).status is EntityStatus.SUSPENDED
    refused(lambda: registry.suspend_entity(entity.id, by=registry.roles.regulator), "InvalidEntityTransition")
    registry.suspend_entity(entity.id, by=registry.roles.authority(7))  # the authority's own, stacked
    refused(lambda: registry.suspend_entity(entity.id, by=registry.roles.authority(7)), "InvalidEntityTransition")


def test_only_the_own_zone_authority_reinstates(registry: Registry) -> None:
    entity = registry.entities(zone=9)[0]
    registry.suspend_entity(entity.id, by=registry.roles.authority(9))
    refused(lambda: registry.reinstate_entity(entity.id, by=registry.roles.regulator), "NotZoneAuthority")
    refused(lambda: registry.reinstate_entity(entity.id, by=registry.roles.authority(10)), "NotZoneAuthority")
    registry.reinstate_entity(entity.id, by=registry.roles.authority(9))
    assert registry.entity(entity.id).status is EntityStatus.ACTIVE
    refused(lambda: registry.reinstate_entity(entity.id, by=registry.roles.authority(9)), "InvalidEntityTransition")


def test_unknown_ids_are_refused(registry: Registry) -> None:
    refused(lambda: registry.suspend_entity(10_000, by=registry.roles.regulator), "UnknownEntity", entityId=10_000)
    refused(lambda: registry.suspend_pilot(10_000, by=registry.roles.regulator), "UnknownPilot", pilotId=10_000)
    # the contract's own refusals (the client turns them into NotFound: tests/test_client.py)
    refused(lambda: registry.view("getPilot", 0), "UnknownPilot", pilotId=0)
    refused(lambda: registry.view("getZone", 16), "UnknownZone", zoneId=16)
    refused(lambda: registry.view("getSector", 0), "UnknownSector", sectorId=0)


# ------------------------------------------------------------------------------ pilot lifecycle


def test_entity_proposes_a_pilot_in_its_own_sector_only(registry: Registry) -> None:
    entity = registry.entity(1)
    me = registry.roles.entity(1)
    other_sector = next(s for s in range(1, 17) if s not in entity.sectors)
    refused(lambda: registry.propose_pilot(other_sector, "Off-field", by=me), "SectorNotAllowed",
            entityId=1, sectorId=other_sector)
    pilot_id = registry.propose_pilot(entity.sectors[0], "Second pilot", by=me)
    pilot = registry.pilot(pilot_id)
    assert (pilot.status, pilot.entity_id, pilot.zone_id) == (PilotStatus.PROPOSED, 1, entity.zone_id)


def test_strangers_and_inactive_entities_cannot_propose(registry: Registry) -> None:
    who = stranger(registry)
    refused(lambda: registry.propose_pilot(1, "X", by=who), "NotEntityAccount", caller=who.address, entityId=0)
    fresh, account = fresh_entity(registry)
    refused(lambda: registry.propose_pilot(MANUFACTURING, "X", by=account), "EntityNotActive", entityId=fresh)
    registry.suspend_entity(1, by=registry.roles.regulator)
    refused(lambda: registry.propose_pilot(registry.entity(1).sectors[0], "X", by=registry.roles.entity(1)),
            "EntityNotActive", entityId=1)


def proposed_pilot(registry: Registry, entity_id: int = 1) -> tuple[int, int]:
    entity = registry.entity(entity_id)
    pilot_id = registry.propose_pilot(entity.sectors[0], "Lifecycle pilot", by=registry.roles.entity(entity_id))
    return pilot_id, entity.zone_id


def test_pilot_lifecycle_with_the_right_actors(registry: Registry) -> None:
    pilot_id, zone = proposed_pilot(registry)
    authority, entity = registry.roles.authority(zone), registry.roles.entity(1)
    refused(lambda: registry.approve_pilots([pilot_id], by=registry.roles.authority(other_zone(zone))),
            "NotZoneAuthority", zoneId=zone)
    refused(lambda: registry.approve_pilots([pilot_id], by=entity), "NotZoneAuthority")
    refused(lambda: registry.activate_pilots([pilot_id], by=authority), "InvalidPilotTransition",
            pilotId=pilot_id, to=int(PilotStatus.ACTIVE))
    registry.approve_pilots([pilot_id], by=authority)
    refused(lambda: registry.activate_pilots([pilot_id], by=stranger(registry)), "NotEntityOrAuthority",
            pilotId=pilot_id)
    refused(lambda: registry.activate_pilots([pilot_id], by=registry.roles.regulator), "NotEntityOrAuthority")
    registry.activate_pilots([pilot_id], by=entity)  # the entity starts its own pilot
    assert registry.pilot(pilot_id).status is PilotStatus.ACTIVE
    refused(lambda: registry.complete_pilot(pilot_id, by=stranger(registry)), "NotEntityOrAuthority")
    registry.complete_pilot(pilot_id, by=entity)
    assert registry.pilot(pilot_id).status is PilotStatus.COMPLETED
    for action in (lambda: registry.suspend_pilot(pilot_id, by=registry.roles.regulator),
                   lambda: registry.reinstate_pilot(pilot_id, by=authority),
                   lambda: registry.complete_pilot(pilot_id, by=authority),
                   lambda: registry.approve_pilots([pilot_id], by=authority)):
        refused(action, "InvalidPilotTransition", pilotId=pilot_id, **{"from": int(PilotStatus.COMPLETED)})


def test_pilot_suspension_and_reinstatement(registry: Registry) -> None:
    pilot = registry.pilots(zone=2, status=PilotStatus.ACTIVE)[0]
    for who in (registry.roles.authority(3), registry.roles.entity(pilot.entity_id), stranger(registry)):
        refused(partial(registry.suspend_pilot, pilot.id, by=who), "NotAuthorityOrRegulator", zoneId=2)
    registry.suspend_pilot(pilot.id, by=registry.roles.regulator)
    assert registry.pilot(pilot.id).status is PilotStatus.SUSPENDED
    refused(lambda: registry.suspend_pilot(pilot.id, by=registry.roles.regulator), "InvalidPilotTransition")
    refused(lambda: registry.complete_pilot(pilot.id, by=registry.roles.authority(2)), "InvalidPilotTransition",
            **{"from": int(PilotStatus.SUSPENDED)})
    # a regulator's suspension: the zone authority cannot lift it, a regulator can
    refused(lambda: registry.reinstate_pilot(pilot.id, by=registry.roles.authority(2)), "HeldByRegulator",
            id=pilot.id)
    refused(lambda: registry.reinstate_pilot(pilot.id, by=stranger(registry)), "HeldByRegulator")
    registry.reinstate_pilot(pilot.id, by=registry.roles.regulator)
    assert registry.pilot(pilot.id).status is PilotStatus.ACTIVE
    # the authority's suspension: the authority lifts it, a regulator cannot
    registry.suspend_pilot(pilot.id, by=registry.roles.authority(2))
    refused(lambda: registry.reinstate_pilot(pilot.id, by=registry.roles.regulator), "NotZoneAuthority")
    registry.reinstate_pilot(pilot.id, by=registry.roles.authority(2))
    assert registry.pilot(pilot.id).status is PilotStatus.ACTIVE


def test_only_a_regulator_lifts_a_regulators_suspension_of_an_entity(registry: Registry) -> None:
    entity = registry.entities(zone=4)[0]
    authority, regulator = registry.roles.authority(4), registry.roles.regulator
    registry.suspend_entity(entity.id, by=regulator)
    refused(lambda: registry.reinstate_entity(entity.id, by=authority), "HeldByRegulator", id=entity.id)
    assert registry.view("entityHeldByRegulator", entity.id) is True
    registry.reinstate_entity(entity.id, by=regulator)
    assert registry.entity(entity.id).status is EntityStatus.ACTIVE
    assert registry.view("entityHeldByRegulator", entity.id) is False
    registry.suspend_entity(entity.id, by=authority)
    refused(lambda: registry.reinstate_entity(entity.id, by=regulator), "NotZoneAuthority")
    registry.reinstate_entity(entity.id, by=authority)
    assert registry.entity(entity.id).status is EntityStatus.ACTIVE


def test_an_approved_pilot_can_be_suspended_by_its_authority(registry: Registry) -> None:
    pilot_id, zone = proposed_pilot(registry)
    refused(lambda: registry.suspend_pilot(pilot_id, by=registry.roles.authority(zone)), "InvalidPilotTransition",
            **{"from": int(PilotStatus.PROPOSED)})
    registry.approve_pilots([pilot_id], by=registry.roles.authority(zone))
    registry.suspend_pilot(pilot_id, by=registry.roles.authority(zone))
    assert registry.pilot(pilot_id).status is PilotStatus.SUSPENDED


def test_a_suspended_entity_blocks_its_pilots(registry: Registry) -> None:
    pilot_id, zone = proposed_pilot(registry)
    authority = registry.roles.authority(zone)
    registry.suspend_entity(1, by=authority)
    refused(lambda: registry.approve_pilots([pilot_id], by=authority), "EntityNotActive", entityId=1)
    registry.reinstate_entity(1, by=authority)
    registry.approve_pilots([pilot_id], by=authority)
    registry.suspend_entity(1, by=authority)
    refused(lambda: registry.activate_pilots([pilot_id], by=authority), "EntityNotActive", entityId=1)
    active = registry.pilots(status=PilotStatus.ACTIVE)
    mine = next(p for p in active if p.entity_id == 1)
    registry.suspend_pilot(mine.id, by=authority)
    refused(lambda: registry.reinstate_pilot(mine.id, by=authority), "EntityNotActive", entityId=1)


def test_a_suspended_entity_cannot_complete_its_pilots(registry: Registry) -> None:
    """Completion is final: done while suspended, it would put the pilot beyond the regulator's reach."""
    pilot = registry.pilots(status=PilotStatus.ACTIVE)[0]
    me, authority = registry.roles.entity(pilot.entity_id), registry.roles.authority(pilot.zone_id)
    registry.suspend_entity(pilot.entity_id, by=registry.roles.regulator)
    for who in (me, authority):
        refused(partial(registry.complete_pilot, pilot.id, by=who), "EntityNotActive",
                entityId=pilot.entity_id)
    registry.suspend_pilot(pilot.id, by=registry.roles.regulator)  # still within the regulator's reach
    assert registry.pilot(pilot.id).status is PilotStatus.SUSPENDED


def test_the_sector_policy_names_only_sectors_that_exist(registry: Registry) -> None:
    sectors = registry.sector_count()
    refused(lambda: registry.set_data_policies({0: [1]}), "UnknownSector", sectorId=0)
    refused(lambda: registry.set_data_policies({sectors + 1: [1]}), "UnknownSector", sectorId=sectors + 1)
    refused(lambda: registry.set_data_policies({1: [sectors + 1]}), "UnknownSector", sectorId=sectors + 1)
    refused(lambda: registry.transact("setDataPolicies", [1, 2], [1], by=registry.roles.admin), "LengthMismatch",
            sectors=2, masks=1)
    registry.set_data_policies({2: [1, sectors]})
    assert registry.data_policy(2) == [1, sectors]


# ------------------------------------------------------------------------- every error is covered


def test_every_custom_error_of_the_contract_is_exercised_here() -> None:
    """If an error is added to the contract, a test that triggers it must be added here."""
    from pathlib import Path

    from registry.evm.artifacts import load_artifact

    source = Path(__file__).read_text()
    names = {e.name for e in load_artifact("PilotRegistry").abi.errors.values()} - {"Error", "Panic"}
    missing = sorted(n for n in names if f'"{n}"' not in source)
    assert not missing, f"custom errors without a test: {missing}"


def test_a_regulators_hold_stacks_on_the_authoritys_suspension(registry: Registry) -> None:
    """An authority that suspends first cannot pre-empt a regulator: the regulator's hold is recorded on top;
    the authority cannot lift anything while it stands; lifting the hold leaves the authority's suspension."""
    entity = registry.entities(zone=4)[0]
    authority, regulator = registry.roles.authority(4), registry.roles.regulator
    registry.suspend_entity(entity.id, by=authority)
    registry.suspend_entity(entity.id, by=regulator)  # refused before: InvalidEntityTransition, no hold
    assert registry.view("entityHeldByRegulator", entity.id) is True
    assert registry.view("entitySuspendedByAuthority", entity.id) is True
    refused(lambda: registry.suspend_entity(entity.id, by=regulator), "InvalidEntityTransition")  # once each
    refused(lambda: registry.reinstate_entity(entity.id, by=authority), "HeldByRegulator", id=entity.id)
    registry.reinstate_entity(entity.id, by=regulator)
    assert registry.entity(entity.id).status is EntityStatus.SUSPENDED  # the authority's suspension stands
    refused(lambda: registry.reinstate_entity(entity.id, by=regulator), "NotZoneAuthority")
    registry.reinstate_entity(entity.id, by=authority)
    assert registry.entity(entity.id).status is EntityStatus.ACTIVE
    # a pilot alike
    pilot = next(p for p in registry.pilots() if p.status is PilotStatus.ACTIVE)
    zone_authority = registry.roles.authority(pilot.zone_id)
    registry.suspend_pilot(pilot.id, by=zone_authority)
    registry.suspend_pilot(pilot.id, by=regulator)
    refused(lambda: registry.reinstate_pilot(pilot.id, by=zone_authority), "HeldByRegulator", id=pilot.id)
    registry.reinstate_pilot(pilot.id, by=regulator)
    assert registry.pilot(pilot.id).status is PilotStatus.SUSPENDED
    registry.reinstate_pilot(pilot.id, by=zone_authority)
    assert registry.pilot(pilot.id).status is PilotStatus.ACTIVE


def test_reinstatement_returns_to_the_status_suspended_from(registry: Registry) -> None:
    """A pending entity suspended and reinstated is pending again (its authority never approved it); an
    approved pilot is approved again, not started."""
    newcomer = registry.chain.accounts[196].address
    registry.register_entities([(4, [1], newcomer, "Newcomer Lab", "Nowhere")])
    entity_id = registry.entity_count()
    registry.suspend_entity(entity_id, by=registry.roles.regulator)
    registry.reinstate_entity(entity_id, by=registry.roles.regulator)
    assert registry.entity(entity_id).status is EntityStatus.PENDING
    pilot_id, zone = proposed_pilot(registry)
    registry.approve_pilots([pilot_id], by=registry.roles.authority(zone))
    registry.suspend_pilot(pilot_id, by=registry.roles.regulator)
    registry.reinstate_pilot(pilot_id, by=registry.roles.regulator)
    assert registry.pilot(pilot_id).status is PilotStatus.APPROVED
