// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice A token bucket: `capacity` tokens, refilled at `refillPerSecond` from the last take. Capacity 0
///         means no bucket (nothing is limited). The gateway keeps two kinds: messages per lane (in
///         thousandths of a message) and destination gas per sender and lane.
library TokenBucket {
    struct Bucket {
        uint64 capacity;
        uint64 tokens;
        uint64 refillPerSecond;
        uint64 updatedAt;
    }

    /// @dev A full bucket of `capacity` (0 lifts the limit).
    function configure(Bucket storage b, uint64 capacity, uint64 refillPerSecond) internal {
        b.capacity = capacity;
        b.tokens = capacity;
        b.refillPerSecond = refillPerSecond;
        b.updatedAt = uint64(block.timestamp);
    }

    function available(Bucket storage b) internal view returns (uint256 tokens) {
        tokens = b.tokens + (block.timestamp - b.updatedAt) * b.refillPerSecond;
        if (tokens > b.capacity) tokens = b.capacity;
    }

    /// @dev Take `amount` tokens; false (and nothing taken) when fewer are there.
    function take(Bucket storage b, uint256 amount) internal returns (bool) {
        uint256 tokens = available(b);
        if (tokens < amount) return false;
        b.tokens = uint64(tokens - amount);
        b.updatedAt = uint64(block.timestamp);
        return true;
    }
}
