"""Reading what a transaction changed from revm's journal, as pyrevm 0.3.7 prints it (the Debug form
of revm 8's `JournaledState`): every account it loaded with its balance, nonce, status flags and the
storage slots it touched (value before the transaction, and now).

It is the one place that knows that format; a created contract whose code length cannot be found is an
error, not an empty contract, so a pyrevm that prints otherwise fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ChainError

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

_ACCOUNT = ": Account { info: AccountInfo { balance: "  # after the account's address
_NONCE = ", nonce: "
_STORAGE = ", storage: {"
_STATUS = "}, status: AccountStatus("
_SLOT = ": StorageSlot { previous_or_original_value: "
_PRESENT = ", present_value: "
_CODE_LENGTH = "state: Analysed { len: "  # revm pads analysed code; this is its length
_CODE_HASH = ", code_hash: 0x"  # after the nonce; the code itself is printed next, whole

_CODE_STATE = ", state: "  # right after the code's hex: "Raw }" or "Analysed { len: …" (revm_code)

# code hash -> (where the code's hex ends, past the hash; the form printed there; where the storage begins): a
# code is printed alike in every transaction *in the same form*, so it is searched through once, not tens of KB a
# transaction. The same code held raw and analysed prints to different lengths: the form is checked at the end
# of the hex (nowhere else in an account's print says ", state: "), so a jump never lands in another account.
_code_ends: dict[str, tuple[int, str, int]] = {}


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
    """Accounts a transaction left in revm's journal (the Debug print of its JournaledState). Read by plain
    string search: each account's code is printed whole, and searching past it is half the cost of a regex."""
    state_end = journal.rfind("}, transient_storage: ")  # from the end: what follows (logs, entries) is short
    found: dict[str, Change] = {}
    at = journal.find(_ACCOUNT, 0, state_end)
    while at != -1:
        address = journal[at - 42: at]
        if not address.startswith("0x"):
            raise ChainError(f"revm's journal names an account as {address!r}: pyrevm changed?")
        nonce_at = journal.index(_NONCE, at)
        storage_at = _storage_at(journal, nonce_at)
        status_at = journal.index(_STATUS, storage_at)
        status = journal[status_at + len(_STATUS): journal.index(")", status_at)]
        change = Change(int(journal[at + len(_ACCOUNT): nonce_at]),
                        int(journal[nonce_at + len(_NONCE): journal.index(",", nonce_at + len(_NONCE))]),
                        _slots(journal[storage_at + len(_STORAGE): status_at]), destroyed="SelfDestructed" in status)
        if "Created" in status:
            length_at = journal.rfind(_CODE_LENGTH, nonce_at, storage_at)
            if length_at == -1:
                raise ChainError("revm's journal shows a created contract without its code length: pyrevm changed?")
            change.code_length = int(journal[length_at + len(_CODE_LENGTH): journal.index(",", length_at)])
        found[address] = change
        at = journal.find(_ACCOUNT, status_at, state_end)
    return found


def _storage_at(journal: str, nonce_at: int) -> int:
    """Where the storage of the account whose nonce is printed at `nonce_at` begins: past its code."""
    hash_at = journal.find(_CODE_HASH, nonce_at, nonce_at + 64)
    if hash_at == -1:  # no code hash printed where it should be: searched through, nothing remembered
        return journal.index(_STORAGE, nonce_at)
    hash_at += len(_CODE_HASH)
    code_hash = journal[hash_at: hash_at + 64]
    known = _code_ends.get(code_hash)
    if known is not None:  # taken only where this print is the same code's in the same form
        hex_end, form, storage = known
        if journal.startswith(form, hash_at + hex_end) and journal.startswith(_STORAGE, hash_at + storage):
            return hash_at + storage
    storage_at = journal.index(_STORAGE, nonce_at)
    state_at = journal.find(_CODE_STATE, hash_at, storage_at)
    if state_at != -1 and len(_code_ends) < 4096:
        form = journal[state_at: min(state_at + 40, storage_at)]  # ", state: Raw }…" or ", state: Analysed { len: n,…"
        _code_ends[code_hash] = (state_at - hash_at, form, storage_at - hash_at)
    return storage_at


def _slots(storage: str) -> dict[int, tuple[int, int]]:
    """`key: StorageSlot { previous_or_original_value: a, present_value: b }, …`: the slots whose value changed."""
    slots = {}
    for entry in storage.split(" }, ") if storage else ():
        key, _, values = entry.partition(_SLOT)
        before, _, after = values.partition(_PRESENT)
        after = after.removesuffix(" }")
        if before != after:
            slots[int(key)] = (int(before), int(after))
    return slots
