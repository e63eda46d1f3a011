"""Where the project's data lives: compiled artifacts, Solidity sources, seed data, caches.

In a checkout they are the repository's `contracts/` and `seeds/`; an installed wheel carries copies in
`registry/_data/` (setup.py puts them there), and those are used when there is no checkout around."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = Path(__file__).resolve().parent / "_data"  # what a wheel carries
CHECKOUT = (ROOT / "seeds").is_dir() and (ROOT / "contracts" / "artifacts").is_dir()
CONTRACTS_DIR = ROOT / "contracts"
SOURCES_DIR = CONTRACTS_DIR / "src" if CHECKOUT else PACKAGED / "src"
ARTIFACTS_DIR = Path(os.environ.get("PILOTSIM_ARTIFACTS", CONTRACTS_DIR / "artifacts" if CHECKOUT
                                    else PACKAGED / "artifacts"))
SEEDS_DIR = ROOT / "seeds" if CHECKOUT else PACKAGED / "seeds"
NODE_MODULES = CONTRACTS_DIR / "node_modules"  # the npm toolchain (Anvil) of a checkout


def cache_dir() -> Path:
    """Where built networks are kept between runs (see sim.bridge.cache); PILOTSIM_CACHE moves it."""
    explicit = os.environ.get("PILOTSIM_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pilotsim"
