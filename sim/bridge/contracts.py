"""Typed access to the contracts the simulator drives, one class per contract: GENERATED from the ABIs
by `python -m sim.tools.typed_contracts` (do not edit; the test suite checks it is current). Views return
their values (several outputs: a named tuple); every other function gives an unsent `Tx` (`…_tx`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from registry.defaults import DEFAULT_GAS
from registry.evm import Account, Chain, Contract, Tx


class Ownable2Step(Contract):
    """Ownable2Step: OpenZeppelin's two-step ownership."""

    def __init__(self, chain: Chain, address: str, artifact: str = "Gateway") -> None:
        super().__init__(chain, address, artifact)

    def accept_ownership_tx(self, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("acceptOwnership", by=by, gas=gas)

    def owner(self, *, block: int | None = None) -> str:
        return self.view("owner", block=block)  # type: ignore[no-any-return]

    def pending_owner(self, *, block: int | None = None) -> str:
        return self.view("pendingOwner", block=block)  # type: ignore[no-any-return]

    def renounce_ownership_tx(self, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("renounceOwnership", by=by, gas=gas)

    def transfer_ownership_tx(self, new_owner: str, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("transferOwnership", new_owner, by=by, gas=gas)


class MessageRecipient(Contract):
    """MessageRecipient: IMessageRecipient: what a gateway calls."""

    def __init__(self, chain: Chain, address: str, artifact: str = "RegistryMirror") -> None:
        super().__init__(chain, address, artifact)

    def handle_message_tx(self, src_chain: int, sender: str, arg2: bytes, payload: bytes, *, by: Account,
                          gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("handleMessage", src_chain, sender, arg2, payload, by=by, gas=gas)

    def handle_outcome(self, arg0: bytes, arg1: int, *, block: int | None = None) -> None:
        return self.view("handleOutcome", arg0, arg1, block=block)


class GatewayBuckets(NamedTuple):
    capacity: int
    tokens: int
    refill_per_second: int
    updated_at: int


class GatewayGasQuotas(NamedTuple):
    capacity: int
    tokens: int
    refill_per_second: int
    updated_at: int


class GatewayHopState(NamedTuple):
    sent: Sequence[int]
    next: Sequence[int]


class GatewayLanes(NamedTuple):
    via: int
    paused: bool
    verifier: str
    out_sequence: int
    hop_sent: int
    hop_next: int
    ahead: int
    remote_gateway: str


class GatewayOriginQuotas(NamedTuple):
    capacity: int
    tokens: int
    refill_per_second: int
    updated_at: int


class Gateway(Ownable2Step):
    """Gateway: typed (`artifact`: a build of the same interface, e.g. a flawed one)."""

    def __init__(self, chain: Chain, address: str, artifact: str = "Gateway") -> None:
        super().__init__(chain, address, artifact)

    def available_gas(self, hop: int, sender: str, *, block: int | None = None) -> int:
        return self.view("availableGas", hop, sender, block=block)  # type: ignore[no-any-return]

    def available_tokens(self, chain: int, *, block: int | None = None) -> int:
        return self.view("availableTokens", chain, block=block)  # type: ignore[no-any-return]

    def buckets(self, chain: int, *, block: int | None = None) -> GatewayBuckets:
        return GatewayBuckets(*self.view("buckets", chain, block=block).values())

    def deliver_tx(self, hop: int, proof: bytes, items: Sequence[Any], *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("deliver", hop, proof, items, by=by, gas=gas)

    def destination_gas(self, cap: int, size: int, hops: int, *, block: int | None = None) -> int:
        return self.view("destinationGas", cap, size, hops, block=block)  # type: ignore[no-any-return]

    def gas_quotas(self, lane: int, sender: str, *, block: int | None = None) -> GatewayGasQuotas:
        return GatewayGasQuotas(*self.view("gasQuotas", lane, sender, block=block).values())

    def handler_gas_limit(self, *, block: int | None = None) -> int:
        return self.view("handlerGasLimit", block=block)  # type: ignore[no-any-return]

    def hop_state(self, chains: Sequence[int], *, block: int | None = None) -> GatewayHopState:
        return GatewayHopState(*self.view("hopState", chains, block=block).values())

    def inbound_outcome(self, src_chain: int, sequence: int, *, block: int | None = None) -> int:
        return self.view("inboundOutcome", src_chain, sequence, block=block)  # type: ignore[no-any-return]

    def is_router(self, *, block: int | None = None) -> bool:
        return self.view("isRouter", block=block)  # type: ignore[no-any-return]

    def lanes(self, chain: int, *, block: int | None = None) -> GatewayLanes:
        return GatewayLanes(*self.view("lanes", chain, block=block).values())

    def max_payload(self, *, block: int | None = None) -> int:
        return self.view("maxPayload", block=block)  # type: ignore[no-any-return]

    def origin_quotas(self, lane: int, origin: int, *, block: int | None = None) -> GatewayOriginQuotas:
        return GatewayOriginQuotas(*self.view("originQuotas", lane, origin, block=block).values())

    def outbound_outcome(self, dst_chain: int, sequence: int, *, block: int | None = None) -> int:
        return self.view("outboundOutcome", dst_chain, sequence, block=block)  # type: ignore[no-any-return]

    def rate_exempt(self, sender: str, *, block: int | None = None) -> bool:
        return self.view("rateExempt", sender, block=block)  # type: ignore[no-any-return]

    def send_tx(self, dst_chain: int, recipient: str, payload: bytes, ttl: int, gas_limit: int, *, by: Account,
                gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("send", dst_chain, recipient, payload, ttl, gas_limit, by=by, gas=gas)

    def set_gas_quota_tx(self, hops: Sequence[int], sender: str, capacity: int, refill_per_second: int, *, by: Account,
                         gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setGasQuota", hops, sender, capacity, refill_per_second, by=by, gas=gas)

    def set_handler_gas_limit_tx(self, limit: int, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setHandlerGasLimit", limit, by=by, gas=gas)

    def set_lane_tx(self, chain: int, via: int, verifier: str, remote_gateway: str, *, by: Account,
                    gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setLane", chain, via, verifier, remote_gateway, by=by, gas=gas)

    def set_lanes_tx(self, chains: Sequence[int], vias: Sequence[int], verifiers: Sequence[str],
                     remote_gateways: Sequence[str], *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setLanes", chains, vias, verifiers, remote_gateways, by=by, gas=gas)

    def set_origin_quota_tx(self, hops: Sequence[int], origin: int, capacity: int, refill_per_second: int, *,
                            by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setOriginQuota", hops, origin, capacity, refill_per_second, by=by, gas=gas)

    def set_paused_tx(self, chain: int, paused: bool, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setPaused", chain, paused, by=by, gas=gas)

    def set_rate_exempt_tx(self, sender: str, exempt: bool, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setRateExempt", sender, exempt, by=by, gas=gas)

    def set_rate_limit_tx(self, chain: int, capacity: int, refill_per_second: int, *, by: Account,
                          gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setRateLimit", chain, capacity, refill_per_second, by=by, gas=gas)

    def taken_above(self, hop: int, first: int, *, block: int | None = None) -> int:
        return self.view("takenAbove", hop, first, block=block)  # type: ignore[no-any-return]


class CommitteeVerifierCommittees(NamedTuple):
    epoch: int
    threshold: int
    size: int


class CommitteeVerifier(Ownable2Step):
    """CommitteeVerifier: typed (`artifact`: a build of the same interface, e.g. a flawed one)."""

    def __init__(self, chain: Chain, address: str, artifact: str = "CommitteeVerifier") -> None:
        super().__init__(chain, address, artifact)

    def committees(self, chain: int, *, block: int | None = None) -> CommitteeVerifierCommittees:
        return CommitteeVerifierCommittees(*self.view("committees", chain, block=block).values())

    def digest(self, mode: int, src_chain: int, src_gateway: str, dst_gateway: str, subject: bytes, *,
               block: int | None = None) -> bytes:
        return self.view("digest", mode, src_chain, src_gateway, dst_gateway, subject,
                         block=block)  # type: ignore[no-any-return]

    def kind(self, *, block: int | None = None) -> str:
        return self.view("kind", block=block)  # type: ignore[no-any-return]

    def member_epoch(self, chain: int, member: str, *, block: int | None = None) -> int:
        return self.view("memberEpoch", chain, member, block=block)  # type: ignore[no-any-return]

    def rotate_tx(self, chain: int, members: Sequence[str], threshold: int, *, by: Account,
                  gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("rotate", chain, members, threshold, by=by, gas=gas)

    def rotate_many_tx(self, chains: Sequence[int], members: Sequence[Sequence[str]], thresholds: Sequence[int], *,
                       by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("rotateMany", chains, members, thresholds, by=by, gas=gas)

    def verify(self, hop: int, hop_gateway: str, proof: bytes, ids: Sequence[bytes], hop_sequences: Sequence[int], *,
               block: int | None = None) -> Sequence[bytes]:
        return self.view("verify", hop, hop_gateway, proof, ids, hop_sequences,
                         block=block)  # type: ignore[no-any-return]


class CheckpointVerifier(CommitteeVerifier):
    """CheckpointVerifier: the same functions as CommitteeVerifier."""

    def __init__(self, chain: Chain, address: str, artifact: str = "CheckpointVerifier") -> None:
        super().__init__(chain, address, artifact)


class LightClientVerifierValidatorSets(NamedTuple):
    from_block: int
    size: int
    threshold: int


class LightClientVerifier(Ownable2Step):
    """LightClientVerifier: typed (`artifact`: a build of the same interface, e.g. a flawed one)."""

    def __init__(self, chain: Chain, address: str, artifact: str = "LightClientVerifier") -> None:
        super().__init__(chain, address, artifact)

    def current_epoch(self, chain: int, *, block: int | None = None) -> int:
        return self.view("currentEpoch", chain, block=block)  # type: ignore[no-any-return]

    def handover_tx(self, chain: int, from_block: int, validators: Sequence[str], signatures: bytes, *, by: Account,
                    gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("handover", chain, from_block, validators, signatures, by=by, gas=gas)

    def handover_digest(self, chain: int, epoch: int, from_block: int, validators: Sequence[str], *,
                        block: int | None = None) -> bytes:
        return self.view("handoverDigest", chain, epoch, from_block, validators,
                         block=block)  # type: ignore[no-any-return]

    def header_digest(self, chain: int, number: int, timestamp: int, receipts_root: bytes, epoch: int, *,
                      block: int | None = None) -> bytes:
        return self.view("headerDigest", chain, number, timestamp, receipts_root, epoch,
                         block=block)  # type: ignore[no-any-return]

    def highest_header(self, chain: int, *, block: int | None = None) -> int:
        return self.view("highestHeader", chain, block=block)  # type: ignore[no-any-return]

    def is_validator(self, chain: int, epoch: int, validator: str, *, block: int | None = None) -> bool:
        return self.view("isValidator", chain, epoch, validator, block=block)  # type: ignore[no-any-return]

    def kind(self, *, block: int | None = None) -> str:
        return self.view("kind", block=block)  # type: ignore[no-any-return]

    def receipts_roots(self, chain: int, number: int, *, block: int | None = None) -> bytes:
        return self.view("receiptsRoots", chain, number, block=block)  # type: ignore[no-any-return]

    def set_genesis_validators_tx(self, chain: int, validators: Sequence[str], *, by: Account,
                                  gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setGenesisValidators", chain, validators, by=by, gas=gas)

    def set_genesis_validators_many_tx(self, chains: Sequence[int], validators: Sequence[Sequence[str]], *,
                                       by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setGenesisValidatorsMany", chains, validators, by=by, gas=gas)

    def submit_headers_tx(self, chain: int, headers: Sequence[Any], *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("submitHeaders", chain, headers, by=by, gas=gas)

    def validator_sets(self, chain: int, epoch: int, *, block: int | None = None) -> LightClientVerifierValidatorSets:
        return LightClientVerifierValidatorSets(*self.view("validatorSets", chain, epoch, block=block).values())

    def verify(self, hop: int, hop_gateway: str, proof: bytes, ids: Sequence[bytes], hop_sequences: Sequence[int], *,
               block: int | None = None) -> Sequence[bytes]:
        return self.view("verify", hop, hop_gateway, proof, ids, hop_sequences,
                         block=block)  # type: ignore[no-any-return]


class OptimisticVerifierPosted(NamedTuple):
    poster: str
    posted_at: int
    voided: bool


class OptimisticVerifierValidatorSets(NamedTuple):
    from_block: int
    size: int
    threshold: int


class OptimisticVerifier(Ownable2Step):
    """OptimisticVerifier: typed (`artifact`: a build of the same interface, e.g. a flawed one)."""

    def __init__(self, chain: Chain, address: str, artifact: str = "OptimisticVerifier") -> None:
        super().__init__(chain, address, artifact)

    def bond_tx(self, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("bond", by=by, gas=gas)

    def bonds(self, poster: str, *, block: int | None = None) -> int:
        return self.view("bonds", poster, block=block)  # type: ignore[no-any-return]

    def challenge_tx(self, hop: int, hop_gateway: str, root: bytes, claim: Any, path: Sequence[bytes],
                     trie_nodes: Sequence[bytes], *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("challenge", hop, hop_gateway, root, claim, path, trie_nodes, by=by, gas=gas)

    def challenge_window(self, *, block: int | None = None) -> int:
        return self.view("challengeWindow", block=block)  # type: ignore[no-any-return]

    def current_epoch(self, chain: int, *, block: int | None = None) -> int:
        return self.view("currentEpoch", chain, block=block)  # type: ignore[no-any-return]

    def handover_tx(self, chain: int, from_block: int, validators: Sequence[str], signatures: bytes, *, by: Account,
                    gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("handover", chain, from_block, validators, signatures, by=by, gas=gas)

    def handover_digest(self, chain: int, epoch: int, from_block: int, validators: Sequence[str], *,
                        block: int | None = None) -> bytes:
        return self.view("handoverDigest", chain, epoch, from_block, validators,
                         block=block)  # type: ignore[no-any-return]

    def header_digest(self, chain: int, number: int, timestamp: int, receipts_root: bytes, epoch: int, *,
                      block: int | None = None) -> bytes:
        return self.view("headerDigest", chain, number, timestamp, receipts_root, epoch,
                         block=block)  # type: ignore[no-any-return]

    def highest_header(self, chain: int, *, block: int | None = None) -> int:
        return self.view("highestHeader", chain, block=block)  # type: ignore[no-any-return]

    def is_validator(self, chain: int, epoch: int, validator: str, *, block: int | None = None) -> bool:
        return self.view("isValidator", chain, epoch, validator, block=block)  # type: ignore[no-any-return]

    def kind(self, *, block: int | None = None) -> str:
        return self.view("kind", block=block)  # type: ignore[no-any-return]

    def leaf(self, id_: bytes, hop_sequence: int, place: Any, *, block: int | None = None) -> bytes:
        return self.view("leaf", id_, hop_sequence, place, block=block)  # type: ignore[no-any-return]

    def post_tx(self, hop: int, hop_gateway: str, claims: Sequence[Any], *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("post", hop, hop_gateway, claims, by=by, gas=gas)

    def posted(self, hop: int, hop_gateway: str, root: bytes, *, block: int | None = None) -> OptimisticVerifierPosted:
        return OptimisticVerifierPosted(*self.view("posted", hop, hop_gateway, root, block=block).values())

    def receipts_roots(self, chain: int, number: int, *, block: int | None = None) -> bytes:
        return self.view("receiptsRoots", chain, number, block=block)  # type: ignore[no-any-return]

    def set_genesis_validators_tx(self, chain: int, validators: Sequence[str], *, by: Account,
                                  gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setGenesisValidators", chain, validators, by=by, gas=gas)

    def set_genesis_validators_many_tx(self, chains: Sequence[int], validators: Sequence[Sequence[str]], *,
                                       by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setGenesisValidatorsMany", chains, validators, by=by, gas=gas)

    def slashed(self, poster: str, *, block: int | None = None) -> bool:
        return self.view("slashed", poster, block=block)  # type: ignore[no-any-return]

    def submit_headers_tx(self, chain: int, headers: Sequence[Any], *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("submitHeaders", chain, headers, by=by, gas=gas)

    def validator_sets(self, chain: int, epoch: int, *, block: int | None = None) -> OptimisticVerifierValidatorSets:
        return OptimisticVerifierValidatorSets(*self.view("validatorSets", chain, epoch, block=block).values())

    def verify(self, hop: int, hop_gateway: str, proof: bytes, ids: Sequence[bytes], hop_sequences: Sequence[int], *,
               block: int | None = None) -> Sequence[bytes]:
        return self.view("verify", hop, hop_gateway, proof, ids, hop_sequences,
                         block=block)  # type: ignore[no-any-return]


class DataExchangeRequests(NamedTuple):
    requester: int
    provider: int
    sector: int
    status: int
    provider_chain: int
    deadline: int
    query_hash: bytes
    answer_hash: bytes
    answer_size: int


class DataExchange(Ownable2Step, MessageRecipient):
    """DataExchange: typed (`artifact`: a build of the same interface, e.g. a flawed one)."""

    def __init__(self, chain: Chain, address: str, artifact: str = "DataExchange") -> None:
        super().__init__(chain, address, artifact)

    def allowed_requesters(self, data_sector: int, *, block: int | None = None) -> int:
        return self.view("allowedRequesters", data_sector, block=block)  # type: ignore[no-any-return]

    def gateway(self, *, block: int | None = None) -> str:
        return self.view("gateway", block=block)  # type: ignore[no-any-return]

    def hub_broadcaster(self, *, block: int | None = None) -> str:
        return self.view("hubBroadcaster", block=block)  # type: ignore[no-any-return]

    def hub_chain(self, *, block: int | None = None) -> int:
        return self.view("hubChain", block=block)  # type: ignore[no-any-return]

    def incoming(self, id_: bytes, *, block: int | None = None) -> bytes:
        return self.view("incoming", id_, block=block)  # type: ignore[no-any-return]

    def mirror(self, *, block: int | None = None) -> str:
        return self.view("mirror", block=block)  # type: ignore[no-any-return]

    def peers(self, chain: int, *, block: int | None = None) -> str:
        return self.view("peers", chain, block=block)  # type: ignore[no-any-return]

    def policy(self, requester_sector: int, *, block: int | None = None) -> int:
        return self.view("policy", requester_sector, block=block)  # type: ignore[no-any-return]

    def policy_version(self, requester_sector: int, *, block: int | None = None) -> int:
        return self.view("policyVersion", requester_sector, block=block)  # type: ignore[no-any-return]

    def request_tx(self, requester: int, provider: int, provider_chain: int, sector: int, query_hash: bytes, ttl: int,
                   *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("request", requester, provider, provider_chain, sector, query_hash, ttl, by=by, gas=gas)

    def requests(self, id_: bytes, *, block: int | None = None) -> DataExchangeRequests:
        return DataExchangeRequests(*self.view("requests", id_, block=block).values())

    def respond_tx(self, request_id: bytes, requester_chain: int, requester: int, provider: int, sector: int,
                   query_hash: bytes, answer_hash: bytes, size: int, ttl: int, *, by: Account,
                   gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("respond", request_id, requester_chain, requester, provider, sector, query_hash, answer_hash,
                       size, ttl, by=by, gas=gas)

    def set_peer_tx(self, chain: int, peer: str, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setPeer", chain, peer, by=by, gas=gas)

    def set_peers_tx(self, chains: Sequence[int], peers_: Sequence[str], *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setPeers", chains, peers_, by=by, gas=gas)

    def zone_id(self, *, block: int | None = None) -> int:
        return self.view("zoneId", block=block)  # type: ignore[no-any-return]


class RegistryMirrorRecords(NamedTuple):
    account: str
    zone_id: int
    status: int
    sector_mask: int
    version: int


class RegistryMirrorWordsOf(NamedTuple):
    arg0: int
    arg1: int


class RegistryMirror(MessageRecipient):
    """RegistryMirror: typed (`artifact`: a build of the same interface, e.g. a flawed one)."""

    def __init__(self, chain: Chain, address: str, artifact: str = "RegistryMirror") -> None:
        super().__init__(chain, address, artifact)

    def broadcaster(self, *, block: int | None = None) -> str:
        return self.view("broadcaster", block=block)  # type: ignore[no-any-return]

    def entity_count(self, *, block: int | None = None) -> int:
        return self.view("entityCount", block=block)  # type: ignore[no-any-return]

    def gateway(self, *, block: int | None = None) -> str:
        return self.view("gateway", block=block)  # type: ignore[no-any-return]

    def hub_chain(self, *, block: int | None = None) -> int:
        return self.view("hubChain", block=block)  # type: ignore[no-any-return]

    def is_active(self, entity_id: int, *, block: int | None = None) -> bool:
        return self.view("isActive", entity_id, block=block)  # type: ignore[no-any-return]

    def is_active_in(self, entity_id: int, sector_id: int, *, block: int | None = None) -> bool:
        return self.view("isActiveIn", entity_id, sector_id, block=block)  # type: ignore[no-any-return]

    def pack(self, entity_id: int, account: str, zone_id: int, status: int, sector_mask: int, *,
             block: int | None = None) -> int:
        return self.view("pack", entity_id, account, zone_id, status, sector_mask,
                         block=block)  # type: ignore[no-any-return]

    def records(self, entity_id: int, *, block: int | None = None) -> RegistryMirrorRecords:
        return RegistryMirrorRecords(*self.view("records", entity_id, block=block).values())

    def words(self, entity_id: int, *, block: int | None = None) -> int:
        return self.view("words", entity_id, block=block)  # type: ignore[no-any-return]

    def words_of(self, a: int, b: int, *, block: int | None = None) -> RegistryMirrorWordsOf:
        return RegistryMirrorWordsOf(*self.view("wordsOf", a, b, block=block).values())


class RegistryBroadcaster(Ownable2Step, MessageRecipient):
    """RegistryBroadcaster: typed (`artifact`: a build of the same interface, e.g. a flawed one)."""

    def __init__(self, chain: Chain, address: str, artifact: str = "RegistryBroadcaster") -> None:
        super().__init__(chain, address, artifact)

    def exchanges(self, chain: int, *, block: int | None = None) -> str:
        return self.view("exchanges", chain, block=block)  # type: ignore[no-any-return]

    def gateway(self, *, block: int | None = None) -> str:
        return self.view("gateway", block=block)  # type: ignore[no-any-return]

    def mirrors(self, chain: int, *, block: int | None = None) -> str:
        return self.view("mirrors", chain, block=block)  # type: ignore[no-any-return]

    def registry(self, *, block: int | None = None) -> str:
        return self.view("registry", block=block)  # type: ignore[no-any-return]

    def set_exchange_tx(self, chain: int, exchange: str, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setExchange", chain, exchange, by=by, gas=gas)

    def set_mirror_tx(self, chain: int, mirror: str, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setMirror", chain, mirror, by=by, gas=gas)

    def sync_tx(self, entity_ids: Sequence[int], chains: Sequence[int], ttl: int, *, by: Account,
                gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("sync", entity_ids, chains, ttl, by=by, gas=gas)

    def sync_policy_tx(self, sectors: Sequence[int], chains: Sequence[int], ttl: int, *, by: Account,
                       gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("syncPolicy", sectors, chains, ttl, by=by, gas=gas)

    def version(self, *, block: int | None = None) -> int:
        return self.view("version", block=block)  # type: ignore[no-any-return]


class TestRecipientFanOut(NamedTuple):
    dst_chain: int
    recipient: str
    count_: int
    gas_limit: int


class TestRecipient(MessageRecipient):
    """TestRecipient: typed (`artifact`: a build of the same interface, e.g. a flawed one)."""

    def __init__(self, chain: Chain, address: str, artifact: str = "TestRecipient") -> None:
        super().__init__(chain, address, artifact)

    def behaviour(self, *, block: int | None = None) -> int:
        return self.view("behaviour", block=block)  # type: ignore[no-any-return]

    def fan_out(self, *, block: int | None = None) -> TestRecipientFanOut:
        return TestRecipientFanOut(*self.view("fanOut", block=block).values())

    def flood_tx(self, dst_chain: int, recipient: str, gas_limit: int, count: int, *, by: Account,
                 gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("flood", dst_chain, recipient, gas_limit, count, by=by, gas=gas)

    def gateway(self, *, block: int | None = None) -> str:
        return self.view("gateway", block=block)  # type: ignore[no-any-return]

    def handled(self, *, block: int | None = None) -> int:
        return self.view("handled", block=block)  # type: ignore[no-any-return]

    def outcomes(self, arg0: bytes, *, block: int | None = None) -> int:
        return self.view("outcomes", arg0, block=block)  # type: ignore[no-any-return]

    def send_tx(self, dst_chain: int, recipient: str, payload: bytes, ttl: int, *, by: Account,
                gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("send", dst_chain, recipient, payload, ttl, by=by, gas=gas)

    def set_behaviour_tx(self, behaviour_: int, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setBehaviour", behaviour_, by=by, gas=gas)

    def set_fan_out_tx(self, dst_chain: int, recipient: str, count: int, gas_limit: int, *, by: Account,
                       gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setFanOut", dst_chain, recipient, count, gas_limit, by=by, gas=gas)

    def times_handled(self, arg0: bytes, *, block: int | None = None) -> int:
        return self.view("timesHandled", arg0, block=block)  # type: ignore[no-any-return]


class AtomicCoordinatorTransactions(NamedTuple):
    protocol: int
    state: int
    parties: int
    yes: int
    reason: int
    started_at: int
    decide_by: int
    expires_at: int


class AtomicCoordinator(Ownable2Step, MessageRecipient):
    """AtomicCoordinator: typed (`artifact`: a build of the same interface, e.g. a flawed one)."""

    def __init__(self, chain: Chain, address: str, artifact: str = "AtomicCoordinator") -> None:
        super().__init__(chain, address, artifact)

    def abort_expired_tx(self, tx_id: bytes, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("abortExpired", tx_id, by=by, gas=gas)

    def begin_tx(self, r: Any, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("begin", r, by=by, gas=gas)

    def begun(self, *, block: int | None = None) -> int:
        return self.view("begun", block=block)  # type: ignore[no-any-return]

    def chains_of(self, tx_id: bytes, *, block: int | None = None) -> Sequence[int]:
        return self.view("chainsOf", tx_id, block=block)  # type: ignore[no-any-return]

    def consent_digest(self, terms: Any, *, block: int | None = None) -> bytes:
        return self.view("consentDigest", terms, block=block)  # type: ignore[no-any-return]

    def gateway(self, *, block: int | None = None) -> str:
        return self.view("gateway", block=block)  # type: ignore[no-any-return]

    def local_participant(self, *, block: int | None = None) -> str:
        return self.view("localParticipant", block=block)  # type: ignore[no-any-return]

    def mirror(self, *, block: int | None = None) -> str:
        return self.view("mirror", block=block)  # type: ignore[no-any-return]

    def participants(self, chain: int, *, block: int | None = None) -> str:
        return self.view("participants", chain, block=block)  # type: ignore[no-any-return]

    def registry(self, *, block: int | None = None) -> str:
        return self.view("registry", block=block)  # type: ignore[no-any-return]

    def set_participants_tx(self, chains: Sequence[int], participants_: Sequence[str], *, by: Account,
                            gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setParticipants", chains, participants_, by=by, gas=gas)

    def transactions(self, tx_id: bytes, *, block: int | None = None) -> AtomicCoordinatorTransactions:
        return AtomicCoordinatorTransactions(*self.view("transactions", tx_id, block=block).values())

    def votes(self, tx_id: bytes, *, block: int | None = None) -> int:
        return self.view("votes", tx_id, block=block)  # type: ignore[no-any-return]


class AtomicParticipantEntries(NamedTuple):
    state: int
    protocol: int
    coordinator_chain: int
    expires_at: int
    entity: int
    agreement: bytes
    previous: bytes


class AtomicParticipant(Ownable2Step, MessageRecipient):
    """AtomicParticipant: typed (`artifact`: a build of the same interface, e.g. a flawed one)."""

    def __init__(self, chain: Chain, address: str, artifact: str = "AtomicParticipant") -> None:
        super().__init__(chain, address, artifact)

    def agreements(self, entity: int, *, block: int | None = None) -> bytes:
        return self.view("agreements", entity, block=block)  # type: ignore[no-any-return]

    def amend_tx(self, entity: int, agreement: bytes, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("amend", entity, agreement, by=by, gas=gas)

    def coordinators(self, chain: int, *, block: int | None = None) -> str:
        return self.view("coordinators", chain, block=block)  # type: ignore[no-any-return]

    def entries(self, tx_id: bytes, *, block: int | None = None) -> AtomicParticipantEntries:
        return AtomicParticipantEntries(*self.view("entries", tx_id, block=block).values())

    def gateway(self, *, block: int | None = None) -> str:
        return self.view("gateway", block=block)  # type: ignore[no-any-return]

    def handle_local_tx(self, payload: bytes, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("handleLocal", payload, by=by, gas=gas)

    def local_coordinator(self, *, block: int | None = None) -> str:
        return self.view("localCoordinator", block=block)  # type: ignore[no-any-return]

    def locked_by(self, entity: int, *, block: int | None = None) -> bytes:
        return self.view("lockedBy", entity, block=block)  # type: ignore[no-any-return]

    def mirror(self, *, block: int | None = None) -> str:
        return self.view("mirror", block=block)  # type: ignore[no-any-return]

    def release_tx(self, tx_id: bytes, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("release", tx_id, by=by, gas=gas)

    def set_coordinators_tx(self, chains: Sequence[int], coordinators_: Sequence[str], *, by: Account,
                            gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setCoordinators", chains, coordinators_, by=by, gas=gas)

    def set_unsafe_commit_tx(self, unsafe_commit_: bool, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:
        return self.tx("setUnsafeCommit", unsafe_commit_, by=by, gas=gas)

    def spent(self, consent_digest: bytes, *, block: int | None = None) -> bool:
        return self.view("spent", consent_digest, block=block)  # type: ignore[no-any-return]

    def unsafe_commit(self, *, block: int | None = None) -> bool:
        return self.view("unsafeCommit", block=block)  # type: ignore[no-any-return]

    def zone_id(self, *, block: int | None = None) -> int:
        return self.view("zoneId", block=block)  # type: ignore[no-any-return]
