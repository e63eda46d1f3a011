// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {CheckpointVerifier} from "./CheckpointVerifier.sol";

/// @title FlawedCheckpointVerifier
/// @notice FOR FAULT SCENARIOS ONLY. The checkpoint verifier with one historical flaw put back:
///         - VERIFIER_BYPASS (Wormhole, Feb 2022): a root that comes with no signatures at all skips the
///           committee check (inclusion proofs are still checked, against the forger's own root);
///         - ZERO_ROOT (Nomad, Aug 2022): the zero root is trusted, as Nomad's upgrade marked 0x00
///           confirmed; with it neither signatures nor inclusion proofs are checked.
contract FlawedCheckpointVerifier is CheckpointVerifier {
    uint8 public constant VERIFIER_BYPASS = 1;
    uint8 public constant ZERO_ROOT = 2;

    uint8 public immutable flaw;

    constructor(address governor_, uint8 flaw_) CheckpointVerifier(governor_) {
        flaw = flaw_;
    }

    function _requireRoot(uint64 hop, address hopGateway, bytes32 root, bytes calldata signatures)
        internal
        view
        override
    {
        if (flaw == VERIFIER_BYPASS && signatures.length == 0) return;
        if (flaw == ZERO_ROOT && root == bytes32(0)) return;
        super._requireRoot(hop, hopGateway, root, signatures);
    }

    function _included(bytes32 root, bytes32 leaf, bytes calldata siblings) internal view override returns (bool) {
        if (flaw == ZERO_ROOT && root == bytes32(0)) return true;
        return super._included(root, leaf, siblings);
    }
}
