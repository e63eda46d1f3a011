"""Where the project's data lives: compiled artifacts, Solidity sources, seed data."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = ROOT / "contracts"
SOURCES_DIR = CONTRACTS_DIR / "src"
ARTIFACTS_DIR = Path(os.environ.get("PILOTSIM_ARTIFACTS", CONTRACTS_DIR / "artifacts"))
SEEDS_DIR = ROOT / "seeds"
NODE_MODULES = CONTRACTS_DIR / "node_modules"
