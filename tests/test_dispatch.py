"""Every fault kind has its handler: a kind without one is a type error, not a fault that silently does nothing."""

from __future__ import annotations

import inspect
import re

from mypy import api

from sim.engine import faults
from sim.engine.fault_kinds import FAULT_KINDS


def test_each_fault_kind_has_its_case_and_mypy_refuses_a_missing_one() -> None:
    source = inspect.getsource(faults)
    handled = set(re.findall(r"case ((?:\w+\(\)(?: \| )?)+):", source))
    kinds = {name for case in handled for name in re.findall(r"(\w+)\(\)", case)}
    assert len(kinds) == len(FAULT_KINDS)  # one class per kind, each with its case
    standalone = source.replace("from ..", "from sim.").replace("from . import", "from sim.engine import")
    standalone = standalone.replace("from .", "from sim.engine.")
    assert api.run(["--follow-imports=silent", "-c", standalone])[2] == 0  # as it is: clean
    without = re.sub(r"        case FanOut\(\):\n.*\n", "", standalone)
    assert without != standalone
    report, _, status = api.run(["--follow-imports=silent", "-c", without])
    assert status == 1 and "assert_never" in report and "FanOut" in report, report
