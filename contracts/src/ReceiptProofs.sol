// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {EthereumTrie} from "@polytope-labs/solidity-merkle-trees/src/EthereumTrie.sol";
import {StorageValue} from "@polytope-labs/solidity-merkle-trees/src/trie/Node.sol";
import {RLPReader} from "@polytope-labs/solidity-merkle-trees/src/trie/ethereum/RLPReader.sol";

/// @title ReceiptProofs
/// @notice That a block's receipts (proven against its receipts root: a Merkle-Patricia trie keyed by the RLP
///         of each transaction's index) hold a gateway's `Sent` event for a message. The trie proof and the RLP
///         are read by Polytope Labs' solidity-merkle-trees (EIP-1186 multiproofs: one node set for all the
///         receipts of a block); this library only reads a proven receipt's log.
/// @dev A proof whose nodes do not lead to the root reverts inside the library ("Incomplete Proof!").
library ReceiptProofs {
    using RLPReader for RLPReader.RLPItem;

    /// @notice `Sent(bytes32 indexed id, uint64 indexed hop, uint64 hopSequence, Message message)`: Gateway.sol.
    bytes32 internal constant SENT_TOPIC =
        keccak256("Sent(bytes32,uint64,uint64,(uint8,uint8,uint64,uint64,uint64,uint64,uint32,address,address,bytes))");

    /// @notice The receipts under `keys` (each the RLP of a transaction index; empty where the trie has none).
    function receipts(bytes32 root, bytes[] memory nodes, bytes[] memory keys)
        internal
        pure
        returns (StorageValue[] memory)
    {
        return EthereumTrie.VerifyProof(root, nodes, keys);
    }

    /// @notice The logs of a proven receipt (typed: its type byte first); none if the transaction failed.
    function logs(bytes memory receipt) internal pure returns (RLPReader.RLPItem[] memory) {
        if (receipt.length == 0) return new RLPReader.RLPItem[](0);
        RLPReader.RLPItem memory item = RLPReader.toRlpItem(receipt);
        if (uint8(receipt[0]) < 0x80) item = RLPReader.RLPItem(item.len - 1, item.memPtr + 1); // EIP-2718 type
        RLPReader.RLPItem[] memory fields = item.toList(); // status, cumulative gas, bloom, logs
        if (fields[0].toUint() != 1) return new RLPReader.RLPItem[](0);
        return fields[3].toList();
    }

    /// @notice Whether `log` is `gateway`'s Sent event for message `id` toward chain `hop` as hop sequence
    ///         `hopSequence`.
    function isSent(RLPReader.RLPItem memory log, address gateway, bytes32 id, uint64 hop, uint64 hopSequence)
        internal
        pure
        returns (bool)
    {
        RLPReader.RLPItem[] memory parts = log.toList(); // address, topics, data
        if (parts[0].toAddress() != gateway) return false;
        RLPReader.RLPItem[] memory topics = parts[1].toList();
        if (topics.length != 3 || bytes32(topics[0].toUint()) != SENT_TOPIC || bytes32(topics[1].toUint()) != id) {
            return false;
        }
        if (topics[2].toUint() != hop) return false;
        (uint256 data, uint256 length) = parts[2].payloadLocation();
        if (length < 32) return false;
        uint256 first;
        assembly ("memory-safe") {
            first := mload(data)
        }
        return first == hopSequence;
    }
}
