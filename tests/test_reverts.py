"""`registry.reverts`: a revert by error name, with its arguments checked; any other outcome fails."""

from __future__ import annotations

import pytest

from registry import Registry, SeedData, reverts


def test_the_named_revert_with_its_arguments_passes(registry: Registry, seed_data: SeedData) -> None:
    chengdu = seed_data.zone_id("Chengdu")
    outsider = registry.roles.authority(seed_data.zone_id("Beijing"))
    with reverts("NotAuthorityOrRegulator", caller=outsider, zoneId=chengdu) as caught:
        registry.suspend_entity(registry.entities(zone=chengdu)[0].id, by=outsider)
    assert caught.error is not None and caught.error.args_by_name["zoneId"] == chengdu


@pytest.mark.parametrize(("name", "arguments", "message"), [
    ("NotAdmin", {}, "expected a revert with NotAdmin, got reverted with NotAuthorityOrRegulator"),
    ("NotAuthorityOrRegulator", {"zoneId": 0}, "zoneId is {chengdu}, expected 0"),
    ("NotAuthorityOrRegulator", {"entity": 1}, "has no argument 'entity'"),
])
def test_another_revert_or_other_arguments_fail(registry: Registry, seed_data: SeedData, name: str,
                                                arguments: dict[str, object], message: str) -> None:
    chengdu = seed_data.zone_id("Chengdu")
    outsider = registry.roles.authority(seed_data.zone_id("Beijing"))
    with pytest.raises(AssertionError, match=message.format(chengdu=chengdu)), reverts(name, **arguments):
        registry.suspend_entity(registry.entities(zone=chengdu)[0].id, by=outsider)


def test_a_block_that_does_not_revert_fails(registry: Registry) -> None:
    with pytest.raises(AssertionError, match="the block did not revert"), reverts("NotAdmin"):
        registry.suspend_entity(1, by=registry.roles.regulator)
