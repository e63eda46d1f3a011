// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {RLPReader} from "@polytope-labs/solidity-merkle-trees/src/trie/ethereum/RLPReader.sol";
import {ConsensusHeaders} from "./ConsensusHeaders.sol";
import {IVerifier} from "./Messaging.sol";
import {ReceiptProofs} from "./ReceiptProofs.sol";

/// @title LightClientVerifier
/// @notice Trusts the source chain's own consensus, as IBC's light clients and SPV do: relayers bring the
///         source's headers, signed by its validators (ConsensusHeaders), and each message comes with the proof
///         that its Sent event is in a receipt of a stored header's block. No committee of the bridge's own.
///         Proof: abi.encode(BlockProof[] blocks, ReceiptProof[] receipts, uint256[] refs): each source block's
///         number and trie nodes (shared by its receipts' paths); each receipt's block (in `blocks`), trie key
///         and path (indices into its block's nodes, root first); for each message in order, a ref
///         `receipt << 32 | logIndex` naming its receipt (in `receipts`) and its log there.
contract LightClientVerifier is ConsensusHeaders, IVerifier {
    struct BlockProof {
        uint64 number;
        bytes[] nodes;
    }

    struct ReceiptProof {
        uint256 blockIndex;
        bytes key; // the RLP of the transaction's index in its block
        uint256[] path;
    }

    struct Batch {
        uint64 hop;
        address gateway;
        BlockProof[] blocks;
        ReceiptProof[] receipts;
        uint256[] refs;
    }

    error UnknownHeader(uint64 number); // no stored header at the message's height: a later delivery may cure it
    error WrongRoot(uint64 number); // a path's first node is not the stored header's receipts root
    error NotInReceipts(bytes32 id); // the named log is not the gateway's Sent event of this message
    error BadRef(uint256 index);

    constructor(address governor_) ConsensusHeaders(governor_) {}

    function verify(
        uint64 hop,
        address hopGateway,
        bytes calldata proof,
        bytes32[] calldata ids,
        uint64[] calldata hopSequences
    ) external view returns (bytes4[] memory reasons) {
        Batch memory batch;
        (batch.blocks, batch.receipts, batch.refs) = abi.decode(proof, (BlockProof[], ReceiptProof[], uint256[]));
        if (batch.refs.length != ids.length) revert BadRef(batch.refs.length);
        (batch.hop, batch.gateway) = (hop, hopGateway);
        reasons = new bytes4[](ids.length);
        uint256 scratch; // memory from here on holds one receipt's proof work, given up for the next receipt's
        assembly ("memory-safe") {
            scratch := mload(0x40)
        }
        RLPReader.RLPItem[] memory logs;
        uint256 decoded = type(uint256).max; // the receipt whose logs are in `logs` (consecutive messages share one)
        for (uint256 i; i < ids.length; ++i) {
            uint256 r = batch.refs[i] >> 32;
            if (r != decoded) {
                assembly ("memory-safe") {
                    mstore(0x40, scratch) // the last receipt's trie walk is not needed any more
                }
                (logs, decoded) = _logs(batch, r);
            }
            if (decoded == type(uint256).max) reasons[i] = UnknownHeader.selector;
            else if (!_sent(batch, logs, uint32(batch.refs[i]), ids[i], hopSequences[i])) {
                reasons[i] = NotInReceipts.selector;
            }
        }
    }

    function kind() external pure returns (string memory) {
        return "light-client";
    }

    /// @dev Whether log `logIndex` of a receipt's `logs` is the hop gateway's Sent event of message `id`.
    function _sent(
        Batch memory batch,
        RLPReader.RLPItem[] memory logs,
        uint256 logIndex,
        bytes32 id,
        uint64 hopSequence
    ) private
        view
        returns (bool)
    {
        return logIndex < logs.length
            && ReceiptProofs.isSent(logs[logIndex], batch.gateway, id, uint64(block.chainid), hopSequence);
    }

    /// @dev The logs of receipt `r`, proven against its block's stored header, and `r`; or none and type(uint256).max
    ///      when no header is stored at that height.
    function _logs(Batch memory batch, uint256 r) private view returns (RLPReader.RLPItem[] memory logs, uint256) {
        if (r >= batch.receipts.length) revert BadRef(r);
        ReceiptProof memory receipt = batch.receipts[r];
        if (receipt.blockIndex >= batch.blocks.length) revert BadRef(receipt.blockIndex);
        BlockProof memory source = batch.blocks[receipt.blockIndex];
        bytes32 root = receiptsRoots[batch.hop][source.number];
        if (root == bytes32(0)) return (logs, type(uint256).max);
        bytes[] memory path = new bytes[](receipt.path.length);
        for (uint256 j; j < path.length; ++j) {
            if (receipt.path[j] >= source.nodes.length) revert BadRef(receipt.path[j]);
            path[j] = source.nodes[receipt.path[j]];
        }
        if (path.length == 0 || keccak256(path[0]) != root) revert WrongRoot(source.number);
        bytes[] memory keys = new bytes[](1);
        keys[0] = receipt.key;
        return (ReceiptProofs.logs(ReceiptProofs.receipts(root, path, keys)[0].value), r);
    }
}
