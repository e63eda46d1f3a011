// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {EntityWord} from "./EntityWord.sol";
import {IMessageRecipient} from "./Messaging.sol";

/// @title RegistryMirror
/// @notice A zone chain's copy of what it needs from the hub's PilotRegistry: each entity's
///         account, zone, status and sectors. Updated only by messages from the hub's
///         RegistryBroadcaster; an update older than the one applied is ignored, so late or
///         reordered syncs cannot roll an entity back.
contract RegistryMirror is IMessageRecipient {
    using EntityWord for uint256;

    error NotGateway(address caller);

    event Synced(uint32 indexed version, uint256 applied, uint256 stale);

    address public immutable gateway;
    uint64 public immutable hubChain;
    address public immutable broadcaster;

    /// @dev One word per entity, laid out as EntityWord says, tagged with the version that wrote it.
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
            uint32 entityId = u.tag();
            uint32 applied = words[entityId].tag();
            if (applied >= version) {
                ++stale;
                continue;
            }
            if (applied == 0) ++added;
            words[entityId] = u.retag(version);
        }
        if (added != 0) entityCount += added;
        emit Synced(version, updates.length - stale, stale);
        return true;
    }

    function handleOutcome(bytes32, uint8) external pure {}

    /// @notice One update word (EntityWord's layout, tagged with the entity id).
    function pack(uint32 entityId, address account, uint8 zoneId, uint8 status, uint32 sectorMask)
        public
        pure
        returns (uint256)
    {
        return EntityWord.pack(entityId, account, zoneId, status, sectorMask);
    }

    function records(uint32 entityId)
        external
        view
        returns (address account, uint8 zoneId, uint8 status, uint32 sectorMask, uint32 version)
    {
        uint256 w = words[entityId];
        return (w.account(), w.zone(), w.status(), w.sectors(), w.tag());
    }

    /// @notice The raw words of two entities in one call (the data-exchange checks need both).
    function wordsOf(uint32 a, uint32 b) external view returns (uint256, uint256) {
        return (words[a], words[b]);
    }

    /// @notice Active, and allowed to act in `sectorId`.
    function isActiveIn(uint32 entityId, uint8 sectorId) public view returns (bool) {
        return words[entityId].isActiveIn(sectorId);
    }

    function isActive(uint32 entityId) public view returns (bool) {
        return words[entityId].isActive();
    }
}
