"""JSON-RPC backend: any Ethereum node over HTTP or IPC; dev methods used where the node has them.

Transactions are signed locally and sent raw, several per HTTP round trip (JSON-RPC batches).
On a dev node (Anvil, Hardhat) a batch is packed into one block by pausing automine around it,
and a failed transaction's revert data comes from `debug_traceTransaction` (exact even inside a
packed block), else from replaying it with `eth_call` on the parent block.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

import requests
from eth_utils import to_checksum_address
from web3 import HTTPProvider, IPCProvider

from ..defaults import BLOCK_GAS_LIMIT, DEFAULT_ACCOUNTS, TEST_MNEMONIC
from ..errors import ChainConnectionError, ChainError, ConfigError, ContractRevert, TransactionRejected
from .abi import checksum
from .artifacts import decode_revert
from .base import Block, Chain, Log, Receipt, Tx, TxReceipt, check_gas_limits, sign, split_by_gas

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

RECEIPT_TIMEOUT_S = 60.0


def _int(value: str) -> int:
    return int(value, 16)


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


class RpcChain(Chain):
    """A chain behind a JSON-RPC endpoint: `http://…`, `https://…` or an IPC socket path."""

    def __init__(self, url: str, *, accounts: int = DEFAULT_ACCOUNTS, mnemonic: str = TEST_MNEMONIC,
                 timeout_s: float = 30.0) -> None:
        super().__init__(accounts, mnemonic)
        self.url = url
        if url.startswith(("http://", "https://")):
            self.provider: HTTPProvider | IPCProvider = HTTPProvider(url, request_kwargs={"timeout": timeout_s})
        elif url.startswith(("ws://", "wss://")):
            raise ChainConnectionError(f"{url}: websocket URLs are not supported; use http:// or an IPC path")
        elif re.fullmatch(r"[\w.-]+:\d+(/.*)?", url):  # host:port, scheme forgotten
            raise ChainConnectionError(f"{url}: not a URL nor an IPC path; did you mean http://{url}?")
        else:
            try:
                self.provider = IPCProvider(url, timeout=int(timeout_s))
            except (OSError, ValueError) as exc:
                raise ChainConnectionError(f"{url!r} is neither an http(s) URL nor a usable IPC path ({exc})") from None
        self.chain_id = _int(self.rpc("eth_chainId"))
        latest = self.rpc("eth_getBlockByNumber", ["latest", False])
        self.block_gas_limit = _int(latest["gasLimit"])
        self._dev_prefix = self._detect_dev_prefix()

    # -- transport ------------------------------------------------------------------------------

    def rpc(self, method: str, params: Sequence[Any] = ()) -> Any:
        try:
            response = self.provider.make_request(method, list(params))  # type: ignore[arg-type]
        except (requests.exceptions.RequestException, OSError, ValueError) as exc:
            raise ChainConnectionError(f"cannot reach the node at {self.url}: {_reason(exc)}") from None
        if "error" in response:
            raise _rpc_error(method, response["error"])
        return response.get("result")

    def rpc_batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several calls in one round trip; results in order, errors raised as they would singly."""
        if not calls:
            return []
        try:
            responses = self.provider.make_batch_request([(m, list(p)) for m, p in calls])  # type: ignore[misc]
        except (requests.exceptions.RequestException, OSError, ValueError) as exc:
            raise ChainConnectionError(f"cannot reach the node at {self.url}: {_reason(exc)}") from None
        if isinstance(responses, dict):  # the node refused the batch as a whole
            raise _rpc_error("batch", responses.get("error", {}))
        results = []
        for (method, _), response in zip(calls, responses, strict=True):
            if "error" in response:
                raise _rpc_error(method, response["error"])
            results.append(response.get("result"))
        return results

    def _detect_dev_prefix(self) -> str | None:
        for prefix in ("anvil", "hardhat"):
            try:
                self.rpc(f"{prefix}_getAutomine")
                return prefix
            except ChainError:
                continue
        return None

    @property
    def is_dev_node(self) -> bool:
        return self._dev_prefix is not None

    def __repr__(self) -> str:
        return f"<RpcChain {self.url} (chain id {self.chain_id})>"  # no round trip to print it

    @property
    def dev_prefix(self) -> str | None:
        """The namespace of the node's dev methods (`anvil`, `hardhat`), if it has them."""
        return self._dev_prefix

    # -- transactions -------------------------------------------------------------------------

    def _max_fee(self) -> int:
        latest = self.rpc("eth_getBlockByNumber", ["latest", False])
        return 2 * _int(latest.get("baseFeePerGas", "0x0")) + 1

    def send(self, txs: Sequence[Tx]) -> list[Receipt]:
        check_gas_limits(txs, self.chain_id, self.block_gas_limit)  # a node may take one under the floor, never mine it
        receipts: list[Receipt] = []
        for group in split_by_gas(txs, self.block_gas_limit):
            receipts.extend(self._send_group(group))
        return receipts

    def _send_group(self, txs: Sequence[Tx]) -> list[Receipt]:
        max_fee = self._max_fee()
        signed = [sign(tx, self.chain_id, self._next_nonce(tx.sender), max_fee) for tx in txs]
        pack = self.is_dev_node and len(txs) > 1 and self.rpc(f"{self._dev_prefix}_getAutomine")
        try:
            if pack:
                self.rpc("evm_setAutomine", [False])
            try:
                self.rpc_batch([("eth_sendRawTransaction", [_hex(s.encode())]) for s in signed])
            except ChainConnectionError:
                raise
            except ChainError as exc:
                poor = "insufficient funds" in str(exc).lower()
                hint = ("; its sender has too little ether here: `from registry import fund_actors; "
                        "fund_actors(chain)` tops up the actor accounts (a plain anvil funds 10)") if poor else ""
                raise TransactionRejected(f"chain {self.chain_id} refused the transaction: {exc}{hint}") from None
            if pack:
                self.rpc("evm_mine")
        except ChainError:
            self._forget_nonces()
            raise
        finally:
            if pack:
                self.rpc("evm_setAutomine", [True])
        raw = self._wait_for_receipts([s.hash for s in signed], mine=bool(pack))
        stamps = self._timestamps({_int(r["blockNumber"]) for r in raw})
        out = []
        for tx, receipt in zip(txs, raw, strict=True):
            status = receipt["status"] == "0x1"
            number = _int(receipt["blockNumber"])
            out.append(
                Receipt(
                    tx_hash=bytes.fromhex(receipt["transactionHash"][2:]),
                    block_number=number,
                    timestamp=stamps[number],
                    status=status,
                    gas_used=_int(receipt["gasUsed"]),
                    contract_address=_address_or_none(receipt.get("contractAddress")),
                    logs=tuple(_log(entry) for entry in receipt["logs"]),
                    revert_data=None if status else self._revert_data(tx, receipt),
                )
            )
        return out

    def _wait_for_receipts(self, hashes: Sequence[bytes], mine: bool) -> list[dict[str, Any]]:
        found: dict[bytes, dict[str, Any]] = {}
        deadline = time.monotonic() + RECEIPT_TIMEOUT_S
        pause = 0.002
        while True:
            missing = [h for h in hashes if h not in found]
            results = self.rpc_batch([("eth_getTransactionReceipt", [_hex(h)]) for h in missing])
            for h, result in zip(missing, results, strict=True):
                if result is not None:
                    found[h] = result
            if len(found) == len(hashes):
                return [found[h] for h in hashes]
            if time.monotonic() > deadline:
                raise ChainError(f"{len(hashes) - len(found)} transaction(s) not mined after {RECEIPT_TIMEOUT_S:.0f} s")
            if mine:  # the block was full: mine the rest
                self.rpc("evm_mine")
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _timestamps(self, numbers: set[int]) -> dict[int, int]:
        ordered = sorted(numbers)
        blocks = self.rpc_batch([("eth_getBlockByNumber", [hex(n), False]) for n in ordered])
        return {n: _int(b["timestamp"]) for n, b in zip(ordered, blocks, strict=True)}

    def _revert_data(self, tx: Tx, receipt: dict[str, Any]) -> bytes:
        if self.is_dev_node:
            try:
                trace = self.rpc("debug_traceTransaction", [receipt["transactionHash"], {"tracer": "callTracer"}])
                return bytes.fromhex((trace.get("output") or "0x")[2:])
            except ChainError:
                pass
        try:
            self.call(tx.to or "", tx.data, tx.sender.address, tx.gas, block=_int(receipt["blockNumber"]) - 1)
        except ContractRevert as exc:
            return exc.data
        return b""

    def call(self, to: str, data: bytes, sender: str | None = None, gas: int = BLOCK_GAS_LIMIT,
             block: int | None = None) -> bytes:
        request: dict[str, Any] = {"to": to, "data": _hex(data), "gas": hex(gas)}
        if sender:
            request["from"] = sender
        return bytes.fromhex(self.rpc("eth_call", [request, "latest" if block is None else hex(block)])[2:])

    def estimate_gas(self, tx: Tx) -> int:
        request: dict[str, Any] = {"from": tx.sender.address, "data": _hex(tx.data), "gas": hex(tx.gas),
                                   "value": hex(tx.value)}
        if tx.to:
            request["to"] = tx.to
        return _int(self.rpc("eth_estimateGas", [request, "latest"]))  # a revert comes as ContractRevert

    def nonce(self, address: str) -> int:
        return _int(self.rpc("eth_getTransactionCount", [address, "latest"]))

    def balance(self, address: str) -> int:
        return _int(self.rpc("eth_getBalance", [address, "latest"]))

    def code(self, address: str) -> bytes:
        return bytes.fromhex(self.rpc("eth_getCode", [address, "latest"])[2:])

    @property
    def block_number(self) -> int:
        return _int(self.rpc("eth_blockNumber"))

    def block(self, number: int | None = None) -> Block:
        raw = self.rpc("eth_getBlockByNumber", ["latest" if number is None else hex(number), False])
        if raw is None:
            raise ChainError(f"chain {self.chain_id} has no block {number}")
        return Block(_int(raw["number"]), _int(raw["timestamp"]), _int(raw["gasUsed"]), len(raw["transactions"]))

    def logs(self, address: str, from_block: int, to_block: int) -> list[Log]:
        raw = self.rpc("eth_getLogs", [{"address": address, "fromBlock": hex(from_block), "toBlock": hex(to_block)}])
        return [_log(entry) for entry in raw]

    def block_receipts(self, number: int) -> tuple[TxReceipt, ...]:
        raw = self.rpc("eth_getBlockReceipts", [hex(number)]) or []
        return tuple(TxReceipt(bool(_int(r["status"])), _int(r["cumulativeGasUsed"]),
                               tuple(_log(entry) for entry in r["logs"]), _int(r.get("type", "0x0")))
                     for r in raw)

    def receipts_root(self, number: int) -> bytes:
        raw = self.rpc("eth_getBlockByNumber", [hex(number), False])
        if raw is None:
            raise ChainError(f"chain {self.chain_id} has no block {number}")
        return bytes.fromhex(raw["receiptsRoot"][2:])

    # -- time and blocks ------------------------------------------------------------------------

    def _require_dev(self, what: str) -> None:
        if not self.is_dev_node:
            raise ChainError(f"the node at {self.url} is not a dev node (Anvil, Hardhat): cannot {what}")

    def mine(self, timestamp: int | None = None) -> Block:
        self._require_dev("mine on demand")
        self.rpc("evm_mine", [] if timestamp is None else [timestamp])
        return self.block()

    def set_next_timestamp(self, timestamp: int) -> None:
        self._require_dev("set block time")
        latest = self.block().timestamp
        if timestamp <= latest:
            raise ConfigError(f"timestamp {timestamp} is not after the latest block's ({latest})")
        self.rpc("evm_setNextBlockTimestamp", [timestamp])

    # -- snapshots ------------------------------------------------------------------------------

    def _mark(self) -> object:
        self._require_dev("take snapshots")
        return self.rpc("evm_snapshot")

    def _go_back(self, mark: object) -> None:
        self._require_dev("revert to snapshots")
        if not self.rpc("evm_revert", [mark]):
            raise ChainError(f"the node at {self.url} has no snapshot {mark} (reverted by another client?)")

    def close(self) -> None:
        session_manager = getattr(self.provider, "_request_session_manager", None)
        cache = getattr(session_manager, "session_cache", None)
        if cache is not None:
            for _, session in list(cache.items()):
                session.close()
            cache.clear()


def _address_or_none(value: str | None) -> str | None:
    return to_checksum_address(value) if value else None


def _log(entry: dict[str, Any]) -> Log:
    return Log(
        checksum(entry["address"]),
        tuple(bytes.fromhex(t[2:]) for t in entry["topics"]),
        bytes.fromhex(entry["data"][2:]),
        _int(entry["logIndex"]),
        _int(entry["blockNumber"]),
    )


def _rpc_error(method: str, error: Any) -> ChainError:
    """Reverts (error code 3, or data carrying revert bytes) become `ContractRevert` like eth-tester's."""
    data = error.get("data")
    if isinstance(data, dict):
        data = data.get("data")
    message = str(error.get("message", error))
    if isinstance(data, str) and data.startswith("0x"):
        return decode_revert(bytes.fromhex(data[2:]))
    if "revert" in message.lower():
        return decode_revert(b"")
    return ChainError(f"{method}: {message}")


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "Connection refused" in text or isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, FileNotFoundError):
        return "no such socket"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    return text.splitlines()[0][:160] if text else type(exc).__name__
