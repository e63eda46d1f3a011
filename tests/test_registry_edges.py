"""The living registry's edges, each found by a review and failing on the code before its fix: the hub
topology (zone DataExchanges share the broadcaster's address), a request judged once however many of
its parties were suspended, a change in the last broadcast interval, suspensions for good, and a sync
batch larger than a payload may be. Small 3-zone revm networks, a few seconds each."""

from __future__ import annotations

import tomllib
from collections import Counter

import pytest

from registry import EntityStatus, load_seed_data
from sim.bridge.provision import build_network
from sim.engine.scenario import Scenario, ScenarioError, validate
from sim.engine.simulation import Simulation

ZONES = ["Beijing", "Chengdu", "Guiyang"]
SUSPENDED, ACTIVE = int(EntityStatus.SUSPENDED), int(EntityStatus.ACTIVE)


def _data():  # type: ignore[no-untyped-def]
    return load_seed_data().only_zones(ZONES)


def _run(toml: str):  # type: ignore[no-untyped-def]
    scenario = Scenario.model_validate(tomllib.loads(toml))
    network = build_network(scenario.network_config(), data=_data(), backend="revm")
    simulation = Simulation(scenario, network)
    return network, simulation, simulation.run()


def _suspend(names: list[str], at_s: float) -> str:
    return ", ".join(f'{{ entity = "{n}", at_s = {at_s} }}' for n in names)


def test_hub_topology_with_a_living_registry_runs() -> None:
    """In the hub topology the hub forwards zone-to-zone requests, and each zone's DataExchange sits at
    the address of the hub's RegistryBroadcaster: the watch must take only the hub's own sends as syncs
    (it crashed decoding a forwarded request)."""
    network, _, records = _run(f"""
name = "hub-registry"
seed = 2
duration_s = 60
drain_s = 300
[network]
topology = "hub"
[workload]
rate_per_s = 2.0
zones = {ZONES!r}
[registry]
suspend = [{{ entity = "ICBC", at_s = 20 }}]
""")
    with network:
        assert network.hub.broadcaster.address in {z.data_exchange.address for z in network.zones}  # the cause
        assert records.registry is not None and records.registry.activity["suspensions"] == 1


def test_a_stale_decision_is_one_request() -> None:
    """Both parties of a request suspended: the request is listed (and violates) once, not once per party,
    and its answer once, not once per chain it crosses; served_while_suspended cannot exceed the decisions
    it is reported "of"."""
    data = _data()
    homes = {data.zones[data.zone_id(z) - 1].code for z in ("Beijing", "Chengdu")}
    names = [e.name for e in data.entities if e.zone in homes]
    network, simulation, records = _run(f"""
name = "both-parties"
seed = 2
duration_s = 120
drain_s = 200
[workload]
rate_per_s = 3.0
zones = {ZONES!r}
[registry]
max_stale_s = 20
suspend = [{_suspend(names, 30)}]
[[faults]]
kind = "lane-pause"
to = {ZONES!r}
at_s = 20
duration_s = 90
""")
    with network:
        assert simulation.registry is not None
        watch = simulation.registry.watch  # the engine's own, to check it against the chains
        served = [d for d in watch.stale if d.kind == "served_while_suspended"]
        per_message = Counter(d.message_id for d in served)
        assert max(per_message.values()) == 1, f"{len(served)} entries for {len(per_message)} requests"
        assert len(served) <= sum(watch.decisions.values())
        violations = Counter((v.message_id, v.detail.split(" ", 1)[0]) for v in watch.violations)  # served | answered
        assert max(violations.values()) == 1, f"{len(watch.violations)} violations for {len(violations)} requests"
        answered = Counter(d.message_id for d in watch.stale if d.kind.startswith("answered"))
        assert answered and max(answered.values()) == 1


def test_a_change_in_the_last_broadcast_interval_still_reaches_the_mirrors() -> None:
    """A run ends only once the broadcaster has read the hub to its head and sent everything (it ended
    when the workload's messages were acknowledged, leaving the suspension unsynced)."""
    network, simulation, records = _run(f"""
name = "late-change"
seed = 2
duration_s = 60
drain_s = 600
[workload]
rate_per_s = 0.2
zones = {ZONES!r}
[registry]
broadcast_interval_s = 10
suspend = [{{ entity = "Guiyang human resources pilot 08", at_s = 59.5 }}]
""")
    with network:
        assert simulation.registry is not None
        watch = simulation.registry.watch  # the engine's own, to check it against the chains
        assert watch.activity["suspensions"] == 1
        assert sum(len(p) for waiting in watch.unapplied.values() for p in waiting.values()) == 0
        assert watch.activity["syncs"] > 0


def test_a_scheduled_suspension_for_good_is_neither_struck_again_nor_undone() -> None:
    """`for_s = 0`: the entity stays suspended (random suspensions leave scheduled targets alone; they
    used to strike it again, refused, or get there first and reinstate it later)."""
    data = _data()
    names = [e.name for e in data.entities][:8]
    network, _, records = _run(f"""
name = "for-good"
seed = 3
duration_s = 240
drain_s = 300
[workload]
rate_per_s = 1
zones = {ZONES!r}
[registry]
suspensions_per_min = 6
suspension_s = [100, 100]
suspend = [{_suspend(names, 60)}]
""")
    with network:
        statuses = [int(s) for s in network.registry.view("entityStatuses")]
        undone = [n for n in names if statuses[data.entity_id(n) - 1] != SUSPENDED]
        assert not undone, f"suspended for good at 60 s, active at the end: {undone}"
        assert records.registry.refused.get("suspendEntity", 0) == 0, dict(records.registry.refused)


def test_a_sync_batch_larger_than_a_payload_is_refused_when_the_scenario_loads() -> None:
    """broadcast_batch = 256 with max_payload_bytes = 4096: a sync of 256 entities could never be sent
    (PayloadTooLarge), and the broadcaster used to resend it every round, the mirrors frozen."""
    toml = """
name = "big-batch"
[network]
max_payload_bytes = 4096
[registry]
applications_per_min = 400
broadcast_batch = 256
"""
    with pytest.raises(ScenarioError, match=r"registry.broadcast_batch: 256 entities make a 8288-byte sync, above "
                                            r"network.max_payload_bytes \(4096\)"):
        validate(tomllib.loads(toml), "big-batch")
    assert validate(tomllib.loads(toml.replace("256", "125")), "big-batch").registry.broadcast_batch == 125


def test_a_halted_zone_falls_behind_and_catches_up() -> None:
    """Guiyang's chain makes no blocks from 10 s to 110 s while an entity is suspended at 20 s: its
    mirror learns of it only after the halt (the sync waits on the lane, within its deadline), the
    others within a broadcast; nothing is left unpropagated."""
    network, simulation, records = _run(f"""
name = "halted-zone"
seed = 2
duration_s = 60
drain_s = 600
[workload]
rate_per_s = 1.0
zones = {ZONES!r}
[registry]
broadcast_interval_s = 10
suspend = [{{ entity = "ICBC", at_s = 20 }}]
[[faults]]
kind = "chain-halt"
chain = "Guiyang"
at_s = 10
duration_s = 100
""")
    with network:
        assert simulation.registry is not None
        watch = simulation.registry.watch  # the engine's own, to check it against the chains
        by_zone = {network.nodes[c].name: [s for _, s in found] for c, found in watch.propagation.items()}
        assert by_zone["Beijing"] and max(by_zone["Beijing"]) <= 14 and max(by_zone["Chengdu"]) <= 14
        assert len(by_zone["Guiyang"]) == 1 and 88 <= by_zone["Guiyang"][0] <= 110
        assert sum(len(p) for waiting in watch.unapplied.values() for p in waiting.values()) == 0


@pytest.mark.parametrize("sync_ttl", [120, 7_200])
def test_the_runs_syncs_carry_the_sync_ttl_the_scenario_sets(sync_ttl: int) -> None:
    """`network.sync_ttl` governs every sync, the run's as the setup's (the run's used to carry a fixed hour)."""
    network, simulation, _ = _run(f"""
name = "sync-ttl"
duration_s = 40
[network]
sync_ttl = {sync_ttl}
[workload]
zones = {ZONES!r}
[registry]
suspend = [{{ entity = "ICBC", at_s = 10 }}]
""")
    with network:
        hub = network.hub
        assert hub.broadcaster is not None
        sent = [(log, event) for log, event in hub.gateway.logged(simulation.watcher.first_block[hub.chain_id],
                                                                  hub.chain.block_number)
                if event.name == "Sent" and event["message"]["sender"] == hub.broadcaster.address]
        assert sent, "no sync sent during the run"
        for log, event in sent:
            assert event["message"]["deadline"] - hub.chain.block(log.block_number).timestamp == sync_ttl
