"""Deterministic accounts: the standard test mnemonic, HD path m/44'/60'/0'/0/i.

The same keys Anvil, Hardhat and ape derive, so a node started with the test mnemonic has
them funded. Deriving the parent node once and only the last step per account makes 200 keys
cost milliseconds instead of a PBKDF2 run each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from eth_account.hdaccount import seed_from_mnemonic
from eth_account.hdaccount._utils import hmac_sha512
from eth_account.hdaccount.deterministic import HDPath, Node, derive_child_key
from eth_keys import keys
from eth_keys.datatypes import PrivateKey

from ..defaults import TEST_MNEMONIC

BASE_PATH = "m/44'/60'/0'/0"


@dataclass(frozen=True, slots=True)
class Account:
    """A local signing key and its checksummed address (its repr shows the address, never the key)."""

    index: int
    key: PrivateKey = field(repr=False)
    address: str

    @property
    def address_bytes(self) -> bytes:
        return self.key.public_key.to_canonical_address()


@lru_cache(maxsize=8)
def _parent_node(mnemonic: str) -> tuple[bytes, bytes]:
    seed = seed_from_mnemonic(mnemonic, "")
    master = hmac_sha512(b"Bitcoin seed", seed)
    key, chain_code = master[:32], master[32:]
    for node in HDPath(BASE_PATH)._path:
        key, chain_code = derive_child_key(key, chain_code, node)
    return key, chain_code


@lru_cache(maxsize=4096)
def derive_account(index: int, mnemonic: str = TEST_MNEMONIC) -> Account:
    """The account at m/44'/60'/0'/0/<index> of `mnemonic`."""
    parent_key, chain_code = _parent_node(mnemonic)
    child_key, _ = derive_child_key(parent_key, chain_code, Node.decode(str(index)))
    private_key = keys.PrivateKey(child_key)
    return Account(index, private_key, private_key.public_key.to_checksum_address())


def derive_accounts(count: int, mnemonic: str = TEST_MNEMONIC) -> list[Account]:
    return [derive_account(i, mnemonic) for i in range(count)]
