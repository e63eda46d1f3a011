"""DataExchange against a plain-Python model, under random sequences of requests, deliveries, time passing,
suspensions and reinstatements (synced to the mirrors) and answers: an answer goes through only for a
pending request, by its deadline, while both parties are active; otherwise it is refused by the reason the
model predicts. Expiry, holds and the answer rules together."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from registry import ContractRevert
from sim.bridge.exchange import REQUEST_GAS
from sim.bridge.provision import sync_mirrors
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network

PAIRS = [("Beijing healthcare pilot 05", "Chengdu healthcare pilot 03")]
HEALTHCARE, TTL = 12, 300


class ExchangeMachine(RuleBasedStateMachine):
    def __init__(self, net: Network) -> None:
        super().__init__()
        self.net = net
        self.snapshot = {c: n.chain.snapshot() for c, n in net.nodes.items()}
        registry = net.registry
        self.requester, self.provider = (registry.find_entity(n).id for n in PAIRS[0])
        self.active = {self.requester: True, self.provider: True}
        self.pending: dict[bytes, tuple[float, bytes]] = {}  # request id → (deadline, query), accepted, unanswered
        self.answered: set[bytes] = set()
        self.count = 0

    def teardown(self) -> None:
        for chain_id, snapshot in self.snapshot.items():
            self.net.nodes[chain_id].chain.revert(snapshot)

    def _now(self) -> int:
        return max(self.net.node("Chengdu").chain.block().timestamp, self.net.node("Beijing").chain.block().timestamp)

    @precondition(lambda self: all(self.active.values()))
    @rule()
    def request_and_deliver(self) -> None:
        beijing, chengdu = self.net.node("Beijing"), self.net.node("Chengdu")
        self.count += 1
        sent = beijing.data_exchange.transact("request", self.requester, self.provider, chengdu.chain_id, HEALTHCARE,
                                              self.count.to_bytes(32, "big"), TTL,
                                              by=self.net.registry.roles.entity(self.requester), gas=REQUEST_GAS)
        event = next(e for e in sent.events if e.name == "RequestSent")
        Relayer(self.net).run_until_idle()
        self.pending[event["id"]] = (float(event["deadline"]), event["queryHash"])

    @rule(seconds=st.sampled_from([10, 100, 250]))
    def time_passes(self, seconds: int) -> None:
        now = self._now() + seconds
        for node in (self.net.node("Beijing"), self.net.node("Chengdu")):
            node.chain.mine(timestamp=now)

    @rule(which=st.booleans(), suspend=st.booleans())
    def regulator_acts(self, which: bool, suspend: bool) -> None:
        entity = self.requester if which else self.provider
        registry, regulator = self.net.registry, self.net.registry.roles.regulator
        if suspend == self.active[entity]:  # only what changes anything
            (registry.suspend_entity if suspend else registry.reinstate_entity)(entity, by=regulator)
            self.active[entity] = not suspend
            sync_mirrors(self.net, [entity])

    @precondition(lambda self: self.pending)
    @rule(index=st.integers(0, 50))
    def provider_answers(self, index: int) -> None:
        request_id = sorted(self.pending)[index % len(self.pending)]
        deadline, query = self.pending[request_id]
        chengdu = self.net.node("Chengdu")
        expected = ("RequestExpired" if chengdu.chain.block().timestamp + 1 > deadline else
                    "EntityNotActive" if not self.active[self.provider] else
                    "RequesterNotActive" if not self.active[self.requester] else None)
        try:
            chengdu.data_exchange.transact("respond", request_id, self.net.node("Beijing").chain_id, self.requester,
                                           self.provider, HEALTHCARE, query, b"\x01" * 32, 10, TTL,
                                           by=self.net.registry.roles.entity(self.provider), gas=REQUEST_GAS)
            got = None
        except ContractRevert as exc:
            got = exc.name
        assert got == expected, (got, expected)
        event(f"answer: {got or 'answered'}")
        if got is None:
            del self.pending[request_id]
            self.answered.add(request_id)

    @invariant()
    def answers_are_where_the_model_says(self) -> None:
        Relayer(self.net).run_until_idle()
        exchange = self.net.node("Beijing").data_exchange
        for request_id in self.answered:
            assert exchange.view("requests", request_id)["status"] in (3, 7)  # ANSWERED, or refused on arrival


@pytest.fixture(scope="module")
def world(bridge_network: Network) -> Network:
    return bridge_network


def test_exchange_against_model(world: Network) -> None:
    run_state_machine_as_test(lambda: ExchangeMachine(world),  # type: ignore[arg-type]
                              settings=settings(max_examples=25, stateful_step_count=20, deadline=None,
                                                suppress_health_check=[HealthCheck.too_slow]))
