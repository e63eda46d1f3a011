"""The `pilotsim` CLI: seeding, the node commands, registry queries, and clean one-line errors."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry import AnvilNode, RpcChain
from registry.evm.anvil import pid_alive, stop_pid
from registry.evm.funding import fund_actors
from registry.paths import ARTIFACTS_DIR
from sim.cli.app import app
from sim.cli.nodestate import KeptNetwork, NodeRecord, State, load_state, save_state

runner = CliRunner()


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own state file, so no test sees another's node."""
    home = tmp_path / "home"
    monkeypatch.setenv("PILOTSIM_HOME", str(home))
    return home


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, stdout: str, stderr: str, *fragments: str) -> None:
    assert code == 1, (code, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_seed_json_on_each_in_process_backend_the_same_registry_and_gas() -> None:
    reports = {}
    for backend in ("eth-tester", "revm"):
        code, stdout, stderr = run("seed", "--json", "--backend", backend)
        assert code == 0, stderr
        reports[backend] = report = json.loads(stdout)
        assert (report["zones"], report["entities"], report["sectors"]) == (15, 164, 16)
        assert report["pilots"] >= 164 and report["active_pilots"] == report["pilots"]
        assert report["chain_id"] == 31337 and report["registry"].startswith("0x")
        assert report["gas_used"] > 0 and report["wall_s"] > 0 and report["backend"] == backend
    assert json.loads(run("seed", "--json")[1])["backend"] == "revm"  # the default
    same = ("registry", "gas_used", "transactions", "blocks", "pilots")
    assert {k: reports["revm"][k] for k in same} == {k: reports["eth-tester"][k] for k in same}


def test_backend_flags_that_contradict_each_other_are_one_line() -> None:
    assert_one_line_error(*run("run", "--rpc", "--backend", "revm", "--out", "unused"),
                          "--rpc means --backend anvil")
    assert_one_line_error(*run("seed", "--rpc-url", "http://127.0.0.1:1", "--backend", "revm"),
                          "--rpc-url seeds the node given")


def test_seed_prints_the_zone_by_sector_table() -> None:
    code, stdout, _ = run("seed")
    assert code == 0
    assert "Active pilots by zone" in stdout
    assert "Xiong'an New Area" in stdout and "Guiyang" in stdout
    assert "164 entities" in stdout
    header = next(line for line in stdout.splitlines() if line.strip().startswith("zone"))
    assert header.split()[1:4] == ["Manu", "Ener", "GDSS"] and "HRSS" in header  # short names, not 1-16
    assert "HRSS Human resources and social security" in stdout  # and the legend says which


def test_seed_with_a_custom_entity_list(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("name,sectors,province,zone,provenance,source\n"
                    "Acme,healthcare,Sichuan,Chengdu,synthetic,\nBeta,energy,Beijing,Beijing,synthetic,\n")
    code, stdout, stderr = run("seed", "--entities", str(path), "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert (report["entities"], report["pilots"], report["zones"]) == (2, 2, 15)


def test_malformed_csv_is_one_line_naming_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("name,sectors,province,zone,provenance,source\nAcme,healthcare,Sichuan,Pekin,synthetic,\n")
    assert_one_line_error(*run("seed", "--entities", str(path)), f"{path}:2", "field 'zone'", "Pekin")


def test_every_bad_row_of_an_entity_list_is_reported_on_the_one_line(tmp_path: Path) -> None:
    path = tmp_path / "official.csv"
    path.write_text("name,sectors,province,zone,provenance,source\n"
                    "Acme,healthcare,Sichuan,Pekin,synthetic,\n"
                    "Bolt,healthcare,Sichuan,Chengdu,synthetic,\n"
                    "Core,helthcare,Sichuan,Chengdu,synthetic,\n"
                    + "".join(f"Row {i},healthcare,Sichuan,Nowhere,synthetic,\n" for i in range(25)))
    code, stdout, stderr = run("seed", "--entities", str(path))
    assert_one_line_error(code, stdout, stderr, f"{path}:2: field 'zone': unknown zone 'Pekin'",
                          "line 4: field 'sectors': unknown sector 'helthcare'", "line 5: field 'zone'",
                          "; and 7 more")  # 27 bad rows: 20 shown
    assert "line 3:" not in stderr  # Bolt is fine
    assert "did you mean 'Beijing' or 'Weifang'?" in stderr  # display names, the likelier first


def test_missing_entity_file_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(*run("seed", "--entities", str(tmp_path / "absent.csv")), "absent.csv", "cannot read")


def test_unreachable_rpc_url_is_one_line() -> None:
    assert_one_line_error(*run("seed", "--rpc-url", "http://127.0.0.1:9"), "cannot reach the node",
                          "127.0.0.1:9", "connection refused")
    assert_one_line_error(*run("registry", "zones", "--rpc-url", "http://127.0.0.1:9", "--address", "0x" + "11" * 20),
                          "cannot reach")


def test_registry_query_without_a_node_says_what_to_do() -> None:
    assert_one_line_error(*run("registry", "entities"), "no node is running", "pilotsim node up")


def test_bad_flag_value_exits_non_zero_without_traceback() -> None:
    result = runner.invoke(app, ["node", "up", "--port", "-5"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_url_without_its_scheme_gets_a_hint() -> None:
    assert_one_line_error(*run("seed", "--rpc-url", "localhost:8545"), "did you mean http://localhost:8545?")


def test_output_into_a_pipe_is_human_width_and_never_cut() -> None:
    """Piped: 120 columns (or $COLUMNS when wider), cells wrapped, not cut, no trailing padding (it used to run to 466
    columns, padded)."""
    done = subprocess.run([sys.executable, "-m", "sim.cli", "scenarios"], capture_output=True, text=True, check=True,
                          env={k: v for k, v in os.environ.items() if k != "COLUMNS"})
    lines = done.stdout.splitlines()
    assert max(map(len, lines)) <= 120 and not [line for line in lines if line != line.rstrip()]
    assert "…" not in done.stdout and "run it with --rpc" in done.stdout
    soak = lines.index(next(line for line in lines if line.lstrip().startswith("soak")))
    assert "run it with --rpc" in " ".join(lines[soak:soak + 3])  # its description whole, wrapped
    wide = subprocess.run([sys.executable, "-m", "sim.cli", "scenarios"], capture_output=True, text=True, check=True,
                          env=os.environ | {"COLUMNS": "200"})
    assert 120 < max(map(len, wide.stdout.splitlines())) <= 200
    narrow = subprocess.run([sys.executable, "-m", "sim.cli", "scenarios"], capture_output=True, text=True,
                            check=True, env=os.environ | {"COLUMNS": "80"})
    assert narrow.stdout == done.stdout  # a terminal's 80 columns do not narrow a file


def test_the_process_ends_at_once_with_everything_written() -> None:
    """pilotsim ends its process without the interpreter's teardown (sim.cli.app._exit_now): what it printed, however
    long, reaches the pipe whole, and its exit code is the command's."""
    done = subprocess.run([sys.executable, "-m", "sim.cli", "scenarios", "schema", "--json"], capture_output=True,
                          check=False)
    assert done.returncode == 0 and len(done.stdout) > 30_000 and json.loads(done.stdout)
    refused = subprocess.run([sys.executable, "-m", "sim.cli", "run", "no-such-scenario"], capture_output=True,
                             text=True, check=False)
    assert refused.returncode == 1 and refused.stderr.startswith("error: unknown scenario 'no-such-scenario'")


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "seed", "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head -c 0`: gone before pilotsim writes a line
    assert process.wait(timeout=60) == 1  # as click ends a broken pipe: no "error: Broken pipe", no traceback
    assert process.stderr.read() == b""


@pytest.mark.parametrize("command", [["run"], ["sweep"], ["seed"], ["exchange"], ["node", "status"],
                                     ["registry", "pilots"], []])
def test_help_shows_plain_flags_not_python_types(command: list[str]) -> None:
    code, stdout, _ = run(*command, "--help")
    assert code == 0
    assert not re.search(r"<(bool|str|int|list\[str\]|int range|path)>", stdout), stdout


def test_version() -> None:
    code, stdout, _ = run("--version")
    assert code == 0 and stdout.startswith("pilotsim ")


def test_node_status_when_nothing_runs() -> None:
    code, stdout, _ = run("node", "status", "--json")
    assert code == 1 and json.loads(stdout) == {"running": False}  # scripts can test it
    code, stdout, _ = run("node", "down")
    assert code == 0 and "no node is running" in stdout


@pytest.mark.anvil
def test_node_lifecycle_seed_and_queries_on_anvil(private_home: Path) -> None:
    port = str(__import__("registry.evm.anvil", fromlist=["free_port"]).free_port())
    code, stdout, stderr = run("node", "up", "--port", port)
    assert code == 0, stderr
    try:
        status = json.loads(run("node", "status", "--json")[1])
        assert status["running"] and status["url"] == f"http://127.0.0.1:{port}" and status["registry"] is None
        assert "already running" in run("node", "up", "--port", port)[1]

        code, stdout, stderr = run("seed", "--rpc-url", status["url"], "--json")
        assert code == 0, stderr
        report = json.loads(stdout)
        assert (report["zones"], report["entities"], report["sectors"], report["backend"]) == (15, 164, 16, "rpc")
        assert report["pilots"] >= 164
        assert json.loads(run("node", "status", "--json")[1])["registry"] == report["registry"]

        zones = json.loads(run("registry", "zones", "--json")[1])
        assert len(zones) == 15 and zones[13]["name"] == "Chengdu"
        table = run("registry", "zones")[1]  # not a terminal here: nothing cut to 80 columns
        assert all(z["authority"] in table for z in zones)
        found = json.loads(run("registry", "entities", "--zone", "chengdu", "--sector", "healthcare", "--json")[1])
        assert [e["name"] for e in found] == ["Chengdu healthcare pilot 03"]
        assert found[0]["status"] == "active" and found[0]["zone"] == "Chengdu"
        assert "Healthcare" in found[0]["sector_names"]
        pilots = json.loads(run("registry", "pilots", "--rpc-url", status["url"], "--zone", "Xiong'an",
                                "--status", "active", "--json")[1])
        assert len(pilots) == 11 and all(p["zone_id"] == 4 and p["zone"] == "Xiong'an New Area" for p in pilots)
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["updated_at"]) for p in pilots)
        assert json.loads(run("registry", "pilots", "--status", "completed", "--json")[1]) == []
        code, stdout, _ = run("registry", "entities", "--zone", "Guiyang")
        assert code == 0 and "Guizhou Normal University" in stdout
        row = next(line for line in stdout.splitlines() if "Guizhou Normal University" in line)
        assert "Guiyang" in row and "zone_id" not in stdout  # names, not numbers

        assert_one_line_error(*run("registry", "pilots", "--zone", "Chendgu"), "unknown zone 'Chendgu'",
                              "did you mean 'Chengdu'")
        assert_one_line_error(*run("registry", "entities", "--sector", "helthcare"), "did you mean", "Healthcare")
        assert_one_line_error(*run("registry", "pilots", "--status", "actve"), "unknown status", "'active'")
        assert_one_line_error(*run("registry", "zones", "--address", "0x" + "22" * 20), "no contract at")
    finally:
        code, stdout, _ = run("node", "down")
    assert code == 0 and "stopped anvil" in stdout
    assert json.loads(run("node", "status", "--json")[1]) == {"running": False}
    assert_one_line_error(*run("registry", "zones"), "no node is running")  # the node, not the registry
    assert_one_line_error(*run("registry", "zones", "--rpc-url", status["url"]), "cannot reach the node")


@pytest.mark.anvil
def test_seed_on_a_plain_anvil_funds_the_actors_and_plain_web3_reads_the_totals(tmp_path: Path) -> None:
    """A node started by hand with Anvil's defaults funds 10 accounts; seeding tops up the other actors
    (one line says so), and any client with the ABI, importing nothing of ours, reads the totals."""
    with AnvilNode.start(accounts=10) as node:
        code, stdout, stderr = run("seed", "--rpc-url", node.url, "--json")
        assert code == 0, stderr
        assert "funded 190 actor accounts with 10 ETH each (anvil_setBalance)" in stderr  # 200 actors in all
        address = json.loads(stdout)["registry"]
        script = tmp_path / "read_totals.py"
        script.write_text(textwrap.dedent(f"""
            import json
            from web3 import Web3
            artifact = json.load(open({str(ARTIFACTS_DIR / "PilotRegistry.json")!r}))
            w3 = Web3(Web3.HTTPProvider({node.url!r}))
            registry = w3.eth.contract(address={address!r}, abi=artifact["abi"])
            print(registry.functions.zoneCount().call(), registry.functions.entityCount().call(),
                  registry.functions.pilotCount().call())
        """))
        result = subprocess.run([sys.executable, "-I", str(script)], capture_output=True, text=True, timeout=120,
                                cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        zones, entities, pilots = map(int, result.stdout.split())
        assert (zones, entities) == (15, 164) and pilots >= 164
        assert run("seed", "--rpc-url", node.url, "--json")[2] == ""  # funded once: nothing to say again


@pytest.mark.anvil
def test_without_dev_methods_the_actors_are_funded_by_transfers() -> None:
    with AnvilNode.start(accounts=10) as node:
        chain = RpcChain(node.url)
        funded = fund_actors(chain, count=30, use_dev_methods=False)
        assert funded is not None and funded.accounts == 20
        assert funded.how == f"transfers from {chain.accounts[0].address}"
        assert all(chain.balance(a.address) == funded.amount for a in chain.accounts[10:30])
        assert fund_actors(chain, count=30, use_dev_methods=False) is None


def _once_its_nodes_run(process: subprocess.Popen[bytes], count: int = 16) -> set[int]:
    """The pids of the `count` Anvil nodes a `pilotsim run --rpc` started, once they all run."""
    children: set[int] = set()
    deadline = time.monotonic() + 120
    while len(children) < count and time.monotonic() < deadline and process.poll() is None:
        children = {int(pid) for task in Path(f"/proc/{process.pid}/task").glob("*/children")
                    for pid in task.read_text().split()} if Path(f"/proc/{process.pid}").exists() else set()
        time.sleep(0.2)
    assert len(children) == count, f"expected {count} Anvil nodes, saw {len(children)}"
    return children


@pytest.mark.anvil
@pytest.mark.parametrize("keep", [[], ["--keep-nodes"]], ids=["", "keep-nodes"])
def test_killed_run_stops_its_anvil_nodes(tmp_path: Path, keep: list[str]) -> None:
    """`kill` (SIGTERM) during `pilotsim run --rpc`: the run exits and its 16 Anvil nodes go with it,
    also with --keep-nodes (only a run that completes keeps its nodes)."""
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", "baseline", "--rpc", "--quiet", *keep,
                                "--out", str(tmp_path / "out")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    children = _once_its_nodes_run(process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert b"Traceback" not in process.stderr.read()  # type: ignore[union-attr]
    assert not [pid for pid in children if pid_alive(pid)], "Anvil nodes outlived the run"
    assert load_state().network is None  # nothing recorded for `node down` to find


@pytest.mark.anvil
def test_a_run_killed_with_sigkill_leaves_no_anvil_node(tmp_path: Path) -> None:
    """`kill -9` runs no cleanup: the nodes go anyway, each told by the kernel that its parent ended
    (they used to be re-parented to init and run on, unknown to `node down`)."""
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", "baseline", "--rpc", "--quiet",
                                "--out", str(tmp_path / "out")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children = _once_its_nodes_run(process)
    process.kill()
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while [pid for pid in children if pid_alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if pid_alive(pid)], "Anvil nodes outlived a run killed with SIGKILL"


ORPHAN = "from registry import AnvilNode; print(AnvilNode.launch(detach=True).pid)"  # started, never recorded


@pytest.mark.anvil
def test_node_down_stops_the_nodes_its_home_left_unrecorded_and_no_other(tmp_path: Path, private_home: Path) -> None:
    """A process that started a detached node and ended before recording it left an orphan: `node status`
    names it and `node down` stops it; an orphan of another PILOTSIM_HOME is left running."""
    def orphan(home: Path) -> int:
        started = subprocess.run([sys.executable, "-c", ORPHAN], env={**os.environ, "PILOTSIM_HOME": str(home)},
                                 capture_output=True, text=True, check=True)
        return int(started.stdout)

    ours, theirs = orphan(private_home), orphan(tmp_path / "elsewhere")
    try:
        code, stdout, _ = run("node", "status")
        assert code == 1 and f"outlived their run without being recorded (pid {ours})" in stdout, stdout
        code, stdout, stderr = run("node", "down")
        assert code == 0, stderr
        assert f"stopped 1 Anvil node whose run ended before recording them (pid {ours})" in stdout
        assert not pid_alive(ours) and pid_alive(theirs)
        assert "outlived" not in run("node", "status")[1]
    finally:
        stop_pid(ours)
        stop_pid(theirs)


@pytest.mark.anvil
def test_a_kept_run_killed_while_building_leaves_nothing_node_down_misses(tmp_path: Path) -> None:
    """`kill -9` of `run --keep-nodes` once its 16 detached nodes run (before or after the run recorded them):
    `node down` stops every one."""
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", "baseline", "--rpc", "--quiet",
                                "--keep-nodes", "--out", str(tmp_path / "out")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children = _once_its_nodes_run(process)
    process.kill()
    process.wait(timeout=30)
    try:
        code, _, stderr = run("node", "down")
        assert code == 0, stderr
        assert not [pid for pid in children if pid_alive(pid)], "node down left a killed run's nodes running"
    finally:
        for pid in children:
            stop_pid(pid)


KEPT_RUN = """
name = "kept"
description = "A steady run whose nodes are kept, long enough to be queried while it goes on"
seed = 5
duration_s = 150
drain_s = 300

[workload]
rate_per_s = 2.0
ttl_s = 600
"""


def kept_pids() -> list[int]:
    """The pids of the nodes the state file records as kept, if any."""
    network = load_state().network
    return [n.pid for n in network.nodes] if network else []


@pytest.mark.anvil
def test_a_kept_run_leaves_its_nodes_to_registry_queries_until_node_down(tmp_path: Path) -> None:
    """`run --backend anvil --keep-nodes`: the 16 nodes are queryable while the run goes on and outlive
    its process, `registry` queries reach the hub without --rpc-url, `node status` lists them, `node
    down` stops every one."""
    scenario = tmp_path / "kept.toml"
    scenario.write_text(KEPT_RUN)
    running = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", str(scenario), "--backend", "anvil",
                                "--keep-nodes", "--quiet", "--out", str(tmp_path / "out")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while load_state().network is None and running.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)  # recorded as soon as the network is built
    network = load_state().network
    pids = [node.pid for node in network.nodes] if network else []
    try:
        assert network is not None, "the kept nodes were not recorded while the run went on"
        during = json.loads(run("registry", "zones", "--json")[1])  # while the run goes on
        assert running.poll() is None, "the run ended before it could be queried mid-way"
        assert len(during) == 15
        _, stderr = running.communicate(timeout=300)
        done = subprocess.CompletedProcess(running.args, running.returncode, "", stderr)
        assert done.returncode == 0, done.stderr
        assert network is not None and "Traceback" not in done.stderr
        hub = network.hub
        notice = [line for line in done.stderr.splitlines() if line.startswith("kept ")]
        assert notice == [f"kept 16 Anvil nodes running (the hub and 15 zone chains): hub at {hub.url} (IPC "
                          f"{hub.ipc_path}, chain id 1000); `pilotsim registry zones` queries it, "
                          "`pilotsim node down` stops them all"]
        assert [n.chain_id for n in network.nodes] == list(range(1000, 1016))
        assert all(pid_alive(pid) for pid in pids), "a kept node died with the run"

        zones = json.loads(run("registry", "zones", "--json")[1])  # no --rpc-url: the kept hub
        assert len(zones) == 15 and zones[13]["name"] == "Chengdu"
        policy = {row["sector"]: row["may_request"] for row in json.loads(run("registry", "policy", "--json")[1])}
        assert len(policy) == 16 and len(policy["Government data sharing and services"]) == 16  # seeded: "*"
        assert json.loads(run("registry", "policy", "--sector", "healthcare", "--json")[1]) == [
            {"sector": "Healthcare", "may_request": policy["Healthcare"]}]
        found = json.loads(run("registry", "entities", "--zone", "chengdu", "--sector", "healthcare", "--json")[1])
        assert [(e["name"], e["status"], e["zone"]) for e in found] == [("Chengdu healthcare pilot 03", "active",
                                                                          "Chengdu")]
        pilots = json.loads(run("registry", "pilots", "--rpc-url", hub.url, "--status", "active", "--json")[1])
        assert len(pilots) == 164  # the registry recorded for the hub's URL too
        report = json.loads((tmp_path / "out" / "report.json").read_text())
        assert report["messages"]["delivered"] > 0
        # the nodes hold the run's blocks, not a network as built: the run stamps its blocks on the simulated
        # clock, after every block of the build, so the chains it mined on stand above the others
        stamps = [RpcChain(n.ipc_path or n.url).block().timestamp for n in network.nodes]
        mined = [count > 0 for count in report["blocks"].values()]  # by chain id, the hub first
        busy = [stamp for stamp, ran in zip(stamps, mined, strict=True) if ran]
        idle = [stamp for stamp, ran in zip(stamps, mined, strict=True) if not ran]
        assert busy and max(idle, default=0) < min(busy)

        status = json.loads(run("node", "status", "--json")[1])
        assert status["running"] and "url" not in status  # no `node up` node
        assert (status["kept"]["running"], status["kept"]["registry"]) == (16, network.registry)
        assert status["kept"]["hub"] == {"url": hub.url, "ipc_path": hub.ipc_path, "pid": hub.pid,
                                         "chain_id": 1000, "running": True}
        assert "16 of 16 running" in run("node", "status")[1]
        assert_one_line_error(*run("run", str(scenario), "--rpc", "--keep-nodes"), "still run",
                              "pilotsim node down")  # one kept network at a time

        code, stdout, _ = run("node", "down")
        assert code == 0 and f"stopped 16 Anvil nodes kept by run kept (hub at {hub.url})" in stdout
        assert not [pid for pid in pids if pid_alive(pid)], "kept nodes outlived node down"
        assert not Path(hub.ipc_path or "").parent.exists()  # the socket folders go too
        assert json.loads(run("node", "status", "--json")[1]) == {"running": False}
        assert_one_line_error(*run("registry", "zones"), "no node is running")
        assert run("node", "down")[1].strip() == "no node is running"
    finally:
        if running.poll() is None:
            running.kill()
        for pid in pids or kept_pids():
            stop_pid(pid)  # whatever failed above, no node outlives the test


@pytest.mark.parametrize("flags", [[], ["--backend", "revm"], ["--backend", "eth-tester"]])
def test_keep_nodes_without_anvil_is_one_line(tmp_path: Path, flags: list[str]) -> None:
    code, stdout, stderr = run("run", "baseline", *flags, "--keep-nodes", "--out", str(tmp_path / "out"))
    assert_one_line_error(code, stdout, stderr, "--keep-nodes", "--backend anvil or --rpc")
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_node_down_stops_only_the_kept_nodes_it_started() -> None:
    """A kept node whose pid another process took is left alone (and said so); the others are stopped."""
    ours, other = subprocess.Popen(["sleep", "60"]), subprocess.Popen(["sleep", "61"])
    try:
        nodes = [NodeRecord(pid=ours.pid, url="http://127.0.0.1:1", chain_id=1000, command="sleep 60"),
                 NodeRecord(pid=other.pid, url="http://127.0.0.1:2", chain_id=1001, command="anvil --port 2")]
        save_state(State(network=KeptNetwork(scenario="s", out="o", registry="0x" + "11" * 20, nodes=nodes),
                         registries={"http://127.0.0.1:1": "0x" + "11" * 20}))
        assert "1 of 2 running" in run("node", "status")[1]
        code, stdout, stderr = run("node", "down")
        assert "stopped 1 Anvil node kept by run s" in stdout
        assert_one_line_error(code, "", stderr, "pid now belongs to another process")
        assert not pid_alive(ours.pid) and pid_alive(other.pid)
        assert load_state() == State()  # forgotten, the hub's registry too
    finally:
        for process in (ours, other):
            process.kill()
            process.wait()


def test_node_down_stops_only_the_node_it_started(private_home: Path) -> None:
    """A state file whose pid now belongs to another process (the node died, the pid was reused):
    `node down` leaves that process alone and says so."""
    other = subprocess.Popen(["sleep", "60"])
    try:
        save_state(State(node=NodeRecord(pid=other.pid, url="http://127.0.0.1:1", chain_id=31337, log_file="x",
                                         command="anvil --host 127.0.0.1 --port 1")))
        assert json.loads(run("node", "status", "--json")[1]) == {"running": False}
        assert_one_line_error(*run("node", "down"), "pid now belongs to another process")
        assert pid_alive(other.pid)
    finally:
        other.kill()
        other.wait()
