// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
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
///
///         Origin authentication: a chain's committee vouches only for what that chain emitted. A
///         message is accepted from a hop only if the hop is its origin, or the hop is the router the
///         origin's lane goes through; a router accepts (and forwards) only what came from its
///         origin directly. No keys of one chain's committee can make another chain's origin stick.
///         Nothing can wedge a lane: payloads are capped at the source (the same cap on every
///         gateway, so a message at the cap is deliverable at every hop), handlers and outcome
///         callbacks run under gas caps, and acknowledgements carry at most MAX_ACK_ENTRIES entries.
///         Ownership (two-step), reentrancy guard and Merkle proofs are OpenZeppelin's.
contract Gateway is Ownable2Step, ReentrancyGuardTransient {
    using MessageLib for Message;

    uint8 public constant MODE_COMMITTEE = 1;
    uint8 public constant MODE_CHECKPOINT = 2;
    uint64 public constant MAX_TTL = 30 days;
    uint32 public constant MAX_GAS_LIMIT = 10_000_000;
    uint32 public constant MAX_PAYLOAD_LIMIT = 32 * 1024; // the largest payload cap governance may set
    uint256 public constant OUTCOME_GAS = 50_000; // what each sender's handleOutcome callback gets
    uint256 public constant MAX_ACK_ENTRIES = 64; // outcomes per acknowledgement message
    uint256 public constant ACK_ENTRY_BYTES = 160; // one AckEntry, ABI-encoded
    uint256 public constant MAX_ACK_BYTES = 64 + ACK_ENTRY_BYTES * MAX_ACK_ENTRIES; // the largest ack payload
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

    error UnknownLane(uint64 chain);
    error LanePaused(uint64 chain);
    error RateLimited(uint64 chain, uint256 availableMilli);
    error BadTtl(uint64 ttl);
    error BadGasLimit(uint256 gasLimit);
    error PayloadTooLarge(uint256 size, uint256 max);
    error BadPayloadCap(uint256 max);
    error WrongVerifierMode(uint64 hop, uint8 mode);
    error InsufficientGas(uint256 left, uint256 needed);
    // reasons a delivered message is refused (in `Refused` events)
    error WrongDestination(uint64 dstChain);
    error WrongOrigin(uint64 srcChain, uint64 hop);
    error Malformed(); // no gateway would have sent it: unknown version or kind, a loop, gas or size out of bounds
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
    event RateExemptSet(address indexed sender, bool exempt);

    uint64 public immutable chainId;
    bool public immutable isRouter;
    Committee public immutable committee;
    uint256 public handlerGasLimit; // a message's handler gas when its sender gives none
    uint256 public immutable maxPayload; // bytes; the same on every gateway of a network (set when deployed)

    mapping(uint64 chain => Lane) public lanes;
    mapping(uint64 chain => Bucket) public buckets;
    mapping(address sender => bool) public rateExempt; // senders governance lets past the rate limits
    // 4-bit outcomes packed 64 to a word, by (remote chain, lane sequence)
    mapping(uint64 dstChain => mapping(uint256 word => uint256)) private _outbound;
    mapping(uint64 srcChain => mapping(uint256 word => uint256)) private _inbound;
    // a router's outcomes for what passed through it, by (origin, destination, lane sequence)
    mapping(uint64 srcChain => mapping(uint64 dstChain => mapping(uint256 word => uint256))) private _routed;
    // what this chain sent and has not heard back of: keccak(id, sender) by (destination, lane sequence),
    // so an acknowledgement can speak only of the very message that holds its slot (as IBC's commitments)
    mapping(uint64 dstChain => mapping(uint256 sequence => bytes32)) private _pending;

    constructor(address admin_, Committee committee_, bool isRouter_, uint256 handlerGasLimit_, uint256 maxPayload_)
        Ownable(admin_)
    {
        chainId = uint64(block.chainid);
        committee = committee_;
        isRouter = isRouter_;
        handlerGasLimit = handlerGasLimit_;
        if (maxPayload_ == 0 || maxPayload_ > MAX_PAYLOAD_LIMIT) revert BadPayloadCap(maxPayload_);
        maxPayload = maxPayload_;
    }

    // ------------------------------------------------------------------------ governance

    function setLane(uint64 chain, uint64 via, uint8 mode, address remoteGateway) public onlyOwner {
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

    function setPaused(uint64 chain, bool paused) external onlyOwner {
        lanes[chain].paused = paused;
        emit LanePauseSet(chain, paused);
    }

    /// @notice Token bucket on messages sent toward `chain`: `capacity` messages, refilled at
    ///         `refillPerSecond` thousandths of a message per second. Capacity 0 lifts the limit.
    function setRateLimit(uint64 chain, uint64 capacity, uint64 refillPerSecond) external onlyOwner {
        uint64 size = capacity * uint64(MILLI);
        buckets[chain] = Bucket(size, size, refillPerSecond, uint64(block.timestamp));
        emit RateLimitSet(chain, capacity, refillPerSecond);
    }

    /// @notice Let `sender`'s sends past every lane's rate limit (the hub's registry broadcaster: no
    ///         stranger draining a lane can hold back a suspension's sync).
    function setRateExempt(address sender, bool exempt) external onlyOwner {
        rateExempt[sender] = exempt;
        emit RateExemptSet(sender, exempt);
    }

    function setHandlerGasLimit(uint256 limit) external onlyOwner {
        if (limit > MAX_GAS_LIMIT) revert BadGasLimit(limit);
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
        if (payload.length > maxPayload) revert PayloadTooLarge(payload.length, maxPayload);
        if (buckets[dstChain].capacity != 0 && !rateExempt[msg.sender] && !_take(dstChain)) {
            revert RateLimited(dstChain, _available(buckets[dstChain]));
        }
        uint64 sequence = ++lane.outSequence;
        Message memory m = Message(
            MessageLib.VERSION, MessageLib.KIND_DATA, chainId, dstChain, sequence, uint64(block.timestamp) + ttl,
            gasLimit == 0 ? uint32(handlerGasLimit) : gasLimit, msg.sender, recipient, payload
        );
        id = m.idMemory();
        _setNibble(_outbound[dstChain], sequence, Outcome.PENDING);
        _pending[dstChain][sequence] = _commitment(id, msg.sender);
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
            bytes4 reason = _precheck(item.message, hop, item.hopSequence, next);
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
            bytes4 reason = _precheck(item.message, hop, item.hopSequence, next);
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
        return MerkleProof.processProofCalldata(proof, leaf) == root; // sorted pairs, as the relayer builds
    }

    /// @dev Origin authentication: the hop emitted it as its origin, or the hop is the router the
    ///      origin's lane goes through (and that router checked the origin when the message came in).
    function _originOk(Message calldata m, uint64 hop) internal view virtual returns (bool) {
        return m.srcChain == hop || lanes[m.srcChain].via == hop;
    }

    function _inboundLane(uint64 hop, uint8 mode) private view returns (Lane storage lane, uint64 next) {
        lane = lanes[hop];
        if (lane.via != hop) revert UnknownLane(hop);
        if (lane.mode != mode) revert WrongVerifierMode(hop, lane.mode);
        if (lane.paused) revert LanePaused(hop);
        next = lane.hopNext == 0 ? 1 : lane.hopNext;
    }

    /// @dev Checks that need no signature: destination, hop order, origin, form, replay. What a router
    ///      passes on has passed every check the destination makes before processing, so nothing it
    ///      forwards can be refused there and hold up the lane behind it.
    function _precheck(Message calldata m, uint64 hop, uint64 hopSequence, uint64 next) private view returns (bytes4) {
        bool here = m.dstChain == chainId;
        if (!here && !(isRouter && lanes[m.dstChain].via != 0)) return WrongDestination.selector;
        if (hopSequence < next) return AlreadyProcessed.selector;
        if (hopSequence > next) return OutOfOrder.selector;
        if (!_originOk(m, hop)) return WrongOrigin.selector;
        bytes4 form = _formError(m); // only a forgery could have one
        if (form != bytes4(0)) return form;
        mapping(uint256 => uint256) storage seen = here ? _inbound[m.srcChain] : _routed[m.srcChain][m.dstChain];
        if (_nibble(seen, m.sequence) != Outcome.NONE) return AlreadyProcessed.selector;
        return bytes4(0);
    }

    /// @dev Whether `m` could come from `send` or `_sendAck`: known version and kind, not to its own
    ///      origin, a gas cap a block can serve, a payload within the cap (data) or of MAX_ACK_ENTRIES
    ///      entries at most (acks, whatever the cap).
    function _formError(Message calldata m) private view returns (bytes4) {
        if (m.version != MessageLib.VERSION || m.srcChain == m.dstChain || m.gasLimit > MAX_GAS_LIMIT) {
            return Malformed.selector;
        }
        if (m.kind == MessageLib.KIND_DATA) {
            return m.payload.length <= maxPayload ? bytes4(0) : PayloadTooLarge.selector;
        }
        return m.kind == MessageLib.KIND_ACK && m.payload.length <= MAX_ACK_BYTES ? bytes4(0) : Malformed.selector;
    }

    function _process(Message calldata m, bytes32 id, AckBuffer memory acks) private {
        uint8 outcome;
        bool data = m.kind == MessageLib.KIND_DATA;
        bool here = m.dstChain == chainId;
        if (block.timestamp > m.deadline) {
            outcome = Outcome.TIMED_OUT; // here or at the hub: the origin's outcome either way
        } else if (!here) {
            outcome = _forward(m, id);
        } else if (!data) {
            outcome = _acknowledge(m);
        } else if (lanes[m.srcChain].paused) {
            outcome = Outcome.REJECTED; // data from an origin this chain paused, routed through the hub
        } else {
            outcome = _dispatch(m, id);
        }
        _setNibble(here ? _inbound[m.srcChain] : _routed[m.srcChain][m.dstChain], m.sequence, outcome);
        emit Processed(id, m.srcChain, m.sequence, outcome);
        if (data && outcome != Outcome.FORWARDED) {
            _addAck(acks, m.srcChain, AckEntry(id, m.dstChain, m.sequence, m.sender, outcome));
        }
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

    /// @dev An acknowledgement: record each outcome on the lane of the message's destination, tell
    ///      each sender. A chain reports on the messages sent to it; a router also on the messages it
    ///      could not pass on (timed out or refused at the hub); an entry beyond that, or naming
    ///      another message than the one sent with that sequence, is ignored. A payload that is not
    ///      an array of entries ends REJECTED (never reverts: the lane behind it moves on).
    function _acknowledge(Message calldata m) private returns (uint8) {
        if (m.recipient != address(this) || m.sender != lanes[m.srcChain].remoteGateway) return Outcome.REJECTED;
        (bool ok, AckEntry[] memory entries) = _ackEntries(m.payload);
        if (!ok) return Outcome.REJECTED;
        for (uint256 i; i < entries.length; ++i) {
            AckEntry memory e = entries[i];
            if (e.dstChain != m.srcChain && lanes[e.dstChain].via != m.srcChain) continue;
            if (e.outcome < Outcome.DELIVERED || e.outcome > Outcome.REJECTED) continue; // terminal ones only
            if (_pending[e.dstChain][e.sequence] != _commitment(e.id, e.sender)) continue; // not that message
            delete _pending[e.dstChain][e.sequence];
            _setNibble(_outbound[e.dstChain], e.sequence, e.outcome);
            emit Acknowledged(e.id, e.dstChain, e.sequence, e.outcome);
            _notify(e.sender, e.id, e.outcome);
        }
        return Outcome.DELIVERED;
    }

    function _commitment(bytes32 id, address sender) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(id, sender));
    }

    /// @dev The entries of an acknowledgement, read in one pass; ok is false unless the payload is
    ///      exactly what `_sendAck` writes (one offset, a length, that many entries, every field within
    ///      its type), so that a forged one is rejected instead of reverting the delivery.
    function _ackEntries(bytes calldata p) private pure returns (bool ok, AckEntry[] memory entries) {
        if (p.length < 64 || uint256(bytes32(p[0:32])) != 32) return (false, entries);
        uint256 n = uint256(bytes32(p[32:64]));
        if (n > MAX_ACK_ENTRIES || p.length != 64 + n * ACK_ENTRY_BYTES) return (false, entries);
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

    /// @dev Tell a sender how its message ended, with a fixed gas budget: however the sender behaves,
    ///      an acknowledgement of MAX_ACK_ENTRIES entries fits in a block.
    function _notify(address sender, bytes32 id, uint8 outcome) private {
        if (sender.code.length == 0) return;
        uint256 needed = OUTCOME_GAS + OUTCOME_GAS / 63 + 10_000;
        if (gasleft() < needed) revert InsufficientGas(gasleft(), needed);
        bytes memory data = abi.encodeCall(IMessageRecipient.handleOutcome, (id, outcome));
        uint256 budget = OUTCOME_GAS;
        assembly {
            pop(call(budget, sender, 0, add(data, 32), mload(data), 0, 0))
        }
    }

    /// @dev A router passes a message on, unless its outbound lane refuses data now (paused, or out
    ///      of rate): then it ends REJECTED here and its origin is told. Acknowledgements always pass.
    function _forward(Message calldata m, bytes32 id) private returns (uint8) {
        Lane storage lane = lanes[m.dstChain];
        if (m.kind == MessageLib.KIND_DATA && (lane.paused || !_take(m.dstChain))) return Outcome.REJECTED;
        _emitSent(id, lane.via, m);
        return Outcome.FORWARDED;
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

    /// @dev Acknowledgements per origin chain for the whole batch, MAX_ACK_ENTRIES entries each at most.
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
            for (uint256 start; start < n; start += MAX_ACK_ENTRIES) {
                _sendAck(lane, origin, group, start, start + MAX_ACK_ENTRIES < n ? start + MAX_ACK_ENTRIES : n);
            }
        }
    }

    function _sendAck(Lane storage lane, uint64 origin, AckEntry[] memory group, uint256 start, uint256 end)
        private
    {
        AckEntry[] memory chunk = group;
        if (start != 0 || end != group.length) {
            chunk = new AckEntry[](end - start);
            for (uint256 k; k < chunk.length; ++k) chunk[k] = group[start + k];
        }
        Message memory ack = Message(
            MessageLib.VERSION, MessageLib.KIND_ACK, chainId, origin, ++lane.outSequence, type(uint64).max, 0,
            address(this), lane.remoteGateway, abi.encode(chunk)
        );
        _emitSent(ack.idMemory(), lane.via, ack);
    }

    // ------------------------------------------------------------------------ rate limit

    /// @dev Take one message's token from the bucket toward `chain`; false when there is none.
    function _take(uint64 chain) private returns (bool) {
        Bucket storage b = buckets[chain];
        if (b.capacity == 0) return true;
        uint256 tokens = _available(b);
        if (tokens < MILLI) return false;
        b.tokens = uint64(tokens - MILLI);
        b.updatedAt = uint64(block.timestamp);
        return true;
    }

    function _available(Bucket storage b) private view returns (uint256 milli) {
        milli = b.tokens + (block.timestamp - b.updatedAt) * b.refillPerSecond;
        if (milli > b.capacity) milli = b.capacity;
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
        return b.capacity == 0 ? type(uint256).max : _available(b);
    }

    // ------------------------------------------------------------------------ internals

    function _nibble(mapping(uint256 => uint256) storage words, uint64 sequence) private view returns (uint8) {
        return uint8((words[sequence >> 6] >> ((sequence & 63) * 4)) & 0xF);
    }

    function _setNibble(mapping(uint256 => uint256) storage words, uint64 sequence, uint8 value) private {
        uint256 shift = (sequence & 63) * 4;
        uint256 key = sequence >> 6;
        words[key] = (words[key] & ~(uint256(0xF) << shift)) | (uint256(value) << shift);
    }
}
