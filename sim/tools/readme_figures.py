"""The README's figures that commands print: each block between `<!-- generated: NAME -->` and
`<!-- end of NAME -->` is what its command gives today. `python -m sim.tools.readme_figures` rewrites
them; `--check` (and the test suite) fails while one differs."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from registry.paths import ROOT

from .bench_table import bench_table

README = ROOT / "README.md"
EXCHANGE = ["--requester", "Beijing healthcare pilot 05", "--provider", "Chengdu healthcare pilot 03",
            "--sector", "healthcare"]


def _command(*args: str) -> str:
    """What `args` prints to a pipe (so 120 columns wide), run as a user would."""
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, check=False, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def exchange_transcript() -> str:
    shown = " ".join(f'"{a}"' if " " in a else a for a in EXCHANGE)
    return f"```text\n$ pilotsim exchange {shown}\n{_command('-m', 'sim.cli', 'exchange', *EXCHANGE)}```\n"


def gas_table() -> str:
    from .gas_bench import measure

    lines = ["| recipient | verifier | batch | send | deliver | acknowledge |", "|---|---|---:|---:|---:|---:|"]
    for recipient in ("request", "counter"):
        for verifier in ("committee", "checkpoint", "light-client"):
            for batch in (1, 16, 64):
                r = measure(verifier, batch, recipient)
                lines.append(f"| {recipient} | {verifier} | {batch} | {r['send']:,} | {r['deliver']:,} | "
                             f"{r['acknowledge']:,} |")
    return "\n".join(lines) + "\n"


def steps_table() -> str:
    """EVM steps per message (sim.tools.evm_profile, checkpoint verifier), in its own process: it instruments py-evm."""
    rows = json.loads(_command("-m", "sim.tools.evm_profile", "--json"))["rows"]
    lines = ["| batch | send | delivery (verification, gateway, handler) | acknowledgement | (delivery + ack) / send |",
             "|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['batch']} | {r['send_steps']:,} | {r['deliver_steps']:,} | {r['acknowledge_steps']:,} | "
              f"{r['machinery_to_send']:.2f} |" for r in rows if r["verifier"] == "checkpoint"]
    return "\n".join(lines) + "\n"


def ack_wait_effect() -> str:
    """What waiting 10 s to batch acknowledgements saves over 120 s of the baseline (revm, deterministic)."""
    reports = []
    for wait in (0, 10):
        with tempfile.TemporaryDirectory() as folder:
            reports.append(json.loads(_command(
                "-m", "sim.cli", "run", "baseline", "--quiet", "--json", "--backend", "revm", "--out",
                str(Path(folder) / "o"), "--set", "duration_s=120", "--set", f"relayers.ack_wait_s={wait}")))
    now, waited = reports
    fewer = 1 - waited["relayers"]["delivery_transactions"] / now["relayers"]["delivery_transactions"]
    less_gas = 1 - waited["gas"]["per_message"] / now["gas"]["per_message"]
    return f"{fewer:.0%} fewer deliveries, {less_gas:.0%} less gas per message"


def security_matrix() -> str:
    from ..experiment.security import readme_matrix

    return readme_matrix()


BLOCKS: dict[str, Callable[[], str]] = {"exchange transcript": exchange_transcript, "gas table": gas_table,
                                        "EVM steps table": steps_table, "acknowledgement wait": ack_wait_effect,
                                        "bench table": bench_table, "security matrix": security_matrix}


def span(text: str, name: str) -> tuple[int, int]:
    """Where block `name`'s content lies in `text`."""
    start = re.search(rf"<!-- generated: {re.escape(name)} -->\n?", text)  # a block, or words inside a line
    end = text.find(f"<!-- end of {name} -->")
    if start is None or end < start.end():
        raise ValueError(f"README.md has no generated block {name!r}")
    return start.end(), end


def stale(text: str, names: list[str]) -> dict[str, tuple[str, str]]:
    """The blocks whose content is not what their command gives: name -> (in the README, fresh)."""
    found = {}
    for name in names:
        start, end = span(text, name)
        fresh = BLOCKS[name]()
        if text[start:end] != fresh:
            found[name] = (text[start:end], fresh)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail while a block differs, change nothing")
    parser.add_argument("names", nargs="*", default=list(BLOCKS), help=f"blocks (default all: {', '.join(BLOCKS)})")
    args = parser.parse_args()
    text = README.read_text()
    differing = stale(text, args.names)
    for name, (_, fresh) in differing.items():
        if args.check:
            print(f"README.md: the {name} differs from a fresh run (python -m sim.tools.readme_figures)")
            continue
        start, end = span(text, name)
        text = text[:start] + fresh + text[end:]
        print(f"README.md: {name} rewritten")
    if not args.check:
        README.write_text(text)
    sys.exit(1 if differing and args.check else 0)


if __name__ == "__main__":
    main()
