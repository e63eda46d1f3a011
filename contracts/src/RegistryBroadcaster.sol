// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {EntityWord} from "./EntityWord.sol";
import {Gateway} from "./Gateway.sol";
import {IMessageRecipient} from "./Messaging.sol";
import {PilotRegistry} from "./PilotRegistry.sol";

/// @title RegistryBroadcaster
/// @notice On the hub: reads entities from the PilotRegistry and sends them to the
///         RegistryMirror of each zone chain, with an increasing version. Only its owner (the hub's
///         governance) syncs: a stranger could otherwise drain a rate-limited hub lane and delay the
///         sync of a suspension.
contract RegistryBroadcaster is IMessageRecipient, Ownable2Step {
    error UnknownMirror(uint64 chain);
    error UnknownExchange(uint64 chain);

    event MirrorSet(uint64 indexed chain, address mirror);
    event ExchangeSet(uint64 indexed chain, address exchange);
    event Broadcast(uint64 indexed chain, bytes32 id, uint32 version, uint256 entities);
    event PolicyBroadcast(uint64 indexed chain, bytes32 id, uint32 version, uint256 sectors);
    event SyncOutcome(bytes32 indexed id, uint8 outcome);

    PilotRegistry public immutable registry;
    Gateway public immutable gateway;
    uint32 public version;
    mapping(uint64 chain => address) public mirrors;
    mapping(uint64 chain => address) public exchanges; // each zone's DataExchange: where the policy goes

    constructor(PilotRegistry registry_, Gateway gateway_, address admin_) Ownable(admin_) {
        registry = registry_;
        gateway = gateway_;
    }

    function setMirror(uint64 chain, address mirror) external onlyOwner {
        mirrors[chain] = mirror;
        emit MirrorSet(chain, mirror);
    }

    function setExchange(uint64 chain, address exchange) external onlyOwner {
        exchanges[chain] = exchange;
        emit ExchangeSet(chain, exchange);
    }

    uint32 public constant GAS_PER_ENTITY = 30_000;
    // A zone's DataExchange applying one sector's policy: its version and mask, then one word per data
    // sector whose bit changes (at worst every sector, each a fresh slot: 22,100 gas)
    uint32 public constant GAS_PER_SECTOR = 45_000;
    uint32 public constant GAS_PER_POLICY_BIT = 23_000;

    /// @notice Send the current record of `entityIds` to the mirrors of `chains`.
    function sync(uint32[] calldata entityIds, uint64[] calldata chains, uint64 ttl) external onlyOwner {
        uint256[] memory updates = new uint256[](entityIds.length);
        for (uint256 i; i < entityIds.length; ++i) {
            PilotRegistry.Entity memory e = registry.getEntity(entityIds[i]);
            updates[i] = EntityWord.pack(e.id, e.account, e.zoneId, uint8(e.status), e.sectorMask);
        }
        uint32 v = ++version;
        _broadcast(chains, abi.encode(v, updates), ttl, uint32(50_000 + GAS_PER_ENTITY * entityIds.length), v);
    }

    /// @notice Send the registry's sector policy of `sectors` to the DataExchanges of `chains`.
    function syncPolicy(uint8[] calldata sectors, uint64[] calldata chains, uint64 ttl) external onlyOwner {
        uint32 v = ++version;
        bytes memory payload = _policyPayload(v, sectors);
        // above the gateway's cap (too many sectors at once), the send is refused
        uint256 perSector = GAS_PER_SECTOR + GAS_PER_POLICY_BIT * registry.sectorCount();
        uint32 gasLimit = uint32(50_000 + perSector * sectors.length);
        for (uint256 i; i < chains.length; ++i) {
            address exchange = exchanges[chains[i]];
            if (exchange == address(0)) revert UnknownExchange(chains[i]);
            // Gateway.send sends a cross-chain message, not ether
            // solhint-disable-next-line multiple-sends
            bytes32 id = gateway.send(chains[i], exchange, payload, ttl, gasLimit);
            emit PolicyBroadcast(chains[i], id, v, sectors.length);
        }
    }

    function _policyPayload(uint32 v, uint8[] calldata sectors) private view returns (bytes memory) {
        uint32[] memory masks = new uint32[](sectors.length);
        for (uint256 i; i < sectors.length; ++i) {
            masks[i] = registry.dataPolicy(sectors[i]);
        }
        return abi.encode(v, sectors, masks);
    }

    function _broadcast(uint64[] calldata chains, bytes memory payload, uint64 ttl, uint32 gasLimit, uint32 v)
        private
    {
        uint256 entities = (payload.length - 96) / 32; // (version, offset, length) then a word each
        for (uint256 i; i < chains.length; ++i) {
            address mirror = mirrors[chains[i]];
            if (mirror == address(0)) revert UnknownMirror(chains[i]);
            // Gateway.send sends a cross-chain message, not ether
            // solhint-disable-next-line multiple-sends
            bytes32 id = gateway.send(chains[i], mirror, payload, ttl, gasLimit);
            emit Broadcast(chains[i], id, v, entities);
        }
    }

    function handleMessage(uint64, address, bytes32, bytes calldata) external pure returns (bool) {
        return false; // the broadcaster only sends
    }

    function handleOutcome(bytes32 id, uint8 outcome) external {
        if (msg.sender == address(gateway)) emit SyncOutcome(id, outcome);
    }
}
