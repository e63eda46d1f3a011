// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Where a lane's unordered deliveries stand: a watermark (every hop sequence below it taken), how many
///         were taken above it (`ahead`), and a bit for each of those. A restarted relayer resumes from the
///         watermark and skips the bits.
library Watermark {
    uint256 internal constant WALK_WORDS = 8; // words of bits one delivery's walk reads at most

    /// @dev Mark hop sequence `s` taken: the watermark moves past it, or its bit above the watermark is set.
    function take(mapping(uint256 => uint256) storage bits, uint64 s, uint64 next, uint64 ahead)
        internal
        returns (uint64, uint64)
    {
        if (s == next) return (next + 1, ahead);
        if (s < next) return (next, ahead); // taken already (a forgery's hop sequence)
        uint256 bit = uint256(1) << (s & 255);
        uint256 word = bits[s >> 8];
        if (word & bit == 0) (bits[s >> 8], ahead) = (word | bit, ahead + 1);
        return (next, ahead);
    }

    /// @dev Move the watermark past the taken hop sequences just above it, a word of 256 a read and WALK_WORDS
    ///      reads at most (the next delivery walks on): however many were taken out of order, a delivery's
    ///      cost stays bounded. `ahead` may overcount (a forgery's bit passed in order), never under.
    function walk(mapping(uint256 => uint256) storage bits, uint64 next, uint64 ahead)
        internal
        view
        returns (uint64, uint64)
    {
        for (uint256 reads; ahead != 0 && reads < WALK_WORDS; ++reads) {
            uint256 offset = next & 255;
            uint256 run = _trailingOnes(bits[next >> 8] >> offset, 256 - offset);
            if (run > ahead) run = ahead;
            (next, ahead) = (next + uint64(run), ahead - uint64(run));
            if (offset + run < 256) break; // a hop sequence not taken yet
        }
        return (next, ahead);
    }

    /// @dev How many of the low `width` bits of `x` are ones before the first zero.
    function _trailingOnes(uint256 x, uint256 width) private pure returns (uint256 ones) {
        uint256 zeros = ~x;
        if (zeros == 0) return width;
        unchecked {
            ones = Math.log2(zeros & (0 - zeros)); // the lowest zero of x, by OpenZeppelin's log2
        }
        if (ones > width) ones = width;
    }
}
