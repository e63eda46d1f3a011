// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice A small contract for the chain-backend conformance tests: it stores, emits and fails
///         in every way the backends must report the same.
contract Probe {
    error Refused(uint256 code, address caller);

    event Stored(address indexed by, uint256 value, uint256 timestamp);

    uint256 public value;

    function store(uint256 newValue) external {
        value = newValue;
        emit Stored(msg.sender, newValue, block.timestamp);
    }

    function refuse(uint256 code) external view {
        revert Refused(code, msg.sender);
    }

    function requireFalse() external pure {
        require(false, "probe says no");
    }

    function divide(uint256 a, uint256 b) external pure returns (uint256) {
        return a / b;
    }

    function burn(uint256 rounds) external {
        for (uint256 i; i < rounds; ++i) {
            value = uint256(keccak256(abi.encode(value, i)));
        }
    }

    function now_() external view returns (uint256) {
        return block.timestamp;
    }

    function chainId() external view returns (uint256) {
        return block.chainid;
    }

    /// @notice Keeps the block's PREVRANDAO, to compare what the backends give a transaction.
    function storeRandomness() external {
        value = block.prevrandao;
        emit Stored(msg.sender, value, block.timestamp);
    }
}
