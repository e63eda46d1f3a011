// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AckEntry} from "./Messaging.sol";

/// @notice Acknowledgements: the outcomes a delivery gathers for each origin chain, and the payload that
///         carries at most MAX_ENTRIES of them back (read strictly, so a forged one is refused, never
///         reverts the delivery that carries it).
library Acks {
    uint256 internal constant MAX_ENTRIES = 64; // outcomes per acknowledgement message
    uint256 internal constant ENTRY_BYTES = 160; // one AckEntry, ABI-encoded
    uint256 internal constant MAX_BYTES = 64 + ENTRY_BYTES * MAX_ENTRIES; // the largest acknowledgement payload

    struct Buffer {
        uint64[] origins;
        AckEntry[] entries;
        uint256 count;
    }

    function create(uint256 capacity) internal pure returns (Buffer memory) {
        return Buffer(new uint64[](capacity), new AckEntry[](capacity), 0);
    }

    function add(Buffer memory acks, uint64 origin, AckEntry memory entry) internal pure {
        acks.origins[acks.count] = origin;
        acks.entries[acks.count] = entry;
        ++acks.count;
    }

    /// @dev The entries for the origin of entry `i`, taken out of the buffer (origin 0: taken already).
    function takeGroup(Buffer memory acks, uint256 i) internal pure returns (uint64 origin, AckEntry[] memory group) {
        origin = acks.origins[i];
        if (origin == 0) return (0, group);
        uint256 n;
        for (uint256 j = i; j < acks.count; ++j) {
            if (acks.origins[j] == origin) ++n;
        }
        group = new AckEntry[](n);
        n = 0;
        for (uint256 j = i; j < acks.count; ++j) {
            if (acks.origins[j] == origin) {
                group[n++] = acks.entries[j];
                acks.origins[j] = 0;
            }
        }
    }

    /// @dev At most MAX_ENTRIES entries of `group` from `start`.
    function chunk(AckEntry[] memory group, uint256 start) internal pure returns (AckEntry[] memory part) {
        if (start == 0 && group.length <= MAX_ENTRIES) return group;
        uint256 end = start + MAX_ENTRIES < group.length ? start + MAX_ENTRIES : group.length;
        part = new AckEntry[](end - start);
        for (uint256 k; k < part.length; ++k) part[k] = group[start + k];
    }

    /// @dev The entries of an acknowledgement payload, read in one pass; ok is false unless the payload is
    ///      exactly what `abi.encode(AckEntry[])` writes for at most MAX_ENTRIES entries, every field
    ///      within its type.
    function decode(bytes calldata p) internal pure returns (bool ok, AckEntry[] memory entries) {
        if (p.length < 64 || uint256(bytes32(p[0:32])) != 32) return (false, entries);
        uint256 n = uint256(bytes32(p[32:64]));
        if (n > MAX_ENTRIES || p.length != 64 + n * ENTRY_BYTES) return (false, entries);
        entries = new AckEntry[](n);
        for (uint256 i; i < n; ++i) {
            bytes32 id;
            uint256 dstChain;
            uint256 sequence;
            uint256 sender;
            uint256 outcome;
            assembly ("memory-safe") {
                let at := add(p.offset, add(64, mul(i, 160)))
                id := calldataload(at)
                dstChain := calldataload(add(at, 32))
                sequence := calldataload(add(at, 64))
                sender := calldataload(add(at, 96))
                outcome := calldataload(add(at, 128))
            }
            if ((dstChain | sequence) > type(uint64).max || sender > type(uint160).max || outcome > type(uint8).max) {
                return (false, entries);
            }
            entries[i] = AckEntry(id, uint64(dstChain), uint64(sequence), address(uint160(sender)), uint8(outcome));
        }
        return (true, entries);
    }
}
