// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerifier, MessageLib} from "./Messaging.sol";
import {ValidatorSets} from "./ValidatorSets.sol";

/// @title CommitteeVerifier
/// @notice Each message carries the m-of-n signatures of its hop's committee over its subject (as Axelar's
///         and Wormhole's guardians sign each message). Proof: for each message in order, the number of
///         signatures (one byte), then the signatures.
contract CommitteeVerifier is ValidatorSets, IVerifier {
    uint8 public constant MODE = 1;

    constructor(address governor_) ValidatorSets(governor_) {}

    function verify(
        uint64 hop,
        address hopGateway,
        bytes calldata proof,
        bytes32[] calldata ids,
        uint64[] calldata hopSequences
    ) external view returns (bytes4[] memory reasons) {
        reasons = new bytes4[](ids.length);
        uint256 cursor;
        for (uint256 i; i < ids.length; ++i) {
            bytes calldata signatures;
            (signatures, cursor) = _part(proof, cursor, 65);
            reasons[i] = _checkMessage(hop, hopGateway, MessageLib.subject(ids[i], hopSequences[i]), signatures);
        }
        if (cursor != proof.length) revert BadProof(cursor);
    }

    function kind() external pure returns (string memory) {
        return "committee";
    }

    /// @dev One message's signatures (a flawed variant overrides it in the fault scenarios).
    function _checkMessage(uint64 hop, address hopGateway, bytes32 subject, bytes calldata signatures)
        internal
        view
        virtual
        returns (bytes4 reason)
    {
        (reason,) = _check(MODE, hop, hopGateway, msg.sender, subject, signatures);
    }
}
