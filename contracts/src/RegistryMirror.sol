// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IMessageRecipient} from "./Messaging.sol";

/// @title RegistryMirror
/// @notice A zone chain's copy of what it needs from the hub's PilotRegistry: each entity's
///         account, zone, status and sectors. Updated only by messages from the hub's
///         RegistryBroadcaster; an update older than the one applied is ignored, so late or
///         reordered syncs cannot roll an entity back.
contract RegistryMirror is IMessageRecipient {
    uint8 public constant STATUS_ACTIVE = 2; // PilotRegistry.EntityStatus.Active
    uint256 private constant LOW_224 = (uint256(1) << 224) - 1;

    error NotGateway(address caller);

    event Synced(uint32 indexed version, uint256 applied, uint256 stale);

    address public immutable gateway;
    uint64 public immutable hubChain;
    address public immutable broadcaster;

    /// @dev One word per entity, as `pack` lays it out with the entity id replaced by the version
    ///      that wrote it: version (32) | account (160) | zoneId (8) | status (8) | spare (16) | sectorMask (32).
    mapping(uint32 entityId => uint256) public words;
    uint32 public entityCount;

    constructor(address gateway_, uint64 hubChain_, address broadcaster_) {
        gateway = gateway_;
        hubChain = hubChain_;
        broadcaster = broadcaster_;
    }

    function handleMessage(uint64 srcChain, address sender, bytes32, bytes calldata payload) external returns (bool) {
        if (msg.sender != gateway) revert NotGateway(msg.sender);
        if (srcChain != hubChain || sender != broadcaster) return false;
        (uint32 version, uint256[] memory updates) = abi.decode(payload, (uint32, uint256[]));
        uint32 added;
        uint256 stale;
        for (uint256 i; i < updates.length; ++i) {
            uint256 u = updates[i];
            uint32 entityId = uint32(u >> 224);
            uint32 applied = uint32(words[entityId] >> 224);
            if (applied >= version) {
                ++stale;
                continue;
            }
            if (applied == 0) ++added;
            words[entityId] = (uint256(version) << 224) | (u & LOW_224);
        }
        if (added != 0) entityCount += added;
        emit Synced(version, updates.length - stale, stale);
        return true;
    }

    function handleOutcome(bytes32, uint8) external pure {}

    /// @notice One update word:
    ///         entityId (32 bits) | account (160) | zoneId (8) | status (8) | spare (16) | sectorMask (32).
    function pack(uint32 entityId, address account, uint8 zoneId, uint8 status, uint32 sectorMask)
        public
        pure
        returns (uint256)
    {
        return (uint256(entityId) << 224) | (uint256(uint160(account)) << 64) | (uint256(zoneId) << 56)
            | (uint256(status) << 48) | sectorMask;
    }

    function records(uint32 entityId)
        external
        view
        returns (address account, uint8 zoneId, uint8 status, uint32 sectorMask, uint32 version)
    {
        uint256 w = words[entityId];
        return (address(uint160(w >> 64)), uint8(w >> 56), uint8(w >> 48), uint32(w), uint32(w >> 224));
    }

    /// @notice The raw words of two entities in one call (the data-exchange checks need both).
    function wordsOf(uint32 a, uint32 b) external view returns (uint256, uint256) {
        return (words[a], words[b]);
    }

    /// @notice Active, and allowed to act in `sectorId`.
    function isActiveIn(uint32 entityId, uint8 sectorId) public view returns (bool) {
        uint256 w = words[entityId];
        if (sectorId == 0 || sectorId > 32) return false;
        return uint8(w >> 48) == STATUS_ACTIVE && (uint32(w) >> (sectorId - 1)) & 1 == 1;
    }

    function isActive(uint32 entityId) public view returns (bool) {
        return uint8(words[entityId] >> 48) == STATUS_ACTIVE;
    }
}
