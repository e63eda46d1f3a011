"""EVM steps per cross-chain message: what py-evm executes for a send, a delivery and an acknowledgement.

py-evm spends its time per opcode executed, not per unit of gas (a cold SSTORE costs 20,000 gas but
a few microseconds; a Merkle proof costs little gas but hundreds of steps). This counts the opcodes
each transaction executes (nested calls included) and its wall time in py-evm's `apply_transaction`,
in the same setting as sim.tools.gas_bench (Beijing asks Chengdu for data through DataExchange,
3-of-4 committees), by verifier and batch size, per message.

It explains `msg_to_raw_ratio` in `pilotsim bench`: a delivered message costs its send plus its share
of a delivery and of an acknowledgement; the ratio can reach 0.5 only where those shares together
cost no more than the send.

Run: python -m sim.tools.evm_profile [--json] [--sizes 1,16,64]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from eth.vm.base import VM
from eth.vm.forks.prague.computation import PragueComputation

from registry.evm.artifacts import load_artifact

from . import gas_bench

SELECTORS = {
    load_artifact("DataExchange").abi.function("request").selector: "send",
    load_artifact("Gateway").abi.function("deliver").selector: "deliver",
}


class _CountingOpcodes(dict):  # type: ignore[type-arg]
    """py-evm looks every executed opcode up in this table: counting lookups counts steps."""

    steps = 0

    def __getitem__(self, opcode: int) -> Any:
        _CountingOpcodes.steps += 1
        return dict.__getitem__(self, opcode)


def _instrument() -> list[tuple[str, int, float]]:
    """Count steps and time of every transaction py-evm applies from now on: (kind, steps, seconds)."""
    PragueComputation.opcodes = _CountingOpcodes(PragueComputation.opcodes)
    seen: list[tuple[str, int, float]] = []
    apply = VM.apply_transaction

    def counted(self: VM, header: Any, tx: Any) -> Any:
        steps, started = _CountingOpcodes.steps, time.perf_counter()
        result = apply(self, header, tx)
        seen.append((SELECTORS.get(bytes(tx.data[:4]), "other"), _CountingOpcodes.steps - steps,
                     time.perf_counter() - started))
        return result

    VM.apply_transaction = counted  # type: ignore[method-assign,assignment]
    return seen


def measure(seen: list[tuple[str, int, float]], verifier: str, size: int) -> dict[str, Any]:
    gas_bench.measure(verifier, size, "request")  # warm caches (artifacts, keys) outside the figures
    seen.clear()
    gas_bench.measure(verifier, size, "request")
    sends = [s for s in seen if s[0] == "send"]
    forward, back = [s for s in seen if s[0] == "deliver"][-2:]  # the batch, then its acknowledgement
    row: dict[str, Any] = {"verifier": verifier, "batch": size}
    for name, share in (("send", sends), ("deliver", [forward]), ("acknowledge", [back])):
        row[f"{name}_steps"] = round(sum(s[1] for s in share) / size)
        row[f"{name}_ms"] = round(1000 * sum(s[2] for s in share) / size, 2)
    row["machinery_to_send"] = round((row["deliver_steps"] + row["acknowledge_steps"]) / row["send_steps"], 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sizes", default="1,16,64", help="batch sizes, comma separated")
    args = parser.parse_args()
    seen = _instrument()
    rows = [measure(seen, v, int(n)) for v in ("checkpoint", "committee") for n in args.sizes.split(",")]
    if args.json:
        print(json.dumps({"rows": rows}))
        return
    print("EVM steps (opcodes executed) and py-evm milliseconds per message, DataExchange request, 3-of-4")
    print(f"{'verifier':11} {'batch':>5} {'send':>13} {'deliver':>13} {'acknowledge':>13} {'(deliver+ack)/send':>19}")
    for r in rows:
        cells = [f"{r[f'{k}_steps']:6,} {r[f'{k}_ms']:5.1f}ms" for k in ("send", "deliver", "acknowledge")]
        print(f"{r['verifier']:11} {r['batch']:5d} {cells[0]:>13} {cells[1]:>13} {cells[2]:>13} "
              f"{r['machinery_to_send']:19.2f}")


if __name__ == "__main__":
    main()
