// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Committee} from "./Committee.sol";
import {Gateway} from "./Gateway.sol";
import {Message} from "./Messaging.sol";

/// @title VulnerableGateway
/// @notice FOR FAULT SCENARIOS ONLY. The Gateway with one historical verification flaw put back,
///         so a simulation can show what the flaw lets through and that the watcher catches it.
///         - VERIFIER_BYPASS (Wormhole, Feb 2022): a message that comes with no signatures at all
///           skips the committee check, as Wormhole's spoofed sysvar account skipped its guardians'.
///         - ZERO_ROOT (Nomad, Aug 2022): the zero root is trusted, as Nomad's upgrade marked
///           0x00 confirmed; with it neither signatures nor inclusion proofs are checked.
///         - ORIGIN_UNCHECKED: a message's origin is not matched against the hop that delivered it,
///           so one chain's committee can vouch for messages of any other.
contract VulnerableGateway is Gateway {
    uint8 public constant VERIFIER_BYPASS = 1;
    uint8 public constant ZERO_ROOT = 2;
    uint8 public constant ORIGIN_UNCHECKED = 3;

    uint8 public immutable flaw;

    constructor(
        address admin_,
        Committee committee_,
        bool isRouter_,
        uint256 handlerGasLimit_,
        uint256 maxPayload_,
        uint8 flaw_
    ) Gateway(admin_, committee_, isRouter_, handlerGasLimit_, maxPayload_) {
        flaw = flaw_;
    }

    function _originOk(Message calldata m, uint64 hop) internal view override returns (bool) {
        return flaw == ORIGIN_UNCHECKED || super._originOk(m, hop);
    }

    function _checkSigned(uint64 hop, address remoteGateway, bytes32 subject, bytes calldata signatures)
        internal
        view
        override
        returns (bytes4)
    {
        if (flaw == VERIFIER_BYPASS && signatures.length == 0) return bytes4(0);
        return super._checkSigned(hop, remoteGateway, subject, signatures);
    }

    function _verifyRoot(uint64 hop, address remoteGateway, bytes32 root, bytes calldata signatures)
        internal
        view
        override
    {
        if (flaw == ZERO_ROOT && root == bytes32(0)) return;
        super._verifyRoot(hop, remoteGateway, root, signatures);
    }

    function _inCheckpoint(bytes32 leaf, bytes32[] calldata proof, bytes32 root) internal view override returns (bool) {
        if (flaw == ZERO_ROOT && root == bytes32(0)) return true;
        return super._inCheckpoint(leaf, proof, root);
    }
}
