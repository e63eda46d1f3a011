"""The fault kinds a scenario may inject: each its own model with the fields it needs, so a fault
missing one is refused when the scenario loads, not halfway through a run."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from .settings_base import ChainName, Seconds, _Model


class _Fault(_Model):
    kind: str
    at_s: Seconds = 0.0
    jitter_s: Seconds = Field(0.0, description="starts at a moment drawn from [at_s, at_s + jitter_s] (seeded)")


class Lasting(_Fault):
    """A fault with a window: it starts at `at_s` and is lifted `duration_s` later (0: never, it lasts the run)."""

    duration_s: Seconds = Field(0.0, description="how long it lasts; 0: for the rest of the run")


class RelayerOutage(Lasting):
    """The relayer is killed, then restarted from chain state after `duration_s` (0: killed for good)."""

    kind: Literal["relayer-outage"]
    relayer: int = Field(0, ge=0, description="which relayer (0-based)")


class RelayerDuplicate(Lasting):
    """The relayer submits every delivery twice for `duration_s`."""

    kind: Literal["relayer-duplicate"]
    relayer: int = Field(0, ge=0, description="which relayer (0-based)")


class RelayerReorder(Lasting):
    """The relayer delivers every batch in reverse order for `duration_s`."""

    kind: Literal["relayer-reorder"]
    relayer: int = Field(0, ge=0, description="which relayer (0-based)")


class ChainHalt(Lasting):
    """The chain produces no blocks for `duration_s` (0: for the rest of the run)."""

    kind: Literal["chain-halt"]
    chain: ChainName


class RateLimit(Lasting):
    """Every zone-to-zone lane gets a token bucket for `duration_s` (0: for good)."""

    kind: Literal["rate-limit"]
    capacity: int = Field(1, ge=1, le=1_000_000, description="bucket size, messages")
    refill_per_s: float = Field(0.1, ge=0, le=1_000_000, description="messages per second")


class LanePause(Lasting):
    """`chain`'s gateway pauses its lanes with the chains `to` for `duration_s` (0: for good): sends
    toward them are refused (registry syncs from the hub included) and deliveries from them wait (their
    acknowledgements too); what was sent before the pause travels on once it ends."""

    kind: Literal["lane-pause"]
    chain: ChainName = Field("hub", description="the chain whose outbound lanes pause")
    to: list[ChainName] = Field(min_length=1, description="the chains those lanes lead to")


class LaneOutage(Lasting):
    """No relayer carries anything on the lanes between `chain` and each of `to`, either way, for a while (a
    relayer's link to those chains down); what waits is carried once it ends. Longer than a transaction's lock
    timeout, it delays prepares, votes and decisions past their deadlines."""

    kind: Literal["lane-outage"]
    chain: ChainName = Field(description="one end of the lanes")
    to: list[ChainName] = Field(min_length=1, description="the chains at their other ends")


class WatcherOutage(Lasting):
    """`watchers` of the fraud watchers (all unless it says) stop watching optimistic lanes for `duration_s`."""

    kind: Literal["watcher-outage"]
    watchers: int | None = Field(None, ge=1, le=16, description="how many go down (default: all)")


class ValidatorHandover(_Fault):
    """`chain`'s own validators hand the chain to a fresh set from its next block on (the old set signs the
    handover); relayers and watchers carry it to every header store before the first header that needs it."""

    kind: Literal["validator-handover"]
    chain: ChainName = Field(description="the chain whose validator set changes")


class KeysCompromised(_Fault):
    """`keys` of `source`'s committee are stolen and sign forged messages into `chain` (Ronin)."""

    kind: Literal["keys-compromised"]
    chain: ChainName = Field(description="the chain the forgeries are delivered to")
    source: ChainName = Field(description="whose committee keys are stolen / whose messages are forged")
    keys: int = Field(ge=1, le=64, description="how many of the source's committee keys")
    forged: int = Field(1, ge=1, le=10_000, description="forged messages attempted")


class _Forgery(_Fault):
    chain: ChainName = Field(description="the chain attacked")
    source: ChainName = Field(description="the chain the messages claim to come from")
    forged: int = Field(1, ge=1, le=10_000, description="messages attempted")


class VerifierBypass(_Forgery):
    """Wormhole: `chain`'s gateway skips verification of unsigned messages; forgeries are sent."""

    kind: Literal["verifier-bypass"]


class ZeroRoot(_Forgery):
    """Nomad: `chain`'s gateway trusts the zero checkpoint root; forgeries are sent."""

    kind: Literal["zero-root"]


class AdminCall(_Forgery):
    """Poly Network: messages from `source` aimed at `chain`'s gateway and committee admin functions."""

    kind: Literal["admin-call"]


class ValidatorTakeover(_Forgery):
    """`keys` of `source`'s own consensus validators (default: more than two thirds) sign a forged header whose
    receipts hold the forged messages' Sent events, and it is stored where it serves them."""

    kind: Literal["validator-takeover"]
    keys: int | None = Field(None, ge=1, le=64, description="how many validator keys (default: the BFT threshold)")


class HeaderForgery(_Forgery):
    """As validator-takeover with fewer keys than the BFT threshold (default: one short of it)."""

    kind: Literal["header-forgery"]
    keys: int | None = Field(None, ge=1, le=64, description="how many validator keys (default: threshold - 1)")


class FraudWatched(_Forgery):
    """A bonded poster claims forged messages on an optimistic lane and delivers them after the window, while
    the fraud watchers watch."""

    kind: Literal["fraud-watched"]


class FraudUnwatched(_Forgery):
    """As fraud-watched, with every fraud watcher down from the post until the forgery is delivered."""

    kind: Literal["fraud-unwatched"]


class OriginSpoof(_Fault):
    """`source`'s committee keys (at its threshold unless `keys` says) vouch for messages of other
    origins into `chain`: a hub registry broadcast into its mirror, and a data request claiming a
    third zone. `unchecked_gateway`: the gateway receiving them skips the origin check (the flaw)."""

    kind: Literal["origin-spoof"]
    chain: ChainName = Field(description="the chain attacked")
    source: ChainName = Field(description="whose committee keys are stolen")
    keys: int | None = Field(None, ge=1, le=64, description="how many keys (default: the threshold)")
    unchecked_gateway: bool = Field(False, description="FLAWED VARIANT: the receiving gateway skips the origin check")


class OversizedPayload(_Fault):
    """Sends from `source` to `chain` with a payload at the gateways' cap, and one a byte above it."""

    kind: Literal["oversized-payload"]
    chain: ChainName = Field(description="the destination")
    source: ChainName = Field(description="the chain sent from")


class AckBomb(_Fault):
    """A contract on `source` floods `chain` with `messages` messages whose handlers get 1 gas, and
    burns all the gas its outcome callback is given, for each of their acknowledgements."""

    kind: Literal["ack-bomb"]
    chain: ChainName = Field(description="the destination")
    source: ChainName = Field(description="the chain of the flooding contract")
    messages: int = Field(64, ge=1, le=256, description="messages in the flood")


class GasCapFlood(_Fault):
    """A stranger's account on `source` sends `chain` `messages` messages, one transaction each, every one
    declaring `gas_limit` handler gas, to an address with no code: destination gas that no handler will
    use, declared to crowd the lane (gas accounting takes it from the open quota, and refuses what exceeds it)."""

    kind: Literal["gas-cap-flood"]
    chain: ChainName = Field(description="the destination")
    source: ChainName = Field(description="the chain sent from (hub: a stranger on the hub)")
    messages: int = Field(300, ge=1, le=2_000, description="messages in the flood")
    gas_limit: int = Field(10_000_000, ge=1, le=10_000_000, description="handler gas each declares")


class FanOut(_Fault):
    """A contract on `chain` answers every message it handles with `fan_out` messages back to `source`; a
    contract on `source` sends it `messages` messages (one transaction): the amplification is paid from the
    fanning contract's own quota, or refused."""

    kind: Literal["fan-out"]
    chain: ChainName = Field(description="the chain of the fanning contract")
    source: ChainName = Field(description="the chain of the first sender, where the fanned messages go")
    messages: int = Field(5, ge=1, le=64, description="messages sent to the fanning contract")
    fan_out: int = Field(10, ge=1, le=50, description="messages it sends for each one it handles")


Fault = Annotated[RelayerOutage | RelayerDuplicate | RelayerReorder | ChainHalt | RateLimit | LanePause | WatcherOutage
                  | LaneOutage | ValidatorHandover
                  | KeysCompromised | VerifierBypass | ZeroRoot | AdminCall | OriginSpoof | OversizedPayload | AckBomb
                  | GasCapFlood | FanOut | ValidatorTakeover | HeaderForgery | FraudWatched | FraudUnwatched,
                  Field(discriminator="kind")]
FAULT_KINDS = [get_args(t.model_fields["kind"].annotation)[0] for t in get_args(get_args(Fault)[0])]
