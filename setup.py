"""The wheel carries the data pilotsim needs beside its code: the seed data and built-in scenarios, the
compiled contract artifacts and their Solidity sources (registry/paths.py finds them there when installed)."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA = {"seeds": ROOT / "seeds", "artifacts": ROOT / "contracts" / "artifacts", "src": ROOT / "contracts" / "src"}


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "registry" / "_data"
        for name, source in DATA.items():
            shutil.copytree(source, target / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.py", "__pycache__"))


setup(cmdclass={"build_py": BuildWithData})
