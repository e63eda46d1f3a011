"""The typed client: queries return models, paging, attaching, snapshots, seeding."""

from __future__ import annotations

import json
import pickle

import pytest

from registry import (
    Category,
    ChainError,
    ContractRevert,
    EntityStatus,
    EthTesterChain,
    NotFound,
    PilotsimError,
    PilotStatus,
    Registry,
    SeedData,
)
from registry.defaults import GAS_BASE, GAS_PER_ITEM, SEED_BATCH
from registry.evm.artifacts import load_artifact
from registry.evm.base import Chain


def test_queries_return_models(registry: Registry, seed_data: SeedData) -> None:
    zones = registry.zones()
    assert [z.name for z in zones] == [z.name for z in seed_data.zones]
    assert zones[0].authority == registry.roles.authority(1).address
    sectors = registry.sectors()
    assert sectors[11].name == "Healthcare" and sectors[11].category is Category.LIVELIHOOD
    haier = registry.find_entity("haier")
    assert haier.zone_id == seed_data.zone_id("Weifang") and haier.status is EntityStatus.ACTIVE
    assert haier.account == registry.roles.entity(haier.id).address
    assert registry.entity_of(haier.account) == haier.id


def test_filters_agree_with_the_seed_data(registry: Registry, seed_data: SeedData) -> None:
    chengdu = seed_data.zone_id("Chengdu")
    healthcare = seed_data.sector_id("healthcare")
    expected = [e.name for e in seed_data.entities if e.zone == "chengdu"]
    assert [e.name for e in registry.entities(zone=chengdu)] == expected
    in_sector = [e.name for e in seed_data.entities if "healthcare" in e.sectors]
    assert [e.name for e in registry.entities(sector=healthcare)] == in_sector
    assert registry.entities(status=EntityStatus.SUSPENDED) == []
    assert len(registry.pilots(status=PilotStatus.ACTIVE)) == len(seed_data.pilots)
    both = registry.pilots(zone=chengdu, sector=healthcare)
    assert [p.sector_id for p in both] == [healthcare] and both[0].zone_id == chengdu


def test_statuses_in_one_call_agree_with_the_records(registry: Registry) -> None:
    registry.suspend_entity(3, by=registry.roles.regulator)
    assert registry.entity_statuses() == [e.status for e in registry.entities()]
    assert registry.entity_statuses()[2] is EntityStatus.SUSPENDED
    assert registry.pilot_statuses() == [p.status for p in registry.pilots()]
    assert len(registry.pilot_statuses()) == registry.pilot_count()


def test_paging_returns_the_same_rows_as_one_page(registry: Registry) -> None:
    assert registry.entities(page_size=7) == registry.entities(page_size=500)
    assert registry.pilots(zone=3, page_size=1) == registry.pilots(zone=3)


def test_counts_match_the_lists(registry: Registry) -> None:
    assert registry.zone_count() == len(registry.zones()) == 15
    assert registry.entity_count() == len(registry.entities()) == 164
    assert registry.pilot_count() == len(registry.pilots())
    assert registry.is_active_in(1, registry.entity(1).sectors[0])
    assert not registry.is_active_in(1, 16) and not registry.is_active_in(0, 1) and not registry.is_active_in(999, 1)


def test_snapshot_context_manager_undoes_changes(registry: Registry) -> None:
    with registry.snapshot():
        registry.suspend_entity(5, by=registry.roles.regulator)
        assert registry.entity(5).status is EntityStatus.SUSPENDED
    assert registry.entity(5).status is EntityStatus.ACTIVE


def test_unknown_entity_name_suggests(registry: Registry) -> None:
    with pytest.raises(NotFound, match=r"did you mean 'Haier'"):
        registry.find_entity("Haeir")


def test_zones_sectors_entities_and_authorities_by_name_or_id(registry: Registry) -> None:
    chengdu = registry.zone("Chengdu")
    assert registry.zone("chengdu") == registry.zone(chengdu.id) == chengdu
    assert registry.roles.authority("Chengdu") == registry.roles.authority(chengdu.id)
    assert registry.roles.authority("Chengdu").address == chengdu.authority
    healthcare = registry.sector("healthcare")
    assert registry.sector(healthcare.id) == healthcare
    haier = registry.entity("Haier")
    assert registry.entity(haier.id) == haier and registry.roles.entity("Haier") == registry.roles.entity(haier.id)


@pytest.mark.parametrize(("lookup", "key", "message"), [
    ("zone", "Chendgu", "unknown zone 'Chendgu'; did you mean 'Chengdu'"),
    ("zone", 99, "unknown zone '99'"),
    ("sector", "helthcare", "unknown sector 'helthcare'; did you mean"),
    ("sector", 99, "unknown sector '99'"),
    ("entity", 9_999, "unknown entity '9999'"),  # was ContractRevert UnknownEntity, unlike a name
    ("pilot", 9_999, "unknown pilot '9999'"),
])
def test_one_not_found_for_every_unknown_id_or_name(registry: Registry, lookup: str, key: object,
                                                     message: str) -> None:
    with pytest.raises(NotFound, match=message):
        getattr(registry, lookup)(key)


def test_what_things_are_reads_in_their_repr(registry: Registry) -> None:
    assert repr(registry) == f"<PilotRegistry {registry.address} on {registry.chain!r}>"
    chain = registry.chain
    assert repr(chain) == f"<{type(chain).__name__} chain id {chain.chain_id}, block {chain.block_number}>"
    sent = registry.suspend_entity(5, by=registry.roles.regulator)
    assert repr(sent) == f"<Sent 1 transaction(s) in block {sent.receipt.block_number}, {sent.gas_used:,} gas; " \
                         "EntityStatusChanged, SuspensionChanged>"


def test_refusals_cross_process_boundaries_intact(registry: Registry) -> None:
    """Sweeps run in worker processes: their errors come back pickled, and must say the same."""
    with pytest.raises(NotFound) as unknown:
        registry.find_entity("Haeir")
    with pytest.raises(ContractRevert) as refusal:
        registry.suspend_pilot(1, by=registry.roles.entity(1))
    for error in (unknown.value, refusal.value):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), str(copy)) == (type(error), str(error))
    assert pickle.loads(pickle.dumps(refusal.value)).args_by_name == refusal.value.args_by_name


def test_attach_checks_the_code(registry: Registry, chain: Chain) -> None:
    again = Registry.at(chain, registry.address)
    assert again.entity_count() == 164
    with pytest.raises(ChainError, match="no contract at"):
        Registry.at(chain, "0x" + "12" * 20)
    probe = chain.deploy(chain.accounts[0], load_artifact("Probe").bytecode)
    with pytest.raises(ChainError, match="not this PilotRegistry build"):
        Registry.at(chain, probe)


def test_seed_batches_fit_the_block_and_their_gas_limits(seed_data: SeedData) -> None:
    chain = EthTesterChain(genesis_timestamp=1_643_414_400)
    registry = Registry.deploy(chain)
    steps: list[tuple[str, float, float]] = []
    report = registry.seed(seed_data, progress=lambda label, done, total: steps.append((label, done, total)))
    assert (report.zones, report.sectors, report.entities, report.pilots) == (15, 16, 164, 164)
    assert report.active_pilots == 164
    assert [s[0] for s in steps if s[1]] == ["zones and sectors", "entities", "pilots", "entity approvals",
                                             "pilot approvals", "pilot activations"]
    for function, per_item in GAS_PER_ITEM.items():
        assert GAS_BASE + per_item * SEED_BATCH < chain.block_gas_limit, function
    for number in range(1, chain.block_number + 1):
        assert chain.block(number).gas_used <= chain.block_gas_limit
    assert report.blocks < report.transactions  # packed several per block


def test_seeding_is_reproducible(seed_data: SeedData) -> None:
    def head() -> bytes:
        chain = EthTesterChain(genesis_timestamp=1_643_414_400)
        Registry.deploy(chain).seed(seed_data)
        return bytes(chain.evm.get_canonical_head().hash)

    assert head() == head()


def test_statuses_print_by_name_in_values_and_refusals(registry: Registry) -> None:
    pilot = registry.pilots(status=PilotStatus.ACTIVE)[0]
    assert (str(pilot.status), f"{pilot.status}", pilot.status) == ("active", "active", 3)
    assert json.loads(pilot.model_dump_json())["status"] == "active"
    entity = registry.entity(pilot.entity_id)
    with pytest.raises(ContractRevert) as caught:
        registry.activate_pilots([pilot.id], by=registry.roles.entity(entity.id))
    assert caught.value.name == "InvalidPilotTransition"
    assert "from=active, to=active" in str(caught.value)
    assert caught.value.args_by_name["from"] == PilotStatus.ACTIVE == 3


def test_a_refusal_names_the_actors_it_involves(registry: Registry) -> None:
    beijing = registry.roles.authority("Beijing")
    chengdu = registry.entities(zone=registry.zone("Chengdu").id)[0]
    with pytest.raises(ContractRevert) as caught:
        registry.suspend_entity(chengdu.id, by=beijing)
    short = f"{beijing.address[:6]}…{beijing.address[-4:]}"
    assert f"caller={short} (Beijing authority)" in str(caught.value)
    assert caught.value.args_by_name["caller"] == beijing.address  # still the address
    assert pickle.loads(pickle.dumps(caught.value)).args_by_name == caught.value.args_by_name


def test_registering_by_keyword_with_names(registry: Registry) -> None:
    newcomer = registry.chain.accounts[199]
    entity_id = registry.register_entity(zone="Chengdu", sectors=["healthcare", "education"], name="Newcomer Lab",
                                         province="Sichuan", account=newcomer)
    entity = registry.entity("Newcomer Lab")
    assert entity.id == entity_id and entity.zone_id == registry.zone("Chengdu").id
    assert entity.status is EntityStatus.PENDING and entity.account == newcomer.address
    assert set(entity.sectors) == {registry.sector("healthcare").id, registry.sector("education").id}
    pilot_id = registry.register_pilot(entity="Newcomer Lab", sector="healthcare", title="Triage data")
    assert registry.pilot(pilot_id).status is PilotStatus.PROPOSED


def test_an_account_shows_its_address_never_its_key(registry: Registry) -> None:
    account = registry.roles.regulator
    assert account.address in repr(account)
    assert account.key.to_hex()[2:] not in repr(account) and "key" not in repr(account)


def test_one_id_or_several_where_ids_are_taken(registry: Registry) -> None:
    registry.register_entities([(4, [1], registry.chain.accounts[196].address, "Single Lab", "Nowhere")])
    entity_id = registry.entity_count()
    registry.approve_entities(entity_id, by=registry.roles.authority(4))  # an int, not only a list
    assert registry.entity(entity_id).status.name == "ACTIVE"


def test_an_entitys_role_is_the_account_it_registered_with(registry: Registry) -> None:
    """An entity registered with an account other than the one derived for its id: roles.entity gives that
    account (it used to give the derived one, which the contract then refused as NotEntityAccount); an
    entity registered with a key this chain does not hold is said so."""
    chain = registry.chain
    registry.register_entities([(4, [1], chain.accounts[199].address, "Own Key Lab", "Nowhere")])
    entity_id = registry.entity_count()
    assert registry.roles.entity(entity_id) == chain.accounts[199] == registry.roles.entity("Own Key Lab")
    registry.approve_entities(entity_id, by=registry.roles.authority(4))
    registry.propose_pilot(1, "A pilot of its own", by=registry.roles.entity(entity_id))
    registry.register_entities([(4, [1], "0x" + "12" * 20, "Foreign Key Lab", "Nowhere")])
    with pytest.raises(PilotsimError, match="whose key is not one of this chain's accounts"):
        registry.roles.entity("Foreign Key Lab")


def test_one_way_to_name_things(registry: Registry, seed_data: SeedData) -> None:
    """A zone, sector or entity by id, record or name wherever one is taken, in every spelling the CLI takes
    (its Chinese name, its seed code, the start of one name); statuses by member, number or name."""
    chengdu = seed_data.zone_id("Chengdu")
    assert {registry.zone(z).id for z in ("Chengdu", "chengdu", "成都市", chengdu)} == {chengdu}
    assert registry.zone("xiongan").name == registry.zone("Xiong").name == "Xiong'an New Area"
    assert registry.sector("卫生健康").name == registry.sector("healthcare").name == "Healthcare"
    by_id = registry.entities(zone=chengdu, sector=seed_data.sector_id("healthcare"))
    assert by_id and registry.entities(zone="成都市", sector="healthcare", status="active") == by_id
    assert registry.pilots(status="active") == registry.pilots(status=PilotStatus.ACTIVE) == registry.pilots(status=3)
    with pytest.raises(NotFound, match=r"unknown status 'running'; known: proposed, approved, active, suspended, "
                                       r"completed"):
        registry.pilots(status="running")
    with pytest.raises(NotFound, match=r"unknown zone 'Shenzen'; known: Beijing, Shanghai"):
        registry.entities(zone="Shenzen")
    with registry.snapshot():
        entity = by_id[0]
        registry.suspend_entity(entity.name, by=registry.roles.regulator)  # by name
        assert registry.entity(entity).status is EntityStatus.SUSPENDED  # by record
        registry.reinstate_entity(entity.id, by=registry.roles.regulator)
        me, authority = registry.roles.entity(entity.id), registry.roles.authority("Chengdu")
        pilot = registry.propose_pilot("healthcare", "Named by its sector", by=me)
        registry.approve_pilots(pilot, by=authority)
        sent = registry.start_pilot(pilot, by=authority)
        [changed] = [e for e in sent.events if e.name == "PilotStatusChanged"]
        assert (changed["from"], changed["to"]) == (PilotStatus.APPROVED, PilotStatus.ACTIVE)
        assert isinstance(changed["to"], PilotStatus) and str(changed["to"]) == "active"  # as refusals read
        assert dict(changed) == {"pilotId": pilot, "from": PilotStatus.APPROVED, "to": PilotStatus.ACTIVE,
                                 "by": authority.address}
