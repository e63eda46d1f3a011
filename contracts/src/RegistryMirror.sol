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

    struct Record {
        address account;
        uint8 zoneId;
        uint8 status;
        uint32 sectorMask;
        uint32 version;
    }

    struct Update {
        uint32 entityId;
        address account;
        uint8 zoneId;
        uint8 status;
        uint32 sectorMask;
    }

    error NotGateway(address caller);

    event EntitySynced(uint32 indexed entityId, uint8 zoneId, uint8 status, uint32 sectorMask, uint32 version);
    event StaleUpdateIgnored(uint32 indexed entityId, uint32 version, uint32 applied);

    address public immutable gateway;
    uint64 public immutable hubChain;
    address public immutable broadcaster;

    mapping(uint32 entityId => Record) public records;
    mapping(address account => uint32) public entityOf;
    uint32 public entityCount;

    constructor(address gateway_, uint64 hubChain_, address broadcaster_) {
        gateway = gateway_;
        hubChain = hubChain_;
        broadcaster = broadcaster_;
    }

    function handleMessage(uint64 srcChain, address sender, bytes32, bytes calldata payload) external returns (bool) {
        if (msg.sender != gateway) revert NotGateway(msg.sender);
        if (srcChain != hubChain || sender != broadcaster) return false;
        (uint32 version, Update[] memory updates) = abi.decode(payload, (uint32, Update[]));
        for (uint256 i; i < updates.length; ++i) {
            Update memory u = updates[i];
            Record storage r = records[u.entityId];
            if (r.version >= version) {
                emit StaleUpdateIgnored(u.entityId, version, r.version);
                continue;
            }
            if (r.version == 0) ++entityCount;
            if (r.account != u.account) {
                if (r.account != address(0)) delete entityOf[r.account];
                entityOf[u.account] = u.entityId;
            }
            records[u.entityId] = Record(u.account, u.zoneId, u.status, u.sectorMask, version);
            emit EntitySynced(u.entityId, u.zoneId, u.status, u.sectorMask, version);
        }
        return true;
    }

    function handleOutcome(bytes32, uint8) external pure {}

    /// @notice Active, and allowed to act in `sectorId`.
    function isActiveIn(uint32 entityId, uint8 sectorId) public view returns (bool) {
        Record storage r = records[entityId];
        return r.status == STATUS_ACTIVE && sectorId != 0 && sectorId <= 32 && (r.sectorMask >> (sectorId - 1)) & 1 == 1;
    }

    function isActive(uint32 entityId) public view returns (bool) {
        return records[entityId].status == STATUS_ACTIVE;
    }
}
