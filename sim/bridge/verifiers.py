"""The verifiers a lane may use, as the relayer sees them: the contract that checks, the mode its
committee signs in, and how to prove a batch to it (one proof per batch, in the verifier's layout).

A third kind of verification is one contract implementing `IVerifier` (Messaging.sol) and one entry
here with its proof builder; nothing else in the gateway or the relayer changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from eth_keys.datatypes import PrivateKey

from registry.evm import Chain
from registry.evm.abi import BUILTIN_ERRORS
from registry.evm.artifacts import contract_constant, load_artifact

from . import contracts
from .committee import CommitteeKeys, LaneDomain
from .merkle import MerkleTree

VerifierName = Literal["committee", "checkpoint", "light-client", "optimistic"]
Flaw = Literal["verifier-bypass", "zero-root", "origin-unchecked"]


def committee_proof(signatures: Sequence[bytes]) -> bytes:
    """CommitteeVerifier's layout: for each message, its signature count (a byte) and its signatures."""
    return b"".join(bytes([len(s) // 65]) + s for s in signatures)


def checkpoint_proof(root: bytes, signatures: bytes, paths: Sequence[Sequence[bytes]]) -> bytes:
    """CheckpointVerifier's layout: the root, the signature count (a byte) and the signatures, then for each
    message its sibling count (a byte) and its siblings."""
    return root + bytes([len(signatures) // 65]) + signatures + b"".join(bytes([len(p)]) + b"".join(p)
                                                                        for p in paths)


class Verifier(Protocol):
    name: VerifierName
    contract: str  # its artifact
    mode: int  # the MODE its committee's digests carry (domain separation between verifiers)

    def prove(self, keys: CommitteeKeys, domain: LaneDomain, subjects: Sequence[bytes],
              signers: list[PrivateKey] | None = None) -> bytes:
        """The proof that the hop emitted `subjects`, signed by `keys` at threshold (or by `signers`: stolen
        keys, outsiders; an empty list signs nothing)."""
        ...

    def flawed(self, flaw: Flaw) -> tuple[str, tuple[int, ...]] | None:
        """The artifact (and its extra constructor arguments) with `flaw` put back, if this kind has it."""
        ...


class CommitteeVerifier:
    """m-of-n signatures of the hop's committee on every message."""

    name: VerifierName = "committee"
    contract = "CommitteeVerifier"
    mode = contract_constant("CommitteeVerifier", "MODE")

    def prove(self, keys: CommitteeKeys, domain: LaneDomain, subjects: Sequence[bytes],
              signers: list[PrivateKey] | None = None) -> bytes:
        return committee_proof([keys.attest(domain, s, signers) for s in subjects])

    def flawed(self, flaw: Flaw) -> tuple[str, tuple[int, ...]] | None:
        return ("FlawedCommitteeVerifier", ()) if flaw == "verifier-bypass" else None


class CheckpointVerifier:
    """One signed Merkle root per batch; an inclusion proof per message."""

    name: VerifierName = "checkpoint"
    contract = "CheckpointVerifier"
    mode = contract_constant("CheckpointVerifier", "MODE")
    FLAWS = {"verifier-bypass": contract_constant("FlawedCheckpointVerifier", "VERIFIER_BYPASS"),
             "zero-root": contract_constant("FlawedCheckpointVerifier", "ZERO_ROOT")}

    def prove(self, keys: CommitteeKeys, domain: LaneDomain, subjects: Sequence[bytes],
              signers: list[PrivateKey] | None = None) -> bytes:
        tree = MerkleTree(subjects)
        return checkpoint_proof(tree.root, keys.attest(domain, tree.root, signers),
                                [tree.proof(i) for i in range(len(subjects))])

    @staticmethod
    def zero_root(count: int) -> bytes:
        """Nomad's forgery: the zero root, no signatures, no inclusion proofs."""
        return checkpoint_proof(b"\x00" * 32, b"", [[] for _ in range(count)])

    def flawed(self, flaw: Flaw) -> tuple[str, tuple[int, ...]] | None:
        return ("FlawedCheckpointVerifier", (self.FLAWS[flaw],)) if flaw in self.FLAWS else None


class LightClientVerifier:
    """The source chain's own validators sign its headers; each message comes with a receipt proof. No committee
    signs anything: a relayer proves a batch from the chains (`sim.bridge.light_client`), not from keys."""

    name: VerifierName = "light-client"
    contract = "LightClientVerifier"
    mode = 0  # no committee digests

    def prove(self, keys: CommitteeKeys, domain: LaneDomain, subjects: Sequence[bytes],
              signers: list[PrivateKey] | None = None) -> bytes:
        raise TypeError("a light-client lane is proven by receipts, not committee keys: sim.bridge.light_client")

    def flawed(self, flaw: Flaw) -> tuple[str, tuple[int, ...]] | None:
        return None


class OptimisticVerifier:
    """A bonded poster's claims, usable after a challenge window unless a watcher proves one false: proven from
    the posted claims' tree (`sim.bridge.optimistic`), not from keys."""

    name: VerifierName = "optimistic"
    contract = "OptimisticVerifier"
    mode = 0  # no committee digests

    def prove(self, keys: CommitteeKeys, domain: LaneDomain, subjects: Sequence[bytes],
              signers: list[PrivateKey] | None = None) -> bytes:
        raise TypeError("an optimistic lane is proven by posted claims, not committee keys: sim.bridge.optimistic")

    def flawed(self, flaw: Flaw) -> tuple[str, tuple[int, ...]] | None:
        return None


# the same interface, IVerifier
VerifierContract = (contracts.CommitteeVerifier | contracts.CheckpointVerifier | contracts.LightClientVerifier
                    | contracts.OptimisticVerifier)


def verifier_contract(kind: str, chain: Chain, address: str, artifact: str) -> VerifierContract:
    """The typed contract of a verifier of `kind` (its artifact may be a flawed build of it)."""
    if kind == "light-client":
        return contracts.LightClientVerifier(chain, address, artifact)
    if kind == "optimistic":
        return contracts.OptimisticVerifier(chain, address, artifact)
    if kind == "checkpoint":
        return contracts.CheckpointVerifier(chain, address, artifact)
    return contracts.CommitteeVerifier(chain, address, artifact)


VERIFIERS: dict[str, Verifier] = {v.name: v for v in (CommitteeVerifier(), CheckpointVerifier(), LightClientVerifier(),
                                                      OptimisticVerifier())}
SIGNED = ("committee", "checkpoint")  # the kinds whose committees sign: rotated by governance
# the reasons a verifier gives for a message (or a batch): what a later proof may cure, unlike the gateway's own
VERIFICATION_ERRORS = frozenset(error.name for v in VERIFIERS.values()
                                for selector, error in load_artifact(v.contract).abi.errors.items()
                                if selector not in BUILTIN_ERRORS)  # Error(string) and Panic are anyone's
