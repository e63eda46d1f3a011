"""The events of the protocol's and the application's contracts that the simulator reads, typed (see
`registry.evm.events`): the gateway's, the hub's broadcaster's, a zone's mirror's and its DataExchange's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.evm.events import EventRecord, event_of

from .messages import Message, Outcome

# -- Gateway ------------------------------------------------------------------------------------


@event_of("Gateway")
@dataclass(frozen=True, slots=True)
class Sent(EventRecord):
    id: bytes
    hop: int
    hop_sequence: int
    message: Message

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Sent:
        return cls(args["id"], args["hop"], args["hopSequence"], Message.from_event(args["message"]))


@event_of("Gateway")
@dataclass(frozen=True, slots=True)
class Processed(EventRecord):
    id: bytes
    src_chain: int
    sequence: int
    outcome: Outcome

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Processed:
        return cls(args["id"], args["srcChain"], args["sequence"], Outcome(args["outcome"]))


@event_of("Gateway")
@dataclass(frozen=True, slots=True)
class Acknowledged(EventRecord):
    id: bytes
    dst_chain: int
    sequence: int
    outcome: Outcome

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Acknowledged:
        return cls(args["id"], args["dstChain"], args["sequence"], Outcome(args["outcome"]))


@event_of("Gateway")
@dataclass(frozen=True, slots=True)
class Refused(EventRecord):
    id: bytes
    hop_sequence: int
    reason: bytes


@event_of("Gateway")
@dataclass(frozen=True, slots=True)
class LanePauseSet(EventRecord):
    chain: int
    paused: bool


# -- RegistryBroadcaster (hub) and RegistryMirror (zones) ---------------------------------------


@event_of("RegistryBroadcaster")
@dataclass(frozen=True, slots=True)
class Broadcast(EventRecord):
    chain: int
    id: bytes
    version: int
    entities: int


@event_of("RegistryBroadcaster")
@dataclass(frozen=True, slots=True)
class PolicyBroadcast(EventRecord):
    chain: int
    id: bytes
    version: int
    sectors: int


@event_of("RegistryBroadcaster")
@dataclass(frozen=True, slots=True)
class SyncOutcome(EventRecord):
    id: bytes
    outcome: Outcome

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> SyncOutcome:
        return cls(args["id"], Outcome(args["outcome"]))


@event_of("RegistryMirror")
@dataclass(frozen=True, slots=True)
class Synced(EventRecord):
    version: int
    applied: int
    stale: int


# -- DataExchange ---------------------------------------------------------------------------------


@event_of("DataExchange")
@dataclass(frozen=True, slots=True)
class PolicySynced(EventRecord):
    version: int
    applied: int
    stale: int


@event_of("DataExchange")
@dataclass(frozen=True, slots=True)
class RequestSent(EventRecord):
    id: bytes
    requester: int
    provider: int
    provider_chain: int
    sector: int
    query_hash: bytes
    deadline: int


@event_of("DataExchange")
@dataclass(frozen=True, slots=True)
class RequestReceived(EventRecord):
    id: bytes
    requester_chain: int
    requester: int
    provider: int
    sector: int
    query_hash: bytes


@event_of("DataExchange")
@dataclass(frozen=True, slots=True)
class RequestRefused(EventRecord):
    id: bytes
    reason: bytes


@event_of("DataExchange")
@dataclass(frozen=True, slots=True)
class RequestStatus(EventRecord):
    id: bytes
    status: int


@event_of("DataExchange")
@dataclass(frozen=True, slots=True)
class ResponseSent(EventRecord):
    request_id: bytes
    response_id: bytes
    answer_hash: bytes
    size: int


@event_of("DataExchange")
@dataclass(frozen=True, slots=True)
class Answered(EventRecord):
    request_id: bytes
    answer_hash: bytes
    size: int


@event_of("DataExchange")
@dataclass(frozen=True, slots=True)
class AnswerRefused(EventRecord):
    request_id: bytes
    reason: bytes


@event_of("OptimisticVerifier")
@dataclass(frozen=True, slots=True)
class RootPosted(EventRecord):
    hop: int
    root: bytes
    poster: str
    hop_gateway: str
    claims: tuple[tuple[bytes, int, tuple[int, int, int]], ...]  # message id, hop sequence, (block, tx, log)

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> RootPosted:
        claims = tuple((bytes(c["id"]), c["hopSequence"],
                        (c["place"]["blockNumber"], c["place"]["txIndex"], c["place"]["logIndex"]))
                       for c in args["claims"])
        return cls(args["hop"], bytes(args["root"]), args["poster"], args["hopGateway"], claims)


@event_of("OptimisticVerifier")
@dataclass(frozen=True, slots=True)
class FraudProven(EventRecord):
    hop: int
    root: bytes
    poster: str
    challenger: str
    reward: int
