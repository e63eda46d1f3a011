"""The EVM toolkit under the registry: chain backends behind one interface (eth-tester and revm in
process, JSON-RPC to any node), Anvil nodes, the ABI codec, compiled artifacts, contracts and accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

# Loaded when first asked for: importing one module of the toolkit (the ABI codec, say) must not load web3
# and py-evm, which a run on revm or a look at a scenario never needs (0.3 s and more).
_HOME = {
    "Account": "accounts", "derive_account": "accounts", "derive_accounts": "accounts", "AnvilNode": "anvil",
    "BACKENDS": "backends", "BackendName": "backends", "in_process_chain": "backends",
    **dict.fromkeys(("Block", "Chain", "Log", "Receipt", "Tx"), "base"), "Contract": "contract", "Sent": "contract",
    "RevmChain": "revm", "RpcChain": "rpc", "EthTesterChain": "tester",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOME)


if TYPE_CHECKING:
    from .accounts import Account, derive_account, derive_accounts
    from .anvil import AnvilNode
    from .backends import BACKENDS, BackendName, in_process_chain
    from .base import Block, Chain, Log, Receipt, Tx
    from .contract import Contract, Sent
    from .revm import RevmChain
    from .rpc import RpcChain
    from .tester import EthTesterChain

__all__ = ["BACKENDS", "Account", "AnvilNode", "BackendName", "Block", "Chain", "Contract", "EthTesterChain", "Log",
           "Receipt", "RevmChain", "RpcChain", "Sent", "Tx", "derive_account", "derive_accounts", "in_process_chain"]
