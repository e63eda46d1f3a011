// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {EntityWord} from "./EntityWord.sol";
import {Gateway} from "./Gateway.sol";
import {IMessageRecipient, Outcome} from "./Messaging.sol";
import {RegistryMirror} from "./RegistryMirror.sol";

/// @title DataExchange
/// @notice Request/response for datasets between entities of different zones. An active
///         entity asks an entity of another zone for a dataset of a sector (a query hash and a
///         deadline); the provider's chain checks its registry mirror and the sector policy
///         (which requester sectors may receive which data sectors); the provider answers with a
///         hash commitment and a size, which travels back. The data itself stays off-chain.
contract DataExchange is IMessageRecipient, Ownable2Step {
    using EntityWord for uint256;

    uint8 private constant REQUEST = 1;
    uint8 private constant RESPONSE = 2;

    // status of a request on the requester's chain
    uint8 public constant SENT = 1;
    uint8 public constant ACCEPTED = 2; // the provider's chain took it
    uint8 public constant ANSWERED = 3;
    uint8 public constant REFUSED = 4; // rejected by the provider's chain (policy, inactive entity)
    uint8 public constant FAILED = 5;
    uint8 public constant TIMED_OUT = 6;
    uint8 public constant ANSWER_REFUSED = 7; // an answer came, and this chain refused it (see AnswerRefused)

    struct Request {
        uint32 requester;
        uint32 provider;
        uint8 sector;
        uint8 status;
        uint64 providerChain;
        uint64 deadline; // the provider answers by then, and no later answer counts
        bytes32 queryHash;
        bytes32 answerHash;
        uint64 answerSize;
    }

    error NotGateway(address caller);
    error NotEntityAccount(address caller, uint32 entityId);
    error EntityNotActive(uint32 entityId);
    error NotLocalEntity(uint32 entityId, uint8 zoneId);
    error UnknownPeer(uint64 chain);
    error UnknownRequest(bytes32 id);
    error RequestExpired(bytes32 id, uint64 deadline);
    error ProviderNotActive(uint32 provider);

    event PeerSet(uint64 indexed chain, address peer);
    event PolicySet(uint8 indexed requesterSector, uint32 dataSectorMask);
    event PolicySynced(uint32 indexed version, uint256 applied, uint256 stale);
    event RequestSent(bytes32 indexed id, uint32 indexed requester, uint32 indexed provider, uint64 providerChain,
        uint8 sector, bytes32 queryHash, uint64 deadline);
    event RequestReceived(bytes32 indexed id, uint64 requesterChain, uint32 requester, uint32 provider, uint8 sector,
        bytes32 queryHash);
    event RequestRefused(bytes32 indexed id, bytes4 reason);
    event ResponseSent(bytes32 indexed requestId, bytes32 indexed responseId, bytes32 answerHash, uint64 size);
    event Answered(bytes32 indexed requestId, bytes32 answerHash, uint64 size);
    event RequestStatus(bytes32 indexed id, uint8 status);
    event AnswerRefused(bytes32 indexed requestId, bytes4 reason);

    error PolicyRefused(uint8 dataSector);
    error ProviderCannotServe(uint32 provider, uint8 sector);
    error RequesterNotActive(uint32 requester);

    Gateway public immutable gateway;
    RegistryMirror public immutable mirror;
    uint8 public immutable zoneId;
    // The only origin of the sector policy: the hub's broadcaster (the mirror's own source), kept here so
    // that telling a policy sync from data costs two comparisons, not two calls, on every message.
    uint64 public immutable hubChain;
    address public immutable hubBroadcaster;
    mapping(uint64 chain => address) public peers;
    mapping(uint8 requesterSector => uint32 dataSectorMask) public policy;
    mapping(uint8 dataSector => uint32 requesterSectorMask) public allowedRequesters; // the same policy, inverted
    mapping(uint8 requesterSector => uint32 version) public policyVersion; // of the hub's sync that set it

    mapping(bytes32 id => Request) public requests; // on the requester's chain
    // on the provider's chain: a pending request, the high 192 bits of its hash and its deadline (low 64)
    mapping(bytes32 id => bytes32) public incoming;

    constructor(Gateway gateway_, RegistryMirror mirror_, uint8 zoneId_, address admin_) Ownable(admin_) {
        gateway = gateway_;
        mirror = mirror_;
        zoneId = zoneId_;
        hubChain = mirror_.hubChain();
        hubBroadcaster = mirror_.broadcaster();
    }

    function setPeer(uint64 chain, address peer) public onlyOwner {
        peers[chain] = peer;
        emit PeerSet(chain, peer);
    }

    function setPeers(uint64[] calldata chains, address[] calldata peers_) external {
        for (uint256 i; i < chains.length; ++i) setPeer(chains[i], peers_[i]);
    }

    function _setPolicy(uint8 requesterSector, uint32 dataSectorMask) private {
        uint32 changed = policy[requesterSector] ^ dataSectorMask; // only these need writing
        uint32 bit = uint32(1) << (requesterSector - 1);
        for (uint8 s = 1; s <= 32; ++s) {
            uint32 dataBit = uint32(1) << (s - 1);
            if (changed & dataBit == 0) continue;
            if (dataSectorMask & dataBit != 0) allowedRequesters[s] |= bit;
            else allowedRequesters[s] &= ~bit;
        }
        policy[requesterSector] = dataSectorMask;
        emit PolicySet(requesterSector, dataSectorMask);
    }

    // ------------------------------------------------------------------------ requester side

    function request(uint32 requester, uint32 provider, uint64 providerChain, uint8 sector, bytes32 queryHash,
        uint64 ttl) external returns (bytes32 id)
    {
        _requireLocalRequester(requester);
        address peer = peers[providerChain];
        if (peer == address(0)) revert UnknownPeer(providerChain);
        uint64 deadline = uint64(block.timestamp) + ttl;
        bytes memory payload = abi.encode(REQUEST, requester, provider, sector, queryHash, deadline);
        id = gateway.send(providerChain, peer, payload, ttl, 0);
        // the gateway is this chain's own, trusted contract: no reentrancy through it
        // solhint-disable-next-line reentrancy
        requests[id] = Request(requester, provider, sector, SENT, providerChain, deadline, queryHash, 0, 0);
        emit RequestSent(id, requester, provider, providerChain, sector, queryHash, deadline);
    }

    function _requireLocalRequester(uint32 requester) private view {
        (address account, uint8 zone, uint8 status,,) = mirror.records(requester);
        if (account != msg.sender) revert NotEntityAccount(msg.sender, requester);
        if (zone != zoneId) revert NotLocalEntity(requester, zone);
        if (status != EntityWord.ACTIVE) revert EntityNotActive(requester);
    }

    // ------------------------------------------------------------------------ provider side

    /// @notice The provider commits to its answer: the hash of the dataset and its size, by the request's
    ///         deadline. Neither party may have been suspended meanwhile, nor the sector's policy revoked
    ///         (as this chain's mirror and policy say).
    function respond(bytes32 requestId, uint64 requesterChain, uint32 requester, uint32 provider, uint8 sector,
        bytes32 queryHash, bytes32 answerHash, uint64 size, uint64 ttl) external returns (bytes32 responseId)
    {
        _takeAnswerable(requestId, _requestHash(requesterChain, requester, provider, sector, queryHash));
        _requireActiveCaller(provider);
        bytes4 reason = _refusal(requester, provider, sector);
        if (reason == RequesterNotActive.selector) revert RequesterNotActive(requester);
        if (reason == PolicyRefused.selector) revert PolicyRefused(sector);
        if (reason != bytes4(0)) revert ProviderCannotServe(provider, sector);
        responseId = gateway.send(
            requesterChain, peers[requesterChain], abi.encode(RESPONSE, requestId, answerHash, size), ttl, 0
        );
        emit ResponseSent(requestId, responseId, answerHash, size);
    }

    /// @dev The pending request `requestId` of hash `hash`, taken (one answer per request) unless past its deadline.
    function _takeAnswerable(bytes32 requestId, bytes32 hash) private {
        uint256 pending = uint256(incoming[requestId]);
        if (pending == 0 || pending >> 64 != uint256(hash) >> 64) revert UnknownRequest(requestId);
        if (block.timestamp > uint64(pending)) revert RequestExpired(requestId, uint64(pending));
        delete incoming[requestId];
    }

    function _requireActiveCaller(uint32 entityId) private view {
        (address account,, uint8 status,,) = mirror.records(entityId);
        if (account != msg.sender) revert NotEntityAccount(msg.sender, entityId);
        if (status != EntityWord.ACTIVE) revert EntityNotActive(entityId);
    }

    // ------------------------------------------------------------------------ gateway callbacks

    function handleMessage(uint64 srcChain, address sender, bytes32 id, bytes calldata payload)
        external
        returns (bool)
    {
        if (msg.sender != address(gateway)) revert NotGateway(msg.sender);
        if (srcChain == hubChain && sender == hubBroadcaster) return _receivePolicy(payload);
        if (sender != peers[srcChain] || sender == address(0)) return false;
        uint8 kind = abi.decode(payload[:32], (uint8));
        if (kind == REQUEST) return _receiveRequest(srcChain, id, payload);
        if (kind == RESPONSE) return _receiveResponse(srcChain, payload);
        return false;
    }

    /// @dev The hub's sector policy, from the hub's broadcaster (the gateway has checked the origin).
    ///      A sector set by a later sync is not rolled back.
    function _receivePolicy(bytes calldata payload) private returns (bool) {
        (uint32 version, uint8[] memory sectors, uint32[] memory masks) =
            abi.decode(payload, (uint32, uint8[], uint32[]));
        if (sectors.length != masks.length) return false;
        uint256 stale;
        for (uint256 i; i < sectors.length; ++i) {
            uint8 s = sectors[i];
            if (s == 0 || s > 32 || policyVersion[s] >= version) {
                ++stale;
                continue;
            }
            policyVersion[s] = version;
            _setPolicy(s, masks[i]);
        }
        emit PolicySynced(version, sectors.length - stale, stale);
        return true;
    }

    function _receiveRequest(uint64 srcChain, bytes32 id, bytes calldata payload) private returns (bool) {
        (, uint32 requester, uint32 provider, uint8 sector, bytes32 queryHash, uint64 deadline) =
            abi.decode(payload, (uint8, uint32, uint32, uint8, bytes32, uint64));
        bytes4 reason = _refusal(requester, provider, sector);
        if (reason != bytes4(0)) {
            emit RequestRefused(id, reason);
            return false;
        }
        uint256 hash = uint256(_requestHash(srcChain, requester, provider, sector, queryHash));
        incoming[id] = bytes32(hash >> 64 << 64 | deadline);
        emit RequestReceived(id, srcChain, requester, provider, sector, queryHash);
        return true;
    }

    function _refusal(uint32 requester, uint32 provider, uint8 sector) private view returns (bytes4) {
        (uint256 p, uint256 r) = mirror.wordsOf(provider, requester);
        if (p.zone() != zoneId || !p.isActiveIn(sector)) return ProviderCannotServe.selector; // sector 1 to 32
        if (!r.isActive()) return RequesterNotActive.selector;
        if (r.sectors() & allowedRequesters[sector] == 0) return PolicyRefused.selector;
        return bytes4(0);
    }

    /// @dev An answer counts only from the provider's chain, by the deadline, while both parties are active
    ///      in this chain's mirror and the policy still lets the requester have the sector's data; otherwise
    ///      it is refused (ANSWER_REFUSED) and the provider's chain is told (REJECTED).
    function _receiveResponse(uint64 srcChain, bytes calldata payload) private returns (bool) {
        (, bytes32 requestId, bytes32 answerHash, uint64 size) = abi.decode(payload, (uint8, bytes32, bytes32, uint64));
        Request storage r = requests[requestId];
        if (r.status != ACCEPTED && r.status != SENT) return false;
        if (srcChain != r.providerChain) return false; // only the provider's chain answers its requests
        bytes4 reason = _answerRefusal(r);
        if (reason != bytes4(0)) {
            r.status = ANSWER_REFUSED;
            emit AnswerRefused(requestId, reason);
            emit RequestStatus(requestId, ANSWER_REFUSED);
            return false;
        }
        r.status = ANSWERED;
        r.answerHash = answerHash;
        r.answerSize = size;
        emit Answered(requestId, answerHash, size);
        return true;
    }

    function _answerRefusal(Request storage r) private view returns (bytes4) {
        if (block.timestamp > r.deadline) return RequestExpired.selector;
        (uint256 p, uint256 q) = mirror.wordsOf(r.provider, r.requester);
        if (!q.isActive()) return RequesterNotActive.selector;
        if (!p.isActive()) return ProviderNotActive.selector;
        if (q.sectors() & allowedRequesters[r.sector] == 0) return PolicyRefused.selector;
        return bytes4(0);
    }

    function handleOutcome(bytes32 id, uint8 outcome) external {
        if (msg.sender != address(gateway)) revert NotGateway(msg.sender);
        Request storage r = requests[id];
        if (r.status != SENT) return; // a response's outcome, or already answered
        if (outcome == Outcome.DELIVERED) r.status = ACCEPTED;
        else if (outcome == Outcome.REJECTED) r.status = REFUSED;
        else if (outcome == Outcome.TIMED_OUT) r.status = TIMED_OUT;
        else r.status = FAILED;
        emit RequestStatus(id, r.status);
    }

    function _requestHash(uint64 chain, uint32 requester, uint32 provider, uint8 sector, bytes32 queryHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(chain, requester, provider, sector, queryHash));
    }
}
