"""Seeding the full registry: pilotsim's batched seed vs a naive web3 loop, side by side.

The naive loop reaches the same end state the way a first script would: plain web3 over
eth-tester, one contract transaction per item (zone, sector, entity, pilot, each approval and
activation), gas estimated by the node for every call. Both runs use the same seed data, the same
contract and the same accounts, in the same process, one after the other.

Run: python -m sim.tools.seed_bench [--json] [--entities N]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from registry import EthTesterChain, Registry
from registry.defaults import AUTHORITY_BASE, ENTITY_BASE, REGULATOR_INDEX, TEST_MNEMONIC
from registry.evm.artifacts import load_artifact
from registry.models import sectors_to_mask
from registry.seeds import SeedData, load_seed_data

GENESIS = 1_700_000_000


def pilotsim_seed(data: SeedData) -> dict[str, Any]:
    started = time.perf_counter()
    chain = EthTesterChain(genesis_timestamp=GENESIS)
    registry = Registry.deploy(chain)
    report = registry.seed(data)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "transactions": report.transactions + 1, "entities": report.entities,
            "pilots": report.pilots, "gas_used": report.gas_used}


def naive_seed(data: SeedData) -> dict[str, Any]:
    started = time.perf_counter()
    backend = PyEVMBackend.from_mnemonic(TEST_MNEMONIC, num_accounts=ENTITY_BASE + len(data.entities),
                                         genesis_parameters=PyEVMBackend.generate_genesis_params(
                                             overrides={"timestamp": GENESIS}))
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    accounts = w3.eth.accounts
    artifact = load_artifact("PilotRegistry")
    factory = w3.eth.contract(abi=artifact.abi.abi, bytecode=artifact.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor().transact({"from": accounts[0]}))
    registry = w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi.abi)
    f = registry.functions
    sent = 1

    def send(call: Any, sender: str) -> None:
        nonlocal sent
        w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
        sent += 1

    admin = accounts[0]
    for i, zone in enumerate(data.zones):
        send(f.registerZones([(zone.name, zone.province, accounts[AUTHORITY_BASE + i])]), admin)
    for sector in data.sectors:
        send(f.registerSectors([(sector.name, int(sector.category_id))]), admin)
    send(f.addRegulator(accounts[REGULATOR_INDEX]), admin)
    for i, entity in enumerate(data.entities):
        mask = sectors_to_mask([data.sector_id(s) for s in entity.sectors])
        send(f.registerEntities([(data.zone_id(entity.zone), mask, accounts[ENTITY_BASE + i], entity.name,
                                  entity.province)]), admin)
    for pilot in data.pilots:
        send(f.registerPilots([(pilot.entity_index + 1, data.sector_id(pilot.sector_code), pilot.title)]), admin)
    for i, entity in enumerate(data.entities):
        send(f.approveEntities([i + 1]), accounts[AUTHORITY_BASE + data.zone_id(entity.zone) - 1])
    for step in (f.approvePilots, f.activatePilots):
        for i, pilot in enumerate(data.pilots):
            zone_id = data.zone_id(data.entity(pilot.entity_index + 1).zone)
            send(step([i + 1]), accounts[AUTHORITY_BASE + zone_id - 1])
    wall = time.perf_counter() - started
    return {"wall_s": wall, "transactions": sent, "entities": f.entityCount().call(),
            "pilots": f.pilotCount().call()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--entities", type=int, default=0, help="use only the first N entities (default: all)")
    args = parser.parse_args()
    data = load_seed_data()
    if args.entities:
        data = data.first_entities(args.entities)
    fast = pilotsim_seed(data)
    naive = naive_seed(data)
    assert (fast["entities"], fast["pilots"]) == (naive["entities"], naive["pilots"]), (fast, naive)
    result = {
        "entities": fast["entities"],
        "pilots": fast["pilots"],
        "pilotsim": {k: round(v, 3) if isinstance(v, float) else v for k, v in fast.items()},
        "naive_web3": {k: round(v, 3) if isinstance(v, float) else v for k, v in naive.items()},
        "seed_speedup": round(naive["wall_s"] / fast["wall_s"], 1),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"seeding {result['entities']} entities and {result['pilots']} pilots on eth-tester/py-evm")
    print(f"  pilotsim seed : {fast['wall_s']:7.2f} s  {fast['transactions']:4d} transactions")
    print(f"  naive web3    : {naive['wall_s']:7.2f} s  {naive['transactions']:4d} transactions (gas estimated)")
    print(f"  speedup       : {result['seed_speedup']:.1f}x (target: at least 10x)")


if __name__ == "__main__":
    main()
