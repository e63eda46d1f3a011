// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice Message outcomes by lane sequence, 4 bits each, 64 to a storage word: a lane of 64 messages
///         costs one slot, and a batch's outcomes on one lane mostly land in the same one.
library OutcomeStore {
    function get(mapping(uint256 => uint256) storage words, uint64 sequence) internal view returns (uint8) {
        return uint8((words[sequence >> 6] >> ((sequence & 63) * 4)) & 0xF);
    }

    function set(mapping(uint256 => uint256) storage words, uint64 sequence, uint8 value) internal {
        uint256 shift = (sequence & 63) * 4;
        uint256 key = sequence >> 6;
        words[key] = (words[key] & ~(uint256(0xF) << shift)) | (uint256(value) << shift);
    }
}
