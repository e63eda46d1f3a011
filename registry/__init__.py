"""Script the national blockchain pilot registry on a local EVM chain.

    from registry import EthTesterChain, Registry, load_seed_data
    chain = EthTesterChain()
    registry = Registry.deploy(chain)
    registry.seed(load_seed_data())
"""

from .client import Registry, Roles, SeedReport
from .defaults import GENESIS_TIMESTAMP, TEST_MNEMONIC
from .errors import (
    ArtifactError,
    ChainConnectionError,
    ChainError,
    ContractRevert,
    NotFound,
    PilotsimError,
    SeedDataError,
    TransactionRejected,
)
from .evm import (
    Account,
    AnvilNode,
    Chain,
    Contract,
    EthTesterChain,
    Receipt,
    RpcChain,
    Sent,
    Tx,
    derive_account,
    derive_accounts,
)
from .models import Category, Entity, EntityStatus, Pilot, PilotStatus, Sector, Zone
from .progress import Progress
from .seeds import SeedData, load_seed_data

__all__ = [
    "GENESIS_TIMESTAMP", "TEST_MNEMONIC", "Account", "AnvilNode", "ArtifactError", "Category", "Chain", "Contract",
    "ChainConnectionError", "ChainError", "ContractRevert", "Entity", "EntityStatus", "EthTesterChain", "NotFound",
    "Pilot", "PilotStatus", "PilotsimError", "Progress", "Receipt", "Registry", "Roles", "RpcChain", "Sector",
    "SeedData", "SeedDataError", "SeedReport", "Sent", "TransactionRejected", "Tx", "Zone", "derive_account",
    "derive_accounts", "load_seed_data",
]
