"""The EVM toolkit under the registry: chain backends behind one interface (eth-tester and revm in
process, JSON-RPC to any node), Anvil nodes, the ABI codec, compiled artifacts, contracts and accounts."""

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
