"""Chain backends behind one interface: eth-tester (in-process) and JSON-RPC (any node)."""

from .base import BLOCK_GAS_LIMIT, DEFAULT_ACCOUNTS, DEFAULT_GAS, Block, Chain, Log, Receipt, Tx
from .tester import EthTesterChain

__all__ = ["BLOCK_GAS_LIMIT", "DEFAULT_ACCOUNTS", "DEFAULT_GAS", "Block", "Chain", "EthTesterChain", "Log",
           "Receipt", "Tx"]
