"""Contract code as revm runs it: analysed once, not at every call.

pyrevm's `AccountInfo(code=…)` holds code raw, and revm 8 analyses raw code (finds its jump
destinations, pads it) in every call frame that runs it: a delivery runs several contracts of 5-17 KB,
about 8% of a simulation's time. Code revm deployed itself is held analysed. So an account's info is
made by deploying its code on a scratch EVM of this module's own and taking the created account's info:
the same code, analysed, which every later call on any chain runs as is. Execution and gas do not change (the revm
parity test compares every transaction with py-evm's).

A created contract has nonce 1 and no balance, so only accounts like that (every contract the network
deploys) get their info this way; any other, and code revm will not deploy (over EIP-170's size, or
starting with 0xEF), stays raw: the same result, analysed per call as before.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pyrevm

_DEPLOYER = "0x" + "c0de" * 10
_MAX_CODE = 24_576  # EIP-170


def code_info(balance: int, nonce: int, code: bytes) -> Any:
    """An `AccountInfo` with `code` that revm runs without analysing it again, where it can be made."""
    if balance == 0 and nonce == 1 and len(code) <= _MAX_CODE:
        analysed = _analysed(code)
        if analysed is not None:
            return analysed
    return pyrevm.AccountInfo(balance=balance, nonce=nonce, code=code)  # type: ignore[call-arg]


def deployment(code: bytes) -> bytes:
    """Creation code that deploys `code` as it is (up to 64 KB): PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY,
    PUSH1 0, RETURN, then `code`, which those 12 bytes return."""
    return bytes([0x61, len(code) >> 8, len(code) & 0xFF, 0x80, 0x60, 0x0C, 0x60, 0x00, 0x39, 0x60, 0x00, 0xF3]) + code


@lru_cache(maxsize=256)  # a few dozen contract types; shared by every chain (revm shares the code's bytes)
def _analysed(code: bytes) -> Any | None:
    scratch = pyrevm.EVM(spec_id="Cancun")  # the chains' fork (revm.SPEC)
    try:
        info = scratch.basic(scratch.deploy(_DEPLOYER, deployment(code), gas=30_000_000))
    except RuntimeError:  # refused (0xEF code, too large): it stays raw
        return None
    if info.nonce != 1 or info.balance != 0 or bytes(info.code or b"")[:len(code)] != code:
        return None  # not what it should be: keep the raw code rather than run something else
    return info
