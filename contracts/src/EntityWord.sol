// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {PilotRegistry} from "./PilotRegistry.sol";

/// @title EntityWord
/// @notice The one layout of an entity's record in a word, as the hub's RegistryBroadcaster sends it, each
///         zone's RegistryMirror keeps it and DataExchange reads it:
///         tag (32 bits) | account (160) | zoneId (8) | status (8) | spare (16) | sectorMask (32).
///         The tag is the entity id in an update and the version that wrote it in the mirror. Python reads
///         the same words through these constants (artifacts/constants.json).
library EntityWord {
    uint256 internal constant TAG_SHIFT = 224;
    uint256 internal constant ACCOUNT_SHIFT = 64;
    uint256 internal constant ZONE_SHIFT = 56;
    uint256 internal constant STATUS_SHIFT = 48;
    uint256 internal constant BELOW_TAG = (uint256(1) << TAG_SHIFT) - 1;
    uint8 internal constant ACTIVE = uint8(PilotRegistry.EntityStatus.Active);

    function pack(uint32 tag_, address account_, uint8 zoneId, uint8 status_, uint32 sectorMask)
        internal
        pure
        returns (uint256)
    {
        return (uint256(tag_) << TAG_SHIFT) | (uint256(uint160(account_)) << ACCOUNT_SHIFT)
            | (uint256(zoneId) << ZONE_SHIFT) | (uint256(status_) << STATUS_SHIFT) | sectorMask;
    }

    /// @notice `word` with its tag replaced.
    function retag(uint256 word, uint32 tag_) internal pure returns (uint256) {
        return (uint256(tag_) << TAG_SHIFT) | (word & BELOW_TAG);
    }

    function tag(uint256 word) internal pure returns (uint32) {
        return uint32(word >> TAG_SHIFT);
    }

    function account(uint256 word) internal pure returns (address) {
        return address(uint160(word >> ACCOUNT_SHIFT));
    }

    function zone(uint256 word) internal pure returns (uint8) {
        return uint8(word >> ZONE_SHIFT);
    }

    function status(uint256 word) internal pure returns (uint8) {
        return uint8(word >> STATUS_SHIFT);
    }

    function sectors(uint256 word) internal pure returns (uint32) {
        return uint32(word);
    }

    function isActive(uint256 word) internal pure returns (bool) {
        return status(word) == ACTIVE;
    }

    /// @notice Active, and allowed to act in `sector` (1 to 32).
    function isActiveIn(uint256 word, uint8 sector) internal pure returns (bool) {
        return sector != 0 && sector <= 32 && isActive(word) && (sectors(word) >> (sector - 1)) & 1 == 1;
    }
}
