// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AckEntry, IMessageRecipient, Message, MessageLib, Outcome} from "./Messaging.sol";
import {Committee} from "./Committee.sol";

/// @title Gateway
/// @notice The cross-chain mailbox of one chain. `send` gives a message an id that commits to its
///         version, kind, origin and destination chains, lane sequence, deadline, sender,
///         recipient and payload hash. Relayers deliver messages hop by hop, in the order the
///         previous hop emitted them (a per-hop sequence, signed with the message), verified by
///         the previous hop's committee: each message signed (committee mode) or a Merkle root
///         over many signed once (checkpoint mode). Every message ends DELIVERED, FAILED,
///         TIMED_OUT or REJECTED, recorded on the destination and sent back to the origin in an
///         acknowledgement. A routing gateway (the hub) forwards messages meant for other chains.
contract Gateway {
    using MessageLib for Message;

    uint8 public constant MODE_COMMITTEE = 1;
    uint8 public constant MODE_CHECKPOINT = 2;
    uint64 public constant MAX_TTL = 30 days;
    uint32 public constant MAX_GAS_LIMIT = 10_000_000;
    uint256 private constant MILLI = 1000;

    struct Lane {
        uint64 via; // next hop toward that chain: itself when direct, the hub when routed; 0 = no lane
        uint8 mode; // how messages arriving from that chain as a hop are verified
        bool paused;
        address remoteGateway; // that chain's gateway (acks are addressed to it; signatures bind it)
        uint64 outSequence; // last lane sequence this chain used as origin toward that chain
        uint64 hopSent; // Sent events this chain emitted toward that chain as next hop
        uint64 hopNext; // next hop sequence expected from that chain as previous hop
    }

    struct Bucket {
        uint64 capacity; // milli-messages; 0 = no limit
        uint64 tokens; // milli-messages
        uint64 refillPerSecond; // milli-messages per second
        uint64 updatedAt;
    }

    struct SignedDelivery {
        Message message;
        uint64 hopSequence;
        bytes signatures;
    }

    struct ProvenDelivery {
        Message message;
        uint64 hopSequence;
        bytes32[] proof;
    }

    error NotAdmin(address caller);
    error UnknownLane(uint64 chain);
    error LanePaused(uint64 chain);
    error RateLimited(uint64 chain, uint256 availableMilli);
    error BadTtl(uint64 ttl);
    error BadGasLimit(uint32 gasLimit);
    error WrongVerifierMode(uint64 hop, uint8 mode);
    error InsufficientGas(uint256 left, uint256 needed);
    error Reentrancy();
    // reasons a delivered message is refused (in `Refused` events)
    error WrongDestination(uint64 dstChain);
    error OutOfOrder(uint64 hopSequence, uint64 expected);
    error AlreadyProcessed(bytes32 id);
    error NotInCheckpoint(bytes32 id);

    event Sent(bytes32 indexed id, uint64 indexed hop, uint64 hopSequence, Message message);
    event Processed(bytes32 indexed id, uint64 indexed srcChain, uint64 sequence, uint8 outcome);
    event Refused(bytes32 indexed id, uint64 hopSequence, bytes4 reason);
    event Acknowledged(bytes32 indexed id, uint64 indexed dstChain, uint64 sequence, uint8 outcome);
    event LaneConfigured(uint64 indexed chain, uint64 via, uint8 mode, address remoteGateway);
    event LanePauseSet(uint64 indexed chain, bool paused);
    event RateLimitSet(uint64 indexed chain, uint64 capacity, uint64 refillPerSecond);

    uint64 public immutable chainId;
    bool public immutable isRouter;
    Committee public immutable committee;
    address public admin;
    uint256 public handlerGasLimit;

    mapping(uint64 chain => Lane) public lanes;
    mapping(uint64 chain => Bucket) public buckets;
    // 4-bit outcomes packed 64 to a word, by (remote chain, lane sequence)
    mapping(uint64 dstChain => mapping(uint256 word => uint256)) private _outbound;
    mapping(uint64 srcChain => mapping(uint256 word => uint256)) private _inbound;

    bool private transient _entered;

    constructor(address admin_, Committee committee_, bool isRouter_, uint256 handlerGasLimit_) {
        chainId = uint64(block.chainid);
        admin = admin_;
        committee = committee_;
        isRouter = isRouter_;
        handlerGasLimit = handlerGasLimit_;
    }

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        _;
    }

    modifier nonReentrant() {
        if (_entered) revert Reentrancy();
        _entered = true;
        _;
        _entered = false;
    }

    // ------------------------------------------------------------------------ governance

    function setLane(uint64 chain, uint64 via, uint8 mode, address remoteGateway) public onlyAdmin {
        Lane storage lane = lanes[chain];
        lane.via = via;
        lane.mode = mode;
        lane.remoteGateway = remoteGateway;
        emit LaneConfigured(chain, via, mode, remoteGateway);
    }

    function setLanes(
        uint64[] calldata chains,
        uint64[] calldata vias,
        uint8[] calldata modes,
        address[] calldata remoteGateways
    ) external {
        for (uint256 i; i < chains.length; ++i) setLane(chains[i], vias[i], modes[i], remoteGateways[i]);
    }

    function setPaused(uint64 chain, bool paused) external onlyAdmin {
        lanes[chain].paused = paused;
        emit LanePauseSet(chain, paused);
    }

    /// @notice Token bucket on messages sent toward `chain`: `capacity` messages, refilled at
    ///         `refillPerSecond` thousandths of a message per second. Capacity 0 lifts the limit.
    function setRateLimit(uint64 chain, uint64 capacity, uint64 refillPerSecond) external onlyAdmin {
        uint64 size = capacity * uint64(MILLI);
        buckets[chain] = Bucket(size, size, refillPerSecond, uint64(block.timestamp));
        emit RateLimitSet(chain, capacity, refillPerSecond);
    }

    function setHandlerGasLimit(uint256 limit) external onlyAdmin {
        handlerGasLimit = limit;
    }

    // ------------------------------------------------------------------------ sending

    /// @notice Send `payload` to `recipient` on `dstChain`; it must be processed within `ttl` seconds,
    ///         and its handler gets `gasLimit` gas (0: this gateway's default).
    function send(uint64 dstChain, address recipient, bytes calldata payload, uint64 ttl, uint32 gasLimit)
        external
        returns (bytes32 id)
    {
        Lane storage lane = lanes[dstChain];
        if (lane.via == 0 || dstChain == chainId) revert UnknownLane(dstChain);
        if (lane.paused) revert LanePaused(dstChain);
        if (ttl == 0 || ttl > MAX_TTL) revert BadTtl(ttl);
        if (gasLimit > MAX_GAS_LIMIT) revert BadGasLimit(gasLimit);
        _consume(dstChain);
        uint64 sequence = ++lane.outSequence;
        Message memory m = Message(
            MessageLib.VERSION, MessageLib.KIND_DATA, chainId, dstChain, sequence, uint64(block.timestamp) + ttl,
            gasLimit == 0 ? uint32(handlerGasLimit) : gasLimit, msg.sender, recipient, payload
        );
        id = m.idMemory();
        _setNibble(_outbound[dstChain], sequence, Outcome.PENDING);
        _emitSent(id, lane.via, m);
    }

    // ------------------------------------------------------------------------ delivering

    /// @notice Committee mode: each message carries the signatures of `hop`'s committee.
    function deliverSigned(uint64 hop, SignedDelivery[] calldata items) external nonReentrant {
        (Lane storage lane, uint64 next) = _inboundLane(hop, MODE_COMMITTEE);
        AckBuffer memory acks = _newAcks(items.length);
        for (uint256 i; i < items.length; ++i) {
            SignedDelivery calldata item = items[i];
            bytes32 id = item.message.id();
            bytes4 reason = _precheck(item.message, item.hopSequence, next, id);
            if (reason == bytes4(0)) {
                bytes32 signedSubject = MessageLib.subject(id, item.hopSequence);
                reason = _checkSigned(hop, lane.remoteGateway, signedSubject, item.signatures);
            }
            if (reason != bytes4(0)) {
                emit Refused(id, item.hopSequence, reason);
                continue;
            }
            ++next;
            _process(item.message, id, acks);
        }
        lane.hopNext = next;
        _sendAcks(acks);
    }

    /// @notice Checkpoint mode: `hop`'s committee signed `root`, a Merkle root over the messages'
    ///         subjects; each message comes with its inclusion proof.
    function deliverCheckpoint(uint64 hop, bytes32 root, bytes calldata signatures, ProvenDelivery[] calldata items)
        external
        nonReentrant
    {
        (Lane storage lane, uint64 next) = _inboundLane(hop, MODE_CHECKPOINT);
        _verifyRoot(hop, lane.remoteGateway, root, signatures);
        AckBuffer memory acks = _newAcks(items.length);
        for (uint256 i; i < items.length; ++i) {
            ProvenDelivery calldata item = items[i];
            bytes32 id = item.message.id();
            bytes4 reason = _precheck(item.message, item.hopSequence, next, id);
            if (reason == bytes4(0) && !_inCheckpoint(MessageLib.subject(id, item.hopSequence), item.proof, root)) {
                reason = NotInCheckpoint.selector;
            }
            if (reason != bytes4(0)) {
                emit Refused(id, item.hopSequence, reason);
                continue;
            }
            ++next;
            _process(item.message, id, acks);
        }
        lane.hopNext = next;
        _sendAcks(acks);
    }

    // Verification steps, one place each (a test double for historical flaws overrides them).

    function _checkSigned(uint64 hop, address remoteGateway, bytes32 subject, bytes calldata signatures)
        internal
        view
        virtual
        returns (bytes4)
    {
        return committee.check(MODE_COMMITTEE, hop, remoteGateway, subject, signatures);
    }

    function _verifyRoot(uint64 hop, address remoteGateway, bytes32 root, bytes calldata signatures)
        internal
        view
        virtual
    {
        committee.verify(MODE_CHECKPOINT, hop, remoteGateway, root, signatures);
    }

    function _inCheckpoint(bytes32 leaf, bytes32[] calldata proof, bytes32 root) internal view virtual returns (bool) {
        return _root(leaf, proof) == root;
    }

    function _inboundLane(uint64 hop, uint8 mode) private view returns (Lane storage lane, uint64 next) {
        lane = lanes[hop];
        if (lane.via != hop) revert UnknownLane(hop);
        if (lane.mode != mode) revert WrongVerifierMode(hop, lane.mode);
        if (lane.paused) revert LanePaused(hop);
        next = lane.hopNext == 0 ? 1 : lane.hopNext;
    }

    /// @dev Checks that need no signature: destination, hop order, replay.
    function _precheck(Message calldata m, uint64 hopSequence, uint64 next, bytes32 id) private view returns (bytes4) {
        if (m.dstChain != chainId && !(isRouter && lanes[m.dstChain].via != 0)) return WrongDestination.selector;
        if (hopSequence < next) return AlreadyProcessed.selector;
        if (hopSequence > next) return OutOfOrder.selector;
        if (m.dstChain == chainId && _nibble(_inbound[m.srcChain], m.sequence) != Outcome.NONE) {
            return AlreadyProcessed.selector;
        }
        id; // the id is in the Refused event the caller emits
        return bytes4(0);
    }

    function _process(Message calldata m, bytes32 id, AckBuffer memory acks) private {
        uint8 outcome;
        if (block.timestamp > m.deadline) {
            outcome = Outcome.TIMED_OUT;
        } else if (m.dstChain != chainId) {
            _forward(m, id);
            emit Processed(id, m.srcChain, m.sequence, Outcome.FORWARDED);
            return;
        } else if (m.kind == MessageLib.KIND_ACK) {
            outcome = _acknowledge(m);
        } else {
            outcome = _dispatch(m, id);
        }
        if (m.dstChain == chainId) _setNibble(_inbound[m.srcChain], m.sequence, outcome);
        emit Processed(id, m.srcChain, m.sequence, outcome);
        if (m.kind == MessageLib.KIND_DATA) _addAck(acks, m.srcChain, AckEntry(id, m.sequence, m.sender, outcome));
    }

    /// @dev Call the recipient under the gas cap; a revert or a refusal does not sink the batch.
    function _dispatch(Message calldata m, bytes32 id) private returns (uint8) {
        address recipient = m.recipient;
        // a relayed call must never reach this gateway's or its committee's own functions
        if (recipient == address(this) || recipient == address(committee) || recipient.code.length == 0) {
            return Outcome.REJECTED;
        }
        uint256 cap = m.gasLimit;
        uint256 needed = cap + cap / 63 + 10_000; // so the handler really gets `cap` (EIP-150)
        if (gasleft() < needed) revert InsufficientGas(gasleft(), needed);
        bytes memory data = abi.encodeCall(IMessageRecipient.handleMessage, (m.srcChain, m.sender, id, m.payload));
        bool ok;
        uint256 accepted;
        assembly {
            ok := call(cap, recipient, 0, add(data, 32), mload(data), 0, 32)
            accepted := and(gt(returndatasize(), 31), eq(mload(0), 1))
        }
        if (!ok) return Outcome.FAILED;
        return accepted == 1 ? Outcome.DELIVERED : Outcome.REJECTED;
    }

    /// @dev An acknowledgement from a destination: record each outcome, tell each sender.
    function _acknowledge(Message calldata m) private returns (uint8) {
        if (m.recipient != address(this) || m.sender != lanes[m.srcChain].remoteGateway) return Outcome.REJECTED;
        AckEntry[] memory entries = abi.decode(m.payload, (AckEntry[]));
        mapping(uint256 => uint256) storage outbound = _outbound[m.srcChain];
        for (uint256 i; i < entries.length; ++i) {
            AckEntry memory e = entries[i];
            if (_nibble(outbound, e.sequence) != Outcome.PENDING) continue;
            _setNibble(outbound, e.sequence, e.outcome);
            emit Acknowledged(e.id, m.srcChain, e.sequence, e.outcome);
            _notify(e.sender, e.id, e.outcome);
        }
        return Outcome.DELIVERED;
    }

    function _notify(address sender, bytes32 id, uint8 outcome) private {
        if (sender.code.length == 0) return;
        uint256 cap = handlerGasLimit;
        if (gasleft() < cap + cap / 63 + 10_000) revert InsufficientGas(gasleft(), cap + cap / 63 + 10_000);
        bytes memory data = abi.encodeCall(IMessageRecipient.handleOutcome, (id, outcome));
        assembly {
            pop(call(cap, sender, 0, add(data, 32), mload(data), 0, 0))
        }
    }

    function _forward(Message calldata m, bytes32 id) private {
        Lane storage lane = lanes[m.dstChain];
        _emitSent(id, lane.via, m);
    }

    function _emitSent(bytes32 id, uint64 hop, Message memory m) private {
        uint64 hopSequence = ++lanes[hop].hopSent;
        emit Sent(id, hop, hopSequence, m);
    }

    // ------------------------------------------------------------------------ acknowledgements

    struct AckBuffer {
        uint64[] origins;
        AckEntry[] entries;
        uint256 count;
    }

    function _newAcks(uint256 n) private pure returns (AckBuffer memory) {
        return AckBuffer(new uint64[](n), new AckEntry[](n), 0);
    }

    function _addAck(AckBuffer memory acks, uint64 origin, AckEntry memory entry) private pure {
        acks.origins[acks.count] = origin;
        acks.entries[acks.count] = entry;
        ++acks.count;
    }

    /// @dev One acknowledgement message per origin chain for the whole batch.
    function _sendAcks(AckBuffer memory acks) private {
        for (uint256 i; i < acks.count; ++i) {
            uint64 origin = acks.origins[i];
            if (origin == 0) continue; // already sent with an earlier origin's group
            uint256 n;
            for (uint256 j = i; j < acks.count; ++j) {
                if (acks.origins[j] == origin) ++n;
            }
            AckEntry[] memory group = new AckEntry[](n);
            n = 0;
            for (uint256 j = i; j < acks.count; ++j) {
                if (acks.origins[j] == origin) {
                    group[n++] = acks.entries[j];
                    acks.origins[j] = 0;
                }
            }
            Lane storage lane = lanes[origin];
            if (lane.via == 0) continue; // no way back: the outcome stays on record here
            Message memory ack = Message(
                MessageLib.VERSION, MessageLib.KIND_ACK, chainId, origin, ++lane.outSequence, type(uint64).max, 0,
                address(this), lane.remoteGateway, abi.encode(group)
            );
            _emitSent(ack.idMemory(), lane.via, ack);
        }
    }

    // ------------------------------------------------------------------------ rate limit

    function _consume(uint64 chain) private {
        Bucket storage b = buckets[chain];
        if (b.capacity == 0) return;
        uint256 tokens = b.tokens + (block.timestamp - b.updatedAt) * b.refillPerSecond;
        if (tokens > b.capacity) tokens = b.capacity;
        if (tokens < MILLI) revert RateLimited(chain, tokens);
        b.tokens = uint64(tokens - MILLI);
        b.updatedAt = uint64(block.timestamp);
    }

    // ------------------------------------------------------------------------ views

    function inboundOutcome(uint64 srcChain, uint64 sequence) external view returns (uint8) {
        return _nibble(_inbound[srcChain], sequence);
    }

    function outboundOutcome(uint64 dstChain, uint64 sequence) external view returns (uint8) {
        return _nibble(_outbound[dstChain], sequence);
    }

    /// @notice Outcomes of `count` consecutive sequences from `first`, in one call.
    function inboundOutcomes(uint64 srcChain, uint64 first, uint64 count) external view returns (uint8[] memory out) {
        out = new uint8[](count);
        for (uint64 i; i < count; ++i) out[i] = _nibble(_inbound[srcChain], first + i);
    }

    function outboundOutcomes(uint64 dstChain, uint64 first, uint64 count) external view returns (uint8[] memory out) {
        out = new uint8[](count);
        for (uint64 i; i < count; ++i) out[i] = _nibble(_outbound[dstChain], first + i);
    }

    /// @notice For each chain: Sent events emitted toward it, and the next hop sequence expected from it.
    function hopState(uint64[] calldata chains) external view returns (uint64[] memory sent, uint64[] memory next) {
        sent = new uint64[](chains.length);
        next = new uint64[](chains.length);
        for (uint256 i; i < chains.length; ++i) {
            Lane storage lane = lanes[chains[i]];
            sent[i] = lane.hopSent;
            next[i] = lane.hopNext == 0 ? 1 : lane.hopNext;
        }
    }

    function hopNext(uint64 hop) external view returns (uint64) {
        uint64 next = lanes[hop].hopNext;
        return next == 0 ? 1 : next;
    }

    function hopSent(uint64 hop) external view returns (uint64) {
        return lanes[hop].hopSent;
    }

    function availableTokens(uint64 chain) external view returns (uint256 milli) {
        Bucket storage b = buckets[chain];
        if (b.capacity == 0) return type(uint256).max;
        milli = b.tokens + (block.timestamp - b.updatedAt) * b.refillPerSecond;
        if (milli > b.capacity) milli = b.capacity;
    }

    // ------------------------------------------------------------------------ internals

    function _root(bytes32 leaf, bytes32[] calldata proof) private pure returns (bytes32 node) {
        node = leaf;
        for (uint256 i; i < proof.length; ++i) {
            bytes32 sibling = proof[i];
            node = node < sibling ? keccak256(abi.encode(node, sibling)) : keccak256(abi.encode(sibling, node));
        }
    }

    function _nibble(mapping(uint256 => uint256) storage words, uint64 sequence) private view returns (uint8) {
        return uint8((words[sequence >> 6] >> ((sequence & 63) * 4)) & 0xF);
    }

    function _setNibble(mapping(uint256 => uint256) storage words, uint64 sequence, uint8 value) private {
        uint256 shift = (sequence & 63) * 4;
        uint256 key = sequence >> 6;
        words[key] = (words[key] & ~(uint256(0xF) << shift)) | (uint256(value) << shift);
    }
}
