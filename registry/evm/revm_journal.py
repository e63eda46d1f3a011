"""Reading what a transaction changed from revm's journal, as pyrevm 0.3.7 prints it (the Debug form
of revm 8's `JournaledState`): every account it loaded with its balance, nonce, status flags and the
storage slots it touched (value before the transaction, and now).

It is the one place that knows that format; a created contract whose code length cannot be found is an
error, not an empty contract, so a pyrevm that prints otherwise fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ChainError

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

_ACCOUNT = re.compile(r"(0x[0-9a-f]{40}): Account \{ info: AccountInfo \{ balance: (\d+), nonce: (\d+), ")
_SLOT = re.compile(r"(\d+): StorageSlot \{ previous_or_original_value: (\d+), present_value: (\d+) \}")
_CODE_LENGTH = re.compile(r"state: Analysed \{ len: (\d+),")  # revm pads analysed code; this is its length


@dataclass(slots=True)
class Change:
    """An account as a transaction left it in revm's journal."""

    balance: int
    nonce: int
    slots: dict[int, tuple[int, int]]  # slot -> (value before the transaction, after), changed ones only
    code_length: int | None = None  # a contract it created: the length of its code
    code: bytes | None = None
    destroyed: bool = False


def read_changes(journal: str) -> dict[str, Change]:
    """Accounts a transaction left in revm's journal (the Debug print of its JournaledState)."""
    state = journal[: journal.find("}, transient_storage: ")]
    found: dict[str, Change] = {}
    starts = list(_ACCOUNT.finditer(state))
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(state)
        body = state[match.end(): end]
        storage_at = body.rfind("storage: {")
        slots = {int(k): (int(old), int(new)) for k, old, new in _SLOT.findall(body, storage_at) if old != new}
        status = body[body.rfind("status: AccountStatus("):]
        change = Change(int(match.group(2)), int(match.group(3)), slots, destroyed="SelfDestructed" in status)
        if "Created" in status:
            length = _CODE_LENGTH.search(body, 0, storage_at)
            if length is None:
                raise ChainError("revm's journal shows a created contract without its code length: pyrevm changed?")
            change.code_length = int(length.group(1))
        found[match.group(1)] = change
    return found
