"""The living registry: activity on the hub during a run, its propagation to the mirrors, and the
staleness measured from chain events — checked against the chains' own state, block by block, in a
small run worked out by hand; the built-in registry scenarios; determinism; scenario mistakes."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from conftest import Networks
from sim_kit import all_hold, refused_scenario, run_on, shortened
from typer.testing import CliRunner

from registry import Contract, EntityStatus, load_seed_data
from sim.bridge.provision import build_network
from sim.cli.app import app
from sim.engine import scenario as scenarios
from sim.engine.scenario import Scenario
from sim.engine.simulation import Simulation
from sim.results.outputs import summary_rows
from sim.results.report import Percentiles

SUSPENDED, ACTIVE = int(EntityStatus.SUSPENDED), int(EntityStatus.ACTIVE)

# Guiyang's hub lane pauses from 20 s to 90 s; one of its busiest providers is suspended at 30 s and
# reinstated at 90 s. Beijing and Chengdu learn of both within a broadcast; Guiyang learns only
# after its lane reopens, by which time the entity is active again: its mirror never says suspended.
HAND = """
name = "hand"
seed = 2
duration_s = 120
drain_s = 200

[workload]
rate_per_s = 3.0
zones = ["Beijing", "Chengdu", "Guiyang"]

[registry]
broadcast_interval_s = 10
max_stale_s = 20
suspend = [{ entity = "Guiyang human resources pilot 08", at_s = 30, for_s = 60 }]

[[faults]]
kind = "lane-pause"
to = ["Guiyang"]
at_s = 20
duration_s = 70
"""


T = TypeVar("T")


def _status_changes(blocks: range, status_at: Callable[[int], T]) -> list[tuple[int, T]]:
    """(block, status) where the status read at a block differs from the block before."""
    changes: list[tuple[int, T]] = []
    last: T | None = None
    for block in blocks:
        status = status_at(block)
        if status != last:
            changes.append((block, status))
            last = status
    return changes


def _max(latencies: Percentiles) -> float:
    """The largest of `latencies`, which must have been measured (`max` is None only over no samples)."""
    assert latencies.max is not None, latencies
    return latencies.max


def test_propagation_and_stale_decisions_match_the_chains_state_block_by_block() -> None:
    scenario = Scenario.model_validate(tomllib.loads(HAND))
    data = load_seed_data().only_zones(["Beijing", "Chengdu", "Guiyang"])
    entity = data.entity_id("Guiyang human resources pilot 08")
    with build_network(scenario.network_config(), data=data, backend="revm") as network:
        first = {c: n.chain.block_number + 1 for c, n in network.nodes.items()}
        simulation = Simulation(scenario, network)
        records = simulation.run()
        assert records.registry is not None and simulation.registry is not None
        watch = simulation.registry.watch  # the engine's own, to check it against the chains

        def time_of(node_chain_id: int, block: int) -> float:
            return float(network.nodes[node_chain_id].chain.block(block).timestamp - simulation.epoch)

        # the hub's own state, block by block: suspended, then active again
        hub = network.hub
        hub_blocks = range(first[hub.chain_id], hub.chain.block_number + 1)
        registry = network.registry
        on_hub = _status_changes(hub_blocks, lambda b: int(registry.view("getEntity", entity, block=b)["status"]))
        [(_, initial), (suspended_at, s1), (reinstated_at, s2)] = on_hub
        assert (initial, s1, s2) == (ACTIVE, SUSPENDED, ACTIVE)
        t_suspended, t_reinstated = time_of(hub.chain_id, suspended_at), time_of(hub.chain_id, reinstated_at)
        assert 30 <= t_suspended <= 32 and 90 <= t_reinstated <= 92

        # each mirror's own state, block by block: when it took each change
        expected: dict[str, list[float]] = {}
        for zone in network.zones:
            assert zone.mirror is not None
            blocks = range(first[zone.chain_id], zone.chain.block_number + 1)
            def record(b: int, mirror: Contract = zone.mirror) -> tuple[int, int]:
                found = mirror.view("records", entity, block=b)
                return int(found["status"]), int(found["version"])

            words = _status_changes(blocks, record)
            applied = [(time_of(zone.chain_id, b), status) for b, (status, _) in words[1:]]
            # (a later sync may carry the same status again under a newer version: it changes nothing)
            if zone.name == "Guiyang":  # its first sync after the lane reopened already says active again
                t, status = applied[0]
                assert status == ACTIVE and t > 90 and all(status == ACTIVE for _, status in applied)
                expected[zone.name] = [t - t_suspended, t - t_reinstated]
            else:
                t1 = next(t for t, status in applied if status == SUSPENDED)
                t2 = next(t for t, status in applied if status == ACTIVE and t > t1)
                assert t1 - t_suspended <= 14 and t2 - t_reinstated <= 14  # a broadcast interval and two blocks
                expected[zone.name] = [t1 - t_suspended, t2 - t_reinstated]
        found = {network.nodes[c].name: sorted(s for _, s in values) for c, values in watch.propagation.items()}
        assert found == {zone: sorted(values) for zone, values in expected.items()}

        # every request a provider's chain accepted while the hub had the entity suspended
        served: dict[str, float] = {}
        for zone in network.zones:
            exchange = zone.data_exchange
            for log in zone.chain.logs(exchange.address, first[zone.chain_id], zone.chain.block_number):
                event = exchange.abi.decode_event(log.address, log.topics, log.data)
                if event is None or event.name != "RequestReceived" or entity not in (event["requester"],
                                                                                        event["provider"]):
                    continue
                t = time_of(zone.chain_id, log.block_number)
                if t_suspended < t <= t_reinstated:
                    assert zone.mirror is not None  # its mirror said active then (the contract checked it)
                    assert zone.mirror.view("records", entity, block=log.block_number)["status"] == ACTIVE
                    served["0x" + event["id"].hex()] = t - t_suspended
    assert served, "the scenario should serve the suspended provider while Guiyang's mirror lags"
    listed = {d.message_id: d.lag_s for d in watch.stale if d.kind == "served_while_suspended"}
    assert listed == pytest.approx(served)
    late = {m for m, lag in served.items() if lag > 20}
    assert late and {v.message_id for v in watch.violations} == late
    assert all(v.invariant == "suspension_honoured" for v in watch.violations)
    assert watch.activity == {"suspensions": 1, "reinstatements": 1, "syncs": watch.activity["syncs"]}
    assert records.invariants.held["suspension_honoured"] is False


@pytest.mark.parametrize("name", ["registry-churn", "regulator-suspends", "mirror-lag"])
def test_registry_scenarios_as_documented(name: str, networks: Networks, tmp_path: Path) -> None:
    scenario = scenarios.load(name)
    if name == "registry-churn":
        scenario = scenario.with_overrides({"duration_s": 300})
    report = run_on(networks, scenario, tmp_path / name)
    section = report.registry
    assert section is not None and section.unpropagated == 0  # every mirror caught up
    stale = section.stale_decisions
    zones = report.network.zone_names
    if name == "registry-churn":
        assert all_hold(report)
        for kind in ("applications", "approvals", "suspensions", "reinstatements", "pilots_proposed",
                     "pilots_approved", "pilots_started", "pilots_completed", "policy_changes", "policy_syncs"):
            assert section.activity.get(kind, 0) > 0, kind
        assert section.propagation_s.count > 0 and _max(section.propagation_s) <= 2 * 10 + 4
    elif name == "regulator-suspends":
        assert all_hold(report)
        assert section.activity["suspensions"] == 10
        assert all(section.propagation_by_zone[z].count == 10 for z in zones)  # every mirror took all ten
        ten = {s.entity for s in scenario.registry.suspend}
        homes = {load_seed_data().entity(load_seed_data().entity_id(e)).zone for e in ten}
        assert len(homes) == 10
        # refused on the chains of their zones once the mirrors caught up, and at their sources
        for zone in zones:
            code = load_seed_data().zones[load_seed_data().zone_id(zone) - 1].code
            if code in homes:
                assert section.decisions_by_zone[zone]["refused"] > 0, zone
        assert report.messages.refused_at_source_by_reason.get("EntityNotActive", 0) > 0
        served = stale["served_while_suspended"]
        assert served.count > 0 and {d.entity for d in served.listed} <= ten
        assert max(d.lag_s for d in served.listed) <= _max(section.propagation_s)  # none served after catching up
    else:
        paused = {"Haikou", "Changsha", "Guangzhou"}
        assert report.invariants.held["suspension_honoured"] is False
        assert all(held for key, held in report.invariants.held.items() if key != "suspension_honoured")
        offenders = [v for v in report.invariants.violations if v.invariant == "suspension_honoured"]
        by_id = {d.message_id: d for d in stale["served_while_suspended"].listed}
        assert offenders and all(by_id[v.message_id].zone in paused for v in offenders)
        assert all(by_id[v.message_id].lag_s > section.max_stale_s for v in offenders)
        assert all(_max(section.propagation_by_zone[z]) > 150 for z in paused)
        assert all(_max(section.propagation_by_zone[z]) <= 24 for z in zones if z not in paused)
        assert all(lag == 0 for lag in section.lag_timeline[-1][1].values())  # caught up by the end
        assert section.syncs_refused > 0
        [pause] = report.faults
        assert "registry of Changsha, Guangzhou, Haikou up to" in pause.effect  # the fault's effect, observed
        listed = stale["served_while_suspended"].listed
        assert [d.time_s for d in listed] == sorted(d.time_s for d in listed)
        assert {d.role for d in listed} <= {"requester", "provider"} and any(d.role == "provider" for d in listed)
        summary = dict(summary_rows(report))["registry"]
        assert f"{section.syncs_refused} syncs refused on paused lanes" in summary
    html = (tmp_path / name / "report.html").read_text()
    assert 'aria-label="mirror-lag"' in html
    assert ('aria-label="pilots"' in html) is (name == "registry-churn")  # plotted when pilots moved
    assert "## Registry" in (tmp_path / name / "report.md").read_text()
    gas = {(row.contract, row.function) for row in report.gas.by_function}
    assert ("PilotRegistry", "suspendEntity") in gas and ("RegistryBroadcaster", "sync") in gas


def test_the_same_seed_gives_the_same_registry_activity_and_report(networks: Networks, tmp_path: Path) -> None:
    scenario = shortened("registry-churn", 150)
    first = run_on(networks, scenario, tmp_path / "a")
    second = run_on(networks, scenario, tmp_path / "b")
    assert first.registry is not None and first.registry.activity["suspensions"] > 0
    assert first.without_machine() == second.without_machine()
    other = run_on(networks, scenario.with_overrides({"seed": 9}), tmp_path / "c")
    assert other.registry is not None and other.registry.activity != first.registry.activity


@pytest.mark.parametrize(("section", "error"), [
    ('[registry]\nsuspend = [{ entity = "ICBK", at_s = 5 }]',
     "registry.suspend.0.entity: unknown entity 'ICBK'; did you mean 'ICBC'?"),
    ("[registry]\nreview_s = [90, 30]", "registry.review_s: must be [low, high]"),
    ("[registry]\nbroadcast_batch = 0", "registry.broadcast_batch"),
    ('[[faults]]\nkind = "lane-pause"\nto = ["Pekin"]\nat_s = 5',
     "faults.0.to.0: unknown zone 'Pekin'; did you mean 'Beijing'"),
    ('[[faults]]\nkind = "lane-pause"\nat_s = 5', "faults.0.to"),
    ('[[faults]]\nkind = "lane-pause"\nchain = "Beijing"\nto = ["beijing"]',
     "faults.0.to.0: beijing is Beijing itself: a chain has no lane to itself"),
    ('drain_s = 60\n[registry]\nsuspend = [{ entity = "ICBC", at_s = 30, for_s = 100 }]',
     "registry.suspend.0.for_s: the reinstatement would come at 130 s, after the run ends (duration_s + drain_s = "
     "70 s)"),
    ('drain_s = 60\n[registry]\nsuspend = [{ entity = "ICBC", at_s = 80 }]',
     "registry.suspend.0.at_s: it would come at 80 s, after the run ends"),
    ('[workload]\nzones = ["Beijing", "Chengdu"]\n[registry]\nsuspend = [{ entity = "Haier", at_s = 3 }]',
     "registry.suspend.0.entity: Haier is in Weifang, which workload.zones leaves out"),
    ('[registry]\nsuspend = [{ entity = "icbc", at_s = 3 }, { entity = "ICBC", at_s = 5 }]',
     "registry.suspend.1.entity: ICBC is already suspended then (registry.suspend.0)"),
])
def test_registry_mistakes_are_one_line_before_anything_is_built(section: str, error: str, tmp_path: Path) -> None:
    _, line = refused_scenario(tmp_path, f'name = "bad"\nduration_s = 10\n{section}\n')
    assert line.startswith("error: ") and error in line, line


def test_set_takes_toml_and_bare_word_lists_and_says_when_a_list_is_too_short(tmp_path: Path) -> None:
    scenario = scenarios.load("baseline")
    result = CliRunner().invoke(app, ["run", "baseline", "--set", "registry.suspend.0.at_s=5",
                                      "--out", str(tmp_path / "a")])
    assert result.exit_code == 1 and result.stderr.strip() == (
        "error: --set registry.suspend.0.at_s: registry.suspend has 0 items; add one in the scenario file, or set "
        "the whole list (--set registry.suspend=[…])")
    from sim.experiment.settings import parse_sets
    sets = parse_sets(['registry.suspend=[{entity = "ICBC", at_s = 5}]', "workload.zones=[Beijing, Chengdu]"])
    changed = scenario.with_overrides({key: values[0] for key, values in sets.items()})
    assert changed.registry.suspend[0].entity == "ICBC" and changed.workload.zones == ["Beijing", "Chengdu"]


def test_the_run_waits_for_scheduled_suspensions_after_the_workload(networks: Networks, tmp_path: Path) -> None:
    """Suspended at 50 s and reinstated at 120 s, after a 40 s workload: both happen and reach every zone."""
    scenario = shortened("baseline", 40).with_overrides(
        {"registry.suspend": [{"entity": "ICBC", "at_s": 50, "for_s": 70}]})
    report = run_on(networks, scenario, tmp_path / "run")
    assert report.registry is not None
    assert (report.registry.activity["suspensions"], report.registry.activity["reinstatements"]) == (1, 1)
    assert report.registry.unpropagated == 0 and report.sim_seconds > 120
