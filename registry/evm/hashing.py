"""keccak-256, the hash behind every id here (messages, transactions, Merkle nodes, committee digests):
safe-pysha3's C implementation at about 0.7 µs a hash, where eth_utils' (through eth-hash and pycryptodome)
takes about 6; a run hashes some ten thousand times. The same function: a test compares them."""

from __future__ import annotations

from sha3 import keccak_256


def keccak(data: bytes) -> bytes:
    """keccak-256 of `data` (bytes only: text goes through eth_utils' `keccak(text=…)`)."""
    return keccak_256(data).digest()
