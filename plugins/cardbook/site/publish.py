"""The raw generated files, written into the built site.

Under MkDocs the site publishes every generated file as it is (`nix/app.nix` next to the
pages). At one file per card, writing them is a large part of what the plugin adds to a build:
file creation right after MkDocs emptied the site folder is slow (up to a millisecond a file
on a busy disk). So when a second process draws the cards' parts (prefetch.py), it writes
these files too, on the other core, once its drawing is sent; the build writes them itself
when there is no second process or it did not finish them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def write_files(files: Mapping[str, str]) -> None:
    """Write each file (absolute destination path -> text, as UTF-8), as MkDocs writes a
    virtual file, making each folder once rather than once per file."""
    folders: set[str] = set()
    for path, text in files.items():
        folder = os.path.dirname(path)
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        with open(path, "wb") as stream:
            stream.write(text.encode("utf-8"))
