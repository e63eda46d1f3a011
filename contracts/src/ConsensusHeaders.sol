// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title ConsensusHeaders
/// @notice Other chains' block headers as their own consensus signed them: a light client's store. Each
///         remote chain has a validator set (BFT: a header counts when more than two thirds of it signed);
///         governance names only the first one (genesis); after that a set changes by a handover that more
///         than two thirds of the old set sign, effective from a block on. A header is kept when signed by the
///         set in charge at its height: a set that handed over can no longer sign later blocks (a stale header).
///         Only a header's receipts root is kept: what receipt proofs are checked against. Anyone may submit
///         headers (relayers do): the signatures are the trust.
abstract contract ConsensusHeaders is Ownable2Step {
    bytes32 public constant HEADER_TAG = keccak256("pilotsim.header");
    bytes32 public constant HANDOVER_TAG = keccak256("pilotsim.handover");
    uint256 public constant MAX_VALIDATORS = 64;

    /// @notice A block header as the validators sign it (the parts light clients and fraud proofs need).
    struct Header {
        uint64 number;
        uint64 timestamp;
        bytes32 receiptsRoot;
        uint32 epoch; // the validator set that signed it
        bytes signatures; // 65 bytes each, by strictly increasing signer address
    }

    struct ValidatorSet {
        uint64 fromBlock; // the first block it signs for
        uint8 size;
        uint8 threshold; // floor(2 * size / 3) + 1
    }

    error GenesisAlreadySet(uint64 chain);
    error BadValidatorSet(uint256 size);
    error ValidatorsNotSorted(address validator);
    error UnknownValidatorSet(uint64 chain, uint32 epoch);
    error StaleHeader(uint64 chain, uint64 number, uint32 epoch); // its set had handed over before that height
    error HeaderBeforeSet(uint64 chain, uint64 number, uint32 epoch); // below the height its set starts at
    error HeaderConflict(uint64 chain, uint64 number); // another root for a height already stored: equivocation
    error HandoverNotAfter(uint64 fromBlock, uint64 current);
    error TooFewValidatorSignatures(uint256 have, uint256 need);
    error BadValidatorSignature(uint256 index);
    error SignerNotValidator(address signer);

    event ValidatorsHandedOver(uint64 indexed chain, uint32 epoch, uint64 fromBlock, address[] validators);
    event HeaderStored(uint64 indexed chain, uint64 indexed number, bytes32 receiptsRoot);

    mapping(uint64 chain => uint32 epoch) public currentEpoch; // 0: no validators known yet
    mapping(uint64 chain => mapping(uint32 epoch => ValidatorSet)) public validatorSets;
    mapping(uint64 chain => mapping(uint32 epoch => mapping(address validator => bool))) public isValidator;
    mapping(uint64 chain => mapping(uint64 number => bytes32 receiptsRoot)) public receiptsRoots;
    mapping(uint64 chain => uint64 number) public highestHeader; // the chain has produced at least this many blocks

    constructor(address governor_) Ownable(governor_) {}

    /// @notice Governance names `chain`'s first validator set (once: later sets come by handover).
    function setGenesisValidators(uint64 chain, address[] calldata validators) public onlyOwner {
        if (currentEpoch[chain] != 0) revert GenesisAlreadySet(chain);
        _install(chain, 1, 0, validators);
    }

    /// @notice `setGenesisValidators` for several chains in one transaction.
    function setGenesisValidatorsMany(uint64[] calldata chains, address[][] calldata validators) external {
        for (uint256 i; i < chains.length; ++i) setGenesisValidators(chains[i], validators[i]);
    }

    /// @notice The digest `chain`'s validators sign to hand over to `validators` from block `fromBlock` on.
    function handoverDigest(uint64 chain, uint32 epoch, uint64 fromBlock, address[] calldata validators)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(HANDOVER_TAG, chain, epoch, fromBlock, validators));
    }

    /// @notice The current set of `chain` hands over to `validators` (sorted) from block `fromBlock` on; more
    ///         than two thirds of the current set sign it. Anyone may carry it here.
    function handover(uint64 chain, uint64 fromBlock, address[] calldata validators, bytes calldata signatures)
        external
    {
        uint32 epoch = currentEpoch[chain];
        if (epoch == 0) revert UnknownValidatorSet(chain, 0);
        uint64 current = validatorSets[chain][epoch].fromBlock;
        if (fromBlock <= current) revert HandoverNotAfter(fromBlock, current);
        _requireSigned(chain, epoch, handoverDigest(chain, epoch, fromBlock, validators), signatures);
        _install(chain, epoch + 1, fromBlock, validators);
    }

    /// @notice The digest validators sign for a header of `chain`.
    function headerDigest(uint64 chain, uint64 number, uint64 timestamp, bytes32 receiptsRoot, uint32 epoch)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(HEADER_TAG, chain, number, timestamp, receiptsRoot, epoch));
    }

    /// @notice Store headers of `chain`, each signed by the set in charge at its height. A header already
    ///         stored is skipped (relayers race); another root for a stored height is refused.
    function submitHeaders(uint64 chain, Header[] calldata headers) external {
        for (uint256 i; i < headers.length; ++i) {
            Header calldata h = headers[i];
            bytes32 stored = receiptsRoots[chain][h.number];
            if (stored == h.receiptsRoot) continue;
            if (stored != bytes32(0)) revert HeaderConflict(chain, h.number);
            _requireHeader(chain, h);
            receiptsRoots[chain][h.number] = h.receiptsRoot;
            if (h.number > highestHeader[chain]) highestHeader[chain] = h.number;
            emit HeaderStored(chain, h.number, h.receiptsRoot);
        }
    }

    /// @dev Revert unless `h` is signed by more than two thirds of the set in charge of `chain` at its height.
    function _requireHeader(uint64 chain, Header calldata h) internal view {
        _requireInCharge(chain, h.number, h.epoch);
        _requireSigned(
            chain, h.epoch, headerDigest(chain, h.number, h.timestamp, h.receiptsRoot, h.epoch), h.signatures
        );
    }

    function _requireInCharge(uint64 chain, uint64 number, uint32 epoch) private view {
        uint32 current = currentEpoch[chain];
        if (epoch == 0 || epoch > current) revert UnknownValidatorSet(chain, epoch);
        if (number < validatorSets[chain][epoch].fromBlock) revert HeaderBeforeSet(chain, number, epoch);
        if (epoch < current && number >= validatorSets[chain][epoch + 1].fromBlock) {
            revert StaleHeader(chain, number, epoch);
        }
    }

    function _install(uint64 chain, uint32 epoch, uint64 fromBlock, address[] calldata validators) private {
        if (validators.length == 0 || validators.length > MAX_VALIDATORS) revert BadValidatorSet(validators.length);
        address previous;
        for (uint256 i; i < validators.length; ++i) {
            if (validators[i] <= previous) revert ValidatorsNotSorted(validators[i]);
            previous = validators[i];
            isValidator[chain][epoch][validators[i]] = true;
        }
        uint8 size = uint8(validators.length);
        validatorSets[chain][epoch] = ValidatorSet(fromBlock, size, uint8((2 * uint256(size)) / 3 + 1));
        currentEpoch[chain] = epoch;
        emit ValidatorsHandedOver(chain, epoch, fromBlock, validators);
    }

    /// @dev Revert unless more than two thirds of `chain`'s set `epoch` signed `digest` (distinct validators,
    ///      by increasing address, low-s: OpenZeppelin's ECDSA).
    function _requireSigned(uint64 chain, uint32 epoch, bytes32 digest, bytes calldata signatures) internal view {
        uint256 need = validatorSets[chain][epoch].threshold;
        if (signatures.length % 65 != 0 || signatures.length / 65 < need) {
            revert TooFewValidatorSignatures(signatures.length / 65, need);
        }
        mapping(address => bool) storage members = isValidator[chain][epoch];
        address previous;
        for (uint256 i; i < signatures.length / 65; ++i) {
            (address signer, ECDSA.RecoverError failure,) = ECDSA.tryRecover(digest, signatures[i * 65:(i + 1) * 65]);
            if (failure != ECDSA.RecoverError.NoError || signer <= previous) revert BadValidatorSignature(i);
            if (!members[signer]) revert SignerNotValidator(signer);
            previous = signer;
        }
    }
}
