"""A gas snapshot, like `forge snapshot`: every contract function's gas in a fixed run, committed to
`.gas-snapshot`, and a check that fails when any figure moves until the snapshot is updated on purpose.

The fixed run: a short simulation (mixed committee, checkpoint, light-client and optimistic lanes, a
policy refusal among the requests) on chains that record every transaction, from deployment and registry seeding through
mirror syncs, deliveries and acknowledgements; then the registry's and the gateway's remaining
functions once each. It runs on revm, whose gas is py-evm's to the unit (tests/test_revm_parity.py).
"""

from __future__ import annotations

from collections import defaultdict

from registry import Tx, derive_account
from registry.defaults import ATTACKER_INDEX, SPARE_INDEX
from registry.evm.artifacts import artifact_names, load_artifact
from registry.evm.hashing import keccak
from registry.paths import ROOT

from ..bridge import contracts
from ..bridge.fraud import FraudProver
from ..bridge.optimistic import MIN_BOND
from ..bridge.topology import Network
from ..bridge.verifiers import SIGNED
from ..engine.scenario import Scenario
from ..results.metrics import gas_row
from .recording import Mined, record_run

SNAPSHOT = ROOT / ".gas-snapshot"
UNKNOWN_CHAIN = 9_999  # a chain no verifier knows yet: its genesis validators are set once
SCENARIO = Scenario.model_validate({
    "name": "gas-snapshot", "seed": 11, "duration_s": 30, "drain_s": 300,
    "network": {"lane_verifiers": {"hub:beijing": "committee", "hub:chengdu": "committee",
                                   "beijing:chengdu": "light-client", "hub:guiyang": "optimistic"}},
    "workload": {"rate_per_s": 2.0, "respect_policy": False, "ttl_s": 600},
})


def record(backend: str = "revm") -> list[Mined]:
    """Every transaction of the fixed run, in order, on `backend`."""
    return record_run(SCENARIO, backend, then=_exercise_the_rest)


def collect(backend: str = "revm") -> dict[str, list[int]]:
    """`Contract.function` → the gas of every successful call in the fixed run."""
    by_code = {load_artifact(n).bytecode: n for n in artifact_names() if load_artifact(n).bytecode}
    names: dict[tuple[int, str], str] = {}  # chains share addresses: the same deployer and nonces on each
    gas: dict[str, list[int]] = defaultdict(list)
    for mined in record(backend):
        tx, receipt = mined.tx, mined.receipt
        if not receipt.status:
            continue
        if tx.to is None:
            name = max(((len(code), n) for code, n in by_code.items() if tx.data.startswith(code)), default=(0, "?"))[1]
            if receipt.contract_address:
                names[mined.chain_id, receipt.contract_address] = name
            gas[f"{name}.deploy"].append(receipt.gas_used)
            continue
        contract = names.get((mined.chain_id, tx.to), "?")
        function = load_artifact(contract).abi.function_name(tx.data[:4]) if contract != "?" \
            else "0x" + tx.data[:4].hex()
        gas[f"{contract}.{function}"].append(receipt.gas_used)
    return dict(sorted(gas.items()))


def _exercise_the_rest(network: Network) -> None:
    """The functions the simulation does not reach, each once, by the actor allowed to call it."""
    registry = network.registry
    roles = registry.roles
    entity = registry.entities(zone=1)[0]
    authority = roles.authority(entity.zone_id)
    me = roles.entity(entity.id)
    pilot = registry.propose_pilot(entity.sectors[0], "Snapshot pilot", by=me)
    registry.approve_pilots([pilot], by=authority)
    registry.activate_pilots([pilot], by=me)
    registry.suspend_pilot(pilot, by=roles.regulator)
    registry.reinstate_pilot(pilot, by=roles.regulator)  # what a regulator suspends, a regulator lifts
    registry.complete_pilot(pilot, by=me)
    registry.suspend_entity(entity.id, by=roles.regulator)
    registry.reinstate_entity(entity.id, by=roles.regulator)
    spare = registry.chain.accounts[SPARE_INDEX].address
    registry.add_regulator(spare)
    registry.remove_regulator(spare)
    registry.appoint_authority(entity.zone_id, authority.address)
    beijing = network.node("Beijing")
    admin = beijing.chain.accounts[0]
    gateway = beijing.gateway
    other = network.node("Chengdu").chain_id
    for tx in (gateway.set_rate_limit_tx(other, 100, 1000, by=admin, gas=200_000),
               gateway.send_tx(other, beijing.chain.accounts[9].address, b"snapshot", 600, 0, by=admin, gas=300_000),
               gateway.set_paused_tx(other, True, by=admin, gas=100_000),
               gateway.set_paused_tx(other, False, by=admin, gas=100_000),
               gateway.set_handler_gas_limit_tx(200_000, by=admin, gas=100_000),
               gateway.set_origin_quota_tx([other], network.hub.chain_id, 10**9, 10**7, by=admin, gas=200_000)):
        gateway.send([tx])
    keys = network.committees[other]
    for kind in SIGNED:
        verifier = beijing.verifiers[kind]
        assert isinstance(verifier, contracts.CommitteeVerifier)
        verifier.send([verifier.rotate_tx(other, keys.members, keys.threshold, by=admin, gas=500_000)])
    _exercise_the_header_stores(network)
    broadcaster = network.hub.broadcaster
    assert broadcaster is not None
    broadcaster.send([broadcaster.sync_policy_tx([1, 2], [beijing.chain_id], 600,
                                                 by=network.admin(network.hub.chain_id), gas=1_000_000)])


def _exercise_the_header_stores(network: Network) -> None:
    """Beijing's light client and optimistic verifier about Chengdu: headers, a fraud proven (a claim of a message
    no one sent at a block the store knows), a handover, a genesis."""
    beijing, chengdu = network.node("Beijing"), network.node("Chengdu")
    admin, other = beijing.chain.accounts[0], chengdu.chain_id
    prover = FraudProver(network)
    optimistic = network.optimistic(beijing.chain_id)
    poster, number = derive_account(ATTACKER_INDEX), chengdu.chain.block_number
    claim = (keccak(poster.address_bytes), 1, (number, 0, 0))  # a message no one sent
    bond = Tx(poster, optimistic.address, optimistic.abi.function("bond").encode([]), 100_000, MIN_BOND)
    [*_, posted] = optimistic.send([bond, *prover.receipts.headers(optimistic, other, [number], admin),
                                    optimistic.post_tx(other, chengdu.gateway.address, [claim], by=poster,
                                                       gas=500_000)]).receipts
    [posting] = prover.postings(beijing.chain_id, posted.block_number, posted.block_number)
    challenge = prover.challenge(posting, 0, admin)
    assert challenge is not None
    optimistic.send(challenge)
    validators = network.consensus[other][-1]
    chengdu.chain.mine()
    head = chengdu.chain.block()
    header = validators.header(head.number, head.timestamp, chengdu.chain.receipts_root(head.number))
    successor, signatures = validators.handover(head.number + 1)
    for store in (network.light_client(beijing.chain_id), optimistic):
        store.send([store.submit_headers_tx(other, [header], by=admin, gas=500_000),
                    store.handover_tx(other, successor.from_block, successor.members, signatures, by=admin,
                                      gas=500_000),
                    store.set_genesis_validators_tx(UNKNOWN_CHAIN, validators.members, by=admin, gas=500_000)])


def render(gas: dict[str, list[int]]) -> str:
    lines = []
    for key, values in gas.items():
        contract, function = key.split(".", 1)
        row = gas_row(contract, function, values)
        lines.append(f"{key} (calls: {row.calls}, min: {row.min}, avg: {row.avg}, median: {row.median}, "
                     f"max: {row.max})")
    return "\n".join(lines) + "\n"


def diff(old: str, new: str) -> list[str]:
    """Human lines for every entry that changed, appeared or vanished."""
    def parse(text: str) -> dict[str, str]:
        return {line.split(" (", 1)[0]: line for line in text.splitlines() if line.strip()}

    before, after = parse(old), parse(new)
    changes = []
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changes.append(f"{key}: {before.get(key, 'absent').split(' ', 1)[-1]} → "
                           f"{after.get(key, 'absent').split(' ', 1)[-1]}")
    return changes

