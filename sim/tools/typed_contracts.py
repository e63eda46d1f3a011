"""Writes sim/bridge/contracts.py: a typed class per contract the simulator drives, generated from the ABIs in the
artifacts (a method per function: views return their values, the others an unsent `Tx`, named with `_tx`;
constants are read from artifacts/constants.json instead).
`python -m sim.tools.typed_contracts` rewrites it; `--check` (and the test suite) fails while it differs."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from typing import Any

from registry.evm.artifacts import load_artifact
from registry.paths import ROOT

TARGET = ROOT / "sim" / "bridge" / "contracts.py"
CONTRACTS = ("Gateway", "CommitteeVerifier", "CheckpointVerifier", "DataExchange", "RegistryMirror",
             "RegistryBroadcaster", "TestRecipient")
RESERVED = {"chain_id"}  # views a subclass already answers (GatewayClient.chain_id is its chain's)
KEYWORDS = {"from", "in", "is", "type", "id"}


def snake(name: str) -> str:
    if name.isupper():
        return name.lower()
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def argument(name: str, index: int) -> str:
    name = snake(name) if name else f"arg{index}"
    return name + "_" if name in KEYWORDS else name


def _field(name: str) -> str:
    return name + "_" if name in ("count", "index") else name  # a tuple's own methods


def python_type(param: Mapping[str, Any]) -> str:
    abi = str(param["type"])
    if abi.endswith("]"):
        inner = dict(param, type=abi[: abi.rindex("[")])
        return f"Sequence[{python_type(inner)}]"
    if abi.startswith(("uint", "int")):
        return "int"
    if abi in ("address", "string"):
        return "str"
    if abi == "bool":
        return "bool"
    if abi.startswith("bytes"):
        return "bytes"
    return "Any"  # a struct: decoded as a dict of its fields


def result_class(contract: str, function: str) -> str:
    return f"{contract}{function[0].upper()}{function[1:]}"


def render() -> str:
    out = ['"""Typed access to the contracts the simulator drives, one class per contract: GENERATED from the ABIs',
           'by `python -m sim.tools.typed_contracts` (do not edit; the test suite checks it is current). Views return',
           'their values (several outputs: a named tuple); every other function gives an unsent `Tx` (`…_tx`)."""',
           "", "from __future__ import annotations", "", "from collections.abc import Sequence",
           "from typing import Any, NamedTuple", "", "from registry.defaults import DEFAULT_GAS",
           "from registry.evm import Account, Chain, Contract, Tx"]
    for contract in CONTRACTS:
        abi = load_artifact(contract).abi
        results: list[str] = []
        methods: list[str] = []
        for name in sorted(abi.functions):
            fn = abi.functions[name]
            method = snake(name) + ("_tx" if fn.mutates else "")
            if method in RESERVED or (name.isupper() and not fn.inputs):
                continue  # a constant's getter: Python reads constants from artifacts/constants.json
            params = [(argument(str(p["name"]), i), python_type(p)) for i, p in enumerate(fn.inputs)]
            signature = ", ".join(f"{n}: {t}" for n, t in params)
            call_args = "".join(f", {n}" for n, _ in params)
            if fn.mutates:
                head = f"    def {method}(self{', ' + signature if signature else ''}, *, by: Account, " \
                       "gas: int = DEFAULT_GAS) -> Tx:"
                body = f'        return self.tx("{name}"{call_args}, by=by, gas=gas)'
            elif len(fn.outputs) > 1:
                result = result_class(contract, name)
                fields = [(_field(argument(str(p["name"]), i)), python_type(p)) for i, p in enumerate(fn.outputs)]
                results += ["", "", f"class {result}(NamedTuple):"] + [f"    {n}: {t}" for n, t in fields]
                head = f"    def {method}(self{', ' + signature if signature else ''}, *, " \
                       f"block: int | None = None) -> {result}:"
                body = f'        return {result}(*self.view("{name}"{call_args}, block=block).values())'
            else:
                returns = python_type(fn.outputs[0]) if fn.outputs else "None"
                head = f"    def {method}(self{', ' + signature if signature else ''}, *, " \
                       f"block: int | None = None) -> {returns}:"
                body = f'        return self.view("{name}"{call_args}, block=block)  # type: ignore[no-any-return]'
                if returns in ("Any", "None"):
                    body = body.removesuffix("  # type: ignore[no-any-return]")
            methods += ["", _wrap(head), _wrap(body)]
        out += results
        out += ["", "", f"class {contract}(Contract):",
                f'    """{contract}, typed (`artifact`: a build of the same interface, e.g. a flawed one)."""', "",
                f'    def __init__(self, chain: Chain, address: str, artifact: str = "{contract}") -> None:',
                "        super().__init__(chain, address, artifact)", *methods]
    return "\n".join(out) + "\n"


def _wrap(line: str, width: int = 120) -> str:
    """A line too long for the house width, broken after the last commas that fit."""
    indent = " " * (line.index("(") + 1)
    lines = []
    while len(line) > width:
        cut = line.rindex(", ", 0, width) + 1
        lines.append(line[:cut])
        line = indent + line[cut + 1:]
    return "\n".join([*lines, line])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail while the module differs, change nothing")
    args = parser.parse_args()
    fresh = render()
    if args.check:
        if TARGET.read_text() != fresh:
            print(f"{TARGET.relative_to(ROOT)} differs from the ABIs (python -m sim.tools.typed_contracts)")
            sys.exit(1)
        return
    TARGET.write_text(fresh)
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
