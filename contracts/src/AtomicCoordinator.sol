// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Atomic, BeginRequest, Consent, Prepare} from "./Atomic.sol";
import {AtomicParticipant} from "./AtomicParticipant.sol";
import {EntityWord} from "./EntityWord.sol";
import {Gateway} from "./Gateway.sol";
import {IMessageRecipient, Outcome} from "./Messaging.sol";
import {PilotRegistry} from "./PilotRegistry.sol";
import {RegistryMirror} from "./RegistryMirror.sol";

/// @title AtomicCoordinator
/// @notice Begins an atomic cross-zone transaction (2PC or TCC) over two to five parties, one entity on each of
///         as many zone chains, and decides it: commit once every party voted yes by the decision deadline;
///         roll back on the first no, or once the deadline passed (anyone may then ask).
///         The decision deadline is half the lock timeout: a vote that came back in time took one lane's delay
///         each way, so a decision sent then reaches a party over the same lane before its lock expires, as long
///         as the lane is no slower than it was. Decisions travel with the lock's expiry as their deadline, so a
///         party never applies one after it released its lock (a lane that slows down mid-transaction can still
///         leave one party committed and another expired: the hazard the `atomic` invariant watches for).
contract AtomicCoordinator is IMessageRecipient, Ownable2Step {
    using EntityWord for uint256;

    uint8 public constant VOTING = 1;
    uint8 public constant COMMITTED = 2;
    uint8 public constant ABORTED = 3;
    uint256 public constant MIN_PARTIES = 2;
    uint256 public constant MAX_PARTIES = 5;
    uint64 public constant MIN_LOCK_TIMEOUT = 10;
    uint64 public constant MAX_LOCK_TIMEOUT = 1 days;

    struct Transaction {
        uint8 protocol;
        uint8 state;
        uint8 parties;
        uint8 yes;
        uint8 reason; // why it aborted
        uint64 startedAt;
        uint64 decideBy;
        uint64 expiresAt;
    }

    error NotGateway(address caller);
    error BadProtocol(uint8 protocol);
    error BadParties(uint256 count);
    error LengthMismatch();
    error DuplicateChain(uint64 chain);
    error UnknownParticipant(uint64 chain);
    error BadLockTimeout(uint64 lockTimeout);
    error ConsentOutOfDate(uint64 validUntil);
    error NotInitiator(address caller, uint32 entity);
    error NotVoting(bytes32 txId, uint8 state);
    error NotPastDeadline(bytes32 txId, uint64 decideBy);

    event ParticipantSet(uint64 indexed chain, address participant);
    event TxBegun(bytes32 indexed txId, address indexed initiator, uint8 protocol, uint64[] chains, uint32[] entities,
        bytes32 agreement, uint64 decideBy, uint64 expiresAt);
    event TxVoted(bytes32 indexed txId, uint64 chain, bool yes, uint8 reason);
    event TxDecided(bytes32 indexed txId, bool commit, uint8 reason);
    event DecisionUndelivered(bytes32 indexed messageId, uint8 outcome);

    Gateway public immutable gateway;
    AtomicParticipant public immutable localParticipant; // this chain's, if it has one (the hub has none)
    // who each entity's account is: a zone chain's mirror of the registry, or the registry itself on the hub
    RegistryMirror public immutable mirror;
    PilotRegistry public immutable registry;
    mapping(uint64 chain => address) public participants;
    mapping(bytes32 txId => Transaction) public transactions;
    mapping(bytes32 txId => uint256) public votes; // bit i: party i voted; bit 8 + i: it voted no
    mapping(bytes32 txId => uint64[]) private _chains;
    uint256 public begun;

    constructor(Gateway gateway_, AtomicParticipant localParticipant_, RegistryMirror mirror_, PilotRegistry registry_,
        address admin_) Ownable(admin_)
    {
        gateway = gateway_;
        localParticipant = localParticipant_;
        mirror = mirror_;
        registry = registry_;
    }

    function setParticipants(uint64[] calldata chains, address[] calldata participants_) external onlyOwner {
        for (uint256 i; i < chains.length; ++i) {
            participants[chains[i]] = participants_[i];
            emit ParticipantSet(chains[i], participants_[i]);
        }
    }

    function chainsOf(bytes32 txId) external view returns (uint64[] memory) {
        return _chains[txId];
    }

    // ------------------------------------------------------------------------ the initiator

    /// @notice Begin the transaction `r` asks for. The caller must be the active account of `r.entities[0]`
    ///         (refused here, so a stranger spends none of this coordinator's gateway quota), and each party's entity
    ///         must have signed its consent to these terms with this coordinator, not spent yet; each party's
    ///         participant checks all of it again (its mirror knows every entity's account) and votes no otherwise.
    ///         Refused at once after the consents' `validUntil`.
    function begin(BeginRequest calldata r) external returns (bytes32 txId) {
        _check(r.protocol, r.chains, r.entities, r.lockTimeout);
        if (r.consents.length != r.chains.length) revert LengthMismatch();
        if (block.timestamp > r.validUntil) revert ConsentOutOfDate(r.validUntil);
        if (!_isActiveAccount(r.entities[0], msg.sender)) revert NotInitiator(msg.sender, r.entities[0]);
        txId = keccak256(abi.encode(block.chainid, address(this), ++begun));
        uint64 now_ = uint64(block.timestamp);
        Transaction memory t = Transaction(
            r.protocol, VOTING, uint8(r.chains.length), 0, Atomic.NONE, now_, now_ + r.lockTimeout / 2,
            now_ + r.lockTimeout
        );
        transactions[txId] = t;
        _chains[txId] = r.chains;
        emit TxBegun(txId, msg.sender, r.protocol, r.chains, r.entities, r.agreement, t.decideBy, t.expiresAt);
        Consent memory terms = Consent(r.protocol, r.chains, r.entities, r.agreement, r.lockTimeout,
            uint64(block.chainid), address(this), r.nonce, r.validUntil);
        _ask(txId, t, r, Prepare(terms, msg.sender, t.expiresAt, ""));
    }

    /// @notice What every party's entity signs to take part in a transaction on these terms (an EIP-191 signed
    ///         message's hash).
    function consentDigest(Consent calldata terms) external pure returns (bytes32) {
        return Atomic.consentDigest(terms);
    }

    function _check(uint8 protocol, uint64[] calldata chains, uint32[] calldata entities, uint64 lockTimeout)
        private
        view
    {
        if (protocol != Atomic.TWO_PHASE && protocol != Atomic.TCC) revert BadProtocol(protocol);
        uint256 n = chains.length;
        if (n < MIN_PARTIES || n > MAX_PARTIES) revert BadParties(n);
        if (entities.length != n) revert LengthMismatch();
        if (lockTimeout < MIN_LOCK_TIMEOUT || lockTimeout > MAX_LOCK_TIMEOUT) revert BadLockTimeout(lockTimeout);
        for (uint256 i; i < n; ++i) {
            if (_participant(chains[i]) == address(0)) revert UnknownParticipant(chains[i]);
            for (uint256 j; j < i; ++j) if (chains[j] == chains[i]) revert DuplicateChain(chains[i]);
        }
    }

    /// @dev Send each party its prepare (`p` with the party's consent filled in); this chain's party is asked last,
    ///      directly: its vote may decide at once.
    function _ask(bytes32 txId, Transaction memory t, BeginRequest calldata r, Prepare memory p) private {
        uint256 local = r.chains.length;
        for (uint256 i; i < r.chains.length; ++i) {
            p.consent = r.consents[i];
            if (r.chains[i] == block.chainid) {
                local = i;
                continue;
            }
            // the gateway is this chain's own, trusted contract: no reentrancy through it
            // solhint-disable-next-line multiple-sends
            gateway.send(r.chains[i], participants[r.chains[i]], abi.encode(Atomic.PREPARE, txId, p),
                t.expiresAt - t.startedAt, Atomic.PREPARE_GAS);
        }
        if (local == r.chains.length) return;
        p.consent = r.consents[local];
        (, bool yes, uint8 reason) = localParticipant.handleLocal(abi.encode(Atomic.PREPARE, txId, p));
        _vote(txId, local, yes, reason);
    }

    /// @notice Roll back a transaction whose decision deadline passed without every vote: anyone may.
    function abortExpired(bytes32 txId) external {
        Transaction storage t = transactions[txId];
        if (t.state != VOTING) revert NotVoting(txId, t.state);
        if (block.timestamp <= t.decideBy) revert NotPastDeadline(txId, t.decideBy);
        _decide(txId, t, false, Atomic.TIMEOUT);
    }

    // ------------------------------------------------------------------------ votes

    function handleMessage(uint64 srcChain, address sender, bytes32, bytes calldata payload)
        external
        returns (bool)
    {
        if (msg.sender != address(gateway)) revert NotGateway(msg.sender);
        if (sender == address(0) || sender != participants[srcChain]) return false;
        (uint8 kind, bytes32 txId, bool yes, uint8 reason) = abi.decode(payload, (uint8, bytes32, bool, uint8));
        if (kind != Atomic.VOTE) return false;
        uint64[] storage chains = _chains[txId];
        for (uint256 i; i < chains.length; ++i) {
            if (chains[i] != srcChain) continue;
            if (votes[txId] & (1 << i) != 0) return false; // one vote per party
            _vote(txId, i, yes, reason);
            return true;
        }
        return false; // not a party of it
    }

    function _vote(bytes32 txId, uint256 party, bool yes, uint8 reason) private {
        votes[txId] |= (yes ? uint256(1) : uint256(0x101)) << party;
        emit TxVoted(txId, _chains[txId][party], yes, reason);
        Transaction storage t = transactions[txId];
        if (t.state != VOTING) return; // decided already: its decision is on its way to this party
        if (block.timestamp > t.decideBy) _decide(txId, t, false, Atomic.TIMEOUT);
        else if (!yes) _decide(txId, t, false, reason == Atomic.CONFLICT ? Atomic.CONFLICT : Atomic.VOTE_NO);
        else if (++t.yes == t.parties) _decide(txId, t, true, Atomic.NONE);
    }

    /// @dev Record the decision and tell every party (a party that voted no has nothing to undo). A decision
    ///      after the locks' expiry is not sent: every party has released its lock, or will.
    function _decide(bytes32 txId, Transaction storage t, bool commit, uint8 reason) private {
        t.state = commit ? COMMITTED : ABORTED;
        t.reason = reason;
        emit TxDecided(txId, commit, reason);
        if (block.timestamp >= t.expiresAt) return;
        uint64 ttl = t.expiresAt - uint64(block.timestamp);
        bytes memory decision = abi.encode(commit ? Atomic.COMMIT : Atomic.ROLLBACK, txId);
        uint64[] storage chains = _chains[txId];
        uint256 voted = votes[txId];
        for (uint256 i; i < chains.length; ++i) {
            uint64 chain = chains[i];
            if (voted & (0x100 << i) != 0) continue;
            if (chain == block.chainid) localParticipant.handleLocal(decision);
            // solhint-disable-next-line multiple-sends
            else gateway.send(chain, participants[chain], decision, ttl, Atomic.DECISION_GAS);
        }
    }

    /// @dev Whether `caller` is `entity`'s account and the entity is active, as this chain knows it.
    function _isActiveAccount(uint32 entity, address caller) private view returns (bool) {
        if (address(mirror) != address(0)) {
            uint256 word = mirror.words(entity);
            return word.account() == caller && word.isActive();
        }
        PilotRegistry.Entity memory e = registry.getEntity(entity); // an unknown entity reverts: UnknownEntity
        return e.account == caller && e.status == PilotRegistry.EntityStatus.Active;
    }

    function _participant(uint64 chain) private view returns (address) {
        return chain == block.chainid ? address(localParticipant) : participants[chain];
    }

    function handleOutcome(bytes32 id, uint8 outcome) external {
        if (msg.sender != address(gateway)) revert NotGateway(msg.sender);
        if (outcome != Outcome.DELIVERED) emit DecisionUndelivered(id, outcome);
    }
}
