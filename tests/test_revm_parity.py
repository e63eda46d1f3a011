"""revm is a backend only if it charges what py-evm charges: the same runs on both, every transaction
compared (status, gas, logs, revert data), and the transaction rules pyrevm leaves to us tried one by one."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from registry import Chain, EthTesterChain, RevmChain, TransactionRejected, Tx
from registry.defaults import GENESIS_TIMESTAMP
from registry.evm import revm_journal
from registry.evm.artifacts import load_artifact
from registry.evm.revm_journal import Change, read_changes
from sim.engine import scenario as scenarios
from sim.tools import gas_snapshot
from sim.tools.recording import gas_differences, record_run

PROBE = load_artifact("Probe")
ZERO_ADDRESS = "0x" + "00" * 20


def test_the_baseline_costs_the_same_on_revm_transaction_by_transaction() -> None:
    baseline = scenarios.load("baseline")
    on_py_evm, on_revm = record_run(baseline, "eth-tester"), record_run(baseline, "revm")
    assert len(on_py_evm) > 1_000
    assert gas_differences(on_py_evm, on_revm) == []


def test_the_gas_snapshot_run_costs_the_same_on_revm() -> None:
    on_py_evm, on_revm = gas_snapshot.record("eth-tester"), gas_snapshot.record("revm")
    assert len(on_py_evm) > 100
    assert gas_differences(on_py_evm, on_revm) == []


def both() -> tuple[Chain, Chain]:
    return EthTesterChain(genesis_timestamp=GENESIS_TIMESTAMP), RevmChain(genesis_timestamp=GENESIS_TIMESTAMP)


def probe_tx(chain: Chain, probe: str, name: str, *args: object, sender: int = 0, gas: int = 200_000) -> Tx:
    return Tx(chain.accounts[sender], probe, PROBE.abi.function(name).encode(args), gas)


def gas_of(chain: Chain, steps: list[tuple[str, tuple[object, ...], int]]) -> list[tuple[bool, int]]:
    probe = chain.deploy(chain.accounts[0], PROBE.bytecode)
    receipts = [chain.send([probe_tx(chain, probe, name, *args, sender=sender)])[0] for name, args, sender in steps]
    return [(r.status, r.gas_used) for r in receipts]


@pytest.mark.parametrize("steps", [
    # pyrevm keeps slots warm from one call to the next: the second store would be 2,100 gas cheaper
    [("store", (5,), 0), ("store", (5,), 0), ("store", (6,), 1)],
    # a slot's original value is the one at the start of *its* transaction (SSTORE pricing, EIP-2200)
    [("store", (1,), 0), ("store", (0,), 0), ("store", (2,), 0), ("store", (2,), 2)],
    # refunds capped at a fifth of the gas used (EIP-3529): clearing a slot set in an earlier transaction
    [("store", (9,), 0), ("store", (0,), 1)],
    # the same reads, cold each time
    [("burn", (3,), 0), ("burn", (3,), 0)],
])
def test_each_transaction_starts_cold_as_on_py_evm(steps: list[tuple[str, tuple[object, ...], int]]) -> None:
    tester, revm = both()
    assert gas_of(revm, steps) == gas_of(tester, steps)


def test_calldata_floor_of_prague_applies() -> None:
    """EIP-7623, which revm 8 predates: a transaction of mostly calldata pays 10 gas a token at least."""
    tester, revm = both()
    results = []
    for chain in (tester, revm):
        probe = chain.deploy(chain.accounts[0], PROBE.bytecode)
        data = PROBE.abi.function("value").encode(()) + b"\xff" * 4_000  # extra calldata the function ignores
        receipt = chain.transact(Tx(chain.accounts[1], probe, data, 300_000))
        results.append(receipt.gas_used)
    assert results[0] == results[1] == 21_000 + 10 * 4 * (4 + 4_000)


def test_nonces_move_per_transaction_and_contract_addresses_follow() -> None:
    tester, revm = both()
    for chain in (tester, revm):
        first = chain.deploy(chain.accounts[4], PROBE.bytecode)
        chain.transact(probe_tx(chain, first, "store", 1, sender=4))
        second = chain.deploy(chain.accounts[4], PROBE.bytecode)
        assert chain.nonce(chain.accounts[4].address) == 3
        assert first != second
    assert [tester.nonce(a.address) for a in tester.accounts[:6]] == [revm.nonce(a.address) for a in revm.accounts[:6]]
    assert tester.code(second) == revm.code(second) != b""


def test_a_call_at_an_earlier_block_sees_that_block_and_leaves_the_latest() -> None:
    chain = RevmChain(genesis_timestamp=GENESIS_TIMESTAMP)
    probe = chain.deploy(chain.accounts[0], PROBE.bytecode)
    value = PROBE.abi.function("value")
    assert chain.call(probe, value.encode(()), block=chain.block_number - 1) == b""  # before it existed
    blocks = [chain.transact(probe_tx(chain, probe, "store", v)).block_number for v in (10, 20, 30)]
    assert [value.decode(chain.call(probe, value.encode(()), block=b)) for b in blocks] == [10, 20, 30]
    assert value.decode(chain.call(probe, value.encode(()), block=blocks[0] - 1)) == 0
    assert value.decode(chain.call(probe, value.encode(()))) == 30
    after = chain.transact(probe_tx(chain, probe, "store", 31))  # the looks back left nothing warm or changed
    assert (after.status, after.gas_used) == gas_of(EthTesterChain(genesis_timestamp=GENESIS_TIMESTAMP),
                                                    [("store", (v,), 0) for v in (10, 20, 30, 31)])[-1]


def test_a_revert_undoes_created_contracts_and_their_storage() -> None:
    chain = RevmChain(genesis_timestamp=GENESIS_TIMESTAMP)
    mark = chain.snapshot()
    probe = chain.deploy(chain.accounts[0], PROBE.bytecode)
    chain.transact(probe_tx(chain, probe, "store", 8))
    chain.revert(mark)
    assert chain.code(probe) == b"" and chain.nonce(chain.accounts[0].address) == 0
    again = chain.deploy(chain.accounts[0], PROBE.bytecode)  # same deployer, same nonce: same address
    assert again == probe
    value = PROBE.abi.function("value")
    assert value.decode(chain.call(probe, value.encode(()))) == 0


def test_a_block_with_a_refused_transaction_leaves_nothing_behind() -> None:
    """A batch is one block: a transaction refused in it (here: more value than the sender holds) means
    no block, on both backends; revm had already applied the transactions before it."""
    for chain in both():
        probe = chain.deploy(chain.accounts[0], PROBE.bytecode)
        head, nonce = chain.block_number, chain.nonce(chain.accounts[1].address)
        with pytest.raises(TransactionRejected):
            chain.send([probe_tx(chain, probe, "store", 9, sender=1),
                        Tx(chain.accounts[1], chain.accounts[0].address, b"", 21_000, value=10**40)])
        value = PROBE.abi.function("value")
        assert (value.decode(chain.call(probe, value.encode(()))), chain.block_number) == (0, head)
        assert chain.nonce(chain.accounts[1].address) == nonce
        chain.transact(probe_tx(chain, probe, "store", 3, sender=1))  # and the sender can go on


def test_value_sent_to_the_zero_address_stays_there() -> None:
    """The zero address is also the coinbase here; what it receives is kept like any balance."""
    tester, revm = both()
    results = []
    for chain in (tester, revm):
        receipts = [chain.transact(Tx(chain.accounts[2], ZERO_ADDRESS, b"", 30_000, value=v)) for v in (10**18, 1)]
        results.append((chain.balance(ZERO_ADDRESS), [r.gas_used for r in receipts]))
    assert results[0] == results[1] and results[0][0] == 10**18 + 1


def test_a_transaction_pyrevm_cannot_read_is_refused_and_the_nonce_kept() -> None:
    chain = RevmChain(genesis_timestamp=GENESIS_TIMESTAMP)
    sender = chain.accounts[3]
    with pytest.raises(TransactionRejected):
        chain.send([Tx(sender, chain.accounts[4].address, b"", 21_000, value=-1)])
    assert chain.nonce(sender.address) == 0 and chain.block_number == 0
    chain.transact(Tx(sender, chain.accounts[4].address, b"", 21_000, value=1))  # and it goes on from nonce 0
    assert chain.nonce(sender.address) == 1 and chain.balance(chain.accounts[4].address) == 10**24 + 1


def test_the_journal_names_what_a_transaction_changed_and_nothing_it_left_as_it_was() -> None:
    """revm's printed journal read back: a created contract's code length, the slots a transaction changed
    (a slot written with the value it had is not a change), the accounts it loaded with their balances."""
    chain = RevmChain(genesis_timestamp=GENESIS_TIMESTAMP)
    probe = chain.deploy(chain.accounts[0], PROBE.bytecode)
    store = PROBE.abi.function("store")
    chain.transact(Tx(chain.accounts[0], probe, store.encode([5]), 200_000))
    sender = chain.accounts[1].address.lower()

    def journal_of(run: Callable[[], object]) -> dict[str, Change]:
        return read_changes(journal_after(chain, run))

    changed = journal_of(lambda: chain.evm.message_call(sender, probe, store.encode([7]), gas=200_000))
    assert changed[probe.lower()].slots == {0: (5, 7)} and changed[probe.lower()].code_length is None
    assert changed[sender].balance == chain.balance(chain.accounts[1].address)  # loaded, as it was (no value)
    assert journal_of(lambda: chain.evm.message_call(sender, probe, store.encode([5]), gas=200_000))[
        probe.lower()].slots == {}
    created = journal_of(lambda: chain.evm.deploy(sender, PROBE.bytecode, gas=2_000_000))
    [code_length] = [c.code_length for c in created.values() if c.code_length is not None]
    assert code_length == len(PROBE.deployed_bytecode)


def journal_after(chain: RevmChain, run: Callable[[], object]) -> str:
    """revm's printed journal after `run`, which is then undone."""
    checkpoint = chain.evm.snapshot()
    try:
        run()
        return str(chain.evm.journal_str)
    finally:
        chain.evm.revert(checkpoint)


def one_code_two_forms() -> tuple[RevmChain, str, str, Callable[[str], str]]:
    """A chain holding the Probe's code analysed (deployed) at one address and raw (with a balance) at another,
    and the journal of a `store(7)` called on either."""
    chain = RevmChain(genesis_timestamp=GENESIS_TIMESTAMP)
    analysed = chain.deploy(chain.accounts[0], PROBE.bytecode).lower()
    raw = "0x" + "ab" * 20
    chain._put_info(raw, (5, 1, chain.code(analysed)))
    store = PROBE.abi.function("store").encode([7])
    sender = chain.accounts[1].address.lower()
    return chain, analysed, raw, lambda target: journal_after(
        chain, lambda: chain.evm.message_call(sender, target, store, gas=200_000))


def test_the_journal_is_read_alike_when_the_same_code_is_printed_two_ways() -> None:
    """The reader keeps where each code's print ends, by code hash: the same code held raw at one account
    (a balance: revm_code keeps it raw) and analysed at another prints to different lengths, and each is
    still read as from scratch."""
    _, analysed, raw, journal_of_store = one_code_two_forms()
    for target in (analysed, raw, analysed, raw):
        journal = journal_of_store(target)
        remembered = read_changes(journal)
        revm_journal._code_ends.clear()
        assert remembered == read_changes(journal)
        assert remembered[target].slots == {0: (0, 7)}
        assert remembered[target].balance == (5 if target == raw else 0)


def test_a_remembered_code_end_of_the_other_form_is_not_taken() -> None:
    """Where the raw print of a code is read with the analysed print's end remembered, and that end overshoots to
    a later account's storage, the reader still reads each account as from scratch (the form is checked)."""
    for _ in range(20):  # revm prints accounts in its hash map's order, new with each EVM: one where one follows
        _, analysed, raw, journal_of_store = one_code_two_forms()
        journals = {target: journal_of_store(target) for target in (analysed, raw)}
        journal = journals[raw]
        own_storage = journal.index(revm_journal._STORAGE, journal.index(raw + ": Account"))
        later_storage = [m.start() for m in re.finditer(re.escape(revm_journal._STORAGE), journal)
                         if m.start() > own_storage]
        if later_storage:
            break
    assert later_storage, "the raw account printed last in 20 journals"
    revm_journal._code_ends.clear()
    truth = read_changes(journal)
    [code_hash] = [h for h in revm_journal._code_ends if journal.count(h) == 1 and h in journals[analysed]]
    read_changes(journals[analysed])
    hex_end, form, _ = revm_journal._code_ends[code_hash]
    hash_at = journal.index(code_hash)
    for at in later_storage:  # each later account's storage, as if the remembered end overshot to it
        revm_journal._code_ends[code_hash] = (hex_end, form, at - hash_at)
        assert read_changes(journal) == truth
    assert truth[raw].slots == {0: (0, 7)} and truth[raw].balance == 5
