"""revm runs contracts' code analysed once (registry.evm.revm_code), where revm can deploy it."""

from __future__ import annotations

from registry.evm.artifacts import load_artifact
from registry.evm.backends import in_process_chain
from registry.evm.revm_code import code_info


def probe_code() -> bytes:
    chain = in_process_chain("revm", 1007)
    return chain.code(chain.deploy(chain.accounts[0], load_artifact("Probe").bytecode))


def test_a_deployed_contracts_info_holds_its_code_analysed() -> None:
    code = probe_code()
    info = code_info(0, 1, code)
    held = bytes(info.code)
    assert held[:len(code)] == code and len(held) > len(code)  # analysed: padded past its end, as revm pads it
    assert (info.balance, info.nonce) == (0, 1)


def test_other_accounts_keep_their_code_raw() -> None:
    code = probe_code()
    assert bytes(code_info(5, 1, code).code) == code  # a balance: not what a deployment makes
    assert bytes(code_info(0, 2, code).code) == code  # nor a nonce past 1
    eof_like = b"\xef\x00" + code
    assert bytes(code_info(0, 1, eof_like).code) == eof_like  # code revm refuses to deploy (EIP-3541)
