"""One set of behaviours every `Chain` backend must share, run on eth-tester, revm and Anvil."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from registry import Chain, ChainError, ContractRevert, EthTesterChain, TransactionRejected, Tx
from registry.evm.artifacts import load_artifact
from registry.evm.backends import in_process_chain
from registry.evm.base import split_by_gas
from registry.evm.revm_code import deployment

PROBE = load_artifact("Probe")


def deploy_probe(chain: Chain) -> str:
    return chain.deploy(chain.accounts[0], PROBE.bytecode)


def call(chain: Chain, address: str, name: str, *args: object) -> object:
    fn = PROBE.abi.function(name)
    return fn.decode(chain.call(address, fn.encode(args)))


def tx(chain: Chain, address: str, name: str, *args: object, sender: int = 0, gas: int = 200_000) -> Tx:
    return Tx(chain.accounts[sender], address, PROBE.abi.function(name).encode(args), gas)


def test_deploy_transact_and_read_back(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    assert any_chain.code(probe) != b""
    receipt = any_chain.transact(tx(any_chain, probe, "store", 42))
    assert receipt.status and receipt.gas_used > 21_000
    assert call(any_chain, probe, "value") == 42


def test_chain_id_reaches_the_evm(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    assert call(any_chain, probe, "chainId") == any_chain.chain_id


def test_events_are_decoded_from_the_receipt(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    receipt = any_chain.transact(tx(any_chain, probe, "store", 7, sender=3))
    events = [PROBE.abi.decode_event(log.address, log.topics, log.data) for log in receipt.logs]
    assert [e.name for e in events if e] == ["Stored"]
    assert events[0] is not None
    assert events[0].args["by"] == any_chain.accounts[3].address
    assert events[0].args["value"] == 7
    assert events[0].args["timestamp"] == receipt.timestamp


def test_custom_error_decoded_by_name_with_arguments(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    sender = any_chain.accounts[5].address
    with pytest.raises(ContractRevert) as caught:
        any_chain.call(probe, PROBE.abi.function("refuse").encode([99]), sender=sender)
    assert caught.value.name == "Refused"
    assert caught.value.args_by_name == {"code": 99, "caller": sender}


def test_failed_transaction_gives_the_same_typed_error(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    receipt = any_chain.send([tx(any_chain, probe, "refuse", 5, sender=2)])[0]
    assert receipt.status is False
    with pytest.raises(ContractRevert) as caught:
        receipt.raise_for_status()
    assert caught.value.name == "Refused"
    assert caught.value.args_by_name["code"] == 5
    assert caught.value.args_by_name["caller"] == any_chain.accounts[2].address


def test_error_string_and_panic_codes(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    with pytest.raises(ContractRevert) as message:
        any_chain.transact(tx(any_chain, probe, "requireFalse"))
    assert (message.value.name, message.value.args_by_name) == ("Error", {"message": "probe says no"})
    with pytest.raises(ContractRevert) as panic:
        any_chain.call(probe, PROBE.abi.function("divide").encode([1, 0]))
    assert panic.value.name == "Panic"
    assert panic.value.args_by_name == {"code": 0x12}
    assert "division or modulo by zero" in str(panic.value)


def test_out_of_gas_fails_without_revert_data(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    receipt = any_chain.send([tx(any_chain, probe, "burn", 500, gas=60_000)])[0]
    assert receipt.status is False
    assert receipt.gas_used == 60_000


def test_batch_is_packed_into_one_block(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    before = any_chain.block_number
    receipts = any_chain.send([tx(any_chain, probe, "store", i, sender=i % 3) for i in range(10)])
    assert {r.block_number for r in receipts} == {before + 1}
    assert all(r.status for r in receipts)
    assert call(any_chain, probe, "value") == 9  # applied in order


def test_batch_over_the_block_gas_limit_spans_blocks(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    big = any_chain.block_gas_limit // 2
    receipts = any_chain.send([tx(any_chain, probe, "store", i, gas=big) for i in range(3)])
    assert len({r.block_number for r in receipts}) == 2
    assert all(r.status for r in receipts)


def test_failure_inside_a_batch_does_not_sink_the_others(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    receipts = any_chain.send([tx(any_chain, probe, "store", 1), tx(any_chain, probe, "refuse", 2),
                               tx(any_chain, probe, "store", 3)])
    assert [r.status for r in receipts] == [True, False, True]
    with pytest.raises(ContractRevert, match="Refused"):
        receipts[1].raise_for_status()
    assert call(any_chain, probe, "value") == 3


def test_snapshot_and_revert_restore_state_and_nonces(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    any_chain.transact(tx(any_chain, probe, "store", 1))
    snapshot = any_chain.snapshot()
    number = any_chain.block_number
    any_chain.transact(tx(any_chain, probe, "store", 2))
    any_chain.mine()
    assert call(any_chain, probe, "value") == 2
    any_chain.revert(snapshot)
    assert any_chain.block_number == number
    assert call(any_chain, probe, "value") == 1
    # the reverted transaction's nonce is free again: sending works without a nonce error
    any_chain.transact(tx(any_chain, probe, "store", 5))
    assert call(any_chain, probe, "value") == 5


def test_anchor_reverts_on_exit(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    with any_chain.anchor():
        any_chain.transact(tx(any_chain, probe, "store", 77))
        assert call(any_chain, probe, "value") == 77
    assert call(any_chain, probe, "value") == 0


def test_block_time_follows_what_is_set(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    target = any_chain.block().timestamp + 3600
    block = any_chain.mine(timestamp=target)
    assert block.timestamp == target
    any_chain.set_next_timestamp(target + 60)
    receipt = any_chain.transact(tx(any_chain, probe, "store", 1))
    assert receipt.timestamp == target + 60
    with pytest.raises(ValueError, match="not after"):
        any_chain.set_next_timestamp(target)


def test_logs_in_a_bounded_range(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    first = any_chain.transact(tx(any_chain, probe, "store", 1)).block_number
    any_chain.mine()
    last = any_chain.transact(tx(any_chain, probe, "store", 2)).block_number
    logs = any_chain.logs(probe, first, last)
    assert len(logs) == 2
    assert any_chain.logs(probe, first + 1, last - 1) == []


def test_a_snapshot_is_used_up_by_reverting_to_it(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    snapshot = any_chain.snapshot()
    any_chain.transact(tx(any_chain, probe, "store", 1))
    any_chain.revert(snapshot)
    any_chain.transact(tx(any_chain, probe, "store", 2))
    with pytest.raises(ChainError, match="no snapshot"):
        any_chain.revert(snapshot)
    assert call(any_chain, probe, "value") == 2


def test_a_branch_reverted_away_cannot_be_gone_back_to(any_chain: Chain) -> None:
    """Reverting to a snapshot uses up every one taken after it: they lie on the branch left behind
    (eth-tester keeps every branch and would bring that one back)."""
    probe = deploy_probe(any_chain)
    fork = any_chain.snapshot()
    any_chain.transact(tx(any_chain, probe, "store", 1))
    on_branch_a = any_chain.snapshot()
    any_chain.revert(fork)
    any_chain.send([tx(any_chain, probe, "store", 2), tx(any_chain, probe, "store", 3)])
    with pytest.raises(ChainError, match="no snapshot"):
        any_chain.revert(on_branch_a)
    assert call(any_chain, probe, "value") == 3


def test_snapshots_at_one_height_are_held_each_on_its_own(any_chain: Chain) -> None:
    """An outer snapshot (a test fixture's) outlives an inner one taken at the same block and reverted to."""
    probe = deploy_probe(any_chain)
    outer = any_chain.snapshot()
    inner = any_chain.snapshot()
    any_chain.transact(tx(any_chain, probe, "store", 1))
    any_chain.revert(inner)
    any_chain.transact(tx(any_chain, probe, "store", 2))
    any_chain.revert(outer)
    assert call(any_chain, probe, "value") == 0


def test_a_transaction_the_chain_cannot_take_is_rejected(any_chain: Chain) -> None:
    probe = deploy_probe(any_chain)
    with pytest.raises(TransactionRejected):
        any_chain.send([tx(any_chain, probe, "store", 1, gas=1_000)])  # below intrinsic gas
    any_chain.transact(tx(any_chain, probe, "store", 2))  # and the nonce bookkeeping recovered


def test_a_transaction_under_the_calldata_floor_is_rejected(any_chain: Chain) -> None:
    """Prague's EIP-7623: a gas limit that covers 16 gas a calldata byte but not the floor of 40 is
    invalid (py-evm 0.12 would take it and charge past its limit; the backend refuses it first)."""
    probe = deploy_probe(any_chain)
    data = PROBE.abi.function("value").encode(()) + b"\xff" * 4_000
    sender = any_chain.accounts[6]
    nonce = any_chain.nonce(sender.address)
    with pytest.raises(TransactionRejected):
        any_chain.send([Tx(sender, probe, data, 21_000 + 16 * len(data) + 5_000)])
    receipt = any_chain.transact(Tx(sender, probe, data, 21_000 + 40 * len(data)))
    assert receipt.gas_used == 21_000 + 40 * len(data)  # the floor is what it pays
    assert any_chain.nonce(sender.address) == nonce + 1


# returns (EXTCODESIZE(a), EXTCODEHASH(a), keccak256 of EXTCODECOPY(a)) for the address a its calldata holds
CODE_READER = bytes.fromhex(
    "600035" "803b" "80600052" "813f602052"  # a; size → mem[0]; hash → mem[32]
    "8060006060843c" "606020" "604052"  # copy the code to mem[96:], its keccak → mem[64]
    "60606000f3")  # return mem[0:96]


def code_reads(chain: Chain, of: str) -> tuple[bytes, int]:
    """What a contract reads of `of`'s code (its size, hash, and hash of its copy), and the gas a transaction
    doing that reading uses."""
    reader = chain.deploy(chain.accounts[0], deployment(CODE_READER))
    argument = bytes(12) + bytes.fromhex(of[2:])
    return chain.call(reader, argument), chain.transact(Tx(chain.accounts[0], reader, argument, 100_000)).gas_used


def test_a_contract_reads_another_contracts_code_as_deployed(any_chain: Chain) -> None:
    """EXTCODESIZE, EXTCODEHASH and EXTCODECOPY give the code as deployed (revm runs contracts' code analysed
    and padded: none of that shows)."""
    probe = deploy_probe(any_chain)
    code = any_chain.code(probe)
    read, _ = code_reads(any_chain, probe)
    assert read == len(code).to_bytes(32, "big") + keccak(code) + keccak(code)


def test_reading_code_costs_alike_in_process() -> None:
    gas = {backend: code_reads(chain := in_process_chain(backend, 1007), deploy_probe(chain))[1]
           for backend in ("eth-tester", "revm")}
    assert gas["revm"] == gas["eth-tester"]


@pytest.mark.parametrize("backend", ["eth-tester", "revm"])
def test_prevrandao_is_derived_from_chain_and_block_alike_in_process(backend: str) -> None:
    """In-process chains give PREVRANDAO keccak(chain id, block number), to a transaction and to a call
    (py-evm's mine_all would run the transactions on a zero mix_hash); Anvil gives its own."""
    chain = in_process_chain(backend, 1007)
    probe = deploy_probe(chain)
    receipt = chain.transact(tx(chain, probe, "storeRandomness"))
    expected = int.from_bytes(keccak(chain.chain_id.to_bytes(32, "big") + receipt.block_number.to_bytes(32, "big")))
    assert call(chain, probe, "value") == expected


def test_same_genesis_gives_the_same_chain() -> None:
    def build() -> tuple[str, int]:
        chain = EthTesterChain(genesis_timestamp=1_700_000_000, accounts=5)
        probe = deploy_probe(chain)
        chain.transact(Tx(chain.accounts[1], probe, PROBE.abi.function("store").encode([9]), 100_000))
        return probe, chain.evm.get_canonical_head().hash

    assert build() == build()


def test_chains_keep_their_own_ids() -> None:
    a, b = EthTesterChain(chain_id=1001, accounts=2), EthTesterChain(chain_id=1002, accounts=2)
    assert call(a, deploy_probe(a), "chainId") == 1001
    assert call(b, deploy_probe(b), "chainId") == 1002


def test_split_by_gas_respects_the_limit() -> None:
    chain = EthTesterChain(accounts=1)
    txs = [Tx(chain.accounts[0], None, b"", gas) for gas in (10, 10, 15, 5, 30)]
    assert [[t.gas for t in block] for block in split_by_gas(txs, 30)] == [[10, 10], [15, 5], [30]]


def test_the_head_is_a_property_as_in_web3(any_chain: Chain) -> None:
    """`chain.block_number` reads like web3's `w3.eth.block_number`: a number, usable where one is taken."""
    before = any_chain.block_number
    probe = deploy_probe(any_chain)
    any_chain.transact(tx(any_chain, probe, "store", 7))
    assert isinstance(before, int) and any_chain.block_number == before + 2
    assert any_chain.block(any_chain.block_number).number == any_chain.block_number


@pytest.mark.parametrize("kind", ["revm", "eth-tester"])
def test_an_in_process_chain_starts_at_the_fixed_genesis_unless_told_otherwise(kind: str) -> None:
    """Made with no arguments, two chains give the same blocks (the wall clock only when asked for)."""
    import time

    from registry import GENESIS_TIMESTAMP, in_process_chain

    first, second = in_process_chain(kind), in_process_chain(kind)
    for chain in (first, second):
        chain.transact(tx(chain, deploy_probe(chain), "store", 1))
    assert first.block().timestamp == second.block().timestamp == GENESIS_TIMESTAMP + first.block_number
    assert first.block() == second.block()
    assert abs(in_process_chain(kind, genesis_timestamp=None).block(0).timestamp - time.time()) < 60
