"""What the hub's RegistryBroadcaster sends, as Python reads it: entity records for a zone's RegistryMirror
(one word each, EntityWord.sol's layout, its shifts from artifacts/constants.json) and sector policy masks
for its DataExchange."""

from __future__ import annotations

from eth_abi import decode

from registry.evm.artifacts import contract_constant

TAG_SHIFT = contract_constant("EntityWord", "TAG_SHIFT")  # the entity id in an update
STATUS_SHIFT = contract_constant("EntityWord", "STATUS_SHIFT")


def entity_statuses(payload: bytes) -> tuple[int, dict[int, int]]:
    """A mirror sync's version and the status it carries for each entity."""
    version, words = decode(["uint32", "uint256[]"], payload)
    return version, {word >> TAG_SHIFT: (word >> STATUS_SHIFT) & 0xFF for word in words}


def policy_masks(payload: bytes) -> tuple[int, dict[int, int]]:
    """A policy sync's version and the data-sector mask it carries for each requester sector."""
    version, sectors, masks = decode(["uint32", "uint8[]", "uint32[]"], payload)
    return version, dict(zip(sectors, masks, strict=True))
