// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @notice What every party's entity signs to take part in one transaction (Atomic.consentDigest): the protocol,
///         every party (chains and entities, in order; the first begins it), the agreement, the lock timeout, the
///         coordinator that may run it (chain and address), a nonce the parties chose, and the time by which it must
///         begin. Each participant spends a consent once: a signed transaction runs at most once.
struct Consent {
    uint8 protocol;
    uint64[] chains;
    uint32[] entities;
    bytes32 agreement;
    uint64 lockTimeout;
    uint64 coordinatorChain;
    address coordinator;
    bytes32 nonce;
    uint64 validUntil;
}

/// @notice A prepare, as a coordinator sends it to one party: (PREPARE, txId, Prepare). The party finds its own
///         entity in `terms` (by its chain) and recomputes the digest its entity signed from them.
struct Prepare {
    Consent terms;
    address initiator; // the account that began it: it must be the first party's entity's
    uint64 expiresAt;
    bytes consent; // this party's entity's signature of the terms
}

/// @notice What an initiator asks a coordinator to begin: `agreement` written into the record of `entities[i]` on
///         chain `chains[i]`, each `consents[i]` the signature of `entities[i]`'s account over the consent digest
///         of these terms with this coordinator's chain and address.
struct BeginRequest {
    uint8 protocol;
    uint64[] chains;
    uint32[] entities;
    bytes32 agreement;
    uint64 lockTimeout;
    bytes32 nonce;
    uint64 validUntil;
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
    uint8 internal constant REPLAYED = 5; // (a vote) the party's consent was spent already, or is out of date

    // gas each message's handler gets: a participant's prepare sends its vote; the last vote sends the decision
    uint32 internal constant PREPARE_GAS = 400_000;
    uint32 internal constant DECISION_GAS = 200_000;
    uint32 internal constant VOTE_GAS = 800_000;

    bytes32 internal constant CONSENT_TAG = keccak256("pilotsim.atomic.consent.v2");

    /// @notice What each party's entity signs (as an Ethereum signed message, EIP-191) to take part: the terms
    ///         (struct Consent). The same on every chain, so one signature serves wherever its party's participant
    ///         lives; the coordinator and nonce in it make it serve one transaction only.
    function consentDigest(Consent memory c) internal pure returns (bytes32) {
        bytes32 consent = keccak256(abi.encode(CONSENT_TAG, c));
        return MessageHashUtils.toEthSignedMessageHash(consent);
    }
}
