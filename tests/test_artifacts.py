"""Committed artifacts match their Solidity sources: hashes always, bytecode by recompiling."""

from __future__ import annotations

import json
import shutil
import subprocess
from enum import IntEnum
from pathlib import Path

import pyrevm
import pytest

from registry.errors import ArtifactError
from registry.evm.artifacts import (
    CONSTANTS_FILE,
    artifact_names,
    check_mirror,
    contract_constants,
    contract_enum,
    load_artifact,
    stale_sources,
)
from registry.models import EntityStatus, PilotStatus
from registry.paths import ARTIFACTS_DIR, CONTRACTS_DIR, NODE_MODULES
from sim.bridge.messages import Outcome


def test_every_source_hash_matches_its_artifact() -> None:
    assert {"PilotRegistry", "Probe", "Gateway", "CommitteeVerifier", "CheckpointVerifier", "DataExchange",
            "RegistryMirror"} <= set(artifact_names())
    assert stale_sources() == [], "sources changed since the artifacts were built: npm --prefix contracts run compile"


def test_a_changed_source_is_detected(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    shutil.copytree(CONTRACTS_DIR / "src", sources)
    (sources / "Probe.sol").write_text((sources / "Probe.sol").read_text() + "\n// edited\n")
    assert stale_sources(ARTIFACTS_DIR, sources) == ["Probe.sol"]


def test_artifacts_record_compiler_and_settings() -> None:
    artifact = load_artifact("PilotRegistry")
    assert artifact.compiler_version.startswith("0.8.37")
    assert artifact.settings["evmVersion"] == "prague"
    assert artifact.settings["optimizer"]["enabled"] is True
    assert len(artifact.deployed_bytecode) < 24_576, "over the EIP-170 contract size limit"


@pytest.mark.compile
def test_recompiling_gives_the_committed_bytecode_byte_for_byte(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node is required to recompile the contracts"
    assert (NODE_MODULES / "solc").exists(), "run `npm ci --prefix contracts` first"
    subprocess.run([node, str(CONTRACTS_DIR / "compile.js"), "--out", str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    for name in artifact_names():
        fresh = json.loads((tmp_path / f"{name}.json").read_text())
        committed = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
        assert fresh["bytecode"] == committed["bytecode"], name
        assert fresh["deployedBytecode"] == committed["deployedBytecode"], name
        assert fresh["abi"] == committed["abi"], name
        assert fresh["sources"] == committed["sources"], name
    assert (tmp_path / CONSTANTS_FILE).read_text() == (ARTIFACTS_DIR / CONSTANTS_FILE).read_text()


ABSTRACT = {"GatewayConfig": "Gateway", "ValidatorSets": "CommitteeVerifier",
            "ConsensusHeaders": "LightClientVerifier"}  # read through a contract built on it


def test_every_public_constant_read_from_the_sources_is_what_the_runtime_code_returns() -> None:
    """constants.json is evaluated from the sources' syntax trees: each public constant must equal what its
    getter returns from the runtime code on the EVM (a wrong evaluation of `30 days`, `(1 << 224) - 1` or an
    enum member fails). The code is installed as it is: constants need no constructor."""
    evm = pyrevm.EVM()
    owners = set(json.loads((ARTIFACTS_DIR / CONSTANTS_FILE).read_text())) & set(artifact_names())
    checked: dict[str, int] = {}
    for index, owner in enumerate(sorted(owners)):
        artifact = load_artifact(ABSTRACT.get(owner, owner))
        getters = {f.name for f in artifact.abi.functions.values() if not f.inputs and not f.mutates}
        public = {k: v for k, v in contract_constants(owner).items() if k in getters}
        if not public:
            continue
        assert artifact.deployed_bytecode, f"{owner} has no code: name a contract built on it in ABSTRACT"
        address = f"0x{0xC0DE0000 + index:040x}"  # clear of the precompiles
        evm.insert_account_info(address, pyrevm.AccountInfo(code=artifact.deployed_bytecode))
        for constant, value in public.items():
            fn = artifact.abi.function(constant)
            got = fn.decode(bytes(evm.message_call("0x" + "11" * 20, address, fn.encode(()))))
            assert (int(got, 16) if isinstance(got, str) else int(got)) == value, \
                f"{owner}.{constant}: {got} on the EVM, {value} in constants.json"
            checked[owner] = checked.get(owner, 0) + 1
    assert {"GatewayConfig", "DataExchange", "CheckpointVerifier", "TestRecipient", "RegistryBroadcaster"} <= \
        set(checked) and sum(checked.values()) >= 25, checked


class DriftedEntityStatus(IntEnum):
    NONE, PENDING, SUSPENDED, ACTIVE = range(4)


def test_python_enums_mirror_the_contracts_and_a_drift_is_refused() -> None:
    assert {m.name: int(m) for m in EntityStatus} == contract_enum("PilotRegistry", "EntityStatus")
    assert {m.name: int(m) for m in PilotStatus} == contract_enum("PilotRegistry", "PilotStatus")
    assert {m.name: int(m) for m in Outcome} == contract_constants("Outcome")
    with pytest.raises(ArtifactError, match="in Python but"):
        check_mirror(DriftedEntityStatus, contract_enum("PilotRegistry", "EntityStatus"))
