// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Gateway} from "./Gateway.sol";
import {IMessageRecipient} from "./Messaging.sol";

/// @notice A recipient for protocol tests: it accepts, refuses, reverts, re-enters its gateway or
///         burns gas (on delivery, and on being told an outcome), as configured, and counts what it
///         handled. `flood` sends many messages at once, as a hostile sender would.
contract TestRecipient is IMessageRecipient {
    uint8 public constant ACCEPT = 0;
    uint8 public constant REFUSE = 1;
    uint8 public constant REVERT = 2;
    uint8 public constant REENTER = 3;
    uint8 public constant BURN = 4;

    error Unwanted();

    event Handled(bytes32 indexed id, uint64 srcChain, address sender, bytes payload);
    event OutcomeSeen(bytes32 indexed id, uint8 outcome);

    Gateway public immutable gateway;
    uint8 public behaviour;
    uint256 public handled;
    mapping(bytes32 => uint256) public timesHandled;
    mapping(bytes32 => uint8) public outcomes;

    constructor(Gateway gateway_) {
        gateway = gateway_;
    }

    function setBehaviour(uint8 behaviour_) external {
        behaviour = behaviour_;
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
            Gateway.SignedDelivery[] memory none = new Gateway.SignedDelivery[](0);
            gateway.deliverSigned(srcChain, none); // must be refused: reentrancy
        }
        if (behaviour == BURN) {
            uint256 x;
            while (gasleft() > 1000) x = uint256(keccak256(abi.encode(x)));
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
