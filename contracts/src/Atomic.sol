// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @notice A prepare's fields, as a coordinator sends them to one party: (PREPARE, txId, Prepare).
struct Prepare {
    uint8 protocol;
    uint32 entity; // the party's entity on the receiving chain
    uint32 initiatorEntity; // the first party's, whose account began the transaction
    address initiator;
    bytes32 agreement;
    uint64 expiresAt;
    bytes32 consentDigest; // what every party's entity signed (Atomic.consentDigest)
    bytes consent; // this party's entity's signature of it
}

/// @notice What an initiator asks a coordinator to begin: `agreement` written into the record of `entities[i]` on
///         chain `chains[i]`, each `consents[i]` the signature of `entities[i]`'s account over the consent digest.
struct BeginRequest {
    uint8 protocol;
    uint64[] chains;
    uint32[] entities;
    bytes32 agreement;
    uint64 lockTimeout;
    bytes[] consents;
}

/// @notice What an atomic cross-zone transaction's coordinator and participants say to each other over the
///         gateways (each payload starts with its kind), and the words both use.
library Atomic {
    // protocols
    uint8 internal constant TWO_PHASE = 1; // prepare locks; commit applies; rollback releases
    uint8 internal constant TCC = 2; // try applies tentatively and locks; confirm keeps; cancel compensates

    // message kinds
    uint8 internal constant PREPARE = 1; // (kind, txId, Prepare)
    uint8 internal constant COMMIT = 2; // (kind, txId)
    uint8 internal constant ROLLBACK = 3; // (kind, txId)
    uint8 internal constant VOTE = 4; // (kind, txId, yes, reason)

    // why a participant votes no, or a transaction aborts
    uint8 internal constant NONE = 0;
    uint8 internal constant VOTE_NO = 1; // the party's entity is not active here, or not the initiator's account
    uint8 internal constant CONFLICT = 2; // the entity's record is locked by another transaction
    uint8 internal constant TIMEOUT = 3; // not every vote came by the decision deadline
    uint8 internal constant EXPIRED = 4; // (a vote) the prepare came after the lock's expiry

    // gas each message's handler gets: a participant's prepare sends its vote; the last vote sends the decision
    uint32 internal constant PREPARE_GAS = 400_000;
    uint32 internal constant DECISION_GAS = 200_000;
    uint32 internal constant VOTE_GAS = 800_000;

    bytes32 internal constant CONSENT_TAG = keccak256("pilotsim.atomic.consent.v1");

    /// @notice What each party's entity signs (as an Ethereum signed message, EIP-191) to take part: the
    ///         protocol, every party (chains and entities, in order), the agreement and the lock timeout. The
    ///         same on every chain, so one signature serves wherever its party's participant lives.
    function consentDigest(uint8 protocol, uint64[] memory chains, uint32[] memory entities, bytes32 agreement,
        uint64 lockTimeout) internal pure returns (bytes32)
    {
        bytes32 consent = keccak256(abi.encode(CONSENT_TAG, protocol, chains, entities, agreement, lockTimeout));
        return MessageHashUtils.toEthSignedMessageHash(consent);
    }
}
