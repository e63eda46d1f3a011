"""Script the national blockchain pilot registry on a local EVM chain.

    from registry import EthTesterChain, Registry, load_seed_data
    chain = EthTesterChain()
    registry = Registry.deploy(chain)
    registry.seed(load_seed_data())
"""

from .accounts import TEST_MNEMONIC, Account, derive_account, derive_accounts
from .anvil import AnvilNode
from .chain import Chain, EthTesterChain, Receipt, Tx
from .chain.rpc import RpcChain
from .client import Registry, Roles, SeedReport
from .contract import Contract, Sent
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
from .models import Category, Entity, EntityStatus, Pilot, PilotStatus, Sector, Zone
from .seeds import SeedData, load_seed_data

__all__ = [
    "TEST_MNEMONIC", "Account", "AnvilNode", "ArtifactError", "Category", "Chain", "Contract", "ChainConnectionError",
    "ChainError", "ContractRevert", "Entity", "EntityStatus", "EthTesterChain", "NotFound", "Pilot",
    "PilotStatus", "PilotsimError", "Receipt", "Registry", "Roles", "RpcChain", "Sector", "SeedData",
    "SeedDataError", "SeedReport", "Sent", "TransactionRejected", "Tx", "Zone", "derive_account",
    "derive_accounts", "load_seed_data",
]
