"""Script the national blockchain pilot registry on a local EVM chain.

    from registry import RevmChain, Registry, load_seed_data
    chain = RevmChain()         # or EthTesterChain() (py-evm), or RpcChain(url) for a node
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
    BACKENDS,
    Account,
    AnvilNode,
    BackendName,
    Chain,
    Contract,
    EthTesterChain,
    Receipt,
    RevmChain,
    RpcChain,
    Sent,
    Tx,
    derive_account,
    derive_accounts,
    in_process_chain,
)
from .evm.funding import Funding, fund_actors
from .models import Category, Entity, EntityStatus, Pilot, PilotStatus, Sector, Zone
from .progress import Progress
from .seeds import SeedData, load_seed_data
from .testing import reverts

__all__ = [
    "BACKENDS", "GENESIS_TIMESTAMP", "TEST_MNEMONIC", "Account", "AnvilNode", "ArtifactError", "BackendName",
    "Funding", "fund_actors",
    "Category", "Chain", "ChainConnectionError", "ChainError", "Contract", "ContractRevert", "Entity", "EntityStatus",
    "EthTesterChain", "NotFound", "Pilot", "PilotStatus", "PilotsimError", "Progress", "Receipt", "Registry",
    "RevmChain", "Roles", "RpcChain", "Sector", "SeedData", "SeedDataError", "SeedReport", "Sent",
    "TransactionRejected", "Tx", "Zone", "derive_account", "derive_accounts", "in_process_chain", "load_seed_data",
    "reverts",
]
