// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {RLPReader} from "@polytope-labs/solidity-merkle-trees/src/trie/ethereum/RLPReader.sol";
import {ConsensusHeaders} from "./ConsensusHeaders.sol";
import {IVerifier} from "./Messaging.sol";
import {ReceiptProofs} from "./ReceiptProofs.sol";

/// @title OptimisticVerifier
/// @notice Accept unless proven wrong, as Nomad and Hyperlane's optimistic module do: a bonded poster publishes
///         claims (each message, and where its Sent event is on the hop: block, transaction, log) about a hop's
///         gateway, and their Merkle root; the root becomes usable `challengeWindow` seconds later unless someone
///         proves a claim false before then. Every claim names a block the hop is known to have produced (at or
///         below its highest header stored here, signed by its own validators: ConsensusHeaders), so every false
///         claim can be disproven here, trusting no watcher: that block's header and a receipt proof showing no
///         such Sent event there. A proven fraud voids the root, slashes the poster's bond (half to the
///         challenger) and bars the poster for good: none of its roots is usable any more.
///         Delivery proof: abi.encode(bytes32 root, Place[] places, bytes32[][] paths): for each message in order
///         where its claim put it and its Merkle path (OpenZeppelin's MerkleProof, sorted pairs).
contract OptimisticVerifier is ConsensusHeaders, ReentrancyGuard, IVerifier {
    uint256 public constant MIN_BOND = 1 ether;

    /// @notice Where a claim says the hop emitted a message.
    struct Place {
        uint64 blockNumber;
        uint32 txIndex;
        uint32 logIndex;
    }

    /// @notice One claim: the message and hop sequence, and its place on the hop.
    struct Claim {
        bytes32 id;
        uint64 hopSequence;
        Place place;
    }

    struct Posted {
        address poster;
        uint64 postedAt;
        bool voided;
    }

    uint256 public immutable challengeWindow; // seconds

    mapping(address poster => uint256) public bonds;
    mapping(address poster => bool) public slashed;
    mapping(uint64 hop => mapping(address hopGateway => mapping(bytes32 root => Posted))) public posted;

    error BondTooSmall(uint256 bond, uint256 required);
    error PosterSlashed(address poster);
    error NoClaims();
    error UnknownRoot(bytes32 root);
    error RootVoided(bytes32 root);
    error RootNotFinal(bytes32 root, uint256 finalAt);
    error NotInRoot(bytes32 id);
    error ChallengeWindowOver(bytes32 root, uint256 closedAt);
    error ClaimNotInRoot();
    error ClaimHolds(); // the fraud proof shows the claim true: nothing to slash
    error ClaimAboveHeaders(uint64 blockNumber, uint64 highest); // a block not known to exist: not disprovable
    error UnknownHeader(uint64 number);
    error BadProofLength(uint256 got, uint256 messages);

    event Bonded(address indexed poster, uint256 amount);
    event RootPosted(
        uint64 indexed hop, bytes32 indexed root, address indexed poster, address hopGateway, Claim[] claims
    );
    event FraudProven(
        uint64 indexed hop, bytes32 indexed root, address indexed poster, address challenger, uint256 reward
    );

    constructor(address governor_, uint256 challengeWindow_) ConsensusHeaders(governor_) {
        challengeWindow = challengeWindow_;
    }

    /// @notice Add to the sender's bond (a poster needs MIN_BOND).
    function bond() external payable {
        bonds[msg.sender] += msg.value;
        emit Bonded(msg.sender, msg.value);
    }

    /// @notice Publish `claims` about chain `hop`'s gateway `hopGateway`; their root is usable after the window.
    ///         Each claimed block must be at or below the hop's highest stored header. Posting the same root for
    ///         the same gateway again changes nothing (relayers race; a restarted one posts what it finds).
    function post(uint64 hop, address hopGateway, Claim[] calldata claims) external returns (bytes32 root) {
        if (slashed[msg.sender]) revert PosterSlashed(msg.sender);
        if (bonds[msg.sender] < MIN_BOND) revert BondTooSmall(bonds[msg.sender], MIN_BOND);
        if (claims.length == 0) revert NoClaims();
        uint64 highest = highestHeader[hop];
        for (uint256 i; i < claims.length; ++i) {
            if (claims[i].place.blockNumber > highest) revert ClaimAboveHeaders(claims[i].place.blockNumber, highest);
        }
        root = _root(claims);
        Posted storage p = posted[hop][hopGateway][root];
        if (p.poster != address(0)) return root;
        (p.poster, p.postedAt) = (msg.sender, uint64(block.timestamp));
        emit RootPosted(hop, root, msg.sender, hopGateway, claims);
    }

    function verify(
        uint64 hop,
        address hopGateway,
        bytes calldata proof,
        bytes32[] calldata ids,
        uint64[] calldata hopSequences
    ) external view returns (bytes4[] memory reasons) {
        (bytes32 root, Place[] memory places, bytes32[][] memory paths) =
            abi.decode(proof, (bytes32, Place[], bytes32[][]));
        Posted memory p = posted[hop][hopGateway][root];
        if (p.poster == address(0)) revert UnknownRoot(root);
        if (p.voided) revert RootVoided(root);
        if (slashed[p.poster]) revert PosterSlashed(p.poster); // one fraud proven: none of its roots is trusted
        if (block.timestamp < p.postedAt + challengeWindow) revert RootNotFinal(root, p.postedAt + challengeWindow);
        if (places.length != ids.length || paths.length != ids.length) revert BadProofLength(places.length, ids.length);
        reasons = new bytes4[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            if (!MerkleProof.verify(paths[i], root, leaf(ids[i], hopSequences[i], places[i]))) {
                reasons[i] = NotInRoot.selector;
            }
        }
    }

    function kind() external pure returns (string memory) {
        return "optimistic";
    }

    /// @notice A claim's leaf in its root.
    function leaf(bytes32 id, uint64 hopSequence, Place memory place) public pure returns (bytes32) {
        return keccak256(abi.encode(id, hopSequence, place.blockNumber, place.txIndex, place.logIndex));
    }

    /// @notice Prove `claim` (in `hopGateway`'s root `root`, by Merkle path `path`) false: its block's header is
    ///         stored here and `trieNodes` prove the receipt at its transaction holds no such Sent event of that
    ///         gateway at its log (or that there is no such receipt).
    function challenge(
        uint64 hop,
        address hopGateway,
        bytes32 root,
        Claim calldata claim,
        bytes32[] calldata path,
        bytes[] calldata trieNodes
    ) external nonReentrant {
        Posted storage p = _challengeable(hop, hopGateway, root, claim, path);
        bytes32 receiptsRoot = receiptsRoots[hop][claim.place.blockNumber];
        if (receiptsRoot == bytes32(0)) revert UnknownHeader(claim.place.blockNumber);
        bytes[] memory keys = new bytes[](1);
        keys[0] = _rlpIndex(claim.place.txIndex);
        RLPReader.RLPItem[] memory logs =
            ReceiptProofs.logs(ReceiptProofs.receipts(receiptsRoot, trieNodes, keys)[0].value);
        bool holds = claim.place.logIndex < logs.length
            && ReceiptProofs.isSent(logs[claim.place.logIndex], hopGateway, claim.id, uint64(block.chainid),
                claim.hopSequence);
        if (holds) revert ClaimHolds();
        _slash(hop, root, p);
    }

    function _challengeable(
        uint64 hop,
        address hopGateway,
        bytes32 root,
        Claim calldata claim,
        bytes32[] calldata path
    ) private view returns (Posted storage p) {
        p = posted[hop][hopGateway][root];
        if (p.poster == address(0)) revert UnknownRoot(root);
        if (p.voided) revert RootVoided(root);
        uint256 closes = p.postedAt + challengeWindow;
        if (block.timestamp >= closes) revert ChallengeWindowOver(root, closes);
        if (!MerkleProof.verifyCalldata(path, root, leaf(claim.id, claim.hopSequence, claim.place))) {
            revert ClaimNotInRoot();
        }
    }

    function _slash(uint64 hop, bytes32 root, Posted storage p) private {
        p.voided = true;
        address poster = p.poster;
        slashed[poster] = true;
        uint256 reward = bonds[poster] / 2; // the rest stays here, out of anyone's reach
        bonds[poster] = 0;
        emit FraudProven(hop, root, poster, msg.sender, reward);
        Address.sendValue(payable(msg.sender), reward);
    }

    /// @dev The root of `claims`' leaves: sorted pairs, an odd node carried up (sim.bridge.merkle builds the same).
    function _root(Claim[] calldata claims) private pure returns (bytes32) {
        bytes32[] memory level = new bytes32[](claims.length);
        for (uint256 i; i < claims.length; ++i) level[i] = leaf(claims[i].id, claims[i].hopSequence, claims[i].place);
        for (uint256 n = level.length; n > 1; n = (n + 1) / 2) {
            for (uint256 i; i < n / 2; ++i) {
                (bytes32 a, bytes32 b) = (level[2 * i], level[2 * i + 1]);
                level[i] = a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
            }
            if (n % 2 == 1) level[n / 2] = level[n - 1];
        }
        return level[0];
    }

    /// @dev RLP of a transaction index: the receipts trie's key.
    function _rlpIndex(uint32 index) private pure returns (bytes memory) {
        if (index == 0) return hex"80";
        if (index < 0x80) return abi.encodePacked(uint8(index));
        if (index < 0x100) return abi.encodePacked(uint8(0x81), uint8(index));
        if (index < 0x10000) return abi.encodePacked(uint8(0x82), uint16(index));
        if (index < 0x1000000) return abi.encodePacked(uint8(0x83), uint24(index));
        return abi.encodePacked(uint8(0x84), index);
    }
}
