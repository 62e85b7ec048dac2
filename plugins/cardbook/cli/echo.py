"""click.echo without importing click where it would do nothing more than write and flush.

A plain `cardbook check` runs without click (cli/fastpath.py), yet must print exactly what
click prints. click.echo writes the text and a newline to the stream and flushes it; before
that it strips ANSI codes when the stream is no terminal, and it rewraps a stream whose
encoding is ASCII (or no text stream at all). Text without an escape character, going to an
ordinary UTF-8 text stream, is therefore written here; anything else goes to click.echo itself.
"""

from __future__ import annotations

import io
import sys

_UTF8 = frozenset({"utf-8", "UTF-8", "utf8", "UTF8"})


def echo(message: str = "", *, nl: bool = True, err: bool = False) -> None:
    """click.echo(message, nl=nl, err=err), to sys.stdout or sys.stderr."""
    stream = sys.stderr if err else sys.stdout
    text = message + "\n" if nl else message
    if text and "\x1b" not in text and type(stream) is io.TextIOWrapper and stream.encoding in _UTF8:
        stream.write(text)
        stream.flush()
        return
    import click  # a terminal's escape codes, another stream or encoding: click decides

    click.echo(message, nl=nl, err=err)
