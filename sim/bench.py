"""`pilotsim bench`: the simulator's own speed, cost and scale, measured side by side on this machine.

Figures (see the README for the targets):
- seed_speedup: seeding the registry vs a naive one-transaction-per-item web3 loop (bench/seed_bench.py).
- msgs_per_s: delivered cross-chain messages per wall second of the simulation (baseline, eth-tester),
  raw_tx_per_s: bare py-evm (no web3, no eth-tester) applying signed Gateway.send transactions
  100 to a block, and msg_to_raw_ratio between them.
- scaling_10x: wall time of a run with ten times the messages of another, divided by it;
  peak_rss_mb of the larger run.
- anvil_msgs_per_s and anvil_ratio: the baseline on one Anvil node per chain.
- gas_per_delivered_message: by verifier and batch size (bench/gas_bench.py).
Each run of the simulator is its own process, so memory figures are its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eth._utils.address import generate_contract_address
from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.vm.forks import PragueVM
from eth_typing import Address
from eth_utils import keccak, to_checksum_address

from registry.accounts import derive_accounts
from registry.artifacts import load_artifact
from registry.chain.base import Tx, sign
from registry.seeds import load_seed_data

from .scenario import load


def raw_send_rate(transactions: int = 1_000, per_block: int = 100) -> float:
    """Signed Gateway.send transactions per second on a bare py-evm chain, `per_block` per block."""
    chain_id = 1001
    accounts = derive_accounts(4)
    genesis: dict[str, Any] = {
        "coinbase": b"\x00" * 20, "difficulty": 0, "gas_limit": 30_000_000, "extra_data": b"",
        "nonce": b"\x00" * 8, "mix_hash": b"\x00" * 32, "timestamp": 1_643_414_400,
    }
    funded = {"balance": 10**24, "nonce": 0, "code": b"", "storage": {}}
    state: dict[Any, Any] = {a.address_bytes: dict(funded) for a in accounts}
    klass = MiningChain.configure(__name__="RawChain", vm_configuration=((0, PragueVM),), chain_id=chain_id)
    chain: Any = klass.from_genesis(AtomicDB(), genesis, state)
    nonces = {a.address: 0 for a in accounts}

    def mine(txs: list[Tx]) -> list[Any]:
        chain.header = chain.header.copy(timestamp=chain.header.timestamp + 1)
        signed = []
        for tx in txs:
            signed.append(sign(tx, chain_id, nonces[tx.sender.address], chain.header.base_fee_per_gas))
            nonces[tx.sender.address] += 1
        _, _, computations = chain.mine_all(signed, mix_hash=keccak(chain.header.block_number.to_bytes(8, "big")))
        return [not c.is_error for c in computations]

    admin = accounts[0]
    committee, gateway = load_artifact("Committee"), load_artifact("Gateway")
    committee_address = to_checksum_address(generate_contract_address(Address(admin.address_bytes), 0))
    gateway_address = to_checksum_address(generate_contract_address(Address(admin.address_bytes), 1))
    mine([Tx(admin, None, committee.bytecode + committee.abi.encode_constructor([admin.address]), 6_000_000),
          Tx(admin, None, gateway.bytecode + gateway.abi.encode_constructor(
              [admin.address, committee_address, False, 200_000]), 6_000_000)])
    send = gateway.abi.function("send")
    mine([Tx(admin, gateway_address, gateway.abi.function("setLane").encode([1014, 1014, 2, admin.address]),
             200_000)])
    payload = bytes(160)
    txs = [Tx(accounts[1 + i % 3], gateway_address, send.encode([1014, admin.address, payload, 600, 0]), 200_000)
           for i in range(transactions)]
    started = time.perf_counter()
    for start in range(0, transactions, per_block):
        assert all(mine(txs[start:start + per_block])), "a Gateway.send failed on the bare chain"
    return transactions / (time.perf_counter() - started)


def _run(scenario: str, sets: dict[str, Any], rpc: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        args = [sys.executable, "-m", "sim.cli", "run", scenario, "--quiet", "--json", "--out", str(Path(folder) / "o")]
        for key, value in sets.items():
            args += ["--set", f"{key}={json.dumps(value)}"]
        if rpc:
            args.append("--rpc")
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[3:])}: {done.stderr.strip()}")
        return json.loads(done.stdout)


def measure(quick: bool = False, progress: Any = None) -> dict[str, Any]:
    step = progress or (lambda label: None)
    results: dict[str, Any] = {}
    step("seed speedup")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import seed_bench  # bench/ holds the naive loop

    data = load_seed_data()
    if quick:
        data = data.model_copy(update={"entities": data.entities[:40],
                                       "pilots": [p for p in data.pilots if p.entity_index < 40]})
    fast, naive = seed_bench.pilotsim_seed(data), seed_bench.naive_seed(data)
    results["seed_speedup"] = round(naive["wall_s"] / fast["wall_s"], 1)

    step("baseline on eth-tester")
    duration = 60 if quick else 300
    base = _run("baseline", {"duration_s": duration})
    results["msgs_per_s"] = base["wall"]["delivered_per_wall_s"]
    step("bare py-evm")
    results["raw_tx_per_s"] = round(raw_send_rate(500 if quick else 2_000), 1)
    results["msg_to_raw_ratio"] = round(results["msgs_per_s"] / results["raw_tx_per_s"], 3)

    step("scaling")
    small, large = (100, 1_000) if quick else (1_000, 10_000)
    rate = 5.0  # requests per second; each makes a request and a response message
    runs = {}
    for messages in (small, large):
        runs[messages] = _run("baseline", {"workload.rate_per_s": rate, "duration_s": messages / (2 * rate),
                                           "drain_s": 600})
    results["scaling_messages"] = [runs[small]["messages"]["sent"], runs[large]["messages"]["sent"]]
    results["scaling_10x"] = round(runs[large]["wall"]["run_s"] / runs[small]["wall"]["run_s"], 2)
    results["peak_rss_mb"] = runs[large]["wall"]["peak_rss_mb"]

    step("baseline on Anvil")
    anvil = _run("baseline", {"duration_s": duration}, rpc=True)
    results["anvil_msgs_per_s"] = anvil["wall"]["delivered_per_wall_s"]
    results["anvil_ratio"] = round(results["anvil_msgs_per_s"] / results["msgs_per_s"], 2)

    step("gas per delivered message")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import gas_bench

    results["gas_per_delivered_message"] = [
        {k: row[k] for k in ("verifier", "batch", "deliver")}
        for row in (gas_bench.measure(v, n, "request") for v in ("committee", "checkpoint") for n in (1, 16, 64))]
    results["targets"] = {
        "seed_speedup>=10": results["seed_speedup"] >= 10,
        "msg_to_raw_ratio>=0.5": results["msg_to_raw_ratio"] >= 0.5,
        "scaling_10x<=11": results["scaling_10x"] <= 11,
        "peak_rss_mb<=1024": results["peak_rss_mb"] <= 1024,
        "checkpoint_64<=60000": next(r["deliver"] for r in results["gas_per_delivered_message"]
                                     if r["verifier"] == "checkpoint" and r["batch"] == 64) <= 60_000,
    }
    results["quick"] = quick
    load("baseline")  # the scenario the figures come from, validated
    return results
