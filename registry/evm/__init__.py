"""The EVM toolkit under the registry: chain backends behind one interface (eth-tester in process,
JSON-RPC to any node), Anvil nodes, the ABI codec, compiled artifacts, contracts and accounts."""

from .accounts import Account, derive_account, derive_accounts
from .anvil import AnvilNode
from .base import Block, Chain, Log, Receipt, Tx
from .contract import Contract, Sent
from .rpc import RpcChain
from .tester import EthTesterChain

__all__ = ["Account", "AnvilNode", "Block", "Chain", "Contract", "EthTesterChain", "Log", "Receipt", "RpcChain",
           "Sent", "Tx", "derive_account", "derive_accounts"]
