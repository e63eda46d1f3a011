// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice A cross-chain message. Its id commits to every field (the payload by hash).
struct Message {
    uint8 version;
    uint8 kind; // KIND_DATA or KIND_ACK
    uint64 srcChain; // origin chain
    uint64 dstChain; // final destination chain
    uint64 sequence; // per (srcChain, dstChain) lane, from 1
    uint64 deadline; // unix time; a message not processed by then times out
    uint32 gasLimit; // gas the recipient's handler gets on delivery
    address sender;
    address recipient;
    bytes payload;
}

/// @notice One message handed to a gateway by a relayer: the message, and the sequence the previous hop
///         gave it when it emitted it toward this chain.
struct Delivery {
    Message message;
    uint64 hopSequence;
}

/// @notice The processing record sent back to a message's origin: where the message was headed
///         (`dstChain`, whose lane its `sequence` numbers) and how it ended.
struct AckEntry {
    bytes32 id;
    uint64 dstChain;
    uint64 sequence;
    address sender;
    uint8 outcome;
}

/// @notice Terminal outcomes (and the two transient states) of a message.
library Outcome {
    uint8 internal constant NONE = 0;
    uint8 internal constant PENDING = 1; // sent, outcome not yet known at the source
    uint8 internal constant DELIVERED = 2;
    uint8 internal constant FAILED = 3; // the recipient reverted or ran out of its gas cap
    uint8 internal constant TIMED_OUT = 4; // reached its destination (or the hub) after its deadline
    uint8 internal constant REJECTED = 5; // refused by the gateway, the hub or the recipient
    uint8 internal constant FORWARDED = 6; // passed on by a routing hub
}

library MessageLib {
    uint8 internal constant VERSION = 1;
    uint8 internal constant KIND_DATA = 0;
    uint8 internal constant KIND_ACK = 1;

    function id(Message calldata m) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                m.version, m.kind, m.srcChain, m.dstChain, m.sequence, m.deadline, m.gasLimit, m.sender,
                m.recipient, keccak256(m.payload)
            )
        );
    }

    function idMemory(Message memory m) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                m.version, m.kind, m.srcChain, m.dstChain, m.sequence, m.deadline, m.gasLimit, m.sender,
                m.recipient, keccak256(m.payload)
            )
        );
    }

    /// @notice What a committee signs for one message, and a checkpoint's leaf: the message as the hop
    ///         emitted it (its id and the hop sequence it got there).
    ///         keccak256(abi.encodePacked(bytes1(0x00), messageId, hopSequence)), hashed in place: a verifier
    ///         computes one per message, and allocating each would cost a batch of 64 thousands of gas.
    function subject(bytes32 messageId, uint64 hopSequence) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            let p := mload(0x40) // free memory, used as scratch and not kept
            mstore(p, 0)
            mstore(add(p, 1), messageId)
            mstore(add(p, 33), shl(192, hopSequence))
            hash := keccak256(p, 41)
        }
    }
}

/// @notice Implemented by contracts that receive cross-chain messages through a Gateway.
interface IMessageRecipient {
    /// @return accepted false: the recipient refuses the message (outcome REJECTED).
    function handleMessage(uint64 srcChain, address sender, bytes32 id, bytes calldata payload)
        external
        returns (bool accepted);

    /// @notice The source gateway reports the outcome of a message this contract sent (with at
    ///         most `Gateway.OUTCOME_GAS` gas: keep it short).
    function handleOutcome(bytes32 id, uint8 outcome) external;
}

/// @notice How a gateway learns that a previous hop really emitted what a relayer hands it: every inbound
///         lane names one verifier (as Hyperlane's Mailbox asks a recipient's ISM). A new kind of
///         verification is one contract implementing this, and its relayer-side proof builder.
interface IVerifier {
    /// @notice For each message, bytes4(0) when `proof` shows that chain `hop`'s gateway `hopGateway` emitted
    ///         message `ids[i]` toward the caller (the destination gateway) as hop sequence
    ///         `hopSequences[i]`; otherwise the selector of the reason. `proof` is the whole batch's, in the
    ///         verifier's own layout (its part for the batch, then each message's in order). Reverts when
    ///         the batch's part is refused (a root without its signatures) or the layout is broken:
    ///         nothing in the batch is then processed.
    function verify(
        uint64 hop,
        address hopGateway,
        bytes calldata proof,
        bytes32[] calldata ids,
        uint64[] calldata hopSequences
    ) external view returns (bytes4[] memory reasons);

    /// @notice What this verifier is ("committee", "checkpoint", …): relayers build its proofs by it.
    function kind() external pure returns (string memory);
}
