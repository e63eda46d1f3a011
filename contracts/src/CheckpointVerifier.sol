// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IVerifier, MessageLib} from "./Messaging.sol";
import {ValidatorSets} from "./ValidatorSets.sol";

/// @title CheckpointVerifier
/// @notice The hop's committee signs once per batch: a Merkle root over the messages' subjects; each
///         message comes with its inclusion proof (OpenZeppelin's MerkleProof, sorted pairs). Proof: the
///         root (32 bytes), the number of signatures (one byte) and the signatures; then, for each message
///         in order, the number of sibling hashes (one byte) and the hashes.
contract CheckpointVerifier is ValidatorSets, IVerifier {
    uint8 public constant MODE = 2;

    error NotInCheckpoint(bytes32 id); // a message's proof does not lead to the signed root

    constructor(address governor_) ValidatorSets(governor_) {}

    function verify(
        uint64 hop,
        address hopGateway,
        bytes calldata proof,
        bytes32[] calldata ids,
        uint64[] calldata hopSequences
    ) external view returns (bytes4[] memory reasons) {
        if (proof.length < 32) revert BadProof(proof.length);
        bytes32 root = bytes32(proof[:32]);
        (bytes calldata signatures, uint256 cursor) = _part(proof, 32, 65);
        _requireRoot(hop, hopGateway, root, signatures);
        reasons = new bytes4[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            bytes calldata siblings;
            (siblings, cursor) = _part(proof, cursor, 32);
            if (!_included(root, MessageLib.subject(ids[i], hopSequences[i]), siblings)) {
                reasons[i] = NotInCheckpoint.selector;
            }
        }
        if (cursor != proof.length) revert BadProof(cursor);
    }

    function kind() external pure returns (string memory) {
        return "checkpoint";
    }

    /// @dev Revert unless the hop's committee signed `root` (a flawed variant overrides it).
    function _requireRoot(uint64 hop, address hopGateway, bytes32 root, bytes calldata signatures)
        internal
        view
        virtual
    {
        _require(MODE, hop, hopGateway, root, signatures);
    }

    /// @dev Whether `siblings` (32 bytes each) lead from `leaf` to `root` (a flawed variant overrides it).
    function _included(bytes32 root, bytes32 leaf, bytes calldata siblings) internal view virtual returns (bool) {
        bytes32[] calldata path;
        assembly ("memory-safe") {
            path.offset := siblings.offset
            path.length := shr(5, siblings.length)
        }
        return MerkleProof.processProofCalldata(path, leaf) == root;
    }
}
