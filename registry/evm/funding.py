"""Gas money for the actors on a node someone else started.

The actors (admin, regulator, zone authorities, entities, relayers) are accounts 0–199 of the test
mnemonic. Chains this project starts fund all of them at genesis; a node started by hand funds fewer
(Anvil and Hardhat: the first 10). Before seeding or building a network there, the accounts that hold
too little are topped up: with the node's balance-setting method where it has one (`anvil_setBalance`,
`hardhat_setBalance`), else by transfers from the first account that can pay for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..defaults import DEFAULT_ACCOUNTS
from ..errors import ChainError
from .base import Chain, Tx
from .rpc import RpcChain

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

ETHER = 10**18
MINIMUM = 1 * ETHER  # an actor holding less is topped up: seeding costs an entity far less
TOP_UP = 10 * ETHER
TRANSFER_GAS = 21_000


@dataclass(frozen=True)
class Funding:
    accounts: int  # how many were topped up
    amount: int  # wei each now holds at least
    how: str  # "anvil_setBalance", or "transfers from 0x…"

    def __str__(self) -> str:
        return f"funded {self.accounts} actor accounts with {self.amount / ETHER:g} ETH each ({self.how})"


def fund_actors(chain: Chain, count: int = DEFAULT_ACCOUNTS, minimum: int = MINIMUM, top_up: int = TOP_UP,
                use_dev_methods: bool = True) -> Funding | None:
    """Top up the first `count` actor accounts holding less than `minimum`; None if none needed it."""
    actors = chain.accounts[:count]
    balances = _balances(chain, [a.address for a in actors])
    poor = [a for a, balance in zip(actors, balances, strict=True) if balance < minimum]
    if not poor:
        return None
    if use_dev_methods and isinstance(chain, RpcChain) and chain.dev_prefix is not None:
        method = f"{chain.dev_prefix}_setBalance"
        chain.rpc_batch([(method, [a.address, hex(top_up)]) for a in poor])
        return Funding(len(poor), top_up, method)
    needed = len(poor) * (top_up + TRANSFER_GAS * _gas_price(chain))
    funder = next((a for a, balance in zip(actors, balances, strict=True) if balance >= needed + minimum), None)
    if funder is None:
        raise ChainError(f"chain {chain.chain_id}: {len(poor)} of the {count} actor accounts need gas money and no "
                         f"account of the test mnemonic holds {needed / ETHER:g} ETH to give it")
    for receipt in chain.send([Tx(funder, a.address, b"", TRANSFER_GAS, top_up) for a in poor]):
        receipt.raise_for_status()
    return Funding(len(poor), top_up, f"transfers from {funder.address}")


def _balances(chain: Chain, addresses: list[str]) -> list[int]:
    if isinstance(chain, RpcChain):  # one round trip, not two hundred
        return [int(b, 16) for b in chain.rpc_batch([("eth_getBalance", [a, "latest"]) for a in addresses])]
    return [chain.balance(a) for a in addresses]


def _gas_price(chain: Chain) -> int:
    return int(chain.rpc("eth_gasPrice"), 16) * 2 if isinstance(chain, RpcChain) else 0
