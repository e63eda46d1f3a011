"""Compiled contract artifacts (committed JSON) and the revert decoder built from all of them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import ArtifactError, ContractRevert
from ..paths import ARTIFACTS_DIR, SOURCES_DIR
from .abi import BUILTIN_ERRORS, ContractAbi, ErrorDef, snake_case

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: ContractAbi
    bytecode: bytes
    deployed_bytecode: bytes
    compiler_version: str
    settings: dict[str, Any]
    source_hashes: dict[str, str]
    path: Path
    immutable_ranges: tuple[tuple[int, int], ...] = ()

    def matches_runtime(self, code: bytes) -> bool:
        """Whether on-chain runtime `code` is this build, immutables (set at deploy) aside."""
        if len(code) != len(self.deployed_bytecode):
            return False
        masked = bytearray(code)
        for start, length in self.immutable_ranges:
            masked[start:start + length] = self.deployed_bytecode[start:start + length]
        return bytes(masked) == self.deployed_bytecode


@cache
def load_artifact(name: str, directory: Path = ARTIFACTS_DIR) -> Artifact:
    path = directory / f"{name}.json"
    try:
        raw = json.loads(path.read_text())
        return Artifact(
            name=raw["contractName"],
            abi=ContractAbi(raw["abi"]),
            bytecode=bytes.fromhex(raw["bytecode"].removeprefix("0x")),
            deployed_bytecode=bytes.fromhex(raw["deployedBytecode"].removeprefix("0x")),
            compiler_version=raw["compiler"]["version"],
            settings=raw["settings"],
            source_hashes=raw["sources"],
            path=path,
            immutable_ranges=tuple((r["start"], r["length"]) for r in raw.get("immutableReferences", [])),
        )
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no such artifact (compile with: npm --prefix contracts run compile)") from None
    except (KeyError, ValueError) as exc:
        raise ArtifactError(f"{path}: malformed artifact ({exc})") from None


def artifact_names(directory: Path = ARTIFACTS_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.json") if p.name != CONSTANTS_FILE)


CONSTANTS_FILE = "constants.json"  # written by compile.js from the sources' ASTs


@cache
def _constants(directory: Path = ARTIFACTS_DIR) -> dict[str, Any]:
    path = directory / CONSTANTS_FILE
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: missing (compile with: npm --prefix contracts run compile)") from None


def contract_constant(owner: str, name: str) -> int:
    """The integer constant `name` that contract, library or file `owner` defines (Python's numbers come from here,
    so they cannot drift from the contracts')."""
    try:
        return int(_constants()[owner]["constants"][name])
    except KeyError:
        raise ArtifactError(f"the contracts define no integer constant {owner}.{name}") from None


def contract_enum(owner: str, name: str) -> dict[str, int]:
    """The members of enum `name` of `owner` by their Python names (`Active` -> `ACTIVE`) and numbers."""
    try:
        members = _constants()[owner]["enums"][name]
    except KeyError:
        raise ArtifactError(f"the contracts define no enum {owner}.{name}") from None
    return {snake_case(member).upper(): number for number, member in enumerate(members)}


def contract_constants(owner: str) -> dict[str, int]:
    """Every integer constant contract, library or file `owner` defines."""
    try:
        return {name: int(value) for name, value in _constants()[owner]["constants"].items()}
    except KeyError:
        raise ArtifactError(f"the contracts define nothing named {owner}") from None


def check_mirror(enum: type[IntEnum], members: Mapping[str, int]) -> None:
    """Refuse a Python enum that no longer mirrors the contracts' (names and numbers)."""
    have = {member.name: int(member) for member in enum}
    if have != dict(members):
        raise ArtifactError(f"{enum.__name__} is {have} in Python but {dict(members)} in the contracts")


def stale_sources(directory: Path = ARTIFACTS_DIR, sources: Path = SOURCES_DIR) -> list[str]:
    """Source files whose sha256 differs from the one recorded in an artifact (empty: all fresh)."""
    stale: set[str] = set()
    for name in artifact_names(directory):
        for file, digest in load_artifact(name, directory).source_hashes.items():
            source = sources / file
            if not source.exists() or hashlib.sha256(source.read_bytes()).hexdigest() != digest:
                stale.add(file)
    return sorted(stale)


@cache
def _known_errors() -> dict[bytes, ErrorDef]:
    errors = dict(BUILTIN_ERRORS)
    for name in artifact_names():
        errors.update(load_artifact(name).abi.errors)
    return errors


def decode_revert(data: bytes, tx_hash: bytes | None = None) -> ContractRevert:
    """Name the error in revert data by its selector, across every contract of the project."""
    if not data:
        return ContractRevert("Revert", data=b"", tx_hash=tx_hash)
    error = _known_errors().get(data[:4])
    if error is None:
        return ContractRevert(f"UnknownError(0x{data[:4].hex()})", data=data, tx_hash=tx_hash)
    try:
        args = error.decode(data)
    except Exception:  # malformed payload behind a known selector
        return ContractRevert(error.name, data=data, tx_hash=tx_hash)
    return ContractRevert(error.name, args, data=data, tx_hash=tx_hash)
