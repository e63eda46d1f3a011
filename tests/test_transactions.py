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
from registry.errors import ContractRevert
from registry.evm.events import typed
from sim.bridge.atomic import REASONS, AtomicClient, AtomicError, ConsentTerms
from sim.bridge.atomic_events import PartyRefused
from sim.bridge.committee import signature
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network, NetworkConfig
from sim.cli.app import app
from sim.engine.transaction_settings import TransactionSettings
from sim.engine.transaction_watch import TransactionWatch
from sim.engine.transactions import TransactionRecords
from sim.results.transaction_metrics import transactions_section

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
    ("keeper_interval_s = 29\n", "transactions.keeper_interval_s: 29 s plus a block (2 s) exceeds "
                                 "transactions.release_bound_s (30 s): keepers could not release an expired lock"),
])
def test_a_transactions_section_that_cannot_run_is_refused_in_one_line(tmp_path: Path, extra: str,
                                                                       fragment: str) -> None:
    path, line = refused_scenario(tmp_path, BASE + extra)
    assert fragment in line and str(path) in line


def test_parties_must_be_in_distinct_zones(networks: Networks) -> None:
    network = networks.get(NetworkConfig())
    with pytest.raises(AtomicError, match="both in Beijing: one party per zone"):
        AtomicClient(network).begin_tx(["Beijing healthcare pilot 05", "ICBC"])


def test_the_consent_digest_is_the_contracts_and_binds_every_term(networks: Networks) -> None:
    coordinator = networks.get(NetworkConfig()).hub.coordinator
    assert coordinator is not None
    terms = ConsentTerms(2, (1001, 1014, 1002), (25, 24, 26), b"\x07" * 32, 300, 1000, coordinator.address,
                         b"\x01" * 32, 5_000)
    assert coordinator.consent_digest(terms.as_tuple()) == terms.digest()
    other = {"protocol": 1, "chains": (1001, 1002, 1014), "entities": (25, 24, 27), "agreement": b"\x08" * 32,
             "lock_timeout": 301, "coordinator_chain": 1001, "coordinator": "0x" + "11" * 20,
             "nonce": b"\x02" * 32, "valid_until": 5_001}
    for name, value in other.items():
        changed = replace(terms, **{name: value})  # type: ignore[arg-type]
        assert coordinator.consent_digest(changed.as_tuple()) == changed.digest() != terms.digest(), name


def _run(network: Network, parties: list[str] = PARTIES, **options: object) -> tuple[str, list[str], list[bytes]]:
    client = AtomicClient(network)
    tx_id, chain = client.begin(parties, **options)  # type: ignore[arg-type]
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
        agreement, nonce = b"\x42" * 32, b"\x01" * 32
        digest = AtomicClient(network).terms(PARTIES, protocol=protocol, agreement=agreement, nonce=nonce).digest()  # type: ignore[arg-type]
        keys = [_entity_key(network, PARTIES[0]), _entity_key(network, PARTIES[0]), _entity_key(network, PARTIES[2])]
        before = [network.home(i).participant.agreements(i) for i in ids]  # type: ignore[union-attr]
        outcome, states, records = _run(network, protocol=protocol, agreement=agreement, nonce=nonce,
                                        consents=[signature(k.key, digest) for k in keys])
        assert (outcome, states) == ("aborted", ["rolled_back", "refused", "rolled_back"])
        assert records == before
        # the same with every consent genuine commits everywhere
        outcome, states, records = _run(network, protocol=protocol, agreement=agreement)
        assert (outcome, states, records) == ("committed", ["committed"] * 3, [agreement] * 3)


@pytest.mark.parametrize("coordinator", ["hub", "initiator"])
def test_a_signed_transaction_runs_once(networks: Networks, coordinator: str) -> None:
    """Chengdu signed one agreement with Beijing, which committed; Chengdu then amended its record itself. Beijing
    begins the same signed transaction again (the same consents, a new id): every party refuses it as replayed, and
    Chengdu's own record stands."""
    with networks.get(NetworkConfig()).anchor() as network:
        client = AtomicClient(network)
        first, chengdu = network.data.entity_id(PARTIES[0]), network.data.entity_id(PARTIES[1])
        terms = client.terms(PARTIES[:2], agreement=b"\x42" * 32, coordinator=coordinator)  # type: ignore[arg-type]
        consents = [signature(network.registry.roles.entity(i).key, terms.digest()) for i in terms.entities]
        options = {"agreement": terms.agreement, "coordinator": coordinator, "nonce": terms.nonce,
                   "valid_until": terms.valid_until, "consents": consents}
        assert _run(network, parties=PARTIES[:2], **options)[:2] == ("committed", ["committed"] * 2)
        participant = network.home(chengdu).participant
        assert participant is not None
        own = b"\x09" * 32
        [amended] = network.home(chengdu).chain.send([participant.amend_tx(
            chengdu, own, by=network.registry.roles.entity(chengdu), gas=200_000)])
        amended.raise_for_status()
        tx_id, chain = client.begin(PARTIES[:2], **options)  # type: ignore[arg-type]
        Relayer(network).run_until_idle()
        state = client.state(tx_id, chain)
        assert (state.outcome, [p.state for p in state.parties]) == ("aborted", ["refused", "refused"])
        beijing = network.home(first).participant
        assert beijing is not None
        assert participant.agreements(chengdu) == own and beijing.agreements(first) == terms.agreement
        node = network.home(chengdu)
        refused = [typed(e) for _, e in participant.logged(amended.block_number, node.chain.block_number)]
        assert [REASONS[r.reason] for r in refused if isinstance(r, PartyRefused)] == ["replayed"]


def test_a_consent_serves_only_the_coordinator_it_names_and_only_until_its_time(networks: Networks) -> None:
    """Consents signed for the hub's coordinator, sent to Beijing's own: both parties refuse. A begin after the
    consents' valid_until is refused by the coordinator at once."""
    with networks.get(NetworkConfig()).anchor() as network:
        client = AtomicClient(network)
        terms = client.terms(PARTIES[:2], coordinator="hub")
        consents = [signature(network.registry.roles.entity(i).key, terms.digest()) for i in terms.entities]
        outcome, states, _ = _run(network, parties=PARTIES[:2], coordinator="initiator", nonce=terms.nonce,
                                  agreement=terms.agreement, valid_until=terms.valid_until, consents=consents)
        assert (outcome, states) == ("aborted", ["refused", "refused"])
        late, node = client.begin_tx(PARTIES[:2], valid_until=network.hub.chain.block().timestamp - 1)
        [receipt] = node.chain.send([late])
        with pytest.raises(ContractRevert) as caught:
            receipt.raise_for_status()
        assert caught.value.name == "ConsentOutOfDate"


@pytest.mark.parametrize("coordinator", ["hub", "initiator"])
def test_a_stranger_cannot_begin_one_in_an_entitys_name(networks: Networks, coordinator: str) -> None:
    """Every consent genuine, but the begin is sent by another entity's account: the coordinator refuses it at once
    (the hub's reads the registry, a zone's its mirror), so no prepare goes out on its quota."""
    with networks.get(NetworkConfig()).anchor() as network:
        tx, node = AtomicClient(network).begin_tx(PARTIES, coordinator=coordinator)  # type: ignore[arg-type]
        stranger = _entity_key(network, PARTIES[1])
        [receipt] = node.chain.send([replace(tx, sender=stranger)])
        with pytest.raises(ContractRevert) as caught:
            receipt.raise_for_status()
        assert caught.value.name == "NotInitiator"  # reverted whole: nothing sent
        [receipt] = node.chain.send([tx])  # the first party's own account begins it
        assert receipt.status


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
    assert run["state"]["outcome"] == run["state"]["applied"] == "committed" and run["state"]["protocol"] == "tcc"
    assert [p["state"] for p in run["state"]["parties"]] == ["committed", "committed"]
    assert [s["step"] for s in run["steps"]][0] == "begun" and run["steps"][-1]["step"] == "committed"
    refused = runner.invoke(app, ["tx", "run", PARTIES[0], "ICBC"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "both in Beijing: one party per zone" in refused.stderr


def test_a_commit_decision_that_reached_no_party_in_time_counts_as_aborted(networks: Networks) -> None:
    """The hub decides commit, but every COMMIT is held on its lane past the locks' expiry: every party releases
    its lock, nothing is written. The report counts it aborted (decision_late), not committed; `atomic` holds."""
    with networks.get(NetworkConfig()).anchor() as network:
        epoch = max(n.chain.block().timestamp for n in network.nodes.values())
        for n in network.nodes.values():
            if n.chain.block().timestamp < epoch:
                n.chain.mine(timestamp=epoch)
        watch = TransactionWatch(network, {c: n.chain.block_number + 1 for c, n in network.nodes.items()}, epoch,
                                 30.0)
        client = AtomicClient(network)
        tx_id, chain = client.begin(PARTIES[:2], protocol="tcc", lock_timeout=60)
        relayer = Relayer(network)
        while client.state(tx_id, chain).outcome == "voting":
            assert relayer.poll() > 0
        assert client.state(tx_id, chain).outcome == "committed"  # the coordinator's word
        expires = network.hub.coordinator.transactions(tx_id).expires_at  # type: ignore[union-attr]
        for n in network.nodes.values():
            n.chain.mine(timestamp=expires + 5)
        Relayer(network).run_until_idle()  # the commits arrive after the expiry: ignored
        for party in client.state(tx_id, chain).parties:
            node = network.nodes[party.chain_id]
            assert party.state == "prepared" and node.participant is not None
            node.chain.transact(node.participant.release_tx(tx_id, by=network.admin(node.chain_id), gas=150_000))
        state = client.state(tx_id, chain)
        assert (state.outcome, state.applied) == ("committed", "none")  # decided, applied nowhere
        watch.scan(float(expires + 5 - epoch) + 40)
        record = watch.transactions[tx_id]
        assert (record.outcome, record.abort_reason, watch.violation_count) == ("aborted", "decision_late", 0)
        section = transactions_section(TransactionRecords(TransactionSettings(rate_per_s=1), [record], 0, 0,
                                                          {c: n.name for c, n in network.nodes.items()}, {}))
        assert (section.committed, section.aborted, section.aborted_by_reason["decision_late"]) == (0, 1, 1)
        assert section.commit_latency_s.count == 0


def test_begins_on_a_quiet_coordinator_chain_are_not_out_of_date(networks: Networks, tmp_path: Path) -> None:
    """A chain mines no empty blocks, so a quiet hub's last block may be minutes old when a transaction begins: its
    consents are dated by the simulated clock, not by that block, and every begin goes through."""
    quiet = {"workload.rate_per_s": 0.01, "transactions.rate_per_s": 0.003, "transactions.conflict_probability": 0.0,
             "registry.suspensions_per_min": 0}
    report = run_on(networks, shortened("atomic-baseline", 1500).with_overrides(quiet), tmp_path / "run")
    t = report.transactions
    assert t is not None and t.started == 5 and t.begin_refused == 0
