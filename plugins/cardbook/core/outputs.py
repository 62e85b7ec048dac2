"""What a tangle produces: the text of each generated file, with the card line behind each of
its lines and the runs of lines each fence made (the site's captions, `cardbook stitch` and the
drift messages read them)."""

from __future__ import annotations

from collections import namedtuple

from .fences import Fence
from .problems import Problem
from .record import Record

# The card line behind one generated line: (card stem, card path relative to the project root,
# line in the card file). A tuple of strings and an int: the cyclic collector stops tracking it
# after one look, which matters with one per generated line kept alive through a whole site build.
Source = namedtuple("Source", ("card", "rel", "line"))


class Segment(Record):
    """A run of output lines that came from one fence."""

    __slots__ = ("stem", "rel", "fence_line", "name", "start", "end")

    def __init__(self, stem: str, rel: str, fence_line: int, name: str, start: int, end: int) -> None:
        self.stem = stem
        self.rel = rel
        self.fence_line = fence_line
        self.name = name  # chunk id or file path
        self.start = start  # 1-based, inclusive, the fence's own first line in the output
        self.end = end


class OutputFile(Record):
    __slots__ = ("path", "text", "cards", "line_sources", "segments", "writers", "origin", "mode")

    def __init__(
        self,
        path: str,
        text: str,
        cards: list[str],
        line_sources: list[Source | None],
        segments: list[Segment] | None = None,
    ) -> None:
        self.path = path
        self.text = text
        self.cards = cards
        self.line_sources = line_sources
        self.segments = [] if segments is None else segments
        # The cards of the file's own (file=) blocks, in order, and where the first of them
        # opens: the file's writers, even when a block holds nothing but chunk references.
        self.writers: list[str] = []
        self.origin: tuple[str, int] | None = None
        self.mode: int | None = None  # a fence's mode=0755: the permissions the file must have


class TangleResult(Record):
    __slots__ = ("files", "fences", "problems", "keyed", "unproduced", "retired")

    def __init__(
        self,
        files: dict[str, OutputFile],
        fences: dict[str, list[Fence]],
        problems: list[Problem],
        # Each tangled fence by the key its markers carry: (card path, block name, index).
        keyed: dict[tuple[str, str, int], Fence] | None = None,
        # Files a card writes that could not be tangled (an error at the card says why): not
        # stale on disk, only not producible until the card is mended.
        unproduced: set[str] | None = None,
    ) -> None:
        self.files = files
        self.fences = fences
        self.problems = problems
        self.keyed = {} if keyed is None else keyed
        self.unproduced = set() if unproduced is None else unproduced
        # Stylesheets in docs_dir that cardbook wrote and no `stylesheet:` option names any
        # more (the option was removed or renamed): stale generated files outside the roots.
        self.retired: list[str] = []
