// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Atomic, Consent, Prepare} from "./Atomic.sol";
import {EntityWord} from "./EntityWord.sol";
import {Gateway} from "./Gateway.sol";
import {IMessageRecipient} from "./Messaging.sol";
import {RegistryMirror} from "./RegistryMirror.sol";

/// @title AtomicParticipant
/// @notice A zone's side of atomic cross-zone transactions: each local entity's agreement record, which a
///         transaction of the coordinators this chain trusts sets on every party's chain or on none.
///         - 2PC: prepare locks the record and keeps the intent; commit writes it; rollback releases it.
///         - TCC: try writes it tentatively and locks it; confirm keeps it; cancel puts the old one back.
///         A lock not decided by its expiry is released by anyone (a rollback, or a cancel): a commit can
///         never come after that, since the coordinator's commit is a gateway message whose deadline is the
///         lock's expiry (the gateway times it out) and this contract checks the expiry again.
///         Only the coordinators set by governance (one per chain) prepare, commit or roll back; a record
///         locked by a transaction refuses every other write until the lock ends.
contract AtomicParticipant is IMessageRecipient, Ownable2Step {
    using EntityWord for uint256;

    // a party's state in one transaction
    uint8 public constant PREPARED = 1; // locked (TCC: written tentatively)
    uint8 public constant COMMITTED = 2;
    uint8 public constant ROLLED_BACK = 3; // by the coordinator's decision
    uint8 public constant EXPIRED = 4; // released at the lock's expiry, no decision having come
    uint8 public constant REFUSED = 5; // voted no

    struct Entry {
        uint8 state;
        uint8 protocol;
        uint64 coordinatorChain;
        uint64 expiresAt;
        uint32 entity;
        bytes32 agreement;
        bytes32 previous; // TCC: the record before the try, put back by a cancel
    }

    error NotGateway(address caller);
    error NotCoordinator(address caller);
    error NotEntityAccount(address caller, uint32 entity);
    error Locked(uint32 entity, bytes32 txId);
    error NotPrepared(bytes32 txId, uint8 state);
    error NotExpired(bytes32 txId, uint64 expiresAt);

    event CoordinatorSet(uint64 indexed chain, address coordinator);
    event UnsafeCommitSet(bool unsafeCommit);
    event PartyPrepared(bytes32 indexed txId, uint32 indexed entity, uint8 protocol, uint64 coordinatorChain,
        uint64 expiresAt, bool committed);
    event PartyRefused(bytes32 indexed txId, uint32 indexed entity, uint8 reason);
    event PartyCommitted(bytes32 indexed txId, uint32 indexed entity);
    event PartyRolledBack(bytes32 indexed txId, uint32 indexed entity);
    event LockReleased(bytes32 indexed txId, uint32 indexed entity);
    event DecisionIgnored(bytes32 indexed txId, uint8 kind, uint8 state); // a decision for a party not prepared here
    event Amended(uint32 indexed entity, bytes32 agreement);

    Gateway public immutable gateway;
    RegistryMirror public immutable mirror;
    uint8 public immutable zoneId;
    address public immutable localCoordinator; // this chain's coordinator: it calls in directly
    mapping(uint64 chain => address) public coordinators;
    /// @notice FLAWED VARIANT, off unless a scenario asks: commit on prepare (vote yes having already written),
    ///         the shortcut that breaks atomicity when another party votes no.
    bool public unsafeCommit;

    mapping(bytes32 txId => Entry) public entries;
    mapping(uint32 entity => bytes32 txId) public lockedBy;
    mapping(uint32 entity => bytes32) public agreements; // each entity's record
    mapping(bytes32 consentDigest => bool) public spent; // consents of this chain's entities, each good for one prepare

    constructor(Gateway gateway_, RegistryMirror mirror_, uint8 zoneId_, address localCoordinator_, address admin_)
        Ownable(admin_)
    {
        gateway = gateway_;
        mirror = mirror_;
        zoneId = zoneId_;
        localCoordinator = localCoordinator_;
    }

    function setCoordinators(uint64[] calldata chains, address[] calldata coordinators_) external onlyOwner {
        for (uint256 i; i < chains.length; ++i) {
            coordinators[chains[i]] = coordinators_[i];
            emit CoordinatorSet(chains[i], coordinators_[i]);
        }
    }

    function setUnsafeCommit(bool unsafeCommit_) external onlyOwner {
        unsafeCommit = unsafeCommit_;
        emit UnsafeCommitSet(unsafeCommit_);
    }

    // ------------------------------------------------------------------------ the coordinators' commands

    function handleMessage(uint64 srcChain, address sender, bytes32, bytes calldata payload)
        external
        returns (bool)
    {
        if (msg.sender != address(gateway)) revert NotGateway(msg.sender);
        if (sender == address(0) || sender != coordinators[srcChain]) return false;
        (bool accepted, bool voted, bool yes, uint8 reason, bytes32 txId) = _command(srcChain, sender, payload);
        if (voted) {
            bytes memory vote = abi.encode(Atomic.VOTE, txId, yes, reason);
            uint64 expiresAt = entries[txId].expiresAt; // a vote after the lock's expiry counts for nothing
            uint64 ttl = expiresAt > block.timestamp ? expiresAt - uint64(block.timestamp) : 1;
            gateway.send(srcChain, sender, vote, ttl, Atomic.VOTE_GAS);
        }
        return accepted;
    }

    /// @notice This chain's coordinator's command, taken directly; a prepare's vote is returned.
    function handleLocal(bytes calldata payload) external returns (bool accepted, bool yes, uint8 reason) {
        if (msg.sender != localCoordinator) revert NotCoordinator(msg.sender);
        (accepted,, yes, reason,) = _command(uint64(block.chainid), msg.sender, payload);
    }

    function _command(uint64 coordinatorChain, address coordinator, bytes calldata payload)
        private
        returns (bool accepted, bool voted, bool yes, uint8 reason, bytes32 txId)
    {
        uint8 kind;
        (kind, txId) = abi.decode(payload[:64], (uint8, bytes32));
        if (kind == Atomic.PREPARE) {
            if (entries[txId].state != 0) return (false, false, false, 0, txId); // one prepare per transaction
            (yes, reason) = _prepare(coordinatorChain, coordinator, txId, payload);
            return (true, true, yes, reason, txId);
        }
        if (kind != Atomic.COMMIT && kind != Atomic.ROLLBACK) return (false, false, false, 0, txId);
        Entry storage e = entries[txId];
        // a decision counts only from the coordinator that prepared it, while the lock holds
        if (e.state != PREPARED || e.coordinatorChain != coordinatorChain || block.timestamp > e.expiresAt) {
            emit DecisionIgnored(txId, kind, e.state);
            return (false, false, false, 0, txId);
        }
        if (kind == Atomic.COMMIT) _commit(txId, e);
        else _end(txId, e, ROLLED_BACK);
        return (true, false, false, 0, txId);
    }

    function _prepare(uint64 coordinatorChain, address coordinator, bytes32 txId, bytes calldata payload)
        private
        returns (bool yes, uint8 reason)
    {
        (,, Prepare memory p) = abi.decode(payload, (uint8, bytes32, Prepare));
        Consent memory c = p.terms;
        uint32 entity = _ownEntity(c);
        Entry storage e = entries[txId];
        (e.protocol, e.coordinatorChain, e.expiresAt, e.entity, e.agreement) =
            (c.protocol, coordinatorChain, p.expiresAt, entity, c.agreement);
        reason = _refusal(coordinatorChain, coordinator, entity, p);
        if (reason != Atomic.NONE) {
            e.state = REFUSED;
            emit PartyRefused(txId, entity, reason);
            return (false, reason);
        }
        bool committed = unsafeCommit;
        if (committed) {
            agreements[entity] = c.agreement;
            e.state = COMMITTED;
        } else {
            lockedBy[entity] = txId;
            e.state = PREPARED;
            if (c.protocol == Atomic.TCC) {
                e.previous = agreements[entity];
                agreements[entity] = c.agreement;
            }
        }
        emit PartyPrepared(txId, entity, c.protocol, coordinatorChain, p.expiresAt, committed);
        return (true, Atomic.NONE);
    }

    /// @dev This chain's party in the terms: the entity named beside this chain (0: none is).
    function _ownEntity(Consent memory c) private view returns (uint32) {
        if (c.entities.length != c.chains.length) return 0;
        for (uint256 i; i < c.chains.length; ++i) if (c.chains[i] == block.chainid) return c.entities[i];
        return 0;
    }

    /// @dev Why this party votes no (Atomic.NONE: it votes yes): its entity is not active here, the initiator is not
    ///      the first party's active entity, the entity did not sign these terms with this coordinator, its consent
    ///      is spent or out of date, or its record is locked. A genuine consent is spent here, whatever the vote.
    function _refusal(uint64 coordinatorChain, address coordinator, uint32 entity, Prepare memory p)
        private
        returns (uint8)
    {
        Consent memory c = p.terms;
        if (block.timestamp > p.expiresAt) return Atomic.EXPIRED;
        if (c.protocol != Atomic.TWO_PHASE && c.protocol != Atomic.TCC) return Atomic.VOTE_NO;
        uint256 word = mirror.words(entity);
        if (entity == 0 || word.zone() != zoneId || !word.isActive()) return Atomic.VOTE_NO;
        // every mirror knows every entity: each party checks who began it, so a stranger locks nothing
        uint256 first = c.entities[0] == entity ? word : mirror.words(c.entities[0]);
        if (first.account() != p.initiator || !first.isActive()) return Atomic.VOTE_NO;
        // signed for another coordinator, or begun after the time it was good until: not this transaction's
        if (c.coordinatorChain != coordinatorChain || c.coordinator != coordinator) return Atomic.REPLAYED;
        if (p.expiresAt > uint256(c.validUntil) + c.lockTimeout) return Atomic.REPLAYED;
        bytes32 digest = Atomic.consentDigest(c);
        (address signer, ECDSA.RecoverError failure,) = ECDSA.tryRecover(digest, p.consent);
        if (failure != ECDSA.RecoverError.NoError || signer != word.account()) return Atomic.VOTE_NO;
        if (spent[digest]) return Atomic.REPLAYED;
        spent[digest] = true;
        bytes32 holder = lockedBy[entity];
        if (holder != 0) {
            Entry storage h = entries[holder];
            if (block.timestamp <= h.expiresAt) return Atomic.CONFLICT;
            _end(holder, h, EXPIRED); // an expired lock nobody released yet: released now
        }
        return Atomic.NONE;
    }

    function _commit(bytes32 txId, Entry storage e) private {
        if (e.protocol == Atomic.TWO_PHASE) agreements[e.entity] = e.agreement;
        delete lockedBy[e.entity];
        e.state = COMMITTED;
        emit PartyCommitted(txId, e.entity);
    }

    /// @dev A rollback or an expiry: the lock ends, and under TCC the try is compensated.
    function _end(bytes32 txId, Entry storage e, uint8 state) private {
        if (e.protocol == Atomic.TCC) agreements[e.entity] = e.previous;
        delete lockedBy[e.entity];
        e.state = state;
        if (state == EXPIRED) emit LockReleased(txId, e.entity);
        else emit PartyRolledBack(txId, e.entity);
    }

    // ------------------------------------------------------------------------ anyone, and the entities

    /// @notice Release a lock past its expiry that no decision ended: anyone may (a keeper, the entity).
    function release(bytes32 txId) external {
        Entry storage e = entries[txId];
        if (e.state != PREPARED) revert NotPrepared(txId, e.state);
        if (block.timestamp <= e.expiresAt) revert NotExpired(txId, e.expiresAt);
        _end(txId, e, EXPIRED);
    }

    /// @notice The entity writes its own record outside any transaction: refused while a transaction holds it.
    function amend(uint32 entity, bytes32 agreement) external {
        uint256 word = mirror.words(entity);
        if (word.account() != msg.sender || word.zone() != zoneId || !word.isActive()) {
            revert NotEntityAccount(msg.sender, entity);
        }
        bytes32 holder = lockedBy[entity];
        if (holder != 0) {
            Entry storage h = entries[holder];
            if (block.timestamp <= h.expiresAt) revert Locked(entity, holder);
            _end(holder, h, EXPIRED);
        }
        agreements[entity] = agreement;
        emit Amended(entity, agreement);
    }

    function handleOutcome(bytes32, uint8) external pure {}
}
