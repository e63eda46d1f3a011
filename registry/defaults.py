"""Constants production code needs: genesis time, chain ids, balances, gas, and who is who among the
accounts of the test mnemonic.

One place for them, so a chain, a network, a simulation and a test fixture all agree.
"""

from __future__ import annotations

GENESIS_TIMESTAMP = 1_643_414_400  # 2022-01-29 00:00 UTC, the day the pilot list was announced
DEFAULT_CHAIN_ID = 31337  # Anvil's and Hardhat's, for a lone chain
DEFAULT_BALANCE = 10**6 * 10**18  # wei per funded account on an in-process chain

DEFAULT_GAS = 1_000_000  # a transaction's gas limit when none is given (never estimated)
BLOCK_GAS_LIMIT = 30_000_000

# The standard test mnemonic (Anvil, Hardhat, ape): accounts m/44'/60'/0'/0/i, the first
# DEFAULT_ACCOUNTS funded at genesis on the chains this project starts.
TEST_MNEMONIC = "test test test test test test test test test test test junk"
DEFAULT_ACCOUNTS = 200

# Which account index plays which role.
ADMIN_INDEX = 0  # the registry's national admin; also every chain's deployer and governor
REGULATOR_INDEX = 1
AUTHORITY_BASE = 2  # zone i's authority: account AUTHORITY_BASE + i - 1 (15 zones: 2..16)
RELAYER_INDEX = 30  # relayer k signs deliveries with account RELAYER_INDEX - k on every chain
ENTITY_BASE = 32  # entity i's account: ENTITY_BASE + i - 1 (164 entities: 32..195)
SPARE_INDEX = 197  # funded, no role: for one-off calls in tools and tests
ATTACKER_INDEX = 198  # funded, no role: the account fault scenarios attack from
WATCHER_INDEX = 199  # funded: the fraud watchers prove false claims from it

# Gas limits per item of a batch call: explicit, generous, so nothing is estimated.
GAS_BASE = 80_000
GAS_PER_ITEM = {
    "registerZones": 160_000,
    "registerSectors": 90_000,
    "registerEntities": 190_000,
    "registerPilots": 200_000,
    "approveEntities": 30_000,
    "approvePilots": 35_000,
    "activatePilots": 35_000,
    "setDataPolicies": 30_000,
}
SEED_BATCH = 40
