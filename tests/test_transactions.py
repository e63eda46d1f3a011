"""Atomic transactions from the user's side: the [transactions] section refused in one line when it cannot
run, the Python API's refusals and consents, and `pilotsim tx show` on a run whose transactions broke
atomicity (the flawed unsafe_commit)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import Networks
from sim_kit import refused_scenario, run_on, shortened
from typer.testing import CliRunner

from registry import Account
from registry.evm.events import first_of
from sim.bridge.atomic import PROTOCOLS, AtomicClient, AtomicError, consent_digest
from sim.bridge.atomic_events import TxBegun
from sim.bridge.committee import signature
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network, NetworkConfig
from sim.cli.app import app

PARTIES = ["Beijing healthcare pilot 05", "Chengdu healthcare pilot 03", "Shanghai healthcare pilot 06"]
BASE = 'name = "t"\nduration_s = 30\n[workload]\nrate_per_s = 0.1\n[transactions]\nrate_per_s = 0.1\n'


@pytest.mark.parametrize(("extra", "fragment"), [
    ("participants = [1, 2]\n", "transactions.participants: must be [low, high] with 2 <= low <= high <= 5"),
    ("participants = [2, 6]\n", "transactions.participants: must be [low, high] with 2 <= low <= high <= 5"),
    ('zones = ["Beijing", "Chengdu"]\nparticipants = [2, 3]\n',
     "transactions.participants: up to 3 parties, one per zone, but transactions.zones names 2"),
    ('zones = ["Beijing", "Atlantis"]\n', "transactions.zones.1: unknown zone 'Atlantis'"),
    ('protocol = "3pc"\n', "transactions.protocol: Input should be '2pc' or 'tcc'"),
    ("lock_timeout_s = 5\n", "transactions.lock_timeout_s: Input should be greater than or equal to 10"),
])
def test_a_transactions_section_that_cannot_run_is_refused_in_one_line(tmp_path: Path, extra: str,
                                                                       fragment: str) -> None:
    path, line = refused_scenario(tmp_path, BASE + extra)
    assert fragment in line and str(path) in line


def test_parties_must_be_in_distinct_zones(networks: Networks) -> None:
    network = networks.get(NetworkConfig())
    with pytest.raises(AtomicError, match="both in Beijing: one party per zone"):
        AtomicClient(network).begin_tx(["Beijing healthcare pilot 05", "ICBC"])


def test_the_consent_digest_is_the_contracts(networks: Networks) -> None:
    coordinator = networks.get(NetworkConfig()).hub.coordinator
    assert coordinator is not None
    args = (PROTOCOLS["tcc"], [1001, 1014, 1002], [25, 24, 26], b"\x07" * 32, 300)
    assert coordinator.consent_digest(*args) == consent_digest(*args)
    assert coordinator.consent_digest(*args[:4], 301) != consent_digest(*args)  # every field bound


def _run(network: Network, **options: object) -> tuple[str, list[str], list[bytes]]:
    client = AtomicClient(network)
    tx_id, chain = client.begin(PARTIES, **options)  # type: ignore[arg-type]
    Relayer(network).run_until_idle()
    state = client.state(tx_id, chain)
    return state.outcome, [p.state for p in state.parties], [bytes.fromhex(p.record[2:]) for p in state.parties]


def _entity_key(network: Network, name: str) -> Account:
    return network.registry.roles.entity(network.data.entity_id(name))


@pytest.mark.parametrize("protocol", ["2pc", "tcc"])
def test_a_party_that_did_not_consent_votes_no_and_nothing_is_written(networks: Networks, protocol: str) -> None:
    """The initiator forges Chengdu's consent (signs it with its own key): Chengdu refuses, the others roll back, no
    record changes anywhere (TCC's tentative writes compensated)."""
    with networks.get(NetworkConfig()).anchor() as network:
        ids = [network.data.entity_id(p) for p in PARTIES]
        chains = [network.home(i).chain_id for i in ids]
        agreement = b"\x42" * 32
        digest = consent_digest(PROTOCOLS[protocol], chains, ids, agreement, 120)
        keys = [_entity_key(network, PARTIES[0]), _entity_key(network, PARTIES[0]), _entity_key(network, PARTIES[2])]
        before = [network.home(i).participant.agreements(i) for i in ids]  # type: ignore[union-attr]
        outcome, states, records = _run(network, protocol=protocol, agreement=agreement,
                                        consents=[signature(k.key, digest) for k in keys])
        assert (outcome, states) == ("aborted", ["rolled_back", "refused", "rolled_back"])
        assert records == before
        # the same with every consent genuine commits everywhere
        outcome, states, records = _run(network, protocol=protocol, agreement=agreement)
        assert (outcome, states, records) == ("committed", ["committed"] * 3, [agreement] * 3)


def test_a_stranger_cannot_begin_one_in_an_entitys_name(networks: Networks) -> None:
    """Every consent genuine, but the begin is sent by another entity's account: every party votes no."""
    with networks.get(NetworkConfig()).anchor() as network:
        client = AtomicClient(network)
        tx, node = client.begin_tx(PARTIES)
        stranger = _entity_key(network, PARTIES[1])
        [receipt] = node.chain.send([replace(tx, sender=stranger)])
        assert receipt.status
        Relayer(network).run_until_idle()
        assert node.coordinator is not None
        state = client.state(first_of(TxBegun, node.coordinator.events(receipt)).tx_id, node.chain_id)
        assert state.outcome == "aborted" and {p.state for p in state.parties} == {"refused"}


def test_tx_show_prints_a_partial_commits_path(networks: Networks, tmp_path: Path) -> None:
    scenario = shortened("atomic-baseline", 120).with_overrides({"transactions.unsafe_commit": True})
    report = run_on(networks, scenario, tmp_path / "run")
    [named, *_] = [v.message_id for v in report.invariants.violations if v.invariant == "atomic"]
    result = CliRunner().invoke(app, ["tx", "show", str(tmp_path / "run"), named[:14]])
    assert result.exit_code == 0, result.output
    assert named[:14] in result.stdout and "committed on prepare (unsafe)" in result.stdout
    assert "atomicity broken" in result.stdout and "refused" in result.stdout
    missing = CliRunner().invoke(app, ["tx", "show", str(tmp_path / "run"), "0xdeadbeef"])
    assert missing.exit_code == 1 and "no transaction 0xdeadbeef" in missing.stderr
    assert "Traceback" not in missing.output


def test_tx_run_prints_one_transactions_path_and_refuses_two_parties_of_a_zone() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["tx", "run", *PARTIES[:2], "--protocol", "tcc", "--json"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["state"]["outcome"] == "committed" and run["state"]["protocol"] == "tcc"
    assert [p["state"] for p in run["state"]["parties"]] == ["committed", "committed"]
    assert [s["step"] for s in run["steps"]][0] == "begun" and run["steps"][-1]["step"] == "committed"
    refused = runner.invoke(app, ["tx", "run", PARTIES[0], "ICBC"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "both in Beijing: one party per zone" in refused.stderr
