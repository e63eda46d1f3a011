// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Acks} from "./Acks.sol";
import {OutcomeStore} from "./OutcomeStore.sol";
import {Watermark} from "./Watermark.sol";
import {GatewayConfig} from "./GatewayConfig.sol";
import {AckEntry, Delivery, IMessageRecipient, Message, MessageLib, Outcome} from "./Messaging.sol";

/// @title Gateway
/// @notice The cross-chain mailbox of one chain: orders nothing, dedupes and dispatches (as Hyperlane's Mailbox).
///         `send` gives a message an id committing to every field (the payload by hash). Relayers deliver
///         hop by hop through one function, `deliver`; the inbound lane's verifier says what the previous
///         hop really emitted. Every message ends DELIVERED, FAILED, TIMED_OUT or REJECTED on its
///         destination, and an acknowledgement tells its origin. A router (the hub) forwards the rest.
///         Unordered, with replay protection: each message is processed at most once in whatever batch it
///         comes, so none holds back the others; a watermark per lane (`hopNext`) is where a restarted
///         relayer resumes. Origin authentication: a message is taken from a hop only if the hop is its
///         origin, or the router its origin's lane goes through (which took it from the origin directly).
///         Nothing wedges a lane: payloads are capped alike on every gateway, handlers and callbacks run
///         under gas caps the sender's quota paid for, acknowledgements carry at most Acks.MAX_ENTRIES.
contract Gateway is GatewayConfig, ReentrancyGuardTransient {
    using MessageLib for Message;

    error BadVerifierAnswer(uint256 reasons, uint256 items);
    // reasons a delivered message is refused (in `Refused` events)
    error WrongDestination(uint64 dstChain);
    error WrongOrigin(uint64 srcChain, uint64 hop);
    error Malformed(); // no gateway would have sent it: unknown version or kind, a loop, gas or size out of bounds
    error AlreadyProcessed(bytes32 id);

    event Sent(bytes32 indexed id, uint64 indexed hop, uint64 hopSequence, Message message);
    event Processed(bytes32 indexed id, uint64 indexed srcChain, uint64 sequence, uint8 outcome);
    event Refused(bytes32 indexed id, uint64 hopSequence, bytes4 reason);
    event Acknowledged(bytes32 indexed id, uint64 indexed dstChain, uint64 sequence, uint8 outcome);

    // outcomes (OutcomeStore), by (remote chain, lane sequence)
    mapping(uint64 dstChain => mapping(uint256 word => uint256)) private _outbound;
    mapping(uint64 srcChain => mapping(uint256 word => uint256)) private _inbound;
    // a router's outcomes for what passed through it, by (origin, destination, lane sequence)
    mapping(uint64 srcChain => mapping(uint64 dstChain => mapping(uint256 word => uint256))) private _routed;
    // what this chain sent and has not heard back of: keccak(id, sender) by (destination, lane sequence),
    // so an acknowledgement can speak only of the very message that holds its slot (as IBC's commitments)
    mapping(uint64 dstChain => mapping(uint256 sequence => bytes32)) private _pending;
    // hop sequences taken above a lane's watermark (Watermark), a bit each
    mapping(uint64 hop => mapping(uint256 word => uint256)) private _taken;

    constructor(address admin_, bool isRouter_, uint256 handlerGasLimit_, uint256 maxPayload_)
        GatewayConfig(admin_, isRouter_, handlerGasLimit_, maxPayload_)
    {}

    // ------------------------------------------------------------------------ sending

    /// @notice Send `payload` to `recipient` on `dstChain`; it must be processed within `ttl` seconds, and
    ///         its handler gets `gasLimit` gas (0: this gateway's default), paid from the sender's quota.
    function send(uint64 dstChain, address recipient, bytes calldata payload, uint64 ttl, uint32 gasLimit)
        external
        returns (bytes32 id)
    {
        Lane storage lane = lanes[dstChain];
        uint64 via = lane.via;
        if (via == 0 || dstChain == chainId) revert UnknownLane(dstChain);
        if (lane.paused) revert LanePaused(dstChain);
        if (lanes[via].paused) revert LanePaused(via); // the next hop's lane: routed sends too
        if (ttl == 0 || ttl > MAX_TTL) revert BadTtl(ttl);
        if (gasLimit > MAX_GAS_LIMIT) revert BadGasLimit(gasLimit);
        if (payload.length > maxPayload) revert PayloadTooLarge(payload.length, maxPayload);
        uint32 cap = gasLimit == 0 ? uint32(handlerGasLimit) : gasLimit;
        _admit(dstChain, via, cap, payload.length);
        uint64 sequence = ++lane.outSequence;
        Message memory m = Message(
            MessageLib.VERSION, MessageLib.KIND_DATA, chainId, dstChain, sequence, uint64(block.timestamp) + ttl,
            cap, msg.sender, recipient, payload
        );
        id = m.idMemory();
        OutcomeStore.set(_outbound[dstChain], sequence, Outcome.PENDING);
        _pending[dstChain][sequence] = keccak256(abi.encodePacked(id, msg.sender));
        _emitSent(id, via, m);
    }

    // ------------------------------------------------------------------------ delivering

    /// @notice Messages that chain `hop` emitted toward this one, with the batch's `proof` for the lane's
    ///         verifier. Each message is refused (a `Refused` event; the rest go on) or processed; a verifier
    ///         that refuses the proof as a whole reverts the delivery.
    function deliver(uint64 hop, bytes calldata proof, Delivery[] calldata items) external nonReentrant {
        Lane storage lane = lanes[hop];
        if (lane.via != hop) revert UnknownLane(hop);
        if (lane.paused) revert LanePaused(hop);
        (bytes32[] memory ids, uint64[] memory hopSequences) = _ids(items);
        bytes4[] memory reasons = lane.verifier.verify(hop, lane.remoteGateway, proof, ids, hopSequences);
        if (reasons.length != items.length) revert BadVerifierAnswer(reasons.length, items.length);
        _processAll(lane, hop, items, ids, hopSequences, reasons);
    }

    function _ids(Delivery[] calldata items) private pure returns (bytes32[] memory ids, uint64[] memory sequences) {
        ids = new bytes32[](items.length);
        sequences = new uint64[](items.length);
        for (uint256 i; i < items.length; ++i) {
            Delivery calldata item = items[i];
            (ids[i], sequences[i]) = (item.message.id(), item.hopSequence);
        }
    }

    /// @dev Each message refused (its precheck's reason, or the verifier's) or processed; then the lane's
    ///      watermark and the acknowledgements the batch owes.
    function _processAll(
        Lane storage lane,
        uint64 hop,
        Delivery[] calldata items,
        bytes32[] memory ids,
        uint64[] memory hopSequences,
        bytes4[] memory reasons
    ) private {
        Acks.Buffer memory acks = Acks.create(items.length);
        (uint64 next, uint64 ahead) = (lane.hopNext == 0 ? 1 : lane.hopNext, lane.ahead);
        for (uint256 i; i < items.length; ++i) {
            Message calldata m = items[i].message;
            bytes4 reason = _precheck(m, hop);
            if (reason == bytes4(0)) reason = reasons[i];
            if (reason != bytes4(0)) {
                emit Refused(ids[i], hopSequences[i], reason);
                continue;
            }
            (next, ahead) = Watermark.take(_taken[hop], hopSequences[i], next, ahead);
            _process(m, ids[i], acks);
        }
        (lane.hopNext, lane.ahead) = Watermark.walk(_taken[hop], next, ahead);
        _sendAcks(acks);
    }

    /// @dev Origin authentication: the hop emitted it as its origin, or the hop is the router the origin's
    ///      lane goes through (and that router checked the origin when the message came in).
    function _originOk(Message calldata m, uint64 hop) internal view virtual returns (bool) {
        return m.srcChain == hop || lanes[m.srcChain].via == hop;
    }

    /// @dev Checks that need no proof: destination, origin, form, replay. What a router passes on has
    ///      passed every check the destination makes before processing.
    function _precheck(Message calldata m, uint64 hop) private view returns (bytes4) {
        bool here = m.dstChain == chainId;
        if (!here && !(isRouter && lanes[m.dstChain].via != 0)) return WrongDestination.selector;
        if (!_originOk(m, hop)) return WrongOrigin.selector;
        if (m.version != MessageLib.VERSION || m.srcChain == m.dstChain || m.gasLimit > MAX_GAS_LIMIT) {
            return Malformed.selector; // only a forgery could have one of these
        }
        if (m.kind == MessageLib.KIND_DATA) {
            if (m.payload.length > maxPayload) return PayloadTooLarge.selector;
        } else if (m.kind != MessageLib.KIND_ACK || m.payload.length > Acks.MAX_BYTES) {
            return Malformed.selector;
        }
        mapping(uint256 => uint256) storage seen = here ? _inbound[m.srcChain] : _routed[m.srcChain][m.dstChain];
        return OutcomeStore.get(seen, m.sequence) == Outcome.NONE ? bytes4(0) : AlreadyProcessed.selector;
    }

    function _process(Message calldata m, bytes32 id, Acks.Buffer memory acks) private {
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
        OutcomeStore.set(here ? _inbound[m.srcChain] : _routed[m.srcChain][m.dstChain], m.sequence, outcome);
        emit Processed(id, m.srcChain, m.sequence, outcome);
        if (data && outcome != Outcome.FORWARDED) {
            Acks.add(acks, m.srcChain, AckEntry(id, m.dstChain, m.sequence, m.sender, outcome));
        }
    }

    /// @dev Call the recipient under the gas cap; a revert or a refusal does not sink the batch.
    function _dispatch(Message calldata m, bytes32 id) private returns (uint8) {
        address recipient = m.recipient;
        // a relayed call must never reach this gateway or a verifier
        if (recipient == address(this) || _privileged[recipient] || recipient.code.length == 0) {
            return Outcome.REJECTED;
        }
        uint256 cap = m.gasLimit;
        _reserve(cap);
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

    /// @dev An acknowledgement: record each outcome on the lane of the message's destination, tell each
    ///      sender. A chain reports on the messages sent to it; a router also on the messages it could not
    ///      pass on; an entry beyond that, or naming another message than the one sent with that sequence,
    ///      is ignored. A payload that is not an array of entries ends REJECTED (the batch goes on).
    function _acknowledge(Message calldata m) private returns (uint8) {
        if (m.recipient != address(this) || m.sender != lanes[m.srcChain].remoteGateway) return Outcome.REJECTED;
        (bool ok, AckEntry[] memory entries) = Acks.decode(m.payload);
        if (!ok) return Outcome.REJECTED;
        for (uint256 i; i < entries.length; ++i) {
            AckEntry memory e = entries[i];
            if (e.dstChain != m.srcChain && lanes[e.dstChain].via != m.srcChain) continue;
            if (e.outcome < Outcome.DELIVERED || e.outcome > Outcome.REJECTED) continue; // terminal ones only
            if (_pending[e.dstChain][e.sequence] != keccak256(abi.encodePacked(e.id, e.sender))) continue;
            delete _pending[e.dstChain][e.sequence];
            OutcomeStore.set(_outbound[e.dstChain], e.sequence, e.outcome);
            emit Acknowledged(e.id, e.dstChain, e.sequence, e.outcome);
            if (e.sender.code.length == 0) continue;
            _reserve(OUTCOME_GAS); // a fixed budget: an acknowledgement of the most entries fits in a block
            bytes memory data = abi.encodeCall(IMessageRecipient.handleOutcome, (e.id, e.outcome));
            (address sender, uint256 budget) = (e.sender, OUTCOME_GAS);
            assembly {
                pop(call(budget, sender, 0, add(data, 32), mload(data), 0, 0))
            }
        }
        return Outcome.DELIVERED;
    }

    /// @dev A router passes a message on, unless its outbound lane refuses data now (paused, or out of
    ///      rate): then it ends REJECTED here and its origin is told. Acknowledgements always pass.
    function _forward(Message calldata m, bytes32 id) private returns (uint8) {
        Lane storage lane = lanes[m.dstChain];
        bool data = m.kind == MessageLib.KIND_DATA;
        if (data && (lane.paused || !_admitForward(m.dstChain, m.srcChain, m.gasLimit, m.payload.length))) {
            return Outcome.REJECTED;
        }
        _emitSent(id, lane.via, m);
        return Outcome.FORWARDED;
    }

    function _emitSent(bytes32 id, uint64 hop, Message memory m) private {
        emit Sent(id, hop, ++lanes[hop].hopSent, m);
    }

    /// @dev Acknowledgements per origin chain for the whole batch, Acks.MAX_ENTRIES entries each at most.
    function _sendAcks(Acks.Buffer memory acks) private {
        for (uint256 i; i < acks.count; ++i) {
            (uint64 origin, AckEntry[] memory group) = Acks.takeGroup(acks, i);
            Lane storage lane = lanes[origin];
            if (origin == 0 || lane.via == 0) continue; // taken already, or no way back: the outcome stays here
            for (uint256 start; start < group.length; start += Acks.MAX_ENTRIES) {
                Message memory ack = Message(
                    MessageLib.VERSION, MessageLib.KIND_ACK, chainId, origin, ++lane.outSequence, type(uint64).max,
                    0, address(this), lane.remoteGateway, abi.encode(Acks.chunk(group, start))
                );
                _emitSent(ack.idMemory(), lane.via, ack);
            }
        }
    }

    // ------------------------------------------------------------------------ views

    function inboundOutcome(uint64 srcChain, uint64 sequence) external view returns (uint8) {
        return OutcomeStore.get(_inbound[srcChain], sequence);
    }

    function outboundOutcome(uint64 dstChain, uint64 sequence) external view returns (uint8) {
        return OutcomeStore.get(_outbound[dstChain], sequence);
    }

    /// @notice For each chain: Sent events emitted toward it, and the watermark of what was taken from it.
    function hopState(uint64[] calldata chains) external view returns (uint64[] memory sent, uint64[] memory next) {
        sent = new uint64[](chains.length);
        next = new uint64[](chains.length);
        for (uint256 i; i < chains.length; ++i) {
            Lane storage lane = lanes[chains[i]];
            (sent[i], next[i]) = (lane.hopSent, lane.hopNext == 0 ? 1 : lane.hopNext);
        }
    }

    /// @notice Which of the 256 hop sequences from `first` (a multiple of 256) above the watermark of
    ///         `hop` were taken, a bit each (bit i: sequence first + i).
    function takenAbove(uint64 hop, uint64 first) external view returns (uint256) {
        return _taken[hop][first >> 8];
    }
}
