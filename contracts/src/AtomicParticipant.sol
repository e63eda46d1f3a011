// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Atomic, Prepare} from "./Atomic.sol";
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
        (bool accepted, bool voted, bool yes, uint8 reason, bytes32 txId) = _command(srcChain, payload);
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
        (accepted,, yes, reason,) = _command(uint64(block.chainid), payload);
    }

    function _command(uint64 coordinatorChain, bytes calldata payload)
        private
        returns (bool accepted, bool voted, bool yes, uint8 reason, bytes32 txId)
    {
        uint8 kind;
        (kind, txId) = abi.decode(payload[:64], (uint8, bytes32));
        if (kind == Atomic.PREPARE) {
            if (entries[txId].state != 0) return (false, false, false, 0, txId); // one prepare per transaction
            (yes, reason) = _prepare(coordinatorChain, txId, payload);
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

    function _prepare(uint64 coordinatorChain, bytes32 txId, bytes calldata payload)
        private
        returns (bool yes, uint8 reason)
    {
        (,, Prepare memory p) = abi.decode(payload, (uint8, bytes32, Prepare));
        Entry storage e = entries[txId];
        (e.protocol, e.coordinatorChain, e.expiresAt, e.entity, e.agreement) =
            (p.protocol, coordinatorChain, p.expiresAt, p.entity, p.agreement);
        reason = _refusal(p);
        if (reason != Atomic.NONE) {
            e.state = REFUSED;
            emit PartyRefused(txId, p.entity, reason);
            return (false, reason);
        }
        bool committed = unsafeCommit;
        if (committed) {
            agreements[p.entity] = p.agreement;
            e.state = COMMITTED;
        } else {
            lockedBy[p.entity] = txId;
            e.state = PREPARED;
            if (p.protocol == Atomic.TCC) {
                e.previous = agreements[p.entity];
                agreements[p.entity] = p.agreement;
            }
        }
        emit PartyPrepared(txId, p.entity, p.protocol, coordinatorChain, p.expiresAt, committed);
        return (true, Atomic.NONE);
    }

    /// @dev Why this party votes no (Atomic.NONE: it votes yes): its entity is not active here, the initiator is not
    ///      the first party's active entity, the entity did not sign its consent, or its record is locked.
    function _refusal(Prepare memory p) private returns (uint8) {
        if (block.timestamp > p.expiresAt) return Atomic.EXPIRED;
        if (p.protocol != Atomic.TWO_PHASE && p.protocol != Atomic.TCC) return Atomic.VOTE_NO;
        uint256 word = mirror.words(p.entity);
        if (word.zone() != zoneId || !word.isActive()) return Atomic.VOTE_NO;
        // every mirror knows every entity: each party checks who began it, so a stranger locks nothing
        uint256 first = p.entity == p.initiatorEntity ? word : mirror.words(p.initiatorEntity);
        if (first.account() != p.initiator || !first.isActive()) return Atomic.VOTE_NO;
        (address signer, ECDSA.RecoverError failure,) = ECDSA.tryRecover(p.consentDigest, p.consent);
        if (failure != ECDSA.RecoverError.NoError || signer != word.account()) return Atomic.VOTE_NO;
        bytes32 holder = lockedBy[p.entity];
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
