"""Writes sim/bridge/contracts.py: a typed class per contract the simulator drives, generated from the ABIs in the
artifacts (a method per function: views return their values, the others an unsent `Tx`, named with `_tx`;
constants are read from artifacts/constants.json instead).
`python -m sim.tools.typed_contracts` rewrites it; `--check` (and the test suite) fails while it differs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from registry.evm.abi import Function, snake_case
from registry.evm.artifacts import load_artifact
from registry.paths import ROOT

TARGET = ROOT / "sim" / "bridge" / "contracts.py"
CONTRACTS = ("Gateway", "CommitteeVerifier", "CheckpointVerifier", "LightClientVerifier", "OptimisticVerifier",
             "DataExchange", "RegistryMirror", "RegistryBroadcaster", "TestRecipient", "AtomicCoordinator",
             "AtomicParticipant")
RESERVED = {"chain_id"}  # views a subclass already answers (GatewayClient.chain_id is its chain's)
KEYWORDS = {"from", "in", "is", "type", "id"}


def argument(name: str, index: int) -> str:
    name = snake_case(name) if name else f"arg{index}"
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


OWNABLE = ("acceptOwnership", "owner", "pendingOwner", "renounceOwnership", "transferOwnership")  # Ownable2Step's
HEADER = ['"""Typed access to the contracts the simulator drives, one class per contract: GENERATED from the ABIs',
          'by `python -m sim.tools.typed_contracts` (do not edit; the test suite checks it is current). Views return',
          'their values (several outputs: a named tuple); every other function gives an unsent `Tx` (`…_tx`)."""',
          "", "from __future__ import annotations", "", "from collections.abc import Sequence",
          "from typing import Any, NamedTuple", "", "from registry.defaults import DEFAULT_GAS",
          "from registry.evm import Account, Chain, Contract, Tx"]


# interfaces several contracts share: (class, its functions, an artifact that has them, what it is)
SHARED = [("Ownable2Step", OWNABLE, "Gateway", "OpenZeppelin's two-step ownership"),
          ("MessageRecipient", ("handleMessage", "handleOutcome"), "RegistryMirror",
           "IMessageRecipient: what a gateway calls")]


def render() -> str:
    out = list(HEADER)
    for name, names, artifact, what in SHARED:
        abi = load_artifact(artifact).abi
        out += _class(name, "Contract", artifact, {f: abi.functions[f] for f in names}, what)
    generated: dict[str, str] = {}  # a contract's functions (as the ABI lists them) -> the class generated for them
    for contract in CONTRACTS:
        functions = load_artifact(contract).abi.functions
        key = repr(sorted(functions.items()))
        if key in generated:  # the same interface (both verifiers implement IVerifier on ValidatorSets)
            out += _class(contract, generated[key], contract, {}, f"the same functions as {generated[key]}")
            continue
        generated[key] = contract
        shared = [(name, names) for name, names, _, _ in SHARED if set(names) <= set(functions)]
        inherited = {f for _, interface in shared for f in interface}
        out += _class(contract, ", ".join(name for name, _ in shared) or "Contract", contract,
                      {f: fn for f, fn in functions.items() if f not in inherited},
                      "typed (`artifact`: a build of the same interface, e.g. a flawed one)")
    return "\n".join(out) + "\n"


def _class(name: str, base: str, artifact: str, functions: Mapping[str, Function], what: str) -> list[str]:
    """A class of `functions`' methods, preceded by the named tuples its views return."""
    results: list[str] = []
    methods: list[str] = []
    for function in sorted(functions):
        result, method = _method(name, functions[function])
        results += result
        methods += method
    return [*results, "", "", f"class {name}({base}):", f'    """{name}: {what}."""', "",
            f'    def __init__(self, chain: Chain, address: str, artifact: str = "{artifact}") -> None:',
            "        super().__init__(chain, address, artifact)", *methods]


def _method(contract: str, fn: Function) -> tuple[list[str], list[str]]:
    """The named tuple a view of several outputs returns (if any) and the method's lines."""
    method = snake_case(fn.name) + ("_tx" if fn.mutates else "")
    if method in RESERVED or (fn.name.isupper() and not fn.inputs):
        return [], []  # a constant's getter: Python reads constants from artifacts/constants.json
    params = [(argument(str(p["name"]), i), python_type(p)) for i, p in enumerate(fn.inputs)]
    signature = "".join(f", {n}: {t}" for n, t in params)
    call = f'"{fn.name}"' + "".join(f", {n}" for n, _ in params)
    if fn.mutates:
        return [], ["", _wrap(f"    def {method}(self{signature}, *, by: Account, gas: int = DEFAULT_GAS) -> Tx:"),
                    _wrap(f"        return self.tx({call}, by=by, gas=gas)")]
    if len(fn.outputs) > 1:
        result = result_class(contract, fn.name)
        fields = [(_field(argument(str(p["name"]), i)), python_type(p)) for i, p in enumerate(fn.outputs)]
        return (["", "", f"class {result}(NamedTuple):", *[f"    {n}: {t}" for n, t in fields]],
                ["", _wrap(f"    def {method}(self{signature}, *, block: int | None = None) -> {result}:"),
                 _wrap(f"        return {result}(*self.view({call}, block=block).values())")])
    returns = python_type(fn.outputs[0]) if fn.outputs else "None"
    unchecked = "" if returns in ("Any", "None") else "  # type: ignore[no-any-return]"
    return [], ["", _wrap(f"    def {method}(self{signature}, *, block: int | None = None) -> {returns}:"),
                _wrap(f"        return self.view({call}, block=block){unchecked}")]


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
