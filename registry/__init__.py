"""Script the national blockchain pilot registry on a local EVM chain.

    from registry import RevmChain, Registry, load_seed_data
    chain = RevmChain()         # or EthTesterChain() (py-evm), or RpcChain(url) for a node
    registry = Registry.deploy(chain)
    registry.seed(load_seed_data())
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_exports

# Loaded when first asked for, so that importing the package (the pytest plugin does, in every pytest run of
# an environment where it is installed) costs nothing until a name is used.
_HOME = {
    "Registry": "client", "Roles": "client", "SeedReport": "client",
    "GENESIS_TIMESTAMP": "defaults", "TEST_MNEMONIC": "defaults",
    **dict.fromkeys(("ArtifactError", "ChainConnectionError", "ChainError", "ContractRevert", "NotFound",
                     "PilotsimError", "SeedDataError", "TransactionRejected"), "errors"),
    **dict.fromkeys(("BACKENDS", "Account", "AnvilNode", "BackendName", "Chain", "Contract", "EthTesterChain",
                     "Receipt", "RevmChain", "RpcChain", "Sent", "Tx", "derive_account", "derive_accounts",
                     "in_process_chain"), "evm"),
    "Funding": "evm.funding", "fund_actors": "evm.funding",
    **dict.fromkeys(("Category", "Entity", "EntityStatus", "Pilot", "PilotStatus", "Sector", "Zone"), "models"),
    "Progress": "progress", "SeedData": "seeds", "load_seed_data": "seeds", "reverts": "testing",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOME)


if TYPE_CHECKING:
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
