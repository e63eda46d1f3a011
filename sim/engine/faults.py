"""Fault injection: each fault does what its name says, at the time the scenario gives.

Faults act on a `FaultTarget` (sim.engine.target) — the few levers a running simulation offers —
and know nothing else of it. Attacks (forgeries, hostile sends) are in sim.engine.attacks.
"""

from __future__ import annotations

import simpy

from ..bridge.topology import HUB_CHAIN_ID
from . import attacks
from .fault_kinds import (
    AckBomb,
    AdminCall,
    ChainHalt,
    FanOut,
    Fault,
    GasCapFlood,
    KeysCompromised,
    LanePause,
    Lasting,
    OriginSpoof,
    OversizedPayload,
    RateLimit,
    RelayerDuplicate,
    RelayerOutage,
    RelayerReorder,
    VerifierBypass,
    ZeroRoot,
)
from .target import FaultProcess, FaultTarget


def inject(target: FaultTarget, fault: Fault) -> FaultProcess:
    """The fault's process, from the moment it starts."""
    if isinstance(fault, RelayerOutage):
        target.relayer_down(fault.relayer)
        yield _lasting(target, fault)
        target.restart_relayer(fault.relayer)
    elif isinstance(fault, RelayerDuplicate | RelayerReorder):
        duplicate = isinstance(fault, RelayerDuplicate)
        target.relayer_misbehaves(fault.relayer, duplicate=duplicate, reorder=not duplicate)
        yield _lasting(target, fault)
        target.relayer_misbehaves(fault.relayer)
    elif isinstance(fault, ChainHalt):
        chain_id = target.network.chain_id(fault.chain)
        target.halt_chain(chain_id, True)
        yield _lasting(target, fault)
        target.halt_chain(chain_id, False)
    elif isinstance(fault, RateLimit):
        yield from _rate_limit(target, fault)
    elif isinstance(fault, LanePause):
        yield from _lane_pause(target, fault)
    elif isinstance(fault, KeysCompromised | VerifierBypass | ZeroRoot):
        yield from attacks.forge(target, fault)
    elif isinstance(fault, AdminCall):
        yield from attacks.admin_call(target, fault)
    elif isinstance(fault, OriginSpoof):
        yield from attacks.origin_spoof(target, fault)
    elif isinstance(fault, OversizedPayload):
        yield from attacks.oversized_payload(target, fault)
    elif isinstance(fault, AckBomb):
        yield from attacks.ack_bomb(target, fault)
    elif isinstance(fault, GasCapFlood):
        yield from attacks.gas_cap_flood(target, fault)
    elif isinstance(fault, FanOut):
        yield from attacks.fan_out(target, fault)


def _lasting(target: FaultTarget, fault: Lasting) -> simpy.Event:
    """The end of a lasting fault's window: `duration_s` from now, or never (0: for the rest of the run, so
    the run records no end)."""
    return target.env.timeout(fault.duration_s) if fault.duration_s else target.env.event()


def _rate_limit(target: FaultTarget, fault: RateLimit) -> FaultProcess:
    def limit_every_zone_lane(capacity: int, refill_per_ms: int) -> None:
        net = target.network
        for zone in net.zones:
            others = [c for c in net.nodes if c not in (zone.chain_id, HUB_CHAIN_ID)]
            target.submit(zone.chain_id, [zone.gateway.tx("setRateLimit", c, capacity, refill_per_ms,
                                                          by=net.admin(zone.chain_id), gas=120_000) for c in others])

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
        target.submit(chain_id, [gateway.tx("setPaused", net.chain_id(to), paused, by=admin, gas=100_000)
                                 for to in fault.to])

    pause(True)
    if fault.duration_s:
        yield target.env.timeout(fault.duration_s)
        pause(False)
    else:
        yield target.env.event()  # for good
