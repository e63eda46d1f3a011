"""The table of `python -m sim.tools.contract_mutations`: kept apart from the tests the mutations run (which must
not see it), so that a mutation is caught by a test of the rule, never by this one."""

from __future__ import annotations

from sim.tools.contract_mutations import TESTS, mutations


def test_every_mutation_in_the_table_names_a_check_the_contracts_have() -> None:
    """Each check the tool removes must be in its contract, once: one renamed or rewritten would otherwise be
    skipped, and its rule left untested without anyone noticing."""
    table = mutations()
    assert len(table) >= 50 and "tests/test_contract_mutations.py" not in TESTS
    for mutation in table:
        assert mutation.path.read_text().count(mutation.check) == 1, mutation.name
        assert mutation.mutant != mutation.check, mutation.name
