"""A plain `cardbook check` without click: the command CI and editors run most often.

Importing click and building the command group is a tenth of a check at 1000 cards. Here the
command line of a plain check (`check` with `--strict`, `--format text|json|github`,
`-f`/`--config-file FILE`) is read the way click reads it, and run_check runs as the click
command would run it, with click's endings: an interrupt prints a blank line and "Aborted!"
(exit 1), a closed pipe ends quietly (exit 1). Any other command line, including a value click
would refuse (an unknown format, a config file that is a folder), goes to click, which reads
and answers it as always: the paths, --nix, --help, a repeated option, shell completion.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("text", "json", "github")


def plain_check(args: list[str]) -> tuple[str, bool, Path | None] | None:
    """(format, strict, config file) of the arguments after `check`, or None for click to read."""
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ):
        return None  # click's shell completion
    options: dict[str, str] = {}
    position = 0
    while position < len(args):
        arg = args[position]
        position += 1
        if arg == "--strict":
            name, value = "strict", ""
        elif arg.startswith(("--format=", "--config-file=")):
            name, _, value = arg[2:].partition("=")
        elif arg in ("--format", "--config-file", "-f") and position < len(args):
            name, value = ("format" if arg == "--format" else "config-file"), args[position]
            position += 1
        else:
            return None
        if name in options:
            return None
        options[name] = value
    output_format = options.get("format", "text")
    config = options.get("config-file")
    if output_format not in FORMATS or (config is not None and not _readable_file(config)):
        return None
    return output_format, "strict" in options, None if config is None else Path(config)


def _readable_file(value: str) -> bool:
    """What click.Path(dir_okay=False) takes without a word: an existing, readable regular file."""
    try:
        return stat.S_ISREG(os.stat(value).st_mode) and os.access(value, os.R_OK)
    except (OSError, ValueError):
        return False


def run(args: list[str]) -> None:
    """Run `cardbook check ARGS` and exit, or return when click has to read the arguments."""
    plain = plain_check(args)
    if plain is None:
        return
    output_format, strict, config_file = plain
    from .errors import handles_config_errors
    from .report import run_check

    try:
        try:
            handles_config_errors(run_check)((), output_format, strict, False, False, config_file)
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
        sys.exit(1)  # run_check exits itself: reached on an interrupt or a closed pipe
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
