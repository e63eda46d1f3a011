"""Provision a network: start the chains, deploy and wire the contracts, seed the registry, sync the mirrors.

`build_network` starts the chains (in-process eth-tester, one Anvil per chain, or nodes given by URL),
deploys on each its verifiers (committee and checkpoint), a Gateway and the apps (RegistryMirror and
DataExchange on zone chains; PilotRegistry and RegistryBroadcaster on the hub), configures lanes for the
topology, the committees each chain's verifiers trust and (with `gas_accounting`) the destination-gas
quotas, seeds the registry and syncs every mirror from it across chains. Given a
`NetworkCache`, in-process networks are loaded from it when it has them, and kept in it when built.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from registry import Chain, ChainError, Contract, Registry, SeedData, Tx
from registry.errors import ConfigError
from registry.evm.artifacts import contract_constant, load_artifact
from registry.evm.backends import IN_PROCESS, in_process_chain
from registry.evm.base import contract_address
from registry.progress import Progress, no_progress
from registry.seeds import load_seed_data, slug

from . import contracts
from .cache import NetworkCache
from .committee import CommitteeKeys
from .gateway import GatewayClient
from .relayer import Relayer
from .topology import HUB_CHAIN_ID, HUB_NAME, Backend, ChainNode, Network, NetworkConfig, zone_chain_id
from .verifiers import VERIFIERS, verifier_contract

if TYPE_CHECKING:
    from registry import AnvilNode

# The backends' chain classes are imported where a network of theirs is made: a run on revm loads neither
# py-evm (eth-tester) nor web3 (Anvil, RPC), 0.6 s of imports.

CONFIG_GAS = 3_000_000
DEPLOY_GAS = 6_000_000
OPEN_QUOTA = "0x" + "00" * 20  # GatewayConfig.OPEN_QUOTA: the share of senders without a quota of their own
NONE = "0x" + "00" * 20  # a contract a chain does not have
# The quotas governance gives its own applications on every lane, in messages at the default handler gas
# with a 256-byte payload over two hops: far above what any workload here sends, so only strangers meet a
# limit. The hub's broadcaster (syncs of up to 10M handler gas) gets the same in largest messages.
APP_BURST_MESSAGES = 2_000
APP_MESSAGES_PER_S = 100
APP_PAYLOAD_BYTES = 256
# A router's quota for each origin on each lane it forwards onto: a lane carries about a 30M-gas block every
# 2 s; each origin may use twice its fair share of that, and a block's worth at once
LANE_GAS_PER_S = 15_000_000
SYNC_CHUNK = 64  # entities per mirror-sync message: its handler must fit its gas limit

ChainFactory = Callable[[int, int], Chain]  # (chain id, genesis timestamp) → a chain


def build_network(config: NetworkConfig | None = None, *, backend: Backend = "eth-tester",
                  urls: list[str] | None = None, data: SeedData | None = None, progress: Progress = no_progress,
                  sync: bool = True, chain_factory: ChainFactory | None = None,
                  cache: NetworkCache | None = None, keep_nodes: bool = False) -> Network:
    """Start, deploy, configure, seed and sync a whole network (see the module docstring).

    `urls`: nodes of your own instead (any backend setting is then ignored), one per chain, whose
    chain ids are 1000 for the hub and 1000 + n for the n-th zone of the seed data.
    `chain_factory(chain_id, genesis_timestamp)`: in-process chains of your own making (e.g. ones
    that record every transaction). `cache`: where in-process eth-tester networks are kept.
    `keep_nodes` (backend anvil): nodes that may outlive this process (a run that keeps them); otherwise
    they die with it, however it ends.
    """
    config = config or NetworkConfig()
    if config.threshold > config.committee_size:
        raise ConfigError(f"threshold {config.threshold} exceeds the committee size {config.committee_size}")
    data = data or load_seed_data()
    ids = [HUB_CHAIN_ID] + [zone_chain_id(i + 1) for i in range(len(data.zones))]
    committees = {c: CommitteeKeys(c, config.committee_size, config.threshold) for c in ids}
    network = Network(config, data, {}, committees)  # checks the names in the settings before any chain starts
    if cache is not None and backend == "eth-tester" and urls is None and chain_factory is None:
        return _cached(network, cache, sync, progress)
    progress("starting chains", 0, len(ids))
    if chain_factory is not None:
        chains = {c: chain_factory(c, config.genesis_timestamp) for c in ids}
    elif urls is not None:
        chains = _connect(ids, urls)
    else:
        chains, network.anvils = _start_chains(ids, backend, config.genesis_timestamp, detach=keep_nodes)
    try:
        for done, chain_id in enumerate(ids, start=1):
            network.nodes[chain_id] = _deploy(network, chain_id, chains[chain_id])
            progress("deploying contracts", done, len(ids))
        for done, node in enumerate(network.nodes.values(), start=1):
            _configure(network, node)
            progress("configuring lanes", done, len(ids))
        progress("seeding the registry", 0, 1)
        network.registry.seed(data)
        progress("seeding the registry", 1, 1)
        if sync:
            sync_mirrors(network, progress=progress)
    except BaseException:
        network.close()
        raise
    return network


def _cached(network: Network, cache: NetworkCache, sync: bool, progress: Progress) -> Network:
    """The network from `cache`, or built and put there."""
    from registry import EthTesterChain  # noqa: PLC0415 - see the note on imports above

    key = cache.key(network.config, network.data, sync)
    with cache.building(key):
        images = cache.load(key)
        if images is None or set(images) != set(network.committees):  # none, or not of these chains
            built = build_network(network.config, data=network.data, progress=progress, sync=sync)
            cache.save(key, {c: node.chain.image() for c, node in built.nodes.items()
                             if isinstance(node.chain, EthTesterChain)})
            return built
    progress("loading the network", 0, len(images))
    for chain_id in network.committees:
        chain = EthTesterChain(chain_id, genesis_timestamp=network.config.genesis_timestamp)
        chain.load_image(images[chain_id])
        network.nodes[chain_id], _ = _layout(network, chain_id, chain, first_nonce=0)
    network.from_cache = True
    return network


def sync_mirrors(network: Network, entity_ids: list[int] | None = None, progress: Progress = no_progress) -> None:
    """Send the registry's entities (and, with every entity, its sector policy) to every zone, and relay until
    all are delivered: a zone's DataExchange takes its policy from the hub alone."""
    ids = entity_ids or list(range(1, network.registry.entity_count() + 1))
    broadcaster = network.hub.broadcaster
    assert broadcaster is not None
    zones = [n.chain_id for n in network.zones]
    admin = network.admin(HUB_CHAIN_ID)
    gas = min(network.hub.chain.block_gas_limit, 1_000_000 + 25_000 * SYNC_CHUNK * len(zones))
    txs = [broadcaster.sync_tx(ids[i:i + SYNC_CHUNK], zones, network.config.sync_ttl, by=admin, gas=gas)
           for i in range(0, len(ids), SYNC_CHUNK)]
    if entity_ids is None:
        sectors = list(range(1, len(network.data.sectors) + 1))
        txs.append(broadcaster.sync_policy_tx(sectors, zones, network.config.sync_ttl, by=admin,
                                              gas=min(network.hub.chain.block_gas_limit,
                                                      1_000_000 + 300_000 * len(zones))))
    for receipt in broadcaster.chain.send(txs):
        receipt.raise_for_status()
    Relayer(network).run_until_idle(progress=progress, label="syncing mirrors")


def _connect(ids: list[int], urls: list[str]) -> dict[int, Chain]:
    from registry import RpcChain, fund_actors  # noqa: PLC0415 - see the note on imports above

    chains: dict[int, Chain] = {}
    for url in urls:
        chain = RpcChain(url)
        if chain.chain_id not in ids:
            raise ChainError(f"{url} has chain id {chain.chain_id}; the network needs {ids[0]}-{ids[-1]}")
        if chain.chain_id in chains:
            raise ChainError(f"{url} has chain id {chain.chain_id}, like another node given")
        chains[chain.chain_id] = chain
        fund_actors(chain)  # a node started by hand funds only a few of the actors
    missing = [c for c in ids if c not in chains]
    if missing:
        raise ChainError(f"no node given for chain id(s) {', '.join(map(str, missing))}")
    return chains


def _start_chains(ids: list[int], backend: Backend, genesis: int,
                  detach: bool = False) -> tuple[dict[int, Chain], list[AnvilNode]]:
    """The chains, in process or one Anvil node each. The nodes are launched here, in the calling thread, so
    that they die with this process however it ends (unless `detach`ed: nodes a run keeps); only the wait for
    them to answer is shared among threads."""
    if backend in IN_PROCESS:
        return {c: in_process_chain(backend, c, genesis_timestamp=genesis) for c in ids}, []
    from registry import AnvilNode, RpcChain  # noqa: PLC0415 - see the note on imports above

    launched: list[AnvilNode] = []
    try:
        for chain_id in ids:
            launched.append(AnvilNode.launch(chain_id=chain_id, genesis_timestamp=genesis, ipc=True, detach=detach))
        with ThreadPoolExecutor(max_workers=len(ids)) as pool:
            waits = [pool.submit(node.ready, 15.0, genesis) for node in launched]
            wait(waits)
        for i, done in enumerate(waits):
            if done.exception() is not None:  # its port was taken before it bound it, or it failed: once more
                launched[i] = AnvilNode.launch(chain_id=ids[i], genesis_timestamp=genesis, ipc=True,
                                               detach=detach).ready(15.0, genesis)
    except BaseException:  # interrupted (Ctrl-C, kill) or a node that would not start: stop every node
        for node in launched:
            node.stop()
        raise
    return {a.chain_id: RpcChain(a.endpoint) for a in launched}, launched


def _deploy(network: Network, chain_id: int, chain: Chain) -> ChainNode:
    """Deploy this chain's contracts in one block."""
    node, txs = _layout(network, chain_id, chain, chain.nonce(network.admin_of(chain).address))
    for receipt in chain.send(txs):
        receipt.raise_for_status()
    return node


def _layout(network: Network, chain_id: int, chain: Chain, first_nonce: int) -> tuple[ChainNode, list[Tx]]:
    """The chain's node (its contracts where they land when the admin deploys them from `first_nonce`
    on: addresses follow from the nonce) and the transactions that deploy them."""
    admin = network.admin_of(chain)

    def address(offset: int) -> str:
        return contract_address(admin.address_bytes, first_nonce + offset)

    def init(name: str, *args: object) -> Tx:
        artifact = load_artifact(name)
        return Tx(admin, None, artifact.bytecode + artifact.abi.encode_constructor(args), DEPLOY_GAS)

    kinds = list(VERIFIERS)
    gateway = address(len(kinds))
    is_hub = chain_id == HUB_CHAIN_ID
    router = is_hub and network.config.topology == "hub"
    name = HUB_NAME if is_hub else network.data.zones[chain_id - HUB_CHAIN_ID - 1].name
    flaw = next((f for n, f in network.config.vulnerable.items() if slug(n) == slug(name)), None)
    txs = []
    for kind in kinds:  # a flawed verifier where the scenario puts one of its historical flaws
        arguments = (network.config.challenge_window_s,) if kind == "optimistic" else ()
        contract, extra = (VERIFIERS[kind].flawed(flaw) if flaw else None) or (VERIFIERS[kind].contract, arguments)
        txs.append(init(contract, admin.address, *extra))
    settings = (admin.address, router, network.config.handler_gas, network.config.max_payload_bytes)
    txs.append(init("VulnerableGateway" if flaw == "origin-unchecked" else "Gateway", *settings))
    apps = len(kinds) + 1
    # atomic transactions: a coordinator on every chain (after the two apps), a participant on each zone's
    coordinator, participant = address(apps + 2), address(apps + 3)
    if is_hub:
        txs += [init("PilotRegistry"), init("RegistryBroadcaster", address(apps), gateway, admin.address),
                init("AtomicCoordinator", gateway, NONE, NONE, address(apps), admin.address)]  # no participant
    else:
        assert network.hub.broadcaster is not None  # the hub is deployed first
        txs += [init("RegistryMirror", gateway, HUB_CHAIN_ID, network.hub.broadcaster.address),
                init("DataExchange", gateway, address(apps), chain_id - HUB_CHAIN_ID, admin.address),
                init("AtomicCoordinator", gateway, participant, address(apps), NONE, admin.address),
                init("AtomicParticipant", gateway, address(apps), chain_id - HUB_CHAIN_ID, coordinator,
                     admin.address)]
    node = ChainNode(
        name=name, chain_id=chain_id, zone_id=0 if is_hub else chain_id - HUB_CHAIN_ID, chain=chain,
        gateway=GatewayClient(chain, gateway),
        verifiers={kind: verifier_contract(kind, chain, address(i), VERIFIERS[kind].contract)
                   for i, kind in enumerate(kinds)},
    )
    node.coordinator = contracts.AtomicCoordinator(chain, coordinator)
    if is_hub:
        node.registry = Registry(chain, address(apps))
        node.broadcaster = contracts.RegistryBroadcaster(chain, address(apps + 1))
    else:
        node.mirror = contracts.RegistryMirror(chain, address(apps))
        node.exchange = contracts.DataExchange(chain, address(apps + 1))
        node.participant = contracts.AtomicParticipant(chain, participant)
    return node, txs


def _configure(network: Network, node: ChainNode) -> None:
    """Lanes toward every other chain, the committees of its neighbours, the quotas, the apps' peers and policy."""
    admin = network.admin(node.chain_id)
    others = [c for c in network.nodes if c != node.chain_id]  # every chain is deployed by now
    vias = [network.via(node.chain_id, c) for c in others]
    verifiers = [node.verifiers[network.verifier(node.chain_id, c).name].address if network.direct(node.chain_id, c)
                 else OPEN_QUOTA for c in others]
    gateways = [network.nodes[c].gateway.address for c in others]
    hops = network.neighbours(node.chain_id)
    committees = [network.committees[h] for h in hops]
    txs = [node.gateway.set_lanes_tx(others, vias, verifiers, gateways, by=admin, gas=CONFIG_GAS)]
    txs += [verifier.rotate_many_tx(hops, [k.members for k in committees], [k.threshold for k in committees],
                                    by=admin, gas=CONFIG_GAS + 100_000 * len(hops) * network.config.committee_size)
            for verifier in node.verifiers.values() if isinstance(verifier, contracts.CommitteeVerifier)]
    genesis = [network.consensus[h][0].members for h in hops]  # the chains' own validators: headers, fraud proofs
    txs += [store.set_genesis_validators_many_tx(hops, genesis, by=admin,
                                                 gas=CONFIG_GAS + 50_000 * len(hops) * network.config.validators)
            for store in (network.light_client(node.chain_id), network.optimistic(node.chain_id))]
    if network.config.gas_accounting:
        txs += _quotas(network, node)
    if node.exchange is not None:
        zones = [z for z in network.zones if z.chain_id != node.chain_id]
        txs.append(node.exchange.set_peers_tx([z.chain_id for z in zones], [z.data_exchange.address for z in zones],
                                              by=admin, gas=CONFIG_GAS))
    txs += _atomic(network, node)
    if node.broadcaster is not None:
        txs += [node.broadcaster.set_mirror_tx(z.chain_id, z.mirror.address, by=admin, gas=100_000)  # type: ignore[union-attr]
                for z in network.zones]
        txs += [node.broadcaster.set_exchange_tx(z.chain_id, z.data_exchange.address, by=admin, gas=100_000)
                for z in network.zones]
        # a suspension's sync must not wait behind whoever drained a rate-limited hub lane
        txs.append(node.gateway.set_rate_exempt_tx(node.broadcaster.address, True, by=admin, gas=100_000))
    for receipt in node.chain.send(txs):
        receipt.raise_for_status()


def _atomic(network: Network, node: ChainNode) -> list[Tx]:
    """The coordinator knows every zone's participant; a participant, every chain's coordinator."""
    admin = network.admin(node.chain_id)
    zones = [z for z in network.zones if z.chain_id != node.chain_id]
    others = [n for n in network.nodes.values() if n.chain_id != node.chain_id]
    assert node.coordinator is not None
    txs = [node.coordinator.set_participants_tx([z.chain_id for z in zones],
                                                [z.participant.address for z in zones if z.participant],
                                                by=admin, gas=CONFIG_GAS)]
    if node.participant is not None:
        txs.append(node.participant.set_coordinators_tx([n.chain_id for n in others],
                                                        [n.coordinator.address for n in others if n.coordinator],
                                                        by=admin, gas=CONFIG_GAS))
    return txs


def _quotas(network: Network, node: ChainNode) -> list[Tx]:
    """Destination-gas quotas on the lanes to this chain's next hops: the open share every stranger draws
    on, and a quota of its own for each of governance's applications on this chain; on a router, a quota
    per origin zone on each lane it forwards onto (a share of what the lane can carry)."""
    config, admin, gateway = network.config, network.admin(node.chain_id), node.gateway
    hops = network.neighbours(node.chain_id)
    gas = CONFIG_GAS + 30_000 * len(hops)
    txs = [gateway.set_gas_quota_tx(hops, OPEN_QUOTA, config.open_gas_burst, config.open_gas_per_s, by=admin,
                                    gas=gas)]
    message = gateway.destination_gas(config.handler_gas, APP_PAYLOAD_BYTES, 2)
    largest = gateway.destination_gas(contract_constant("GatewayConfig", "MAX_GAS_LIMIT"), config.max_payload_bytes, 2)
    vote = gateway.destination_gas(contract_constant("Atomic", "VOTE_GAS"), APP_PAYLOAD_BYTES, 2)
    apps: list[Contract | None] = [node.exchange, node.broadcaster, node.coordinator, node.participant]
    for app, size in zip(apps, (message, largest, vote, vote), strict=True):
        if app is not None:
            txs.append(gateway.set_gas_quota_tx(hops, app.address, APP_BURST_MESSAGES * size,
                                                APP_MESSAGES_PER_S * size, by=admin, gas=gas))
    if node.is_hub and network.config.topology == "hub":
        share = 2 * LANE_GAS_PER_S // max(1, len(network.zones) - 1)
        for origin in network.zones:
            onto = [z.chain_id for z in network.zones if z is not origin]
            txs.append(gateway.set_origin_quota_tx(onto, origin.chain_id, node.chain.block_gas_limit, share,
                                                   by=admin, gas=gas))
    return txs
