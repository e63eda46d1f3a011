"""Start and stop Anvil nodes (npm `@foundry-rs/anvil`) bound to 127.0.0.1."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ..defaults import BLOCK_GAS_LIMIT, DEFAULT_ACCOUNTS, DEFAULT_CHAIN_ID, TEST_MNEMONIC
from ..errors import ChainConnectionError, PilotsimError
from ..paths import NODE_MODULES

_PLATFORM_PACKAGES = {
    ("Linux", "x86_64"): "anvil-linux-amd64",
    ("Linux", "aarch64"): "anvil-linux-arm64",
    ("Darwin", "x86_64"): "anvil-darwin-amd64",
    ("Darwin", "arm64"): "anvil-darwin-arm64",
}


def anvil_binary() -> str:
    """The Anvil executable: the npm package's native binary, its JS launcher, or one on PATH."""
    override = os.environ.get("PILOTSIM_ANVIL")
    if override:
        return override
    package = _PLATFORM_PACKAGES.get((platform.system(), platform.machine()))
    candidates = []
    if package:
        candidates.append(NODE_MODULES / "@foundry-rs" / package / "bin" / "anvil")
    candidates.append(NODE_MODULES / ".bin" / "anvil")
    for path in candidates:
        if path.exists():
            return str(path)
    on_path = shutil.which("anvil")
    if on_path:
        return on_path
    raise PilotsimError("Anvil is not installed: run `npm ci --prefix contracts` (npm package @foundry-rs/anvil)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AnvilNode:
    """One Anvil process. Use as a context manager, or `stop()` it; `pid` outlives this object."""

    url: str
    pid: int
    chain_id: int
    process: subprocess.Popen[bytes] | None = None
    ipc_path: str | None = None  # its IPC socket, when started with one

    @property
    def endpoint(self) -> str:
        """Where to connect: the IPC socket if there is one (a tenth of HTTP's cost per call), else the URL."""
        return self.ipc_path or self.url

    @classmethod
    def start(
        cls,
        *,
        chain_id: int = DEFAULT_CHAIN_ID,
        port: int | None = None,
        accounts: int = DEFAULT_ACCOUNTS,
        mnemonic: str = TEST_MNEMONIC,
        genesis_timestamp: int | None = None,
        block_gas_limit: int = BLOCK_GAS_LIMIT,
        detach: bool = False,
        log_file: Path | None = None,
        startup_timeout_s: float = 15.0,
        ipc: bool = False,
    ) -> AnvilNode:
        """Start Anvil; with no `port`, on a free one (again on another if it was taken meanwhile). Unless
        `detach`ed, it dies with this process, however this process ends (`kill -9` included)."""
        settings = dict(chain_id=chain_id, accounts=accounts, mnemonic=mnemonic, genesis_timestamp=genesis_timestamp,
                        block_gas_limit=block_gas_limit, detach=detach, log_file=log_file, ipc=ipc)
        for _ in range(0 if port else 2):  # a free port can be taken by another process before Anvil binds it
            node = cls.launch(**settings)  # type: ignore[arg-type]
            try:
                return node.ready(startup_timeout_s, genesis_timestamp)
            except ChainConnectionError:
                continue
        return cls.launch(port=port, **settings).ready(startup_timeout_s, genesis_timestamp)  # type: ignore[arg-type]

    @classmethod
    def launch(cls, *, chain_id: int = DEFAULT_CHAIN_ID, port: int | None = None, accounts: int = DEFAULT_ACCOUNTS,
               mnemonic: str = TEST_MNEMONIC, genesis_timestamp: int | None = None,
               block_gas_limit: int = BLOCK_GAS_LIMIT, detach: bool = False, log_file: Path | None = None,
               ipc: bool = False) -> AnvilNode:
        """Start the Anvil process and return at once (`ready` waits for it to answer). Call it from the main
        thread: a node that dies with its parent dies with the thread that started it."""
        args = [
            "--host", "127.0.0.1", "--chain-id", str(chain_id), "--accounts", str(accounts), "--mnemonic", mnemonic,
            "--gas-limit", str(block_gas_limit), "--hardfork", "prague", "--order", "fifo", "--silent",
            "--port", str(port or free_port()),
        ]
        if genesis_timestamp is not None:
            args += ["--timestamp", str(genesis_timestamp)]
        # a short path: Unix sockets allow about 100 bytes
        ipc_path = os.path.join(tempfile.mkdtemp(prefix="pilotsim-"), "anvil.ipc") if ipc else None
        command = [anvil_binary(), *args] + (["--ipc", ipc_path] if ipc_path else [])
        out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=detach, env={**os.environ, LAUNCHER: str(os.getpid())},
                                   preexec_fn=None if detach else _die_with_parent(os.getpid()))
        return cls(f"http://127.0.0.1:{args[args.index('--port') + 1]}", process.pid, chain_id, process, ipc_path)

    def ready(self, timeout_s: float = 15.0, genesis_timestamp: int | None = None) -> AnvilNode:
        """This node once it answers (stopped, and `ChainConnectionError`, if it does not in time)."""
        self.wait_ready(timeout_s)
        if genesis_timestamp is not None:
            # block times count from the genesis, a second a block (unless set), as on the in-process chains:
            # not from the wall clock, so the same run gives the same blocks, message ids and gas
            self.call("anvil_setBlockTimestampInterval", [1])
        return self

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                self.stop()  # its socket folder
                raise ChainConnectionError(f"anvil exited with code {self.process.returncode} while starting")
            try:
                response = requests.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId",
                                                         "params": []}, timeout=1)
                ours = self.process is None or self.process.poll() is None  # not another node on a reused port
                if response.ok and ours and (self.ipc_path is None or os.path.exists(self.ipc_path)):
                    return
            except requests.exceptions.RequestException:
                pass
            time.sleep(0.02)
        self.stop()
        raise ChainConnectionError(f"anvil did not answer at {self.url} within {timeout_s:.0f} s")

    def call(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC call to the node (its setup: the chains go through `RpcChain`)."""
        response = requests.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                                 timeout=10)
        answer = response.json()
        if "error" in answer:
            self.stop()
            raise ChainConnectionError(f"anvil refused {method}: {answer['error'].get('message', answer['error'])}")
        return answer.get("result")

    def stop(self) -> None:
        stop_pid(self.pid)
        if self.process is not None:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.ipc_path:
            remove_socket_folder(self.ipc_path)

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def remove_socket_folder(ipc_path: str) -> None:
    """Remove the folder `_launch` made for an IPC socket, and nothing else (the path may come from a
    state file: a folder of another name is left alone)."""
    folder = Path(ipc_path).parent
    if Path(ipc_path).name == "anvil.ipc" and folder.name.startswith("pilotsim-"):
        shutil.rmtree(folder, ignore_errors=True)


def command_of(pid: int) -> str | None:
    """The command line process `pid` runs (None: no such process)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        pass
    try:  # where there is no /proc (macOS)
        done = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, timeout=5,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0); reap it if it is ours
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return not _zombie(pid)  # another's (a kept node whose run exited): dead once it is a zombie


def _zombie(pid: int) -> bool:
    try:  # the state follows the command name in parentheses, which may itself hold spaces
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False  # no /proc (macOS): kill(0) has the last word


LAUNCHER = "PILOTSIM_LAUNCHER"  # in each node's environment: the pid of the process that started it


@dataclass(frozen=True)
class Orphan:
    """An Anvil node pilotsim started whose starter is gone (a detached node it never recorded)."""

    pid: int
    environment: dict[str, str]  # what it inherited: PILOTSIM_HOME tells whose it is


def orphaned_nodes() -> list[Orphan]:
    """The Anvil nodes pilotsim started that outlived the process that started them: it is no longer above them
    (Linux; elsewhere none are found)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            environment = dict(entry.split("=", 1) for entry in
                               (proc / "environ").read_bytes().decode(errors="replace").split("\0") if "=" in entry)
        except (OSError, ValueError):
            continue  # gone meanwhile, or another user's
        starter = environment.get(LAUNCHER)
        pid = int(proc.name)
        if starter is not None and int(starter) not in _ancestors(pid) and not _zombie(pid):
            found.append(Orphan(pid, environment))
    return found


def _ancestors(pid: int) -> list[int]:
    """The processes above `pid`, its parent first (an npm launcher may stand between a node and its starter)."""
    found: list[int] = []
    while pid > 1 and len(found) < 16:
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            break
        found.append(pid)
    return found


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent (the thread that started it) ends


def _die_with_parent(parent: int) -> Any:
    """For Popen's preexec_fn (Linux): the child is sent SIGTERM when its parent ends, even by SIGKILL, so no node
    outlives the run that started it. Elsewhere, nothing (stop() and the exit handlers still stop it)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent ended before the signal was armed
            os._exit(1)

    return arm if hasattr(libc, "prctl") else None


def stop_pid(pid: int, timeout_s: float = 5.0) -> None:
    if not pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
