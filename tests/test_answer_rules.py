"""Registry rules that hold both ways: an answer is refused to or from an entity suspended in the mirror (on
the provider's chain, and again on the requester's), for a sector the hub's policy no longer allows, and
after its request's deadline; and a zone's DataExchange takes its policy from the hub alone."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_utils import keccak

from registry import ContractRevert
from sim.bridge.exchange import REQUEST_GAS
from sim.bridge.provision import sync_mirrors
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network

REQUESTER, PROVIDER, HEALTHCARE = "Beijing healthcare pilot 05", "Chengdu healthcare pilot 03", 12
ANSWERED, ANSWER_REFUSED = 3, 7  # DataExchange request statuses


@dataclass
class Asked:
    request_id: bytes
    requester: int
    provider: int
    query: bytes


def _accepted(net: Network, ttl: int = 3600) -> Asked:
    """A request from Beijing to Chengdu, delivered and accepted (the provider's chain holds it)."""
    requester, provider = net.registry.find_entity(REQUESTER).id, net.registry.find_entity(PROVIDER).id
    beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
    query = keccak(b"a question")
    sent = beijing.data_exchange.transact("request", requester, provider, chengdu.chain_id, HEALTHCARE, query, ttl,
                                          by=net.registry.roles.entity(requester), gas=REQUEST_GAS)
    request_id = next(e for e in sent.events if e.name == "RequestSent")["id"]
    Relayer(net).run_until_idle()
    assert beijing.data_exchange.view("requests", request_id)["status"] == 2  # ACCEPTED
    return Asked(request_id, requester, provider, query)


def _respond(net: Network, asked: Asked) -> None:
    chengdu = net.node("Chengdu")
    chengdu.data_exchange.transact("respond", asked.request_id, net.node("Beijing").chain_id, asked.requester,
                                   asked.provider, HEALTHCARE, asked.query, keccak(b"the data"), 1000, 3600,
                                   by=net.registry.roles.entity(asked.provider), gas=REQUEST_GAS)


def _status(net: Network, asked: Asked) -> int:
    return int(net.node("Beijing").data_exchange.view("requests", asked.request_id)["status"])


def _sync_to(net: Network, entity: int, zone: str) -> None:
    """The hub's record of `entity`, sent to one zone's mirror only."""
    broadcaster = net.hub.broadcaster
    assert broadcaster is not None
    broadcaster.transact("sync", [entity], [net.node(zone).chain_id], 3600, by=net.admin(net.hub.chain_id),
                         gas=2_000_000)
    Relayer(net).run_until_idle()


def test_a_suspended_requester_gets_no_answer(net: Network) -> None:
    asked = _accepted(net)
    net.registry.suspend_entity(asked.requester, by=net.registry.roles.regulator)
    sync_mirrors(net, [asked.requester])
    with pytest.raises(ContractRevert) as refused:
        _respond(net, asked)
    assert refused.value.name == "RequesterNotActive"


def test_an_answer_the_provider_chain_let_through_late_is_refused_by_the_requesters_chain(net: Network) -> None:
    """Chengdu's mirror has not heard of the suspension yet, Beijing's has: the answer leaves Chengdu and is
    refused on arrival (ANSWER_REFUSED; the response message ends rejected)."""
    asked = _accepted(net)
    net.registry.suspend_entity(asked.requester, by=net.registry.roles.regulator)
    _sync_to(net, asked.requester, "Beijing")
    _respond(net, asked)
    relayer = Relayer(net)
    relayer.run_until_idle()
    assert _status(net, asked) == ANSWER_REFUSED
    refusal = next(e for _, e in net.node("Beijing").data_exchange.logged(1, net.node("Beijing").chain.block_number)
                   if e.name == "AnswerRefused")
    assert refusal["requestId"] == asked.request_id


def test_an_answer_after_the_policy_is_revoked_is_refused(net: Network) -> None:
    asked = _accepted(net)
    sectors = [int(s) for s in net.registry.entity(asked.requester).sectors]  # none may have healthcare data now
    masks = [net.registry.view("dataPolicy", s) & ~(1 << (HEALTHCARE - 1)) for s in sectors]
    net.registry.transact("setDataPolicies", sectors, masks, by=net.registry.roles.admin)
    broadcaster = net.hub.broadcaster
    assert broadcaster is not None
    broadcaster.transact("syncPolicy", sectors, [z.chain_id for z in net.zones], 3600,
                         by=net.admin(net.hub.chain_id), gas=5_000_000)
    Relayer(net).run_until_idle()
    with pytest.raises(ContractRevert) as refused:
        _respond(net, asked)
    assert refused.value.name == "PolicyRefused"


def test_a_pending_request_expires(net: Network) -> None:
    """Past its deadline a request can no longer be answered on the provider's chain; and an answer given in
    time that arrives after it is refused on the requester's."""
    with net.anchor():
        asked = _accepted(net, ttl=120)
        chengdu = net.node("Chengdu").chain
        chengdu.mine(timestamp=chengdu.block().timestamp + 200)
        with pytest.raises(ContractRevert) as refused:
            _respond(net, asked)
        assert refused.value.name == "RequestExpired"
    asked = _accepted(net, ttl=120)
    _respond(net, asked)
    beijing = net.node("Beijing").chain
    beijing.mine(timestamp=beijing.block().timestamp + 200)
    Relayer(net).run_until_idle()
    assert _status(net, asked) == ANSWER_REFUSED


def test_a_zones_governance_cannot_set_its_policy(net: Network) -> None:
    """The local policy setters are gone: a DataExchange's policy is what the hub's broadcaster synced."""
    exchange = net.node("Chengdu").data_exchange
    assert not {"setPolicy", "setPolicies"} & {f.name for f in exchange.abi.functions.values()}
    selector = keccak(text="setPolicy(uint8,uint32)")[:4]
    with pytest.raises(ContractRevert):
        exchange.chain.call(exchange.address, selector + (1).to_bytes(32, "big") + (2**16 - 1).to_bytes(32, "big"),
                            sender=net.admin(exchange.chain.chain_id).address)
    masks = net.data.policy_masks()
    assert all(exchange.view("policy", s) == m for s, m in masks.items())
    answered = _accepted(net)
    _respond(net, answered)
    Relayer(net).run_until_idle()
    assert _status(net, answered) == ANSWERED
