// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title ValidatorSets
/// @notice The validator committees a verifier trusts, one per remote (hop) chain, and the m-of-n ECDSA
///         check of their signatures. A signature covers a domain (verifier version and mode, source
///         chain and gateway, this chain and the destination gateway that asks, committee epoch) and a
///         subject (a message, or a Merkle root). Signatures: 65 bytes each (r, s, v), by strictly
///         increasing signer address, low-s only (OpenZeppelin's ECDSA.tryRecover). Governance (the
///         owner, two-step ownership) rotates a committee; the epoch changes, so old signatures and old
///         members are refused.
abstract contract ValidatorSets is Ownable2Step {
    uint8 public constant VERSION = 1;
    bytes32 public constant DOMAIN_TAG = keccak256("pilotsim.committee");

    struct CommitteeSet {
        uint32 epoch;
        uint8 threshold;
        uint8 size;
    }

    error BadThreshold(uint256 threshold, uint256 size);
    error MembersNotSorted(address member);
    error UnknownCommittee(uint64 chain);
    error BadSignatureLength(uint256 length);
    error TooFewSignatures(uint256 have, uint256 need);
    error MalleableSignature(uint256 index);
    error InvalidSignature(uint256 index);
    error SignerNotMember(address signer);
    error DuplicateOrUnsortedSigner(address signer);
    error BadProof(uint256 offset); // the proof's layout is broken at that byte


    event CommitteeRotated(uint64 indexed chain, uint32 epoch, uint8 threshold, address[] members);

    mapping(uint64 chain => CommitteeSet) public committees;
    mapping(uint64 chain => mapping(address member => uint32 epoch)) public memberEpoch;

    constructor(address governor_) Ownable(governor_) {}

    /// @notice Replace the committee trusted for `chain` (members sorted ascending, no duplicates).
    function rotate(uint64 chain, address[] calldata members, uint8 threshold) public onlyOwner {
        if (threshold == 0 || threshold > members.length || members.length > type(uint8).max) {
            revert BadThreshold(threshold, members.length);
        }
        CommitteeSet storage set = committees[chain];
        uint32 epoch = set.epoch + 1;
        address previous;
        for (uint256 i; i < members.length; ++i) {
            if (members[i] <= previous) revert MembersNotSorted(members[i]);
            previous = members[i];
            memberEpoch[chain][members[i]] = epoch;
        }
        set.epoch = epoch;
        set.threshold = threshold;
        set.size = uint8(members.length);
        emit CommitteeRotated(chain, epoch, threshold, members);
    }

    /// @notice `rotate` for several chains in one transaction.
    function rotateMany(uint64[] calldata chains, address[][] calldata members, uint8[] calldata thresholds) external {
        for (uint256 i; i < chains.length; ++i) rotate(chains[i], members[i], thresholds[i]);
    }

    /// @notice The digest validators sign. `dstGateway` is the gateway that will ask for the check.
    function digest(uint8 mode, uint64 srcChain, address srcGateway, address dstGateway, bytes32 subject)
        public
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                DOMAIN_TAG, VERSION, mode, srcChain, srcGateway, block.chainid, dstGateway,
                committees[srcChain].epoch, subject
            )
        );
    }

    /// @dev bytes4(0) when at least `threshold` distinct members of `srcChain`'s committee signed; otherwise
    ///      the selector of the reason and a detail (the signature's index or the signer). Never reverts.
    function _check(
        uint8 mode,
        uint64 srcChain,
        address srcGateway,
        address dstGateway,
        bytes32 subject,
        bytes calldata signatures
    ) internal view returns (bytes4, uint256) {
        CommitteeSet memory set = committees[srcChain];
        if (set.epoch == 0) return (UnknownCommittee.selector, 0);
        if (signatures.length % 65 != 0) return (BadSignatureLength.selector, 0);
        uint256 count = signatures.length / 65;
        if (count < set.threshold) return (TooFewSignatures.selector, 0);
        bytes32 hash = digest(mode, srcChain, srcGateway, dstGateway, subject);
        mapping(address => uint32) storage epochs = memberEpoch[srcChain];
        address previous;
        for (uint256 i; i < count; ++i) {
            (address signer, bool malleable) = _recover(hash, signatures, i);
            if (malleable) return (MalleableSignature.selector, i);
            if (signer == address(0)) return (InvalidSignature.selector, i);
            if (signer <= previous) return (DuplicateOrUnsortedSigner.selector, uint160(signer));
            if (epochs[signer] != set.epoch) return (SignerNotMember.selector, uint160(signer));
            previous = signer;
        }
        return (bytes4(0), 0);
    }

    /// @dev `_check` that reverts with the reason and its arguments.
    function _require(uint8 mode, uint64 srcChain, address srcGateway, bytes32 subject, bytes calldata signatures)
        internal
        view
    {
        (bytes4 reason, uint256 detail) = _check(mode, srcChain, srcGateway, msg.sender, subject, signatures);
        if (reason == bytes4(0)) return;
        if (reason == UnknownCommittee.selector) revert UnknownCommittee(srcChain);
        if (reason == BadSignatureLength.selector) revert BadSignatureLength(signatures.length);
        if (reason == TooFewSignatures.selector) {
            revert TooFewSignatures(signatures.length / 65, committees[srcChain].threshold);
        }
        if (reason == MalleableSignature.selector) revert MalleableSignature(detail);
        if (reason == InvalidSignature.selector) revert InvalidSignature(detail);
        if (reason == SignerNotMember.selector) revert SignerNotMember(address(uint160(detail)));
        revert DuplicateOrUnsortedSigner(address(uint160(detail)));
    }

    /// @dev The next part of a proof at byte `cursor`: a count (one byte), then that many `unit`-byte items.
    function _part(bytes calldata proof, uint256 cursor, uint256 unit)
        internal
        pure
        returns (bytes calldata part, uint256 end)
    {
        if (cursor >= proof.length) revert BadProof(cursor);
        end = cursor + 1 + uint8(proof[cursor]) * unit;
        if (end > proof.length) revert BadProof(cursor);
        part = proof[cursor + 1:end];
    }

    /// @dev Signature `i` of the concatenation, through OpenZeppelin's malleability-checked recovery.
    function _recover(bytes32 hash, bytes calldata signatures, uint256 i)
        private
        pure
        returns (address signer, bool malleable)
    {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            let p := add(signatures.offset, mul(i, 65))
            r := calldataload(p)
            s := calldataload(add(p, 32))
            v := byte(0, calldataload(add(p, 64)))
        }
        ECDSA.RecoverError failure;
        (signer, failure,) = ECDSA.tryRecover(hash, v, r, s);
        return (signer, failure == ECDSA.RecoverError.InvalidSignatureS);
    }
}
