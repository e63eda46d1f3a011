"""The README's Python examples run as written, so they stay true."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from registry import AnvilNode, RpcChain
from registry.paths import ROOT
from sim.engine.scenario import Scenario, validate
from sim.engine.schema import fault_kinds, markdown_table, settings, toml_template
from sim.tools import readme_figures

pytest_plugins = ["pytester"]

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_the_examples() -> None:
    assert len(BLOCKS) == 4


def test_scripting_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(BLOCKS[0], "README.md", "exec"), {})
    assert "reverted with NotAuthorityOrRegulator(caller=0x" in capsys.readouterr().out


def test_cross_chain_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(BLOCKS[1], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "forwarded" in out and "delivered back" in out


def test_atomic_transaction_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(BLOCKS[2], "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "committed ['committed', 'committed', 'committed']" and out[-1] == "committed"
    assert [line.split()[3] for line in out[1:-1]] == ["begun"] + ["prepared"] * 3 + ["voted"] * 3 + ["decided"] + \
        ["committed"] * 3


@pytest.mark.parametrize("backend", [None, "revm", pytest.param("anvil", marks=pytest.mark.anvil)])
def test_fixture_example_passes_in_a_users_suite(pytester: pytest.Pytester, backend: str | None) -> None:
    """The README's test file, in a folder of its own, on each backend (anvil: a node for the session)."""
    expected = {None: "EthTesterChain", "revm": "RevmChain", "anvil": "RpcChain"}[backend]
    check = f"\n\ndef test_backend(chain):\n    assert type(chain).__name__ == {expected!r}\n"
    pytester.makepyfile(test_my_pilots=BLOCKS[3] + check)
    result = pytester.runpytest("-p", "no:cacheprovider", *(["--pilotsim-backend", backend] if backend else []))
    result.assert_outcomes(passed=4)


@pytest.mark.anvil
def test_a_session_on_your_own_node_leaves_it_as_it_was(pytester: pytest.Pytester) -> None:
    """`--pilotsim-rpc URL` on a plain Anvil (10 funded accounts): the actors are funded, the README's
    tests pass, and at the end the node is back where it was: no registry, no funding left behind."""
    with AnvilNode.start(accounts=10) as node:
        chain = RpcChain(node.url)
        before = (chain.block_number, chain.balance(chain.accounts[50].address))
        pytester.makepyfile(test_my_pilots=BLOCKS[3])
        result = pytester.runpytest("-p", "no:cacheprovider", "--pilotsim-rpc", node.url)
        result.assert_outcomes(passed=3)
        assert (chain.block_number, chain.balance(chain.accounts[50].address)) == before == (0, 0)


def test_a_failing_users_test_shows_the_users_frames_not_the_packages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine="""
        def test_refused(registry):
            registry.suspend_entity(1, by=registry.roles.entity(1))
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "reverted with NotAuthorityOrRegulator" in output and "test_mine.py:" in output
    assert "registry/client.py" not in output and "registry/evm/" not in output
    full = pytester.runpytest("-p", "no:cacheprovider", "--fulltrace").stdout.str()
    assert "registry/client.py" in full  # all there when asked for


def test_a_failed_reverts_is_one_short_assertion(pytester: pytest.Pytester) -> None:
    """The wrong revert: one AssertionError naming what came instead, the test's arguments short, no
    contextlib frames and no second copy of the revert."""
    pytester.makepyfile(test_mine="""
        from registry import reverts

        def test_refused(registry, seed_data):
            with reverts("NotZoneAuthority"):
                registry.suspend_entity(1, by=registry.roles.entity(1))
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--pilotsim-backend", "revm")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "expected a revert with NotZoneAuthority, got reverted with NotAuthorityOrRegulator" in output
    assert "seed_data = SeedData(15 zones, 16 sectors, 164 entities, 164 pilots)" in output
    assert "contextlib" not in output and "direct cause" not in output
    assert output.count("NotAuthorityOrRegulator(") <= 2  # the E line and the summary: not the revert again


def test_the_plugin_loads_nothing_until_a_fixture_is_used() -> None:
    """Installed, the plugin is imported by every pytest run of the environment: it must cost next to nothing."""
    from registry import _HOME
    from registry import __all__ as exported
    from registry.evm import BACKENDS
    from registry.pytest_plugin import BACKEND_NAMES

    check = ("import registry.pytest_plugin, sys; loaded = [m for m in ('registry.client', 'registry.evm', "
             "'eth_abi', 'pyrevm', 'eth_tester', 'web3') if m in sys.modules]; assert not loaded, loaded")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert set(BACKEND_NAMES) == set(BACKENDS) and sorted(_HOME) == sorted(exported)
    import registry

    assert all(getattr(registry, name) is not None for name in exported)  # each loads when asked for


@pytest.mark.anvil
def test_the_cli_session_on_your_own_node_runs_as_written() -> None:
    """The README's session on a user-started node, command by command, on a plain Anvil of our own
    (its port instead of 8545); pipes as written, through a shell."""
    block = re.search(r"```bash\nanvil .*?```", (ROOT / "README.md").read_text(), re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(0).splitlines()[2:-1]]
    with AnvilNode.start(accounts=10) as node:
        outputs = []
        for command in commands:
            line = command.replace("pilotsim ", f"{sys.executable} -m sim.cli ", 1).replace(
                "http://127.0.0.1:8545", node.url)
            done = subprocess.run(["bash", "-o", "pipefail", "-c", line], capture_output=True, text=True, timeout=300)
            assert done.stderr.count("error") == 0, (command, done.stderr)
            outputs.append(done)
    assert "funded 190 actor accounts" in outputs[0].stderr
    assert "Chengdu" in outputs[1].stdout and "0x" in outputs[1].stdout
    assert outputs[2].stdout.startswith('[{"id": ') and len(outputs[2].stdout) == 300


def test_the_settings_table_is_the_models() -> None:
    """The README's table of scenario settings is what the model says, row for row."""
    text = (ROOT / "README.md").read_text()
    start, end = text.index("<!-- settings table: generated -->\n"), text.index("<!-- end of settings table -->")
    assert text[start:end].split("\n", 1)[1] == markdown_table()


def test_every_quantity_in_the_settings_table_has_its_unit_and_every_setting_its_meaning() -> None:
    from sim.engine.schema import unit

    for setting in settings():
        number = re.fullmatch(r"\[?-?[\d.]+(, [\d.]+)?\]?|\(unset\)", setting.default)
        if number and setting.key != "seed":
            assert unit(setting.key), setting.key
        assert setting.meaning or setting.key == "name", setting.key  # not bounds alone: what it is
        assert not setting.meaning.startswith(("≥", ">")), setting.key


def test_the_schema_template_is_a_scenario_that_loads_and_names_every_setting() -> None:
    template = toml_template()
    data = tomllib.loads(template) | {"name": "from-the-template"}
    assert validate(data, "template") == Scenario.model_validate({"name": "from-the-template"})  # the defaults
    for setting in settings():
        assert setting.key.rpartition(".")[2] in template
    for kind, _, _ in fault_kinds():
        assert f'kind = "{kind}"' in template


@pytest.mark.parametrize("name", list(readme_figures.BLOCKS))
def test_the_readme_figures_are_what_their_commands_print_today(name: str) -> None:
    """The exchange transcript and the gas table are generated (python -m sim.tools.readme_figures): a
    contract change that moves a figure fails here until the README is rewritten."""
    differing = readme_figures.stale(readme_figures.README.read_text(), [name])
    assert not differing, f"README.md's {name} is stale: python -m sim.tools.readme_figures"
