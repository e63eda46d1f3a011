"""Committed artifacts match their Solidity sources: hashes always, bytecode by recompiling."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from registry.evm.artifacts import artifact_names, load_artifact, stale_sources
from registry.paths import ARTIFACTS_DIR, CONTRACTS_DIR, NODE_MODULES


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
