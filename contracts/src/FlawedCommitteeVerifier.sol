// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {CommitteeVerifier} from "./CommitteeVerifier.sol";

/// @title FlawedCommitteeVerifier
/// @notice FOR FAULT SCENARIOS ONLY. The committee verifier with Wormhole's flaw (Feb 2022) put back: a
///         message that comes with no signatures at all skips the check, as Wormhole's spoofed sysvar
///         account skipped its guardians'. A simulation shows what it lets through and that the watcher
///         catches it.
contract FlawedCommitteeVerifier is CommitteeVerifier {
    constructor(address governor_) CommitteeVerifier(governor_) {}

    function _checkMessage(uint64 hop, address hopGateway, bytes32 subject, bytes calldata signatures)
        internal
        view
        override
        returns (bytes4)
    {
        if (signatures.length == 0) return bytes4(0);
        return super._checkMessage(hop, hopGateway, subject, signatures);
    }
}
