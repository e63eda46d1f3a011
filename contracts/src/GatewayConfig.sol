// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IVerifier} from "./Messaging.sol";
import {TokenBucket} from "./TokenBucket.sol";

/// @title GatewayConfig
/// @notice What a gateway's governance (its owner, two-step ownership from OpenZeppelin) sets, and what
///         a send must pass before it leaves: lanes (next hop, verifier, remote gateway, pause), a rate
///         limit per lane (messages), and destination gas quotas.
///
///         Destination gas is paid for at the source. A send declares the handler gas its message may
///         burn at its destination; that cap, with the gateways' own work for the message at every hop,
///         its payload, and the acknowledgement and outcome callback it comes back with, is taken from
///         the sender's gas quota on the lane its message leaves by (the next hop), a token bucket
///         refilled over time. Senders governance names get their own quota; every other sender draws
///         on one open quota per lane, so no stranger, however many accounts it uses, occupies a lane
///         beyond that share. A router also keeps a quota per origin chain on each lane it forwards
///         onto, so no zone, whatever its own governance does, crowds a hub lane beyond its share. A
///         lane with no quota set is not accounted (the documented flawed setting).
abstract contract GatewayConfig is Ownable2Step {
    using TokenBucket for TokenBucket.Bucket;

    uint64 public constant MAX_TTL = 30 days;
    uint32 public constant MAX_GAS_LIMIT = 10_000_000;
    uint32 public constant MAX_PAYLOAD_LIMIT = 32 * 1024; // the largest payload cap governance may set
    uint256 public constant OUTCOME_GAS = 50_000; // what each sender's handleOutcome callback gets
    uint256 public constant MESSAGE_GAS = 60_000; // a gateway's own work for a message, at each hop
    uint256 public constant PAYLOAD_BYTE_GAS = 48; // a payload byte at each hop: calldata at its EIP-7623 floor
    // (40) and the Sent log that carries it on (8)
    uint256 public constant ACK_GAS = 30_000 + OUTCOME_GAS; // its acknowledgement entry and the sender's callback
    uint256 private constant MILLI = 1000;
    address public constant OPEN_QUOTA = address(0); // the share of every sender without a quota of its own

    // three slots: what a send and a delivery read first; the counters a send moves (one slot, so a direct
    // send writes it once); the remote gateway
    struct Lane {
        uint64 via; // next hop toward that chain: itself when direct, the hub when routed; 0 = no lane
        bool paused;
        IVerifier verifier; // checks what arrives from that chain as a hop
        uint64 outSequence; // last lane sequence this chain used as origin toward that chain
        uint64 hopSent; // Sent events this chain emitted toward that chain as next hop
        uint64 hopNext; // lowest hop sequence from that chain not yet taken (0: 1)
        uint64 ahead; // hop sequences from that chain taken above hopNext
        address remoteGateway; // that chain's gateway (acks are addressed to it; proofs bind it)
    }

    error UnknownLane(uint64 chain);
    error LanePaused(uint64 chain);
    error RateLimited(uint64 chain, uint256 availableMilli);
    error GasQuotaExceeded(uint64 lane, address sender, uint256 cost, uint256 available);
    error BadTtl(uint64 ttl);
    error BadGasLimit(uint256 gasLimit);
    error PayloadTooLarge(uint256 size, uint256 max);
    error BadPayloadCap(uint256 max);
    error LengthMismatch();
    error InsufficientGas(uint256 left, uint256 needed);

    event LaneConfigured(uint64 indexed chain, uint64 via, address verifier, address remoteGateway);
    event LanePauseSet(uint64 indexed chain, bool paused);
    event RateLimitSet(uint64 indexed chain, uint64 capacity, uint64 refillPerSecond);
    event RateExemptSet(address indexed sender, bool exempt);
    event GasQuotaSet(uint64 indexed lane, address indexed sender, uint64 capacity, uint64 refillPerSecond);
    event OriginQuotaSet(uint64 indexed lane, uint64 indexed origin, uint64 capacity, uint64 refillPerSecond);

    uint64 public immutable chainId;
    bool public immutable isRouter;
    uint256 public immutable maxPayload; // bytes; the same on every gateway of a network (set when deployed)
    uint256 public handlerGasLimit; // a message's handler gas when its sender gives none

    mapping(uint64 chain => Lane) public lanes;
    mapping(uint64 chain => TokenBucket.Bucket) public buckets; // thousandths of a message
    mapping(address sender => bool) public rateExempt; // senders governance lets past the rate limits
    mapping(uint64 lane => mapping(address sender => TokenBucket.Bucket)) public gasQuotas; // gas, by next hop
    mapping(uint64 lane => mapping(uint64 origin => TokenBucket.Bucket)) public originQuotas; // a router's, gas
    mapping(address => bool) internal _privileged; // verifiers: no relayed message may call them

    constructor(address admin_, bool isRouter_, uint256 handlerGasLimit_, uint256 maxPayload_) Ownable(admin_) {
        chainId = uint64(block.chainid);
        isRouter = isRouter_;
        if (handlerGasLimit_ > MAX_GAS_LIMIT) revert BadGasLimit(handlerGasLimit_);
        handlerGasLimit = handlerGasLimit_;
        if (maxPayload_ == 0 || maxPayload_ > MAX_PAYLOAD_LIMIT) revert BadPayloadCap(maxPayload_);
        maxPayload = maxPayload_;
    }

    // ------------------------------------------------------------------------ governance

    /// @notice The lane toward `chain`: reached through `via`; what arrives from it as a hop is checked by
    ///         `verifier`; its gateway is `remoteGateway`.
    function setLane(uint64 chain, uint64 via, IVerifier verifier, address remoteGateway) public onlyOwner {
        Lane storage lane = lanes[chain];
        lane.via = via;
        lane.verifier = verifier;
        lane.remoteGateway = remoteGateway;
        if (address(verifier) != address(0)) _privileged[address(verifier)] = true;
        emit LaneConfigured(chain, via, address(verifier), remoteGateway);
    }

    function setLanes(
        uint64[] calldata chains,
        uint64[] calldata vias,
        IVerifier[] calldata verifiers,
        address[] calldata remoteGateways
    ) external {
        if (vias.length != chains.length || verifiers.length != chains.length || remoteGateways.length != chains.length)
        {
            revert LengthMismatch();
        }
        for (uint256 i; i < chains.length; ++i) setLane(chains[i], vias[i], verifiers[i], remoteGateways[i]);
    }

    /// @notice Pause the lane with `chain` both ways: sends toward it (or routed through it) are refused,
    ///         deliveries from it wait.
    function setPaused(uint64 chain, bool paused) external onlyOwner {
        lanes[chain].paused = paused;
        emit LanePauseSet(chain, paused);
    }

    /// @notice Token bucket on messages sent toward `chain`: `capacity` messages, refilled at
    ///         `refillPerSecond` thousandths of a message per second. Capacity 0 lifts the limit.
    function setRateLimit(uint64 chain, uint64 capacity, uint64 refillPerSecond) external onlyOwner {
        buckets[chain].configure(capacity * uint64(MILLI), refillPerSecond);
        emit RateLimitSet(chain, capacity, refillPerSecond);
    }

    /// @notice Let `sender`'s sends past every lane's rate limit (the hub's registry broadcaster: no
    ///         stranger draining a lane can hold back a suspension's sync). Gas quotas still apply.
    function setRateExempt(address sender, bool exempt) external onlyOwner {
        rateExempt[sender] = exempt;
        emit RateExemptSet(sender, exempt);
    }

    /// @notice `sender`'s destination-gas quota on the lanes to the next hops `hops`: `capacity` gas, refilled
    ///         at `refillPerSecond`. `sender` OPEN_QUOTA sets the share of every sender without one of its
    ///         own. Capacity 0 removes the quota (the sender then draws on the open share).
    function setGasQuota(uint64[] calldata hops, address sender, uint64 capacity, uint64 refillPerSecond)
        external
        onlyOwner
    {
        for (uint256 i; i < hops.length; ++i) {
            gasQuotas[hops[i]][sender].configure(capacity, refillPerSecond);
            emit GasQuotaSet(hops[i], sender, capacity, refillPerSecond);
        }
    }

    /// @notice A router's quota for what chain `origin` sends through it onto the lanes to `hops` (what it
    ///         cannot pay for ends REJECTED at the router, and its origin is told).
    function setOriginQuota(uint64[] calldata hops, uint64 origin, uint64 capacity, uint64 refillPerSecond)
        external
        onlyOwner
    {
        for (uint256 i; i < hops.length; ++i) {
            originQuotas[hops[i]][origin].configure(capacity, refillPerSecond);
            emit OriginQuotaSet(hops[i], origin, capacity, refillPerSecond);
        }
    }

    function setHandlerGasLimit(uint256 limit) external onlyOwner {
        if (limit > MAX_GAS_LIMIT) revert BadGasLimit(limit);
        handlerGasLimit = limit;
    }

    // ------------------------------------------------------------------------ admission

    /// @notice What a message with handler gas `cap` and a payload of `size` bytes, crossing `hops` hops, may
    ///         cost the chains it reaches: its handler, each hop's work and calldata, its acknowledgement.
    function destinationGas(uint256 cap, uint256 size, uint256 hops) public pure returns (uint256) {
        return cap + ACK_GAS + hops * (MESSAGE_GAS + PAYLOAD_BYTE_GAS * size);
    }

    /// @dev Take a send's message token toward `chain` (rate limit) and the destination gas of its message
    ///      (handler gas `cap`, `size` bytes) from its sender's quota on the lane to the next hop `via`, or
    ///      revert with what is short.
    function _admit(uint64 chain, uint64 via, uint256 cap, uint256 size) internal {
        address sender = msg.sender;
        TokenBucket.Bucket storage bucket = buckets[chain];
        if (bucket.capacity != 0 && !rateExempt[sender] && !bucket.take(MILLI)) {
            revert RateLimited(chain, bucket.available());
        }
        uint256 gasCost = destinationGas(cap, size, via == chain ? 1 : 2);
        TokenBucket.Bucket storage quota = gasQuotas[via][sender];
        if (quota.capacity == 0) quota = gasQuotas[via][OPEN_QUOTA];
        if (quota.capacity != 0 && !quota.take(gasCost)) {
            revert GasQuotaExceeded(via, sender, gasCost, quota.available());
        }
    }

    /// @dev A router's tokens for a forward onto the lane to `chain`: a message (rate limit) and the gas the
    ///      next hop will spend on it, from its origin's quota; false when either is short.
    function _admitForward(uint64 chain, uint64 origin, uint256 cap, uint256 size) internal returns (bool) {
        TokenBucket.Bucket storage bucket = buckets[chain];
        if (bucket.capacity != 0 && !bucket.take(MILLI)) return false;
        TokenBucket.Bucket storage quota = originQuotas[chain][origin];
        return quota.capacity == 0 || quota.take(destinationGas(cap, size, 1));
    }

    /// @dev Revert unless a call given `cap` gas really gets it (EIP-150 keeps 1/64 back): a relayer cannot
    ///      starve a handler into failing.
    function _reserve(uint256 cap) internal view {
        uint256 needed = cap + cap / 63 + 10_000;
        if (gasleft() < needed) revert InsufficientGas(gasleft(), needed);
    }

    // ------------------------------------------------------------------------ views

    function availableTokens(uint64 chain) external view returns (uint256 milli) {
        TokenBucket.Bucket storage b = buckets[chain];
        return b.capacity == 0 ? type(uint256).max : b.available();
    }

    /// @notice Destination gas `sender` may still send onto the lane to `hop` now (max: not accounted).
    function availableGas(uint64 hop, address sender) external view returns (uint256) {
        TokenBucket.Bucket storage quota = gasQuotas[hop][sender];
        if (quota.capacity == 0) quota = gasQuotas[hop][OPEN_QUOTA];
        return quota.capacity == 0 ? type(uint256).max : quota.available();
    }
}
