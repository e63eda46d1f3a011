"""A network of chains as the bridge sees it: the national hub (registry) and one chain per pilot zone,
the contracts on each, which chains are neighbours and how each lane is verified.

`sim.bridge.provision.build_network` makes one; this module only describes and looks things up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from registry import Account, BackendName, Chain, Contract, Registry, SeedData, Tx
from registry.defaults import ADMIN_INDEX, GENESIS_TIMESTAMP, RELAYER_INDEX
from registry.errors import ConfigError
from registry.seeds import slug

from . import contracts
from .committee import CommitteeKeys, LaneDomain
from .consensus import ValidatorSet
from .gateway import GatewayClient
from .messages import MAX_PAYLOAD_LIMIT, MAX_TTL_S
from .verifiers import VERIFIERS, Flaw, Verifier, VerifierContract, VerifierName

if TYPE_CHECKING:
    from registry import AnvilNode  # the network's nodes when it runs on Anvil: web3 loads only then

HeaderStore = contracts.LightClientVerifier | contracts.OptimisticVerifier  # both keep ConsensusHeaders
HUB_CHAIN_ID = 1000
MIN_PAYLOAD_CAP = 4_096  # above the registry broadcaster's largest sync: 96 + 32 bytes × 64 entities
HUB_NAME = "hub"

Topology = Literal["mesh", "hub"]
Backend = BackendName


def zone_chain_id(zone_id: int) -> int:
    return HUB_CHAIN_ID + zone_id


class NetworkConfig(BaseModel):
    """How the network is laid out and secured."""

    model_config = ConfigDict(extra="forbid")

    topology: Topology = "mesh"
    verifier: VerifierName = "checkpoint"
    lane_verifiers: dict[str, VerifierName] = Field(
        default_factory=dict, description="per pair of chains, e.g. {'beijing:chengdu': 'committee'}")
    committee_size: int = Field(4, ge=1, le=64, description="validators that sign each chain's checkpoints")
    validators: int = Field(4, ge=1, le=64, description=(
        "each chain's own consensus validators, whose headers light clients and fraud proofs trust (more than 2/3 "
        "sign)"))
    challenge_window_s: int = Field(60, ge=1, le=7 * 86_400, description=(
        "optimistic lanes: how long posted claims wait for a fraud proof before they may be used"))
    threshold: int = Field(3, ge=1, le=64, description="signatures a verifier requires of them")
    handler_gas: int = Field(200_000, ge=21_000, le=10_000_000, description=(
        "the gas each data message declares for its recipient's handler"))
    max_payload_bytes: int = Field(16_384, ge=MIN_PAYLOAD_CAP, le=MAX_PAYLOAD_LIMIT, description=(
        "largest message payload a gateway accepts (the same on every gateway, so a message at the cap is "
        "deliverable at every hop)"))
    vulnerable: dict[str, Flaw] = Field(
        default_factory=dict, description="FAULT SCENARIOS ONLY: chain name → historical flaw of its gateway")
    genesis_timestamp: int = Field(GENESIS_TIMESTAMP, ge=1, lt=2**40, description="the chains' first block time, "
                                   "Unix seconds")
    sync_ttl: int = Field(86_400, ge=1, le=MAX_TTL_S, description="how long a mirror sync may take to arrive")
    gas_accounting: bool = Field(True, description=(
        "destination gas is paid for: each sender's declared handler gas is taken from a quota per lane at the "
        "source, relayers reserve only what a delivery can use and batch fairly across senders; false is the "
        "FLAWED setting (no quotas, declared caps reserved, first come first served)"))
    open_gas_per_s: int = Field(200_000, ge=0, le=10**12, description=(
        "gas_accounting: the destination gas per second that all senders without a quota of their own share on "
        "a lane"))
    open_gas_burst: int = Field(12_000_000, ge=10_100_000, le=10**12, description=(
        "gas_accounting: how much of that share may be used at once (at least one message at the largest "
        "handler gas)"))


@dataclass
class ChainNode:
    """One chain of the network and the project's contracts on it."""

    name: str
    chain_id: int
    zone_id: int  # 0 for the hub
    chain: Chain
    gateway: GatewayClient
    verifiers: dict[str, VerifierContract]  # by kind: the contract checking inbound lanes of that kind
    mirror: contracts.RegistryMirror | None = None  # zone chains
    exchange: contracts.DataExchange | None = None  # zone chains
    registry: Registry | None = None  # the hub
    broadcaster: contracts.RegistryBroadcaster | None = None  # the hub
    coordinator: contracts.AtomicCoordinator | None = None  # every chain: atomic transactions begun there
    participant: contracts.AtomicParticipant | None = None  # zone chains: their entities' side of them

    @property
    def is_hub(self) -> bool:
        return self.zone_id == 0

    @property
    def data_exchange(self) -> contracts.DataExchange:
        """The DataExchange of a zone chain (the hub has none)."""
        if self.exchange is None:
            raise ConfigError(f"{self.name} has no DataExchange: it is the hub")
        return self.exchange

    def contracts(self) -> list[Contract]:
        found = [self.gateway, *self.verifiers.values(), self.mirror, self.exchange, self.registry, self.broadcaster,
                 self.coordinator, self.participant]
        return [c for c in found if c is not None]


@dataclass
class Network:
    config: NetworkConfig
    data: SeedData
    nodes: dict[int, ChainNode]  # chain id → node, filled in as the chains are deployed
    committees: dict[int, CommitteeKeys]  # chain id → the validators that sign what leaves it
    # chain id → its own consensus validator sets, oldest first (a handover appends the next)
    consensus: dict[int, list[ValidatorSet]] = field(default_factory=dict)
    anvils: list[AnvilNode] = field(default_factory=list)
    from_cache: bool = False  # loaded from a NetworkCache rather than built
    _lane_verifiers: dict[frozenset[int], str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # the per-lane verifier settings, resolved to chain ids once (names are checked here)
        self._lane_verifiers = {}
        for key, name in self.config.lane_verifiers.items():
            ends = [self.chain_id(part) for part in key.split(":")]
            if len(ends) != 2 or ends[0] == ends[1]:
                raise ConfigError(f"lane_verifiers: {key!r} is not a pair of two chains, e.g. 'beijing:chengdu'")
            self._lane_verifiers[frozenset(ends)] = name
        for chain_id in self.committees:
            self.consensus.setdefault(chain_id, [ValidatorSet(chain_id, self.config.validators)])

    # -- lookups --------------------------------------------------------------------------------

    @property
    def hub(self) -> ChainNode:
        return self.nodes[HUB_CHAIN_ID]

    @property
    def registry(self) -> Registry:
        assert self.hub.registry is not None
        return self.hub.registry

    @property
    def zones(self) -> list[ChainNode]:
        return [n for n in self.nodes.values() if not n.is_hub]

    def chain_id(self, name: str) -> int:
        """The chain id of a zone by name or code (any spelling), or of `hub`."""
        return HUB_CHAIN_ID if slug(name) == HUB_NAME else zone_chain_id(self.data.zone_id(name))

    def node(self, name: str) -> ChainNode:
        """A chain by zone name or code (any spelling), or `hub`."""
        return self.nodes[self.chain_id(name)]

    def home(self, entity_id: int) -> ChainNode:
        """The chain of an entity's home zone."""
        return self.node(self.data.entity(entity_id).zone)

    def entity(self, name: str) -> tuple[int, ChainNode]:
        """An entity's registry id and the chain of its home zone."""
        entity_id = self.data.entity_id(name)
        return entity_id, self.home(entity_id)

    def admin(self, chain_id: int) -> Account:
        return self.admin_of(self.nodes[chain_id].chain)

    @staticmethod
    def admin_of(chain: Chain) -> Account:
        """The account that deploys and governs the project's contracts on `chain`."""
        return chain.accounts[ADMIN_INDEX]

    def relayer_account(self, chain_id: int, index: int = 0) -> Account:
        return self.nodes[chain_id].chain.accounts[RELAYER_INDEX - index]

    def direct(self, a: int, b: int) -> bool:
        """Whether chains a and b exchange messages without an intermediate hop."""
        return a != b and (self.config.topology == "mesh" or HUB_CHAIN_ID in (a, b))

    def neighbours(self, chain_id: int) -> list[int]:
        return [c for c in self.nodes if self.direct(chain_id, c)]

    def lanes(self) -> list[tuple[int, int]]:
        """Every (chain, next hop) pair that carries messages, in order."""
        return sorted((c, h) for c in self.nodes for h in self.neighbours(c))

    def via(self, src: int, dst: int) -> int:
        return dst if self.direct(src, dst) else HUB_CHAIN_ID

    def verifier(self, a: int, b: int) -> Verifier:
        """How messages between neighbours a and b are verified (symmetric)."""
        return VERIFIERS[self._lane_verifiers.get(frozenset((a, b)), self.config.verifier)]

    def validators_at(self, chain_id: int, number: int) -> ValidatorSet:
        """The validator set in charge of `chain_id` at block `number`."""
        return next(s for s in reversed(self.consensus[chain_id]) if s.from_block <= number)

    def hand_over(self, chain_id: int, from_block: int) -> ValidatorSet:
        """`chain_id`'s validators hand the chain to a fresh set from block `from_block` on; the new set."""
        successor, _ = self.consensus[chain_id][-1].handover(from_block)
        self.consensus[chain_id].append(successor)
        return successor

    def header_store_catch_up(self, store: HeaderStore, chain_id: int, epoch: int, known: int, by: Account,
                              gas: int = 1_000_000) -> list[Tx]:
        """The handovers that bring `store` from `chain_id`'s set `known` to its set `epoch`, in order."""
        return [store.handover_tx(chain_id, s.from_block, s.members, s.handed_over_by, by=by, gas=gas)
                for s in self.consensus[chain_id] if known < s.epoch <= epoch]

    def light_client(self, chain_id: int) -> contracts.LightClientVerifier:
        """The header store and light-client verifier on `chain_id`."""
        verifier = self.nodes[chain_id].verifiers["light-client"]
        assert isinstance(verifier, contracts.LightClientVerifier)
        return verifier

    def optimistic(self, chain_id: int) -> contracts.OptimisticVerifier:
        """The optimistic verifier on `chain_id` (it takes fraud proofs too)."""
        verifier = self.nodes[chain_id].verifiers["optimistic"]
        assert isinstance(verifier, contracts.OptimisticVerifier)
        return verifier

    def domain(self, src: int, hop: int) -> LaneDomain:
        """What the source committee's signatures for the hop src → hop are bound to."""
        return LaneDomain(self.verifier(src, hop).mode, src, self.nodes[src].gateway.address, hop,
                          self.nodes[hop].gateway.address)

    # -- life cycle -----------------------------------------------------------------------------

    @contextmanager
    def anchor(self) -> Iterator[Network]:
        """Snapshot every chain; revert them all on exit (cheap isolation for tests and what-if runs). The chains'
        validator sets, which a run may hand over, go back with them."""
        snapshots = {c: node.chain.snapshot() for c, node in self.nodes.items()}
        consensus = {c: list(sets) for c, sets in self.consensus.items()}
        try:
            yield self
        finally:
            for c, snapshot in snapshots.items():
                self.nodes[c].chain.revert(snapshot)
            self.consensus = consensus

    def close(self) -> None:
        for node in self.nodes.values():
            node.chain.close()
        for anvil in self.anvils:
            anvil.stop()
        self.anvils.clear()

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
