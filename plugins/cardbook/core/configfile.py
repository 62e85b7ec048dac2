"""Where cardbook's options come from: ./mkdocs.yml, or the file given with -f; and what is
wrong with one that is not a file to read (a folder, a named pipe, a symlink to nothing)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .problems import ConfigError, error


def find_config_file(start: Path) -> Path | None:
    """./mkdocs.yml, or None when there is none; one that is no file is a configuration error
    (taking it for "no mkdocs.yml" ran with the default options, found by an outside probe)."""
    candidate = start / "mkdocs.yml"
    why = not_a_config_file(candidate)
    if why is None:
        return candidate
    if why == "does not exist":
        return None
    message = f"mkdocs.yml {why}: cardbook reads its options from a file"
    raise ConfigError(error("mkdocs.yml", 1, message, rule="usage"))


def require_config_file(path: Path) -> None:
    """A config file given on the command line (-f) is a file to read, else a usage error."""
    why = not_a_config_file(path)
    if why is not None:
        shown = str(path) or "''"
        raise ConfigError(error(shown, 1, f"config file {why}", rule="usage"))


def not_a_config_file(path: Path) -> str | None:
    """Why `path` is no config file to read ("does not exist", "is a folder", ...), or None."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return "is a symlink to nothing" if os.path.islink(path) else "does not exist"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder"
    if stat.S_ISFIFO(mode):
        return "is a named pipe"
    return "is not a regular file"
