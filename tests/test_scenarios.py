"""Scenarios: every built-in fault scenario's findings (each run whole, as the README describes it), the
other built-ins, and scenario files that are refused in one line before anything runs."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Networks
from sim_kit import SHORT, all_hold, refused_scenario, run_on, shortened
from typer.testing import CliRunner

from registry import PilotsimError
from sim.bridge.provision import build_network
from sim.cli.app import app
from sim.engine import scenario as scenarios
from sim.engine.scenario import Scenario
from sim.engine.watcher import INVARIANTS
from sim.experiment.run import RUNS_DIR, default_out, run_scenario
from sim.results.report import Report

runner = CliRunner()
ALL_TRUE = dict.fromkeys(INVARIANTS, True)


def _relayer_outage(report: Report) -> None:
    messages = report.messages
    assert report.relayers.restarts == 1 and messages.pending == 0
    assert messages.delivered == messages.sent  # nothing lost, nothing duplicated (exactly_once)
    assert report.latency_s.max is not None and report.latency_s.max > 60  # messages that waited out the outage


def _chain_halt(report: Report) -> None:
    messages = report.messages
    assert messages.timed_out > 0 and messages.pending == 0
    assert messages.timed_out + messages.delivered == messages.sent


def _keys_below_threshold(report: Report) -> None:
    assert [(a.status, a.reason) for a in report.attacks] == [(False, "TooFewSignatures")]


def _forgeries_flagged(report: Report) -> None:
    forged = set(report.attacks[0].message_ids)
    assert report.attacks[0].status and report.attacks[0].processed == len(forged) == 5
    flagged = {v.message_id for v in report.invariants.violations if v.invariant == "no_unmatched_delivery"}
    assert flagged == forged


def _everything_through(report: Report) -> None:
    assert report.messages.delivered == report.messages.sent and report.messages.pending == 0


def _header_forgery(report: Report) -> None:  # the header is refused: the forgeries name no stored header
    [attack] = report.attacks
    assert (attack.status, attack.processed, attack.refusals) == (True, 0, ["UnknownHeader"])


def _fraud_watched(report: Report) -> None:  # a watcher proved the claims false: the root is void
    assert [(a.status, a.reason, a.processed) for a in report.attacks] == [(False, "RootVoided", 0)]


def _admin_call(report: Report) -> None:
    assert [a.outcomes for a in report.attacks] == [[["rejected"]]] * 4
    assert [a.function for a in report.attacks] == ["setPaused", "transferOwnership"] * 2


def _rate_limit_storm(report: Report) -> None:
    messages = report.messages
    assert messages.refused_at_source > 0 and messages.pending == 0
    assert set(messages.refused_at_source_by_reason) == {"RateLimited"}


def _origin_spoof(report: Report) -> None:  # a hub broadcast and another zone's request, vouched for by Beijing's keys
    assert [(a.status, a.processed, a.refused, a.outcomes) for a in report.attacks] == [(True, 0, 2, [[], []])]


def _oversized_payload(report: Report) -> None:
    at_cap, above = report.attacks
    assert at_cap.payload_bytes == scenarios.load("oversized-payload").network.max_payload_bytes
    assert at_cap.outcomes == [["delivered"]]
    assert (above.status, above.reason, above.message_ids) == (False, "PayloadTooLarge", [])


def _ack_bomb(report: Report) -> None:
    assert report.attacks[0].outcomes == [["failed"]] * 64 and report.messages.pending == 0


def _hub_halt(report: Report) -> None:  # what timed out at the hub is acknowledged on its origin's own lane
    messages = report.messages
    assert messages.pending == 0 and messages.timed_out > 0
    # and an answer that comes after its request's deadline is refused by the requester's chain
    assert messages.timed_out + messages.delivered + messages.rejected == messages.sent
    assert set(messages.by_kind["request"]) <= {"delivered", "timed_out"}


def _relayer_failover(report: Report) -> None:
    assert report.messages.delivered == report.messages.sent and report.messages.pending == 0
    down, survivor = report.relayers.per_relayer
    assert survivor.takeovers > 0 and down.deliveries < survivor.deliveries


def _gas_cap_flood(report: Report) -> None:  # the open quota pays for one message at the largest cap; the rest refused
    attacks = report.attacks
    assert report.messages.timed_out == report.messages.pending == 0
    assert [sum(a.status for a in attacks if a.source == src) for src in ("Beijing", "hub")] == [1, 1]
    assert {a.reason for a in attacks if not a.status} == {"GasQuotaExceeded"} and len(attacks) == 600


def _requester_suspended(report: Report) -> None:  # answers to suspended requesters refused, late ones counted
    refused = report.messages.refused_at_source_by_reason
    assert refused.get("RequesterNotActive", 0) > 0 and refused.get("EntityNotActive", 0) > 0
    assert report.registry is not None
    answered = report.registry.stale_decisions["answered_while_suspended"]
    assert answered.count == len(answered.listed) > 0
    assert all(d.lag_s <= report.registry.max_stale_s for d in answered.listed)


def _fan_out(report: Report) -> None:  # the fanning contract's share pays for three of the five handlers' fan-out
    assert report.attacks[0].outcomes == [["delivered"]] * 3 + [["failed"]] * 2 and report.messages.pending == 0


def _transactions(report: Report) -> None:  # transactions ran beside the data requests, each counted by its end
    t = report.transactions
    assert t is not None and t.started > 0 and t.committed > 0
    assert t.committed + t.aborted + t.partial + t.unfinished == t.started and t.unfinished == 0
    assert t.commit_latency_s.p95 is not None and report.messages.pending == 0


def _atomic_baseline(report: Report) -> None:  # no votes from suspended entities, conflicts from locked records
    _transactions(report)
    t = report.transactions
    assert t is not None and t.aborted_by_reason["vote_no"] > 0 and t.aborted_by_reason["conflict"] > 0
    assert t.partial == 0 and t.lock_hold_s.max is not None and t.lock_hold_s.max < t.lock_timeout_s


def _coordinator_crash(report: Report) -> None:  # parties released their locks, no decision having come
    _transactions(report)
    t = report.transactions
    assert t is not None and t.aborted_by_reason["coordinator_gone"] > 0 and t.partial == 0
    assert t.lock_hold_s.max is not None and t.lock_hold_s.max >= t.lock_timeout_s


def _partial_commits(report: Report) -> None:  # the transactions `atomic` names committed on some parties only
    _transactions(report)
    t = report.transactions
    assert t is not None and t.partial > 0
    named = {v.message_id for v in report.invariants.violations if v.invariant == "atomic"}
    partial = {e.tx_id for e in t.listed if e.committed_on and len(e.committed_on) < len(e.parties)}
    assert named == partial == {e.tx_id for e in t.listed if e.outcome == "partial"} and len(named) == t.partial


FORGED = {"no_forged_accepted": False, "no_unmatched_delivery": False, "authentic_origin": False}
# each fault scenario, run whole as the README's table describes it: the invariants it ends with, and what else
# it must show
EXPECTED: dict[str, tuple[dict[str, bool], Callable[[Report], None]]] = {
    "relayer-outage": (ALL_TRUE, _relayer_outage),
    "chain-halt": (ALL_TRUE, _chain_halt),
    "keys-below-threshold": (ALL_TRUE, _keys_below_threshold),
    # forgeries accepted and flagged; nothing else moves (delivery is unordered: no genuine message displaced)
    "keys-at-threshold": (ALL_TRUE | {"no_unmatched_delivery": False, "authentic_origin": False}, _forgeries_flagged),
    "verifier-bypass": (ALL_TRUE | FORGED, _forgeries_flagged),
    "zero-root": (ALL_TRUE | FORGED, _forgeries_flagged),
    "admin-call": (ALL_TRUE, _admin_call),
    "rate-limit-storm": (ALL_TRUE, _rate_limit_storm),
    "origin-spoof": (ALL_TRUE, _origin_spoof),
    "oversized-payload": (ALL_TRUE, _oversized_payload),
    "ack-bomb": (ALL_TRUE, _ack_bomb),
    "hub-halt": (ALL_TRUE, _hub_halt),
    "relayer-failover": (ALL_TRUE, _relayer_failover),
    "gas-cap-flood": (ALL_TRUE, _gas_cap_flood),
    "requester-suspended": (ALL_TRUE, _requester_suspended),
    "fan-out": (ALL_TRUE, _fan_out),
    "validator-takeover": (ALL_TRUE | {"no_unmatched_delivery": False, "authentic_origin": False}, _forgeries_flagged),
    "header-forgery": (ALL_TRUE, _header_forgery),
    "fraud-watched": (ALL_TRUE, _fraud_watched),
    "fraud-unwatched": (ALL_TRUE | {"no_unmatched_delivery": False, "authentic_origin": False}, _forgeries_flagged),
    "validator-handover": (ALL_TRUE, _everything_through),
    "atomic-baseline": (ALL_TRUE, _atomic_baseline),
    "coordinator-crash": (ALL_TRUE, _coordinator_crash),
    "lane-outage": (ALL_TRUE, _transactions),
    "participant-halt": (ALL_TRUE | {"atomic": False}, _partial_commits),
    "lock-timeout-delay": (ALL_TRUE | {"atomic": False}, _partial_commits),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fault_scenarios_produce_their_findings(name: str, networks: Networks, tmp_path: Path) -> None:
    invariants, shows = EXPECTED[name]
    report = run_on(networks, scenarios.load(name), tmp_path / name)
    assert report.invariants.held == invariants, report.invariants.violations[:5]
    assert report.messages.sent > 0
    shows(report)
    faults = scenarios.load(name).faults
    assert [entry.fault for entry in report.faults] == faults
    assert [entry.started_s for entry in report.faults] == [f.at_s for f in faults]  # no jitter in these


@pytest.mark.parametrize("name", ["keys-at-threshold", "verifier-bypass", "zero-root"])
def test_forgeries_are_flagged_in_the_hub_topology_as_in_the_mesh(name: str, networks: Networks,
                                                                  tmp_path: Path) -> None:
    """In the hub topology the forgeries arrive at the hub: the flaw sits there, the forged hop sequences are
    the source's next ones when the delivery is built, and every forgery is accepted and flagged."""
    invariants, _ = EXPECTED[name]
    report = run_on(networks, scenarios.load(name).with_overrides({"network.topology": "hub"}), tmp_path / "out")
    assert report.invariants.held == invariants, report.invariants.violations[:5]
    [attack] = report.attacks
    assert attack.status and attack.processed == attack.messages == 5 and attack.checked is True
    assert attack.outcomes == [["forwarded", "delivered"]] * 5  # the hub passes them on to Chengdu
    flagged = {v.message_id for v in report.invariants.violations if v.invariant == "no_unmatched_delivery"}
    assert flagged == set(attack.message_ids)


@pytest.mark.parametrize("topology", ["mesh", "hub"])
def test_a_keyless_flood_throttles_no_lane_and_holds_back_no_suspension(topology: str, networks: Networks,
                                                                        tmp_path: Path) -> None:
    """gas-cap-flood (a stranger's max-cap messages to no code, on Beijing→Chengdu and on hub→Chengdu just
    before a suspension) at the baseline's load: nothing times out, p95 within 2x of the baseline's at the
    same seed, the suspension reaches every zone within the bound. With gas accounting off (the flawed
    setting) the flood goes through, declared caps are reserved first come first served, and
    deadlines_met names the lanes it throttled."""
    flood = shortened("gas-cap-flood", 150).with_overrides({"network.topology": topology})
    baseline = shortened("baseline", 150).with_overrides({"network.topology": topology, "seed": flood.seed})
    report = run_on(networks, flood, tmp_path / "flood")
    calm = run_on(networks, baseline, tmp_path / "baseline")
    assert all_hold(report) and report.messages.timed_out == 0
    assert report.latency_s.p95 is not None and calm.latency_s.p95 is not None
    assert report.latency_s.p95 <= 2 * calm.latency_s.p95
    assert report.registry is not None and report.registry.propagation_s.max is not None
    assert report.registry.propagation_s.max <= flood.registry.max_stale_s

    flawed = run_on(networks, flood.with_overrides({"network.gas_accounting": False}), tmp_path / "flawed")
    assert flawed.invariants.held["deadlines_met"] is False
    late = [v.detail for v in flawed.invariants.violations if v.invariant == "deadlines_met"]
    first_hop = "lane Beijing→Chengdu" if topology == "mesh" else "lane Beijing→hub"
    assert any(d.startswith(first_hop) for d in late) and any(d.startswith("lane hub→Chengdu") for d in late)
    assert all(a.status for a in flawed.attacks)  # nothing refused the flood at its source


@pytest.mark.parametrize("topology", ["mesh", "hub"])
def test_the_flawed_gateway_lets_spoofed_origins_in_and_the_watcher_flags_them(topology: str, networks: Networks,
                                                                             tmp_path: Path) -> None:
    """origin-spoof with the origin check switched off on the gateway the forgeries reach (Chengdu's,
    or the hub's in hub topology): accepted, and `authentic_origin` says so."""
    base = shortened("origin-spoof", 70)
    [fault] = base.faults
    scenario = base.model_copy(update={"faults": [fault.model_copy(update={"unchecked_gateway": True})],
                                       "network": base.network.model_copy(update={"topology": topology})})
    report = run_on(networks, scenario, tmp_path / "out")
    assert report.attacks[0].processed == 2
    held = report.invariants.held
    assert (held["authentic_origin"], held["no_unmatched_delivery"], held["no_forged_accepted"]) == (False, False, True)
    flagged = {v.message_id for v in report.invariants.violations if v.invariant == "authentic_origin"}
    assert set(report.attacks[0].message_ids) <= flagged


def test_oversized_payload_through_the_hub(networks: Networks, tmp_path: Path) -> None:
    """At the cap, a message crosses both hops (zone → hub → zone); a byte above, the source refuses it."""
    base = shortened("oversized-payload", 40)
    report = run_on(networks, base.model_copy(update={"network": base.network.model_copy(update={"topology": "hub"})}),
                    tmp_path / "out")
    assert all_hold(report) and report.messages.pending == 0
    at_cap, above = report.attacks
    assert at_cap.payload_bytes == base.network.max_payload_bytes
    assert at_cap.outcomes == [["forwarded", "delivered"]]  # both hops
    assert (above.status, above.reason) == (False, "PayloadTooLarge")


@pytest.mark.parametrize(("name", "duration"), [("hub", 40), ("peak-load", 8)])
def test_hub_and_peak_load_keep_every_invariant(name: str, duration: int, networks: Networks,
                                                tmp_path: Path) -> None:
    report = run_on(networks, shortened(name, duration), tmp_path / "out")
    assert all_hold(report)
    assert report.messages.delivered == report.messages.sent > 0
    assert report.network.topology == ("hub" if name == "hub" else "mesh")


@pytest.mark.parametrize(("body", "fragment"), [
    ("name = 'x'\n[workload]\nrate_per_s = -1\n", "workload.rate_per_s: Input should be greater than 0"),
    ("name = 'x'\n[workload]\nrate_pers = 1\n",
     "workload.rate_pers: unknown setting 'rate_pers'; did you mean 'rate_per_s'"),
    ("name = 'x'\ndurations = 1\n", "durations: unknown setting 'durations'; did you mean 'duration_s'"),
    ("name = 'x'\n[[faults]]\nkind = 'meteor'\n", "faults.0.kind: unknown fault kind 'meteor'"),
    ("name = 'x'\n[[faults]]\nat_s = 3\n", "faults.0.kind: Field required"),
    ("name = 'x'\n[[faults]]\nkind = 'chain-halt'\nduration_s = 5\n", "faults.0.chain: Field required"),
    ("name = 'x'\n[[faults]]\nkind = 'keys-compromised'\nchain = 'Chengdu'\nkeys = 3\n",
     "faults.0.source: Field required"),
    ("name = 'x'\n[[faults]]\nkind = 'admin-call'\nchain = 'Chengdu'\nsource = 'Beijing'\nkeys = 2\n",
     "faults.0.keys: unknown setting 'keys'; known: kind, at_s, jitter_s, chain, source, forged"),
    ("name = 'x'\n[[faults]]\nkind = 'chain-halt'\nchain = 'Chengdu'\nat_s = 1\nduration = 5\n",
     "faults.0.duration: unknown setting 'duration'; did you mean 'duration_s'?"),
    ("name = 'x'\n[workload]\nsectors = ['fintech']\n", "workload.sectors.0: unknown sector 'fintech'; known: "
     "manufacturing, energy, government-services, law-enforcement, trials"),
    ("name = 'x'\n[workload]\nzones = 'Beijing'\n",
     "workload.zones: Input should be a valid list or Input should be 'all'"),
    ("name = 'x'\n[[faults]]\nkind = 'zero-root'\nchain = 'Chengdu'\nsource = 'Beijing'\nforged = 0\n",
     "faults.0.forged: Input should be greater than or equal to 1"),
    ("name = 'x'\n[[faults]]\nkind = 'relayer-outage'\nrelayer = 5\n",
     "faults.0.relayer: relayer 5 does not exist: relayers.count is 1"),
    ("name = 'x'\n[network]\ncommittee_size = 3\nthreshold = 4\n",
     "network.threshold: 4 exceeds network.committee_size"),
    ("name = 'x'\nduration_s = 'long'\n", "duration_s: Input should be a valid number"),
    ("name = 'x'\n[network\n", "not valid TOML"),
    ("name = 'x'\n[workload]\nanswer_bytes = [10, 1]\n", "workload.answer_bytes: must be [low, high]"),
    ("name = 'x'\n[workload]\nanswer_bytes = [10, 18446744073709551616]\n",
     "workload.answer_bytes: 18446744073709551616 does not fit the answer's size on chain (uint64)"),
    ("name = 'x'\n[workload]\npayload_bytes = [10, 40]\n",
     "workload.payload_bytes: unknown setting 'payload_bytes'; did you mean 'answer_bytes'"),
    ("name = 'x'\n[network]\ngenesis_timestamp = 0\n", "network.genesis_timestamp: Input should be greater than"),
    ("name = 'x'\n[network]\nsync_ttl = 99999999\n", "network.sync_ttl: Input should be less than or equal"),
    ("name = 'x'\n[[faults]]\nkind = 'rate-limit'\ncapacity = 18446744073709551616\n",
     "faults.0.capacity: Input should be less than or equal to 1000000"),
    # names, checked against the pilot data when the scenario loads (they crashed after the build)
    ("name = 'x'\n[workload]\nzones = ['Beijing', 'Pekin']\n",
     "workload.zones.1: unknown zone 'Pekin'; did you mean 'Beijing'"),
    ("name = 'x'\n[workload]\nzones = ['Beijing']\n", "workload.zones: needs two zones at least"),
    ("name = 'x'\n[workload]\nzones = []\n", "workload.zones: needs two zones at least"),
    ("name = 'x'\n[workload]\nzone_weights = {Pekin = 2}\n", "workload.zone_weights.Pekin: unknown zone 'Pekin'"),
    ("name = 'x'\n[workload]\nzone_weights = {Beijing = -1}\n", "workload.zone_weights.Beijing: -1.0 is negative"),
    ("name = 'x'\n[workload]\nsectors = ['helthcare']\n", "workload.sectors.0: unknown sector 'helthcare'"),
    ("name = 'x'\n[[faults]]\nkind = 'chain-halt'\nchain = 'Chengdoo'\nduration_s = 5\n",
     "faults.0.chain: unknown zone 'Chengdoo'; did you mean 'Chengdu'"),
    ("name = 'x'\n[[faults]]\nkind = 'zero-root'\nchain = 'Chengdu'\nsource = 'hub'\n",
     "faults.0.source: forgeries claim a zone's chain, not the hub"),
    ("name = 'x'\n[network]\nlane_verifiers = {'beijing:pekin' = 'committee'}\n",
     "network.lane_verifiers.beijing:pekin: unknown zone 'pekin'"),
    ("name = 'x'\nduration_s = 100\ndrain_s = 100\n[[faults]]\nkind = 'chain-halt'\nchain = 'Chengdu'\nat_s = 200\n",
     "faults.0.at_s: it would start at 200 s, after the run ends (duration_s + drain_s = 200 s)"),
    ("name = 'x'\nduration_s = 100\ndrain_s = 100\n[[faults]]\nkind = 'chain-halt'\nchain = 'Chengdu'\nat_s = 50\n"
     "duration_s = 500\n", "faults.0.duration_s: it would end at 550 s, after the run ends"),
    ("name = 'x'\n[network]\nlane_verifiers = {'beijing:chengdu' = 'optimistic'}\nchallenge_window_s = 200\n",
     "watcher.lane_stall_s: 180 s is no longer than network.challenge_window_s (200 s)"),
])
def test_malformed_scenario_is_one_line_and_writes_nothing(body: str, fragment: str, tmp_path: Path) -> None:
    path, line = refused_scenario(tmp_path, body)
    assert fragment in line and str(path) in line, line


@pytest.mark.parametrize(("sets", "fragment"), [
    (["rate_per_s=2"], "--set rate_per_s: unknown setting 'rate_per_s'; did you mean 'workload.rate_per_s'"),
    (["seed=3", "workload.rate_per_s=-1"], "--set: workload.rate_per_s: Input should be greater than 0"),
])
def test_a_bad_set_names_the_bad_key_and_where_it_lives(sets: list[str], fragment: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", *(a for s in sets for a in ("--set", s)), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "seed" not in lines[0]  # only the key that is wrong


def test_the_schema_is_published_as_toml_and_json_schema() -> None:
    result = runner.invoke(app, ["scenarios", "schema"])
    assert result.exit_code == 0 and "rate_per_s = 1.0  # new data requests per second" in result.stdout
    assert tomllib.loads(result.stdout)["workload"]["rate_per_s"] == 1.0
    schema = json.loads(runner.invoke(app, ["scenarios", "schema", "--json"]).stdout)
    assert {"name", "workload", "faults"} <= set(schema["properties"]) and "Workload" in schema["$defs"]


@pytest.mark.parametrize("name", scenarios.builtin_names())
def test_a_resolved_scenario_is_the_same_scenario_written_out(name: str) -> None:
    result = runner.invoke(app, ["scenarios", "show", name, "--resolved"])
    assert result.exit_code == 0
    assert scenarios.validate(tomllib.loads(result.stdout), "resolved") == scenarios.load(name)
    assert "sync_ttl = 86400" in result.stdout and "[watcher]" in result.stdout  # defaults written out


def test_unknown_scenario_and_bad_flags(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "basline", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "did you mean 'baseline'" in result.stderr
    assert runner.invoke(app, ["run", "--seed", "-3"]).exit_code == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["run", "baseline", "--out", str(tmp_path / "full")])
    assert result.exit_code == 1 and "not empty" in result.stderr
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_scenarios_list_and_show(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0
    for name in ["baseline", "hub", "peak-load", "relayer-outage", "chain-halt", "keys-below-threshold",
                 "keys-at-threshold", "verifier-bypass", "zero-root", "admin-call", "rate-limit-storm", "soak",
                 "origin-spoof", "oversized-payload", "ack-bomb", "hub-halt", "relayer-failover"]:
        assert name in result.stdout
    result = runner.invoke(app, ["scenarios", "show", "zero-root"])
    assert result.exit_code == 0 and 'kind = "zero-root"' in result.stdout
    result = runner.invoke(app, ["scenarios", "show", "zero-rot"])
    assert result.exit_code == 1 and "did you mean 'zero-root'" in result.stderr
    mine = tmp_path / "mine.toml"
    mine.write_text("name = 'mine'\n[workload]\nrate_per_s = 2\n")
    result = runner.invoke(app, ["scenarios", "show", str(mine)])
    assert (result.exit_code, result.stdout) == (0, mine.read_text())
    mine.write_text("name = 'mine'\n[workload]\nrate_per_s = 0\n")
    result = runner.invoke(app, ["scenarios", "show", str(mine)])
    assert result.exit_code == 1 and "workload.rate_per_s: Input should be greater than 0" in result.stderr


def test_a_network_built_for_other_settings_is_refused(networks: Networks, tmp_path: Path) -> None:
    hub = shortened("hub", 10)
    with pytest.raises(scenarios.ScenarioError, match="built for other network settings"):
        run_scenario(hub, tmp_path / "out", network=networks.get(scenarios.load("baseline").network_config()))


def test_a_scenario_naming_zones_builds_only_their_chains_and_those_its_faults_name(tmp_path: Path) -> None:
    settings = tomllib.loads(SHORT) | {"faults": [{"kind": "chain-halt", "chain": "Guiyang", "at_s": 5,
                                                   "duration_s": 10}]}
    settings["workload"] |= {"zones": ["Chengdu", "Beijing"]}
    scenario = Scenario.model_validate(settings)
    report = run_scenario(scenario, tmp_path / "out", backend="revm")
    assert (report.network.zones, report.network.chains) == (3, 4)
    assert report.network.zone_names == ["Beijing", "Chengdu", "Guiyang"]  # in the seed data's order
    assert report.messages.sent > 0 and all_hold(report)
    assert {m for pair in report.latency_s.by_zone_pair for m in pair.split("->")} <= {"Beijing", "Chengdu"}
    with build_network(scenario.network_config(), backend="revm") as all_zones, \
            pytest.raises(PilotsimError, match="built for other zones"):
        run_scenario(scenario, tmp_path / "again", network=all_zones)


def test_a_forgery_turned_away_before_any_check_is_reported_not_attempted(networks: Networks, tmp_path: Path) -> None:
    """keys-at-threshold while Chengdu has paused its lane with Beijing: the forged delivery reverts
    (LanePaused) before the verifier sees it; the faults table says it was not attempted, not refused."""
    base = shortened("keys-at-threshold", 70)
    pause = {"kind": "lane-pause", "chain": "Chengdu", "to": ["Beijing"], "at_s": 50, "duration_s": 30}
    scenario = Scenario.model_validate(base.model_dump(mode="json") | {
        "faults": [*base.model_dump(mode="json")["faults"], pause]})
    report = run_on(networks, scenario, tmp_path / "out")
    [attack] = report.attacks
    assert (attack.status, attack.reason, attack.checked) == (False, "LanePaused", False)
    forgery = next(entry for entry in report.faults if entry.fault.kind == "keys-compromised")
    assert "not attempted: 1 reverted (LanePaused)" in forgery.effect
    below = shortened("keys-below-threshold", 70)  # refused by its verifier: attempted, and refused
    assert "not attempted" not in run_on(networks, below, tmp_path / "below").faults[0].effect


def test_a_file_that_is_no_scenario_is_refused_in_one_line(tmp_path: Path) -> None:
    """A FIFO (which would hang the read), a device, a file too large to be settings: one line each."""
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    big = tmp_path / "big.toml"
    big.write_text("name = 'x'\n# " + "x" * (1 << 20) + "\n")
    for path, fragment in ((fifo, "not a regular file"), (Path("/dev/zero"), "not a regular file"),
                           (big, "larger than a scenario file can be")):
        result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert fragment in result.stderr and str(path) in result.stderr


@pytest.mark.parametrize("name", ["../../x", "/etc/cron.d/x", "a/b", "..", "上海 pilot"])
def test_a_scenarios_name_never_puts_its_output_outside_runs(name: str) -> None:
    out = default_out(Scenario.model_validate({"name": name}))
    assert out.parent == RUNS_DIR and "/" not in out.name and not out.name.startswith(".")


def test_the_readmes_scenario_table_says_what_the_runs_end_with() -> None:
    """Each fault scenario's row names the invariants that end false as the full run above finds them (its first
    clause: the default settings; what follows a ';' or 'With' is about a variant), or says "all true"."""
    from registry.paths import ROOT

    rows = {cells[1].strip(): cells[3] for line in (ROOT / "README.md").read_text().splitlines()
            if (cells := line.split("|")) and len(cells) == 5 and cells[1].strip() in EXPECTED}
    assert set(rows) == set(EXPECTED)
    for name, column in rows.items():
        first = column.split(";")[0].split(". With")[0]
        broken = {k for k, held in EXPECTED[name][0].items() if not held}
        if first.strip().startswith("all true"):
            assert not broken, name
        else:
            assert set(re.findall(r"`(\w+)`", first)) & set(INVARIANTS) == broken, name
