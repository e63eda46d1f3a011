"""`pilotsim`: the root command, its subcommands, and the one edge where errors become one line.

Every domain error is a `PilotsimError`; raised anywhere under a command, it reaches the edge here
and ends the command with one line on stderr and exit code 1, never a traceback.

The CLI's modules import only typer, rich and pydantic at the top; each command imports the simulator's
modules it runs in its own body, so `pilotsim --help` (and shell completion) loads no chain, EVM or plotting
library: 0.2 s instead of 1.6–2.0 s (tests/test_layout.py keeps it so).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.markup import escape

from registry.errors import first_error

from .. import __version__
from . import bridge_cmds, registry_cmds, security_cmd, simulate, tools, tx_cmds
from .common import PlainHelp, err, out


def _one_line(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


class ErrorEdge(PlainHelp):
    """The root group: whatever command runs below it, its refusals end here as one line."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (typer vendors click)
        from registry import PilotsimError
        try:
            return super().invoke(ctx)
        except PilotsimError as exc:
            raise _one_line(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:  # Ctrl-C: said in words (click prints a blank line), the shell's status for it
            raise _one_line("interrupted", 130) from None
        except ValidationError as exc:
            where, message = first_error(exc, "(input)")
            raise _one_line(f"{where}: {message}") from None
        except BrokenPipeError:  # `pilotsim … | head`: click ends it quietly (exit 1, nothing on stderr)
            raise
        except OSError as exc:
            raise _one_line(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None


app = typer.Typer(cls=ErrorEdge, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Simulate the national blockchain pilot programme on real EVM chains.")
app.command()(registry_cmds.seed)
app.command()(bridge_cmds.exchange)
app.command()(simulate.run)
app.add_typer(simulate.scenarios_app, name="scenarios")
app.command()(simulate.sweep)
app.command()(simulate.compare)
app.command()(security_cmd.security)
app.add_typer(tx_cmds.tx_app, name="tx")
app.command("gas-snapshot")(tools.gas_snapshot)
app.command()(tools.bench)
app.add_typer(registry_cmds.node_app, name="node")
app.add_typer(registry_cmds.registry_app, name="registry")


def _version(value: bool) -> None:
    if value:
        out.print(f"pilotsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", metavar="", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Simulate the national blockchain pilot programme on real EVM chains."""


def _terminate(signum: int, frame: object) -> None:
    # `kill` ends pilotsim like Ctrl-C does: cleanup runs, so the Anvil nodes it started stop with it
    sys.exit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app(prog_name="pilotsim")
    except SystemExit as done:
        _exit_now(done.code)


def _exit_now(code: object) -> NoReturn:
    """End the process once its work is done: the exit handlers run (Anvil nodes stopped) and the streams are
    flushed, but the interpreter does not free a run's hundreds of thousands of objects one by one, 0.15 s or more
    of a baseline run, for no effect. With another thread still running, the ordinary exit waits for it."""
    if threading.active_count() > 1:
        raise SystemExit(code)
    if isinstance(code, str):  # as sys.exit prints a message it is given
        print(code, file=sys.stderr)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(0 if code is None else code if isinstance(code, int) else 1)
