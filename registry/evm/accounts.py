"""Deterministic accounts: the standard test mnemonic, HD path m/44'/60'/0'/0/i.

The same keys Anvil, Hardhat and ape derive, so a node started with the test mnemonic has
them funded. Deriving the parent node once and only the last step per account makes 200 keys
cost milliseconds instead of a PBKDF2 run each.

BIP-32's derivation steps are written here (hashlib's HMAC-SHA512 and PBKDF2, coincurve's
secp256k1) rather than taken from eth_account: importing eth_account costs 0.3–0.4 s (it loads
eth_keyfile and py_ecc's BLS), a sixth of a short run. A test compares the keys with eth_account's
for the test mnemonic and others; a mnemonic other than the test one is still checked (words,
checksum) and expanded by eth_account, loaded then.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import coincurve
from eth_keys import keys
from eth_keys.datatypes import PrivateKey

from ..defaults import TEST_MNEMONIC

BASE_PATH = "m/44'/60'/0'/0"
HARDENED = 1 << 31
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True, slots=True)
class Account:
    """A local signing key and its checksummed address (its repr shows the address, never the key)."""

    index: int
    key: PrivateKey = field(repr=False)
    address: str

    @property
    def address_bytes(self) -> bytes:
        return self.key.public_key.to_canonical_address()


def _seed(mnemonic: str) -> bytes:
    """BIP-39: the 64-byte seed of `mnemonic` (no passphrase)."""
    if mnemonic != TEST_MNEMONIC:  # checked and expanded as eth_account does; the test mnemonic is known good
        from eth_account.hdaccount.mnemonic import Mnemonic  # noqa: PLC0415 - slow to import, rarely needed

        from ..errors import PilotsimError  # noqa: PLC0415 - as above

        expanded = Mnemonic(Mnemonic.detect_language(mnemonic)).expand(mnemonic)
        if not Mnemonic(Mnemonic.detect_language(expanded)).is_mnemonic_valid(expanded):
            raise PilotsimError(f"not a valid BIP-39 mnemonic: {mnemonic!r}")
        mnemonic = expanded
    words = unicodedata.normalize("NFKD", mnemonic).encode()
    return hashlib.pbkdf2_hmac("sha512", words, b"mnemonic", 2048)


def _child(key: bytes, chain_code: bytes, index: int) -> tuple[bytes, bytes]:
    """BIP-32 CKDpriv: the child key and chain code at `index` (hardened from 2^31)."""
    parent = b"\0" + key if index >= HARDENED else coincurve.PrivateKey(key).public_key.format(compressed=True)
    digest = hmac.new(chain_code, parent + index.to_bytes(4, "big"), hashlib.sha512).digest()
    tweak = int.from_bytes(digest[:32], "big")
    child = (tweak + int.from_bytes(key, "big")) % SECP256K1_ORDER
    if tweak >= SECP256K1_ORDER or child == 0:  # BIP-32: skip to the next index; odds about 2^-127
        raise ValueError(f"BIP-32: index {index} gives no valid key; use the next")
    return child.to_bytes(32, "big"), digest[32:]


@lru_cache(maxsize=8)
def _parent_node(mnemonic: str) -> tuple[bytes, bytes]:
    master = hmac.new(b"Bitcoin seed", _seed(mnemonic), hashlib.sha512).digest()
    key, chain_code = master[:32], master[32:]
    for step in BASE_PATH.split("/")[1:]:
        key, chain_code = _child(key, chain_code, int(step.rstrip("'")) + (HARDENED if step.endswith("'") else 0))
    return key, chain_code


@lru_cache(maxsize=4096)
def derive_account(index: int, mnemonic: str = TEST_MNEMONIC) -> Account:
    """The account at m/44'/60'/0'/0/<index> of `mnemonic`."""
    parent_key, chain_code = _parent_node(mnemonic)
    child_key, _ = _child(parent_key, chain_code, index)
    private_key = keys.PrivateKey(child_key)
    return Account(index, private_key, private_key.public_key.to_checksum_address())


def derive_accounts(count: int, mnemonic: str = TEST_MNEMONIC) -> list[Account]:
    return [derive_account(i, mnemonic) for i in range(count)]
