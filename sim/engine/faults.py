"""Fault injection: each fault does what its name says, at the time the scenario gives.

Faults act on a `FaultTarget` (sim.engine.target) — the few levers a running simulation offers —
and know nothing else of it. Attacks (forgeries, hostile sends) are in sim.engine.attacks.
"""

from __future__ import annotations

from typing import assert_never

import simpy

from ..bridge.topology import HUB_CHAIN_ID
from . import attacks, forgery
from .fault_kinds import (
    AckBomb,
    AdminCall,
    ChainHalt,
    FanOut,
    Fault,
    FraudUnwatched,
    FraudWatched,
    GasCapFlood,
    HeaderForgery,
    KeysCompromised,
    LaneOutage,
    LanePause,
    Lasting,
    OriginSpoof,
    OversizedPayload,
    RateLimit,
    RelayerDuplicate,
    RelayerOutage,
    RelayerReorder,
    ValidatorHandover,
    ValidatorTakeover,
    VerifierBypass,
    WatcherOutage,
    ZeroRoot,
)
from .target import FaultProcess, FaultTarget


def inject(target: FaultTarget, fault: Fault) -> FaultProcess:
    """The fault's process, from the moment it starts. Every kind has its case: mypy refuses a new kind
    without one (`assert_never`), so none can silently do nothing."""
    match fault:
        case RelayerOutage():
            target.relayer_down(fault.relayer, restarts=fault.duration_s > 0)
            yield _lasting(target, fault)
            target.restart_relayer(fault.relayer)
        case RelayerDuplicate() | RelayerReorder():
            duplicate = isinstance(fault, RelayerDuplicate)
            target.relayer_misbehaves(fault.relayer, duplicate=duplicate, reorder=not duplicate)
            yield _lasting(target, fault)
            target.relayer_misbehaves(fault.relayer)
        case ChainHalt():
            chain_id = target.network.chain_id(fault.chain)
            target.halt_chain(chain_id, True)
            yield _lasting(target, fault)
            target.halt_chain(chain_id, False)
        case RateLimit():
            yield from _rate_limit(target, fault)
        case LanePause():
            yield from _lane_pause(target, fault)
        case KeysCompromised() | VerifierBypass() | ZeroRoot():
            yield from attacks.forge(target, fault)
        case AdminCall():
            yield from attacks.admin_call(target, fault)
        case OriginSpoof():
            yield from attacks.origin_spoof(target, fault)
        case OversizedPayload():
            yield from attacks.oversized_payload(target, fault)
        case AckBomb():
            yield from attacks.ack_bomb(target, fault)
        case GasCapFlood():
            yield from attacks.gas_cap_flood(target, fault)
        case FanOut():
            yield from attacks.fan_out(target, fault)
        case ValidatorTakeover() | HeaderForgery():
            yield from forgery.validator_forgery(target, fault)
        case FraudWatched() | FraudUnwatched():
            yield from forgery.fraud(target, fault)
        case ValidatorHandover():
            chain_id = target.network.chain_id(fault.chain)
            target.network.hand_over(chain_id, target.network.nodes[chain_id].chain.block_number + 1)
            yield target.env.timeout(0)
        case LaneOutage():
            net = target.network
            ends = [net.chain_id(fault.chain), *(net.chain_id(to) for to in fault.to)]
            lanes = {lane for to in ends[1:] for lane in ((ends[0], to), (to, ends[0]))}
            target.block_lanes(lanes, True)
            yield _lasting(target, fault)
            target.block_lanes(lanes, False)
        case WatcherOutage():
            target.watchers_down(True, fault.watchers)
            yield _lasting(target, fault)
            target.watchers_down(False, fault.watchers)
        case _:
            assert_never(fault)


def _lasting(target: FaultTarget, fault: Lasting) -> simpy.Event:
    """The end of a lasting fault's window: `duration_s` from now, or never (0: for the rest of the run, so
    the run records no end)."""
    return target.env.timeout(fault.duration_s) if fault.duration_s else target.env.event()


def _rate_limit(target: FaultTarget, fault: RateLimit) -> FaultProcess:
    def limit_every_zone_lane(capacity: int, refill_per_ms: int) -> None:
        net = target.network
        for zone in net.zones:
            others = [c for c in net.nodes if c not in (zone.chain_id, HUB_CHAIN_ID)]
            target.submit(zone.chain_id, [zone.gateway.set_rate_limit_tx(c, capacity, refill_per_ms,
                                                                         by=net.admin(zone.chain_id), gas=120_000)
                                          for c in others])

    limit_every_zone_lane(fault.capacity, int(fault.refill_per_s * 1000))
    if fault.duration_s:
        yield target.env.timeout(fault.duration_s)
        limit_every_zone_lane(0, 0)
    else:
        yield target.env.event()  # for good: never lifted, so the run records no end


def _lane_pause(target: FaultTarget, fault: LanePause) -> FaultProcess:
    net = target.network
    chain_id = net.chain_id(fault.chain)
    gateway, admin = net.nodes[chain_id].gateway, net.admin(chain_id)

    def pause(paused: bool) -> None:
        target.submit(chain_id, [gateway.set_paused_tx(net.chain_id(to), paused, by=admin, gas=100_000)
                                 for to in fault.to])

    pause(True)
    if fault.duration_s:
        yield target.env.timeout(fault.duration_s)
        pause(False)
    else:
        yield target.env.event()  # for good
