// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Gateway} from "./Gateway.sol";
import {Message} from "./Messaging.sol";

/// @title VulnerableGateway
/// @notice FOR FAULT SCENARIOS ONLY. The Gateway without origin authentication: a message's origin is not
///         matched against the hop that delivered it, so one chain's verifier can vouch for messages of
///         any other. (The verifiers' historical flaws are FlawedCommitteeVerifier and
///         FlawedCheckpointVerifier.)
contract VulnerableGateway is Gateway {
    constructor(address admin_, bool isRouter_, uint256 handlerGasLimit_, uint256 maxPayload_)
        Gateway(admin_, isRouter_, handlerGasLimit_, maxPayload_)
    {}

    function _originOk(Message calldata, uint64) internal pure override returns (bool) {
        return true;
    }
}
