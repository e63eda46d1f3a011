"""What every `pilotsim` command shares: the consoles, the progress bar, the common options."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, ProgressColumn, Task, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.text import Text
from typer.core import TyperArgument, TyperGroup

from registry.progress import Progress

if TYPE_CHECKING:
    from registry import BackendName

    from ..bridge.cache import NetworkCache



class _TrimmedStdout(io.TextIOBase):
    """sys.stdout (whichever it is when written to) with each line's trailing spaces taken off: a table's
    padding is for a terminal, not for a file or `grep`."""

    def write(self, text: str) -> int:
        sys.stdout.write("\n".join(line.rstrip(" ") for line in text.split("\n")))
        return len(text)

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        sys.stdout.flush()


def _piped_width() -> int:
    """Into a pipe or a file: 120 columns, or $COLUMNS when wider (a narrower one is a terminal's, not the
    file's); tables wrap their cells to it, never cut them."""
    try:
        return max(120, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return 120


out = Console() if sys.stdout.isatty() else Console(file=cast(IO[str], _TrimmedStdout()), width=_piped_width())
err = Console(stderr=True, soft_wrap=True)  # one error, one line: never wrapped


class PlainHelp(TyperGroup):
    """A group whose help shows no Python types: typer prints `<bool>` after every flag, `--help`
    included, and `<str>` after an argument that has its own name (`SCENARIO|FILE`)."""

    def get_help_option(self, ctx: Any) -> Any:
        return _untyped(super().get_help_option(ctx))

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is not None:
            _untyped(command.get_help_option(ctx))
            for param in command.params:
                if isinstance(param, TyperArgument) and param.metavar:
                    param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]  # its metavar says it
        return command


def _untyped(option: Any) -> Any:
    if option is not None:
        option.metavar = ""
    return option


class VerifierChoice(StrEnum):
    committee = "committee"
    checkpoint = "checkpoint"
    light_client = "light-client"
    optimistic = "optimistic"


class TopologyChoice(StrEnum):
    mesh = "mesh"
    hub = "hub"


class BackendChoice(StrEnum):
    revm = "revm"
    eth_tester = "eth-tester"
    anvil = "anvil"


DEFAULT_BACKEND = BackendChoice.revm  # gas-exact to py-evm and over 10x faster end to end: see the README
BackendOption = Annotated[BackendChoice | None, typer.Option(
    "--backend", help="Where the chains run: revm (in process, the default), eth-tester (py-evm, in process) "
                      "or anvil (one Anvil node per chain).", show_default=False)]
RpcUrl = Annotated[str | None, typer.Option("--rpc-url", metavar="URL",
                                            help="JSON-RPC URL of a node (http://… or an IPC path).")]
JsonFlag = Annotated[bool, typer.Option("--json", metavar="", help="Print one JSON document instead of tables.")]
RpcFlag = Annotated[bool, typer.Option("--rpc", metavar="", help="The same as --backend anvil.")]
NoCacheFlag = Annotated[bool, typer.Option("--no-cache", metavar="",
                                           help="Build the network even if a built one is cached.")]


def chosen_backend(backend: BackendChoice | None, rpc: bool) -> BackendName:
    """The backend asked for: `--rpc` is `--backend anvil`; neither is the default."""
    from registry import PilotsimError
    if rpc and backend not in (None, BackendChoice.anvil):
        raise PilotsimError(f"--rpc means --backend anvil; it cannot go with --backend {backend}")
    if rpc:
        return "anvil"
    return (backend or DEFAULT_BACKEND).value  # type: ignore[return-value]


def network_cache(no_cache: bool) -> NetworkCache | None:
    """Where built in-process networks are kept (PILOTSIM_CACHE), unless the user asked for none."""
    from ..bridge.cache import NetworkCache
    return None if no_cache else NetworkCache.default()


class CountColumn(ProgressColumn):
    """`312/780`: whole numbers, and only the count while the total is not known yet."""

    def render(self, task: Task) -> Text:
        done = f"{task.completed:,.0f}"
        return Text(f"{done}/{task.total:,.0f}" if task.total is not None else done)


@contextmanager
def progress_bar(disable: bool = False) -> Iterator[Progress]:
    """A progress bar on stderr while the block runs, fed by the `Progress` it yields; none when stderr is not
    a terminal (a log or a pipe gets no bar to draw, and no blank line where it was)."""
    with RichProgress(TextColumn("{task.description:<18}"), BarColumn(), CountColumn(),
                      TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=err, transient=True,
                      disable=disable or not err.is_terminal) as bar:
        task = bar.add_task("starting", total=None)

        def report(label: str, done: float, total: float) -> None:
            bar.update(task, description=label, total=total, completed=done)

        yield report

