// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice What an atomic cross-zone transaction's coordinator and participants say to each other over the
///         gateways (each payload starts with its kind), and the words both use.
library Atomic {
    // protocols
    uint8 internal constant TWO_PHASE = 1; // prepare locks; commit applies; rollback releases
    uint8 internal constant TCC = 2; // try applies tentatively and locks; confirm keeps; cancel compensates

    // message kinds
    // (kind, txId, protocol, entity, initiatorEntity, initiator, agreement, expiresAt)
    uint8 internal constant PREPARE = 1;
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
}
