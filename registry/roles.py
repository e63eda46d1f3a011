"""Who acts in the registry, as local signing accounts: the admin, the regulator, each zone's authority and
each entity. Given a registry, an entity (or a zone's authority) is the account it is registered with on
chain, found among the chain's own keys; otherwise the account derived for it by id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .defaults import ADMIN_INDEX, AUTHORITY_BASE, ENTITY_BASE, REGULATOR_INDEX
from .errors import NotFound, PilotsimError
from .evm.accounts import Account, derive_account
from .evm.base import Chain


@dataclass(frozen=True)
class Roles:
    """Accounts of the registry's actors; zones and entities by id, or by name when the roles come from a
    `Registry` (`registry.roles.authority("Chengdu")`)."""

    admin: Account
    regulator: Account
    mnemonic_accounts: Callable[[int], Account]
    zone_id: Callable[[str], int] | None = None
    entity_id: Callable[[str], int] | None = None
    registered: Callable[[str, int], str] | None = None  # ("zone" | "entity", id) → the address on chain
    keys: list[Account] = field(default_factory=list)  # the accounts whose keys are held here
    _found: dict[tuple[str, int], Account] = field(default_factory=dict, repr=False, compare=False)

    def authority(self, zone: int | str) -> Account:
        return self._account("zone", self._id(zone, self.zone_id, "zone"), AUTHORITY_BASE)

    def entity(self, entity: int | str) -> Account:
        return self._account("entity", self._id(entity, self.entity_id, "entity"), ENTITY_BASE)

    def _account(self, kind: str, key: int, base: int) -> Account:
        derived = self.mnemonic_accounts(base + key - 1)
        if self.registered is None:
            return derived
        if (kind, key) in self._found:  # an entity's account does not change once registered
            return self._found[(kind, key)]
        try:
            address = self.registered(kind, key)  # a zone's authority may be appointed anew: read each time
        except NotFound:  # not registered yet (the seeding registers it with this very account)
            return derived
        found = derived if derived.address == address else next((a for a in self.keys if a.address == address), None)
        if found is None:
            raise PilotsimError(f"{kind} {key} is registered to {address}, whose key is not one of this chain's "
                                "accounts: sign with the key it registered with")
        if kind == "entity":
            self._found[(kind, key)] = found
        return found

    @staticmethod
    def _id(key: int | str, lookup: Callable[[str], int] | None, kind: str) -> int:
        if isinstance(key, int):
            return key
        if lookup is None:
            raise TypeError(f"these roles know {kind}s by id only; take them from a Registry to use names")
        return lookup(key)

    @classmethod
    def for_chain(cls, chain: Chain, zone_id: Callable[[str], int] | None = None,
                  entity_id: Callable[[str], int] | None = None,
                  registered: Callable[[str, int], str] | None = None) -> Roles:
        def account(i: int) -> Account:
            return chain.accounts[i] if i < len(chain.accounts) else derive_account(i)

        return cls(admin=account(ADMIN_INDEX), regulator=account(REGULATOR_INDEX), mnemonic_accounts=account,
                   zone_id=zone_id, entity_id=entity_id, registered=registered, keys=list(chain.accounts))
