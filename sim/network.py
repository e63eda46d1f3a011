"""A network of chains: the national hub (registry) and one chain per pilot zone, deployed and wired.

`Network.build` starts the chains (in-process eth-tester, or one Anvil per chain), deploys on each
a Committee, a Gateway and the apps (RegistryMirror and DataExchange on zone chains; PilotRegistry
and RegistryBroadcaster on the hub), configures lanes for the topology and the committees each
chain trusts, seeds the registry and syncs every mirror from it across chains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from eth._utils.address import generate_contract_address
from eth_typing import Address
from eth_utils import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field

from registry import (
    Account,
    AnvilNode,
    Chain,
    ChainError,
    Contract,
    EthTesterChain,
    Registry,
    RpcChain,
    SeedData,
    Tx,
)
from registry.artifacts import load_artifact
from registry.errors import NotFound
from registry.pytest_plugin import GENESIS_TIMESTAMP
from registry.seeds import load_seed_data, slug

from .committee import CommitteeKeys
from .gateway import MODES, GatewayClient

HUB_CHAIN_ID = 1000
HUB_NAME = "hub"
CONFIG_GAS = 3_000_000
DEPLOY_GAS = 6_000_000
RELAYER_INDEX = 30  # the relayer's account on every chain (funded at genesis)
FLAWS = {"verifier-bypass": 1, "zero-root": 2}  # VulnerableGateway.flaw
SYNC_CHUNK = 64  # entities per mirror-sync message: its handler must fit its gas limit

Topology = Literal["mesh", "hub"]
VerifierMode = Literal["committee", "checkpoint"]
Backend = Literal["eth-tester", "anvil"]
Progress = Callable[[str, int, int], None]


def zone_chain_id(zone_id: int) -> int:
    return HUB_CHAIN_ID + zone_id


class NetworkConfig(BaseModel):
    """How the network is laid out and secured."""

    model_config = ConfigDict(extra="forbid")

    topology: Topology = "mesh"
    verifier: VerifierMode = "checkpoint"
    lane_verifiers: dict[str, VerifierMode] = Field(
        default_factory=dict, description="per pair of chains, e.g. {'beijing:chengdu': 'committee'}")
    committee_size: int = Field(4, ge=1, le=64)
    threshold: int = Field(3, ge=1, le=64)
    handler_gas: int = Field(200_000, ge=21_000, le=10_000_000)
    vulnerable: dict[str, Literal["verifier-bypass", "zero-root"]] = Field(
        default_factory=dict, description="FAULT SCENARIOS ONLY: chain name → historical flaw of its gateway")
    genesis_timestamp: int = GENESIS_TIMESTAMP
    sync_ttl: int = Field(86_400, ge=1)


@dataclass
class ChainNode:
    """One chain of the network and the project's contracts on it."""

    name: str
    chain_id: int
    zone_id: int  # 0 for the hub
    chain: Chain
    gateway: GatewayClient
    committee: Contract
    mirror: Contract | None = None
    exchange: Contract | None = None
    registry: Registry | None = None
    broadcaster: Contract | None = None

    @property
    def is_hub(self) -> bool:
        return self.zone_id == 0


@dataclass
class Network:
    config: NetworkConfig
    data: SeedData
    nodes: dict[int, ChainNode]
    committees: dict[int, CommitteeKeys]  # chain id → the validators that sign what leaves it
    anvils: list[AnvilNode] = field(default_factory=list)

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

    def node(self, name: str) -> ChainNode:
        """A chain by zone name or code (any spelling), or `hub`."""
        if slug(name) == HUB_NAME:
            return self.hub
        return self.nodes[zone_chain_id(self.data.zone_id(name))]

    def admin(self, chain_id: int) -> Account:
        return self.nodes[chain_id].chain.accounts[0]

    def relayer_account(self, chain_id: int, index: int = 0) -> Account:
        return self.nodes[chain_id].chain.accounts[RELAYER_INDEX - index]

    def direct(self, a: int, b: int) -> bool:
        """Whether chains a and b exchange messages without an intermediate hop."""
        return a != b and (self.config.topology == "mesh" or HUB_CHAIN_ID in (a, b))

    def neighbours(self, chain_id: int) -> list[int]:
        return [c for c in self.nodes if self.direct(chain_id, c)]

    def via(self, src: int, dst: int) -> int:
        return dst if self.direct(src, dst) else HUB_CHAIN_ID

    def mode(self, a: int, b: int) -> int:
        """How messages between neighbours a and b are verified (symmetric)."""
        names = {self.nodes[a].name.lower(), self.nodes[b].name.lower()}
        for key, mode in self.config.lane_verifiers.items():
            if {slug(part) for part in key.split(":")} == {slug(n) for n in names}:
                return MODES[mode]
        return MODES[self.config.verifier]

    def entity(self, name: str) -> tuple[int, ChainNode]:
        """An entity's registry id and the chain of its home zone."""
        entity_id = self.data.entity_id(name)
        zone = self.data.entities[entity_id - 1].zone
        return entity_id, self.node(zone)

    # -- life cycle -----------------------------------------------------------------------------

    @contextmanager
    def anchor(self) -> Iterator[None]:
        """Snapshot every chain; revert them all on exit."""
        snapshots = {c: node.chain.snapshot() for c, node in self.nodes.items()}
        try:
            yield
        finally:
            for c, snapshot in snapshots.items():
                self.nodes[c].chain.revert(snapshot)

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

    @classmethod
    def build(cls, config: NetworkConfig | None = None, *, backend: Backend = "eth-tester",
              urls: list[str] | None = None, data: SeedData | None = None, progress: Progress | None = None,
              sync: bool = True, chain_factory: Callable[[int, int], Chain] | None = None) -> Network:
        """Start, deploy, configure, seed and sync a whole network (see the module docstring).

        `urls`: nodes of your own instead (any backend setting is then ignored), one per chain, whose
        chain ids are 1000 for the hub and 1000 + n for the n-th zone of the seed data.
        `chain_factory(chain_id, genesis_timestamp)`: in-process chains of your own making (e.g. ones
        that record every transaction).
        """
        config = config or NetworkConfig()
        if config.threshold > config.committee_size:
            raise ValueError(f"threshold {config.threshold} exceeds the committee size {config.committee_size}")
        data = data or load_seed_data()
        step = progress or (lambda label, done, total: None)
        ids = [HUB_CHAIN_ID] + [zone_chain_id(i + 1) for i in range(len(data.zones))]
        step("starting chains", 0, len(ids))
        anvils: list[AnvilNode] = []
        if chain_factory is not None:
            chains = {c: chain_factory(c, config.genesis_timestamp) for c in ids}
        elif urls is not None:
            chains, anvils = _connect(ids, urls)
        else:
            chains, anvils = _start_chains(ids, backend, config.genesis_timestamp)
        network = cls(config, data, {}, {c: CommitteeKeys(c, config.committee_size, config.threshold) for c in ids},
                      anvils)
        try:
            step("deploying contracts", 0, len(ids))
            for done, chain_id in enumerate(ids):
                network.nodes[chain_id] = _deploy(network, chain_id, chains[chain_id])
                step("deploying contracts", done + 1, len(ids))
            step("configuring lanes", 0, len(ids))
            for done, node in enumerate(network.nodes.values()):
                _configure(network, node)
                step("configuring lanes", done + 1, len(ids))
            step("seeding the registry", 0, 1)
            network.registry.seed(data)
            step("seeding the registry", 1, 1)
            if sync:
                network.sync_mirrors(progress=step)
        except BaseException:
            network.close()
            raise
        return network

    def sync_mirrors(self, entity_ids: list[int] | None = None, progress: Progress | None = None) -> None:
        """Send the registry's entities to every zone mirror, and relay until all are delivered."""
        from .relayer import Relayer

        ids = entity_ids or list(range(1, self.registry.entity_count() + 1))
        broadcaster = self.hub.broadcaster
        assert broadcaster is not None
        zones = [n.chain_id for n in self.zones]
        admin = self.admin(HUB_CHAIN_ID)
        gas = min(self.hub.chain.block_gas_limit, 1_000_000 + 25_000 * SYNC_CHUNK * len(zones))
        broadcaster.send([broadcaster.tx("sync", ids[i:i + SYNC_CHUNK], zones, self.config.sync_ttl, by=admin, gas=gas)
                          for i in range(0, len(ids), SYNC_CHUNK)])
        Relayer(self).run_until_idle(progress=progress, label="syncing mirrors")


def _connect(ids: list[int], urls: list[str]) -> tuple[dict[int, Chain], list[AnvilNode]]:
    chains: dict[int, Chain] = {}
    for url in urls:
        chain = RpcChain(url)
        if chain.chain_id not in ids:
            raise ChainError(f"{url} has chain id {chain.chain_id}; the network needs {ids[0]}-{ids[-1]}")
        if chain.chain_id in chains:
            raise ChainError(f"{url} has chain id {chain.chain_id}, like another node given")
        chains[chain.chain_id] = chain
    missing = [c for c in ids if c not in chains]
    if missing:
        raise ChainError(f"no node given for chain id(s) {', '.join(map(str, missing))}")
    return chains, []


def _start_chains(ids: list[int], backend: Backend, genesis: int) -> tuple[dict[int, Chain], list[AnvilNode]]:
    if backend == "eth-tester":
        return {c: EthTesterChain(c, genesis_timestamp=genesis) for c in ids}, []
    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        futures = [pool.submit(AnvilNode.start, chain_id=c, genesis_timestamp=genesis, ipc=True) for c in ids]
        try:
            wait(futures)
        except BaseException:  # interrupted (Ctrl-C, kill): let the starts in flight end, stop every node
            wait(futures)
            for future in futures:
                if future.exception() is None:
                    future.result().stop()
            raise
    anvils = [f.result() for f in futures if f.exception() is None]
    errors = [error for f in futures if (error := f.exception()) is not None]
    if errors:  # stop the ones that did start before reporting
        for anvil in anvils:
            anvil.stop()
        raise errors[0]
    return {a.chain_id: RpcChain(a.endpoint) for a in anvils}, anvils


def _deploy(network: Network, chain_id: int, chain: Chain) -> ChainNode:
    """Deploy this chain's contracts in one block; addresses are known in advance from the nonce."""
    admin = chain.accounts[0]
    nonce = chain.nonce(admin.address)

    def address(offset: int) -> str:
        return to_checksum_address(generate_contract_address(Address(admin.address_bytes), nonce + offset))

    def init(name: str, *args: object) -> Tx:
        artifact = load_artifact(name)
        return Tx(admin, None, artifact.bytecode + artifact.abi.encode_constructor(args), DEPLOY_GAS)

    committee, gateway = address(0), address(1)
    is_hub = chain_id == HUB_CHAIN_ID
    router = is_hub and network.config.topology == "hub"
    name = HUB_NAME if is_hub else network.data.zones[chain_id - HUB_CHAIN_ID - 1].name
    flaw = next((FLAWS[f] for n, f in network.config.vulnerable.items() if slug(n) == slug(name)), 0)
    gateway_init = (init("VulnerableGateway", admin.address, committee, router, network.config.handler_gas, flaw)
                    if flaw else init("Gateway", admin.address, committee, router, network.config.handler_gas))
    txs = [init("Committee", admin.address), gateway_init]
    if is_hub:
        txs += [init("PilotRegistry"), init("RegistryBroadcaster", address(2), gateway, admin.address)]
    else:
        broadcaster = to_checksum_address(generate_contract_address(
            Address(network.nodes[HUB_CHAIN_ID].chain.accounts[0].address_bytes), 3))
        txs += [init("RegistryMirror", gateway, HUB_CHAIN_ID, broadcaster),
                init("DataExchange", gateway, address(2), chain_id - HUB_CHAIN_ID, admin.address)]
    for receipt in chain.send(txs):
        receipt.raise_for_status()
    node = ChainNode(
        name=name,
        chain_id=chain_id, zone_id=0 if is_hub else chain_id - HUB_CHAIN_ID, chain=chain,
        gateway=GatewayClient(chain, gateway, "Gateway"), committee=Contract(chain, committee, "Committee"),
    )
    if is_hub:
        node.registry = Registry(chain, address(2))
        node.broadcaster = Contract(chain, address(3), "RegistryBroadcaster")
    else:
        node.mirror = Contract(chain, address(2), "RegistryMirror")
        node.exchange = Contract(chain, address(3), "DataExchange")
    return node


def _configure(network: Network, node: ChainNode) -> None:
    """Lanes toward every other chain, the committees of its neighbours, the apps' peers and policy."""
    admin = node.chain.accounts[0]
    others = [c for c in network.nodes if c != node.chain_id]  # every chain is deployed by now
    vias = [network.via(node.chain_id, c) for c in others]
    modes = [network.mode(node.chain_id, c) if network.direct(node.chain_id, c) else 0 for c in others]
    gateways = [network.nodes[c].gateway.address for c in others]
    hops = network.neighbours(node.chain_id)
    committees = [network.committees[h] for h in hops]
    txs = [
        node.gateway.tx("setLanes", others, vias, modes, gateways, by=admin, gas=CONFIG_GAS),
        node.committee.tx("rotateMany", hops, [k.members for k in committees], [k.threshold for k in committees],
                          by=admin, gas=CONFIG_GAS + 100_000 * len(hops) * network.config.committee_size),
    ]
    if node.exchange is not None:
        zones = [n.chain_id for n in network.nodes.values() if not n.is_hub and n.chain_id != node.chain_id]
        peers = [network.nodes[c].exchange.address for c in zones]  # type: ignore[union-attr]
        policy = network.data.policy_masks()
        txs += [node.exchange.tx("setPeers", zones, peers, by=admin, gas=CONFIG_GAS),
                node.exchange.tx("setPolicies", list(policy), list(policy.values()), by=admin, gas=CONFIG_GAS)]
    if node.broadcaster is not None:
        txs += [node.broadcaster.tx("setMirror", z.chain_id, z.mirror.address, by=admin, gas=100_000)  # type: ignore[union-attr]
                for z in network.nodes.values() if not z.is_hub]
    for receipt in node.chain.send(txs):
        receipt.raise_for_status()


__all__ = ["HUB_CHAIN_ID", "ChainNode", "Network", "NetworkConfig", "NotFound", "zone_chain_id"]
