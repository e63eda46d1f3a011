"""An entity in Beijing asks an entity in Chengdu for healthcare data and receives the committed
answer: from Python on eth-tester and from `pilotsim exchange` on Anvil nodes, in both topologies
and with both verifiers."""

from __future__ import annotations

import json

import pytest
from conftest import Networks
from typer.testing import CliRunner

from registry import AnvilNode, ChainError
from registry.seeds import load_seed_data
from sim.bridge.exchange import round_trip
from sim.bridge.messages import Outcome
from sim.bridge.provision import build_network
from sim.bridge.relayer import Relayer
from sim.bridge.topology import HUB_CHAIN_ID, NetworkConfig
from sim.cli.app import app

REQUESTER, PROVIDER = "Beijing healthcare pilot 05", "Chengdu healthcare pilot 03"
COMBINATIONS = [("mesh", "checkpoint"), ("mesh", "committee"), ("hub", "checkpoint"), ("hub", "committee")]
runner = CliRunner()


@pytest.mark.parametrize(("topology", "verifier"), COMBINATIONS)
def test_round_trip_from_python(topology: str, verifier: str, networks: Networks) -> None:
    with networks.get(NetworkConfig(topology=topology, verifier=verifier)).anchor() as network:
        assert len(network.nodes) == 16 and len({n.chain_id for n in network.nodes.values()}) == 16
        beijing, chengdu = network.node("Beijing"), network.node("Chengdu")
        assert chengdu.mirror is not None and chengdu.mirror.view("entityCount") == 164
        relayer = Relayer(network)
        result = round_trip(network, REQUESTER, PROVIDER, "healthcare", relayer=relayer)

        assert result.status == "answered"
        request = beijing.data_exchange.view("requests", bytes.fromhex(result.request_id[2:]))
        assert bytes(request["answerHash"]).hex() == result.answer_hash[2:] and request["answerSize"] > 0
        expected = ["sent", "delivered", "acknowledged", "responded", "delivered back", "acknowledged"]
        if topology == "hub":
            expected = ["sent", "forwarded", "delivered", "acknowledged", "responded", "forwarded",
                        "delivered back", "acknowledged"]
            assert {s.chain_id for s in result.steps if s.step == "forwarded"} == {HUB_CHAIN_ID}
        assert [s.step for s in result.steps] == expected
        # every message of the run ended terminal, once, and its source learnt the outcome
        ids = {bytes.fromhex(result.request_id[2:]), bytes.fromhex(result.response_id[2:])}
        for message_id in ids:
            final = [p for p in relayer.processed[message_id] if p.outcome is not Outcome.FORWARDED]
            assert [p.outcome for p in final] == [Outcome.DELIVERED]
            assert relayer.acknowledged[message_id].outcome is Outcome.DELIVERED
        kinds = {d.verifier for d in relayer.deliveries}
        assert kinds == {verifier}
        assert all(d.gas_used > 0 and d.status for d in relayer.deliveries)


@pytest.mark.anvil
@pytest.mark.parametrize(("topology", "verifier"), COMBINATIONS)
def test_round_trip_from_the_cli_on_anvil_nodes(topology: str, verifier: str) -> None:
    result = runner.invoke(app, ["exchange", "--requester", REQUESTER, "--provider", PROVIDER, "--sector",
                                 "healthcare", "--topology", topology, "--verifier", verifier, "--rpc", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["status"], report["backend"], report["topology"], report["verifier"]) == \
        ("answered", "anvil", topology, verifier)
    assert report["steps"][0]["chain"] == "Beijing" and report["steps"][-1]["step"] == "acknowledged"
    assert any(s["step"] == "delivered back" and s["chain"] == "Beijing" for s in report["steps"])
    assert report["answer_size"] > 0 and report["answer_hash"].startswith("0x")


def test_cli_round_trip_table_on_eth_tester() -> None:
    result = runner.invoke(app, ["exchange", "--requester", REQUESTER, "--provider", PROVIDER, "--sector",
                                 "healthcare"])
    assert result.exit_code == 0, result.output
    for word in ("sent", "delivered", "responded", "delivered back", "acknowledged", "Chengdu (1014)", "answered"):
        assert word in result.stdout


@pytest.mark.anvil
def test_cli_policy_refusal_is_one_line() -> None:
    result = runner.invoke(app, ["exchange", "--requester", "CNOOC", "--provider", PROVIDER, "--sector",
                                 "healthcare", "--rpc"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["error: request refused by Chengdu healthcare pilot 03's chain: PolicyRefused"]


@pytest.mark.parametrize(("args", "fragment"), [
    (["--requester", "Beijing helthcare pilot 05", "--provider", PROVIDER, "--sector", "healthcare"],
     "did you mean 'Beijing healthcare pilot 05'"),
    (["--requester", REQUESTER, "--provider", PROVIDER, "--sector", "helthcare"], "unknown sector 'helthcare'"),
    (["--requester", REQUESTER, "--provider", "Beijing Gas Group", "--sector", "energy"], "a data exchange crosses"),
])
def test_cli_bad_names_fail_fast_in_one_line(args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["exchange", *args])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


@pytest.mark.anvil
def test_network_on_nodes_given_by_url() -> None:
    data = load_seed_data().only_zones(["Beijing", "Chengdu"])
    nodes = [AnvilNode.start(chain_id=c) for c in (1000, 1001, 1002)]
    try:
        with build_network(data=data, urls=[n.url for n in reversed(nodes)]) as network:
            assert network.node("Chengdu").chain.chain_id == 1002
            trip = round_trip(network, REQUESTER, PROVIDER, "healthcare")
            assert trip.status == "answered"
        with pytest.raises(ChainError, match=r"no node given for chain id\(s\) 1002"):
            build_network(data=data, urls=[n.url for n in nodes[:2]])
    finally:
        for node in nodes:
            node.stop()


def test_cli_optimistic_exchange_shows_the_challenge_window_it_waited() -> None:
    result = runner.invoke(app, ["exchange", "--requester", REQUESTER, "--provider", PROVIDER, "--sector",
                                 "healthcare", "--verifier", "optimistic"])
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line.split("│")[4].strip() for line in result.stdout.splitlines()
            if line.startswith("│") and line.split("│")[1].strip()}
    # the default challenge window is 60 s: nothing is delivered before it ends on the destination's clock
    assert rows["sent"] == "0" and int(rows["delivered"]) >= 60 and int(rows["delivered back"]) >= 120
