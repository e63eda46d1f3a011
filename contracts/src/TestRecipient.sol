// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Gateway} from "./Gateway.sol";
import {Delivery, IMessageRecipient} from "./Messaging.sol";

/// @notice A recipient for protocol tests: it accepts, refuses, reverts, re-enters its gateway or
///         burns gas (on delivery, and on being told an outcome), or fans out (sends messages of its own
///         for each one it handles), as configured, and counts what it handled. `flood` sends many
///         messages at once, as a hostile sender would.
contract TestRecipient is IMessageRecipient {
    uint8 public constant ACCEPT = 0;
    uint8 public constant REFUSE = 1;
    uint8 public constant REVERT = 2;
    uint8 public constant REENTER = 3;
    uint8 public constant BURN = 4;
    uint8 public constant FAN_OUT = 5;

    struct FanOut {
        uint64 dstChain;
        address recipient;
        uint32 count;
        uint32 gasLimit;
    }

    error Unwanted();

    event Handled(bytes32 indexed id, uint64 srcChain, address sender, bytes payload);
    event OutcomeSeen(bytes32 indexed id, uint8 outcome);

    Gateway public immutable gateway;
    uint8 public behaviour;
    FanOut public fanOut; // what FAN_OUT sends for each message handled
    uint256 public handled;
    mapping(bytes32 => uint256) public timesHandled;
    mapping(bytes32 => uint8) public outcomes;

    constructor(Gateway gateway_) {
        gateway = gateway_;
    }

    function setBehaviour(uint8 behaviour_) external {
        behaviour = behaviour_;
    }

    function setFanOut(uint64 dstChain, address recipient, uint32 count, uint32 gasLimit) external {
        behaviour = FAN_OUT;
        fanOut = FanOut(dstChain, recipient, count, gasLimit);
    }

    function send(uint64 dstChain, address recipient, bytes calldata payload, uint64 ttl) external returns (bytes32) {
        return gateway.send(dstChain, recipient, payload, ttl, 0);
    }

    /// @notice `count` messages to `recipient`, each with `gasLimit` gas for its handler.
    function flood(uint64 dstChain, address recipient, uint32 gasLimit, uint256 count) external {
        for (uint256 i; i < count; ++i) {
            // Gateway.send sends a cross-chain message, not ether
            // solhint-disable-next-line multiple-sends
            gateway.send(dstChain, recipient, abi.encode(i), 3600, gasLimit);
        }
    }

    function handleMessage(uint64 srcChain, address sender, bytes32 id, bytes calldata payload)
        external
        returns (bool)
    {
        if (behaviour == REVERT) revert Unwanted();
        if (behaviour == REENTER) {
            Delivery[] memory none = new Delivery[](0);
            gateway.deliver(srcChain, "", none); // must be refused: reentrancy
        }
        if (behaviour == BURN) {
            uint256 x;
            while (gasleft() > 1000) x = uint256(keccak256(abi.encode(x)));
        }
        if (behaviour == FAN_OUT) {
            FanOut memory f = fanOut;
            for (uint256 i; i < f.count; ++i) {
                // Gateway.send sends a cross-chain message, not ether
                // solhint-disable-next-line multiple-sends
                gateway.send(f.dstChain, f.recipient, abi.encode(id, i), 3600, f.gasLimit);
            }
        }
        ++handled;
        ++timesHandled[id];
        emit Handled(id, srcChain, sender, payload);
        return behaviour != REFUSE;
    }

    function handleOutcome(bytes32 id, uint8 outcome) external {
        if (behaviour == BURN) {
            uint256 x;
            while (gasleft() > 1000) x = uint256(keccak256(abi.encode(x)));
        }
        outcomes[id] = outcome;
        emit OutcomeSeen(id, outcome);
    }
}
