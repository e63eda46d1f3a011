"""The deterministic accounts: BIP-39/BIP-32 derivation written with hashlib and coincurve gives eth_account's keys."""

from __future__ import annotations

import pytest
from eth_account import Account as EthAccount
from eth_account.hdaccount.mnemonic import Mnemonic
from hypothesis import given, settings
from hypothesis import strategies as st

from registry import PilotsimError, derive_account
from registry.defaults import TEST_MNEMONIC

EthAccount.enable_unaudited_hdwallet_features()


def test_the_test_mnemonics_accounts_are_anvils() -> None:
    """Anvil's first accounts, as its start-up banner lists them."""
    assert derive_account(0).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert derive_account(9).address == "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"


@pytest.mark.parametrize("index", [0, 1, 2, 7, 19, 99, 150, 199, 2**31 - 1])
def test_each_account_of_the_test_mnemonic_is_eth_accounts(index: int) -> None:
    expected = EthAccount.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    account = derive_account(index)
    assert account.key.to_bytes() == expected.key and account.address == expected.address


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([16, 20, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)), st.integers(0, 2**31 - 1))
def test_any_mnemonic_gives_eth_accounts_keys(entropy: bytes, index: int) -> None:
    mnemonic = Mnemonic().to_mnemonic(entropy)  # English  # 12, 15 or 24 words with their checksum
    expected = EthAccount.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
    assert derive_account(index, mnemonic).key.to_bytes() == expected.key


def test_a_mnemonic_with_a_wrong_checksum_is_refused() -> None:
    broken = TEST_MNEMONIC.replace("junk", "test")
    with pytest.raises(PilotsimError, match="not a valid BIP-39 mnemonic"):
        derive_account(0, broken)
