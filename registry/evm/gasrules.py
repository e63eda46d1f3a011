"""What a transaction pays before its code runs, and Prague's calldata floor (EIP-7623): the rules the
in-process backends check transactions against, and relayers size their deliveries by.

py-evm 0.12 applies the floor to the gas used but does not refuse a transaction whose gas limit is
under it (it then charges more than the limit); the spec, revm and Anvil refuse it, and so do the
in-process backends here, before the EVM sees it.
"""

from __future__ import annotations

TX_GAS = 21_000
CREATE_GAS = 32_000
INITCODE_WORD_GAS = 2  # EIP-3860
FLOOR_PER_TOKEN = 10  # EIP-7623: a zero byte of calldata is one token, any other byte four


def calldata_costs(data: bytes) -> tuple[int, int]:
    """(standard calldata gas, EIP-7623 floor of the whole transaction) for `data`."""
    zeros = data.count(0)
    nonzero = len(data) - zeros
    return 4 * zeros + 16 * nonzero, TX_GAS + FLOOR_PER_TOKEN * (zeros + 4 * nonzero)


def minimum_gas(data: bytes, creates: bool) -> int:
    """The least gas limit a transaction of `data` can have: its intrinsic gas, and at least the floor."""
    standard, floor = calldata_costs(data)
    intrinsic = TX_GAS + standard
    if creates:
        intrinsic += CREATE_GAS + INITCODE_WORD_GAS * ((len(data) + 31) // 32)
    return max(intrinsic, floor)
