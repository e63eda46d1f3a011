"""Gas per cross-chain message: send, deliver and acknowledge, by verifier and batch size.

A 3-chain network (hub, Beijing, Chengdu; mesh) with 3-of-4 committees. For each verifier
(`committee`: signatures per message; `checkpoint`: one signed Merkle root per batch; `light-client`: the
source's headers, signed by its own validators, and a receipt proof per message, header transactions
included) and batch size, Beijing sends N messages to a recipient on Chengdu, one relayer batch delivers them, and one
acknowledgement (one message carrying N outcomes) returns. Figures are gas per message, each
transaction's 21,000 base included, the recipient's handler included.

Recipients: `counter` (TestRecipient: counts per message id, emits the payload) and `request` (the
DataExchange handling a data request: registry-mirror and policy checks, the request stored).

Run: python -m sim.tools.gas_bench [--json] [--sizes 1,16,64]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from eth_utils import keccak

from registry import Contract
from registry.seeds import load_seed_data

from ..bridge import contracts
from ..bridge.cache import NetworkCache
from ..bridge.exchange import REQUEST_GAS
from ..bridge.provision import build_network
from ..bridge.relayer import Relayer
from ..bridge.topology import NetworkConfig

ANCHOR = 166_000  # Hyperlane Mailbox delivery with a 3-of-4 message-id multisig ISM, per message
TARGET = 60_000  # checkpoint at batch 64, per delivered message, handler included
LIGHT_CLIENT_TARGET = 120_000  # light client at batch 64, its headers included


def measure(verifier: str, size: int, recipient: str) -> dict[str, Any]:
    config = NetworkConfig(verifier=verifier, committee_size=4, threshold=3)
    data = load_seed_data().only_zones(["Beijing", "Chengdu"])
    with build_network(config, data=data, cache=NetworkCache.default()) as net:
        beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
        relayer = Relayer(net, batch_size=size)
        relayer.run_until_idle()  # nothing pending before measuring
        first = len(relayer.deliveries)
        if recipient == "counter":
            created = Contract.create(beijing.chain, "TestRecipient", beijing.gateway.address,
                                      by=beijing.chain.accounts[0])
            sender = contracts.TestRecipient(beijing.chain, created.address)
            target = Contract.create(chengdu.chain, "TestRecipient", chengdu.gateway.address,
                                     by=chengdu.chain.accounts[0])
            # an application of governance's, with its own destination-gas quota (strangers share one)
            beijing.gateway.send([beijing.gateway.set_gas_quota_tx([chengdu.chain_id], sender.address, 10**12, 10**9,
                                                                   by=net.admin(beijing.chain_id), gas=200_000)])
            txs = [sender.send_tx(chengdu.chain_id, target.address, keccak(i.to_bytes(4, "big")), 3600,
                                  by=beijing.chain.accounts[40 + i % 100], gas=300_000) for i in range(size)]
        else:
            requester, _ = net.entity("Beijing healthcare pilot 05")
            provider, _ = net.entity("Chengdu healthcare pilot 03")
            roles = net.registry.roles
            healthcare = net.data.sector_id("healthcare")
            txs = [beijing.data_exchange.request_tx(requester, provider, chengdu.chain_id, healthcare,
                                                    keccak(i.to_bytes(4, "big")), 3600, by=roles.entity(requester),
                                                    gas=REQUEST_GAS)
                   for i in range(size)]
        send_receipts = beijing.chain.send(txs)
        assert all(r.status for r in send_receipts)
        relayer.run_until_idle()
        deliveries = relayer.deliveries[first:]
        forward = [d for d in deliveries if d.dst == chengdu.chain_id]
        back = [d for d in deliveries if d.dst == beijing.chain_id]
        assert sum(d.processed for d in forward) == size and len(forward) == 1, forward
        assert len(back) == 1, back
        # a light client's headers go in the delivery's block, just before it: its cost too
        with_headers = verifier == "light-client"
        deliver = chengdu.chain.block(forward[0].block_number).gas_used if with_headers else forward[0].gas_used
        acknowledge = beijing.chain.block(back[0].block_number).gas_used if with_headers else back[0].gas_used
        return {
            "verifier": verifier, "batch": size, "recipient": recipient,
            "send": round(sum(r.gas_used for r in send_receipts) / size),
            "deliver": round(deliver / size),
            "acknowledge": round(acknowledge / size),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sizes", default="1,16,64", help="batch sizes, comma separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = [measure(v, n, r) for r in ("counter", "request") for v in ("committee", "checkpoint") for n in sizes]
    at64 = {(r["verifier"], r["recipient"]): r["deliver"] for r in rows if r["batch"] == max(sizes)}
    summary = {"rows": rows, "anchor_hyperlane_3of4": ANCHOR, "target_checkpoint_64": TARGET,
               "checkpoint_vs_committee": {rec: round(at64[("checkpoint", rec)] / at64[("committee", rec)], 3)
                                           for rec in ("counter", "request")}}
    if args.json:
        print(json.dumps(summary))
        return
    print(f"gas per message, 3-of-4 committees (anchor: Hyperlane 3-of-4 multisig delivery ≈ {ANCHOR:,})")
    print(f"{'recipient':10} {'verifier':11} {'batch':>5} {'send':>9} {'deliver':>9} {'acknowledge':>12}")
    for r in rows:
        print(f"{r['recipient']:10} {r['verifier']:11} {r['batch']:5d} {r['send']:9,} {r['deliver']:9,} "
              f"{r['acknowledge']:12,}")
    for rec in ("counter", "request"):
        cp, cm = at64[("checkpoint", rec)], at64[("committee", rec)]
        verdict = "meets" if cp <= TARGET else "misses"
        print(f"{rec}: checkpoint at batch {max(sizes)} delivers for {cp:,} gas/message vs committee {cm:,} "
              f"({cp / cm:.2f}x); {verdict} the {TARGET:,} target")


if __name__ == "__main__":
    main()
