"""A plain `cardbook check` or `cardbook tangle` without click: the commands CI, editors and
pre-commit hooks run most often.

Importing click and building the command group is a tenth of a check at 1000 cards, and a
sixth of a tangle of 100. Here the command line of a plain check (`check` with `--strict`,
`--format text|json|github`, `-f`/`--config-file FILE`) or a plain tangle (`tangle` with
`--force`, `-f`/`--config-file FILE`) is read the way click reads it, and run_check or
run_tangle runs as the click command would run it, with click's endings: an interrupt prints
a blank line and "Aborted!" (exit 1), a closed pipe ends quietly (exit 1). Any other command
line, including a value click would refuse (an unknown format, a config file that is a
folder), goes to click, which reads and answers it as always: the paths, --nix, --help, a
repeated option, shell completion.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

FORMATS = ("text", "json", "github")


def _plain_options(args: list[str], flags: tuple[str, ...], valued: tuple[str, ...]) -> dict[str, str] | None:
    """The options of a plain command line, by long name (a flag's value is ""), or None for
    click to read: anything else, a repeated option, a config file click would refuse."""
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ):
        return None  # click's shell completion
    options: dict[str, str] = {}
    position = 0
    while position < len(args):
        arg = args[position]
        position += 1
        if arg in flags:
            name, value = arg[2:], ""
        elif arg.startswith("--") and arg[2:].partition("=")[0] in valued and "=" in arg:
            name, _, value = arg[2:].partition("=")
        elif (arg[2:] in valued or arg == "-f") and position < len(args):
            name, value = ("config-file" if arg == "-f" else arg[2:]), args[position]
            position += 1
        else:
            return None
        if name in options:
            return None
        options[name] = value
    config = options.get("config-file")
    if config is not None and not _readable_file(config):
        return None
    return options


def plain_check(args: list[str]) -> tuple[str, bool, Path | None] | None:
    """(format, strict, config file) of the arguments after `check`, or None for click to read."""
    options = _plain_options(args, ("--strict",), ("format", "config-file"))
    if options is None:
        return None
    output_format = options.get("format", "text")
    if output_format not in FORMATS:
        return None
    config = options.get("config-file")
    return output_format, "strict" in options, None if config is None else Path(config)


def plain_tangle(args: list[str]) -> tuple[bool, Path | None] | None:
    """(force, config file) of the arguments after `tangle`, or None for click to read."""
    options = _plain_options(args, ("--force",), ("config-file",))
    if options is None:
        return None
    config = options.get("config-file")
    return "force" in options, None if config is None else Path(config)


def _readable_file(value: str) -> bool:
    """What click.Path(dir_okay=False) takes without a word: an existing, readable regular file."""
    try:
        return stat.S_ISREG(os.stat(value).st_mode) and os.access(value, os.R_OK)
    except (OSError, ValueError):
        return False


def run(command: str, args: list[str]) -> None:
    """Run `cardbook COMMAND ARGS` (check or tangle) and exit, or return when click has to read
    the arguments."""
    if command == "check":
        plain_check_args = plain_check(args)
        if plain_check_args is None:
            return
        from .report import run_check

        output_format, strict, config_file = plain_check_args
        _run_as_click_does(run_check, (), output_format, strict, False, False, config_file)
    else:
        plain_tangle_args = plain_tangle(args)
        if plain_tangle_args is None:
            return
        from .writing import run_tangle

        _run_as_click_does(run_tangle, *plain_tangle_args)


def _run_as_click_does(command: Callable[..., None], *args: Any) -> None:
    """Run a command that exits itself, ending as click's command would end on an interrupt
    or a closed pipe."""
    from .errors import handles_config_errors

    try:
        try:
            handles_config_errors(command)(*args)
        except (EOFError, KeyboardInterrupt):
            from gettext import gettext

            from .echo import echo

            echo(err=True)  # as click: the blank line closes the terminal's ^C echo
            echo(gettext("Aborted!"), err=True)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            sys.stdout = _QuietFlush(sys.stdout)  # type: ignore[assignment]
            sys.stderr = _QuietFlush(sys.stderr)  # type: ignore[assignment]
        sys.exit(1)  # the command exits itself: reached on an interrupt or a closed pipe
    except (EOFError, KeyboardInterrupt):
        sys.exit(1)


class _QuietFlush:
    """A stream whose flush ignores a closed pipe, so the interpreter exits without a traceback
    (click's own wrapper does the same)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)
