// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Gateway} from "./Gateway.sol";
import {IMessageRecipient} from "./Messaging.sol";

/// @notice A recipient for protocol tests: it accepts, refuses, reverts, re-enters its gateway or
///         burns gas, as configured, and counts what it handled.
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
        outcomes[id] = outcome;
        emit OutcomeSeen(id, outcome);
    }
}
