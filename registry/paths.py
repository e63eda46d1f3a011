"""Where the project's data lives: compiled artifacts, Solidity sources, seed data, caches."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = ROOT / "contracts"
SOURCES_DIR = CONTRACTS_DIR / "src"
ARTIFACTS_DIR = Path(os.environ.get("PILOTSIM_ARTIFACTS", CONTRACTS_DIR / "artifacts"))
SEEDS_DIR = ROOT / "seeds"
NODE_MODULES = CONTRACTS_DIR / "node_modules"


def cache_dir() -> Path:
    """Where built networks are kept between runs (see sim.bridge.cache); PILOTSIM_CACHE moves it."""
    explicit = os.environ.get("PILOTSIM_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pilotsim"
