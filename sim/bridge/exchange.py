"""The data-exchange application, end to end: request, answer, and the steps in between.

An entity asks an entity of another zone for a dataset of a sector. The request crosses chains
(directly, or through the hub), the provider's chain checks its registry mirror and the sector
policy, the provider commits to its answer (hash and size), the answer crosses back, and each
source learns the outcome of its message through an acknowledgement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from eth_utils import keccak

from registry import PilotsimError, Receipt
from registry.evm.abi import DecodedEvent
from registry.evm.artifacts import contract_constant, decode_revert
from registry.evm.events import all_of, first_of

from .events import RequestReceived, RequestRefused, RequestSent, ResponseSent
from .messages import Outcome
from .relayer import Relayer
from .topology import ChainNode, Network

REQUEST_GAS = 400_000  # DataExchange.request and .respond, explicit as every gas limit here
REQUEST_STATUS = {contract_constant("DataExchange", name.upper()): name for name in
                  ("sent", "accepted", "answered", "refused", "failed", "timed_out", "answer_refused")}


class ExchangeError(PilotsimError):
    """A round trip that cannot start (same zone, unknown names) or that the chains refused."""


@dataclass(frozen=True)
class Step:
    step: str
    chain: str
    chain_id: int
    block: int
    timestamp: int
    gas: int
    detail: str = ""


@dataclass
class RoundTrip:
    requester: str
    provider: str
    sector: str
    request_id: str
    status: str  # answered, refused, failed, timed_out
    reason: str = ""
    response_id: str = ""
    answer_hash: str = ""
    answer_size: int = 0
    steps: list[Step] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _step(name: str, node: ChainNode, receipt_or_block: Receipt | tuple[int, int], gas: int, detail: str = "") -> Step:
    if isinstance(receipt_or_block, Receipt):
        block, stamp = receipt_or_block.block_number, receipt_or_block.timestamp
    else:
        block, stamp = receipt_or_block
    return Step(name, node.name, node.chain_id, block, stamp, gas, detail)


def round_trip(network: Network, requester: str, provider: str, sector: str, *, query: str = "all records, 2022",
               dataset: bytes = b"", ttl: int = 3_600, relayer: Relayer | None = None) -> RoundTrip:
    """Run one request/response between two entities and report every step."""
    requester_id, home = network.entity(requester)
    provider_id, away = network.entity(provider)
    sector_id = network.data.sector_id(sector)
    requester_name = network.data.entity(requester_id).name
    provider_name = network.data.entity(provider_id).name
    if home.chain_id == away.chain_id:
        raise ExchangeError(f"{requester_name} and {provider_name} are both in {home.name}: "
                            "a data exchange crosses zones")
    relayer = relayer or Relayer(network)
    sector_name = network.data.sectors[sector_id - 1].name
    query_hash = keccak(text=query)

    sent = home.data_exchange.send([home.data_exchange.request_tx(
        requester_id, provider_id, away.chain_id, sector_id, query_hash, ttl,
        by=network.registry.roles.entity(requester_id), gas=REQUEST_GAS)])
    request_id = first_of(RequestSent, sent.events).id
    result = RoundTrip(requester_name, provider_name, sector_name, "0x" + request_id.hex(), "sent")
    result.steps.append(_step("sent", home, sent.receipt, sent.gas_used,
                              f"{requester_name} asks {provider_name} for {sector_name} data"))
    relayer.run_until_idle()
    _hop_steps(network, relayer, request_id, "delivered", result)
    final = relayer.processed[request_id][-1]
    if final.outcome is not Outcome.DELIVERED:
        result.status = final.outcome.label if final.outcome is not Outcome.REJECTED else "refused"
        result.reason = _refusal_reason(away, request_id, final.block_number)
    _ack_step(network, relayer, request_id, home, result)
    if final.outcome is Outcome.DELIVERED:
        data = dataset or f"{sector_name} dataset of {provider_name} for query {query}".encode()
        asked = Asked(request_id, requester_id, provider_id, sector_id, query_hash, ttl)
        _answer(network, relayer, result, asked, final.block_number, data)
    return result


@dataclass(frozen=True)
class Asked:
    """A request as its answer must repeat it."""

    request_id: bytes
    requester: int
    provider: int
    sector: int
    query_hash: bytes
    ttl: int


def _answer(network: Network, relayer: Relayer, result: RoundTrip, asked: Asked, delivered_in: int,
            data: bytes) -> None:
    """The provider answers the request delivered in block `delivered_in` with `data`; the answer goes back and
    the requester's chain records it."""
    request_id, answer_hash = asked.request_id, keccak(data)
    home, away = network.home(asked.requester), network.home(asked.provider)
    details = first_of(RequestReceived, _events(away, delivered_in))
    answered = away.data_exchange.send([away.data_exchange.respond_tx(
        request_id, details.requester_chain, asked.requester, asked.provider, asked.sector, asked.query_hash,
        answer_hash, len(data), asked.ttl, by=network.registry.roles.entity(asked.provider), gas=REQUEST_GAS)])
    response_id = first_of(ResponseSent, answered.events).response_id
    result.response_id = "0x" + response_id.hex()
    result.steps.append(_step("responded", away, answered.receipt, answered.gas_used,
                              f"answer 0x{answer_hash.hex()[:16]}…, {len(data)} bytes"))
    relayer.run_until_idle()
    _hop_steps(network, relayer, response_id, "delivered back", result)
    _ack_step(network, relayer, response_id, away, result)
    recorded = home.data_exchange.requests(request_id)
    result.status = REQUEST_STATUS.get(recorded.status, str(recorded.status))
    result.answer_hash = "0x" + recorded.answer_hash.hex()
    result.answer_size = recorded.answer_size
    if result.status == "answered" and recorded.answer_hash != answer_hash:
        raise ExchangeError("the answer recorded on the requester's chain differs from the provider's commitment")


def _hop_steps(network: Network, relayer: Relayer, message_id: bytes, name: str, result: RoundTrip) -> None:
    for processing in relayer.processed.get(message_id, []):
        node = network.nodes[processing.chain_id]
        step = "forwarded" if processing.outcome is Outcome.FORWARDED else name
        result.steps.append(_step(step, node, (processing.block_number, processing.timestamp), processing.gas_share,
                                  processing.outcome.label))


def _ack_step(network: Network, relayer: Relayer, message_id: bytes, origin: ChainNode, result: RoundTrip) -> None:
    ack = relayer.acknowledged.get(message_id)
    if ack is not None:
        result.steps.append(_step("acknowledged", origin, (ack.block_number, ack.timestamp), ack.gas_share,
                                  f"source records {ack.outcome.label}"))


def _events(node: ChainNode, block: int) -> list[DecodedEvent]:
    return [event for _, event in node.data_exchange.logged(block, block)]


def _refusal_reason(node: ChainNode, request_id: bytes, block: int) -> str:
    reasons = [r.reason for r in all_of(RequestRefused, _events(node, block)) if r.id == request_id]
    return decode_revert(reasons[0]).name if reasons else ""
