"""Mutation tests of the atomic-transaction contracts: each check in `contract_mutations.json` removed or inverted in
turn, the contracts recompiled, and the tests that guard them run; a mutation no test catches is a rule no test
holds. The sources and artifacts are put back after each one, whatever happens.

Run from a checkout (it edits contracts/src and needs node, the npm compiler and pytest):
    python -m sim.tools.contract_mutations [NAME-FRAGMENT …]
It prints one line per mutation (caught, by which test; or NOT CAUGHT) and exits 1 if any was not caught, except the
ones the table marks equivalent (the contract behaves the same without the check).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from registry.paths import ROOT

TABLE = Path(__file__).with_name("contract_mutations.json")
TESTS = ["tests/test_atomic_contracts.py", "tests/test_transactions.py"]
EQUIVALENT = {"2pc commit write (tcc double)"}  # TCC's commit writes the value its try already wrote


@dataclass(frozen=True)
class Mutation:
    contract: str  # the file under contracts/src, without .sol
    name: str
    check: str  # the source text of the check
    mutant: str  # what replaces it

    @property
    def path(self) -> Path:
        return ROOT / "contracts" / "src" / f"{self.contract}.sol"


def mutations() -> list[Mutation]:
    return [Mutation(**row) for row in json.loads(TABLE.read_text())]


def _compile() -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", "compile.js"], cwd=ROOT / "contracts", capture_output=True, text=True, check=False)


def run(mutation: Mutation) -> str:
    """What the tests made of `mutation`: "caught: TEST", "NOT CAUGHT", or why it could not be tried."""
    source = mutation.path.read_text()
    if source.count(mutation.check) != 1:
        return f"the check is not in {mutation.contract}.sol once"
    mutation.path.write_text(source.replace(mutation.check, mutation.mutant))
    try:
        built = _compile()
        if built.returncode:
            return "does not compile: " + built.stderr.strip().splitlines()[-1]
        tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS],
                                cwd=ROOT, capture_output=True, text=True, check=False)
        failed = [line[len("FAILED "):] for line in tested.stdout.splitlines() if line.startswith("FAILED ")]
        return f"caught: {failed[0] if failed else 'the tests failed'}" if tested.returncode else "NOT CAUGHT"
    finally:
        mutation.path.write_text(source)


def main(fragments: list[str]) -> int:
    if not TABLE.exists() or not (ROOT / "contracts" / "compile.js").exists():
        print("contract_mutations: run it from a checkout (it edits contracts/src and recompiles)", file=sys.stderr)
        return 2
    chosen = [m for m in mutations() if not fragments or any(f in m.name for f in fragments)]
    missed = []
    try:
        for mutation in chosen:
            found = run(mutation)
            print(f"{mutation.contract}: {mutation.name}: {found}", flush=True)
            if not found.startswith("caught") and mutation.name not in EQUIVALENT:
                missed.append(mutation.name)
    finally:
        _compile()  # the artifacts of the sources as they are
    print(f"{len(chosen) - len(missed)} of {len(chosen)} caught or equivalent" + (f"; missed: {missed}" if missed
                                                                                   else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
