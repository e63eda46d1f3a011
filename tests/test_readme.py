"""The README's Python examples run as written, so they stay true."""

from __future__ import annotations

import re

import pytest

from registry.paths import ROOT

pytest_plugins = ["pytester"]

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_the_examples() -> None:
    assert len(BLOCKS) == 3


def test_scripting_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(BLOCKS[0], "README.md", "exec"), {})
    assert "reverted with NotAuthorityOrRegulator(caller=0x" in capsys.readouterr().out


def test_cross_chain_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(BLOCKS[1], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "forwarded" in out and "delivered back" in out


@pytest.mark.parametrize("backend", [None, "revm"])
def test_fixture_example_passes_in_a_users_suite(pytester: pytest.Pytester, backend: str | None) -> None:
    expected = "RevmChain" if backend else "EthTesterChain"
    check = f"\n\ndef test_backend(chain):\n    assert type(chain).__name__ == {expected!r}\n"
    pytester.makepyfile(test_my_pilots=BLOCKS[2] + check)
    result = pytester.runpytest("-p", "no:cacheprovider", *(["--pilotsim-backend", backend] if backend else []))
    result.assert_outcomes(passed=4)
