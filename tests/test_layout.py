"""The house rules of the code: one layer per folder, every import pointing down, no cycles (imports
inside functions included), small modules, and pytest only where the test plugin needs it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from registry.paths import ROOT

PACKAGES = ("registry", "sim")
MAX_LINES = 350
# Lower layers first; a module may import its own layer and those below, never above.
LAYERS = [
    ("registry.defaults", "registry.errors", "registry.lazy", "registry.paths", "registry.progress", "sim"),
    ("registry.evm",),
    ("registry.models", "registry.labels", "registry.seeds", "registry.naming", "registry.seeding", "registry.roles",
     "registry.events", "registry.client"),
    ("registry", "registry.pytest_plugin"),
    ("sim.bridge",),
    ("sim.engine",),
    ("sim.results",),
    ("sim.experiment",),
    ("sim.tools",),
    ("sim.cli",),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def layer(module: str) -> int:
    """The index of the most specific entry of LAYERS that names `module` or a package above it."""
    best, rank = -1, -1
    for index, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, rank = len(name), index
    assert rank >= 0, f"{module} is in no layer of LAYERS"
    return rank


def imports(module: str) -> set[str]:
    """The project modules `module` imports, anywhere in it (inside functions too)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name in MODULES} - {module}


GRAPH = {module: imports(module) for module in MODULES}


def test_every_import_points_down_or_sideways() -> None:
    upward = [f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets if layer(b) > layer(a)]
    assert not upward, upward


def test_the_registry_imports_nothing_of_the_simulator() -> None:
    assert not [f"{a} -> {b}" for a, targets in GRAPH.items() if a.startswith("registry")
                for b in targets if b.startswith("sim")]


def test_results_read_records_only() -> None:
    """The report is made from what the run recorded: results import nothing of the bridge, nor the
    simulation that runs it, and the records carry no live handle on the run (a network, a watch)."""
    assert not [f"{a} -> {b}" for a, targets in GRAPH.items() if a.startswith("sim.results")
                for b in targets if b.startswith(("sim.bridge", "sim.engine.simulation", "sim.experiment"))]
    from sim.engine.living_registry import RegistryRecords
    from sim.engine.recorder import RunRecords

    live = ("Network", "RegistryWatch", "Watcher", "Simulation", "Workload", "Relayer", "ChainDriver")
    for records in (RunRecords, RegistryRecords):
        for name, annotation in records.__annotations__.items():
            named = set(re.findall(r"\w+", str(annotation)))
            assert not named & set(live), f"{records.__name__}.{name}: {annotation}"


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components: any with more than one module is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert not cycles, cycles


def test_modules_are_small_and_sim_is_made_of_packages() -> None:
    """Generated modules (sim.bridge.contracts: a method per ABI function) are exempt: one job, however long."""
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_LINES
            and "GENERATED" not in (ast.get_docstring(ast.parse(path.read_text())) or "")}
    assert not long, long
    assert sorted(p.name for p in (ROOT / "sim").glob("*.py")) == ["__init__.py"]


def test_only_the_test_plugin_imports_test_tools() -> None:
    offenders = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                 for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])}
        if names & {"pytest", "hypothesis", "_pytest"} and module != "registry.pytest_plugin":
            offenders.append(module)
    assert not offenders, offenders
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in dependencies if d.startswith(("pytest", "hypothesis"))]


@pytest.mark.parametrize("module", ["sim.cli", "sim.cli.app", "sim.experiment.sweep", "registry"])
def test_importing_the_program_does_not_load_pytest(module: str) -> None:
    check = f"import {module}, sys; assert 'pytest' not in sys.modules, 'pytest was imported'"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr


HEAVY = ("web3", "eth_account", "eth", "pyrevm", "numpy", "matplotlib", "py_ecc", "simpy", "sim.bridge", "sim.engine",
         "sim.results", "sim.experiment", "registry.evm")


def test_the_cli_loads_a_commands_modules_only_when_the_command_runs() -> None:
    """`pilotsim --help` (and typer's completion) imports the CLI alone: no chain, EVM, plotting or simulation
    module (they took 1.6 s of a 2 s `pilotsim --help`)."""
    check = ("import sim.cli.app, sys; print(sorted({m for m in sys.modules for h in " + repr(HEAVY) +
             " if m == h or m.startswith(h + '.')}))")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]", done.stdout


WORD_SHIFT = re.compile(r"(<<|>>)\s*(224|56|48)\b")  # EntityWord's tag, zone and status positions


def test_the_entity_word_layout_is_written_once() -> None:
    """The mirror's word layout lives in EntityWord.sol; Solidity uses the library, Python its constants
    (artifacts/constants.json): a hand-written shift elsewhere is a copy that can drift."""
    sources = [*(ROOT / "contracts" / "src").glob("*.sol"), *MODULES.values()]
    copies = [f"{path.relative_to(ROOT)}:{n}" for path in sources if path.name != "EntityWord.sol"
              for n, line in enumerate(path.read_text().splitlines(), 1) if WORD_SHIFT.search(line)]
    assert not copies, copies


# Where a contract's arguments, outputs and events are read by name: everywhere else uses typed records
# (registry.evm.events, sim.bridge.events, sim.bridge.contracts, registry.models).
DECODING = {"registry.evm.abi", "registry.evm.events", "registry.evm.rpc", "registry.evm.artifacts", "registry.models",
            "registry.errors", "sim.bridge.events", "sim.bridge.messages", "sim.bridge.contracts",
            "sim.tools.seed_bench"}  # seed_bench: web3's own receipts, the baseline it measures against
ABI_NAME = re.compile(r"^[a-z]+[A-Z]\w*$")  # camelCase: a Solidity argument, output or field


def test_contract_data_is_read_by_name_only_in_the_decoding_layer() -> None:
    """No `event["entityId"]` nor `event.name == "Sent"` outside the decoding layer: a renamed argument or event
    breaks there (and the ABI checks), not silently in a consumer."""
    found = []
    for module, path in MODULES.items():
        if module in DECODING:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
                    isinstance(node.slice.value, str) and ABI_NAME.match(node.slice.value):
                found.append(f"{module}:{node.lineno} [{node.slice.value!r}]")
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "name":
                names = [c for comparator in node.comparators
                         for c in (comparator.elts if isinstance(comparator, ast.Tuple | ast.List | ast.Set)
                                   else [comparator])]
                if any(isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value[:1].isupper()
                       for c in names):
                    found.append(f"{module}:{node.lineno} .name compared with a contract's name for something")
    assert not found, found
