"""Tangle: the cards' code blocks become the text of generated files, in memory.

Pure functions only: nothing here touches the disk (see output.py for writing).

Each fence's own lines are wrapped in begin/end markers carrying the card path, the block's
name and position, and a short hash of the fence body as the card had it. That record lives
in the file itself, one line per block, so git merges of different blocks do not conflict,
hand edits are found per block, and `cardbook stitch` knows where each line came from.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import PurePosixPath
from urllib.parse import unquote

from .cards import Card, Runbook
from .fences import Fence, parse_fences, quoted_tangle_fences
from .graph import Graph
from .markers import REFERENCE, RESERVED_PREFIX, block_hash, comment_style, header_lines, marker
from .outputs import OutputFile, Segment, Source, TangleResult
from .problems import Problem, error, warning
from .settings import Settings

_new_tuple = tuple.__new__  # Source(...) without NamedTuple's Python-level __new__: one per generated line
MAX_DEPTH = 1000  # deeper references are refused with an error (expansion is iterative)
# Longest file or folder name the file systems in use take (NAME_MAX); a temporary file's
# name is made to fit too.
MAX_NAME = 255
MAX_LINES = 1_000_000  # lines of one generated file: past this, expansion stops with an error
QUOTED_FENCE = "a code block with file= or #id inside a quote (>) is not tangled: take it out of the quote"


class Block:
    """One fence contributing to a chunk or a file, with its position among same-named blocks."""

    __slots__ = ("card", "fence", "index", "name")  # internal: a dataclass's methods cost start-up time

    def __init__(self, card: Card, fence: Fence, name: str, index: int) -> None:
        self.card = card
        self.fence = fence
        self.name = name
        self.index = index  # 0-based position among this card's blocks of the same name


def begin_marker(style: tuple[str, str], block: Block, digest: str) -> str:
    return marker(style, f"~~ begin {block.card.rel}#{block.name}[{block.index}] {digest} ~~")


def end_marker(style: tuple[str, str], block: Block) -> str:
    return marker(style, f"~~ end {block.card.rel}#{block.name}[{block.index}] ~~")


def check_target(settings: Settings, written: str) -> str | None:
    """The normalised target path, or None when it would leave the output roots."""
    decoded = unquote(written)
    if decoded != written or written.startswith(("~", "/", "\\")) or "\\" in written or ":" in written:
        return None
    parts = [part for part in written.split("/") if part not in ("", ".")]
    if ".." in parts or not parts or "\x00" in written:
        return None
    normal = "/".join(parts)
    if any(normal.startswith(root.rstrip("/") + "/") for root in settings.output_roots):
        return normal
    return None


class Collected:
    __slots__ = ("blocks", "fences", "keyed", "targets")

    def __init__(self) -> None:
        self.fences: dict[str, list[Fence]] = {}  # by card stem
        self.blocks: dict[str, list[Block]] = {}  # by name, concatenation order
        self.targets: dict[str, str] = {}  # file path -> name of its blocks
        self.keyed: dict[tuple[str, str, int], Fence] = {}


def collect_blocks(runbook: Runbook, graph: Graph, problems: list[Problem]) -> Collected:
    """Fences per card, and blocks per name: a chunk id, or a file path.

    A fence with both `#id` and `file=` makes the file hold every block named `id`
    (Entangled's rule, so runbooks can move between the tools).
    """
    found = Collected()
    settings = runbook.settings
    sources = runbook.sources
    for stem in [*graph.order, *sorted(runbook.plain)]:  # cards in requires order, then plain pages
        card = sources[stem]
        body = card.text[card.body_offset :]
        card_fences = parse_fences(body, card.body_line, card.rel, problems)
        for line in quoted_tangle_fences(body, card.body_line):
            problems.append(warning(card.rel, line, QUOTED_FENCE, rule="quoted-fence"))
        found.fences[stem] = card_fences
        counters: dict[str, int] = {}
        for fence in card_fences:
            if not fence.tangles:
                continue
            name = fence.id
            if fence.file is not None:
                target = check_target(settings, fence.file)
                if target is None:
                    roots = ", ".join(r + "/" for r in settings.output_roots)
                    message = f"file target {fence.file!r} is outside the output roots ({roots})"
                    problems.append(error(card.rel, fence.line, message, rule="file-target"))
                    continue
                if fence.file.endswith("/"):  # check_target would name the file without it
                    message = f"file target {fence.file!r} ends with /: it names a folder, not a file"
                    problems.append(error(card.rel, fence.line, message, rule="file-target"))
                    continue
                too_long = next((part for part in target.split("/") if len(part.encode()) > MAX_NAME), None)
                if too_long is not None:
                    message = f"file target {fence.file!r}: the name {too_long[:40]}... is longer than"
                    problems.append(
                        error(card.rel, fence.line, f"{message} {MAX_NAME} bytes", rule="file-target")
                    )
                    continue
                if not target.isascii() and not _nameable(target):
                    encoding = sys.getfilesystemencoding()
                    message = (
                        f"file target {fence.file!r} cannot be named here: this run's file names are "
                        f"{encoding} (its locale); run it with a UTF-8 locale, such as LC_ALL=C.UTF-8"
                    )
                    problems.append(error(card.rel, fence.line, message, rule="file-target"))
                    continue
                parts = target.split("/") if RESERVED_PREFIX in target else ()
                if any(part.startswith(RESERVED_PREFIX) for part in parts):
                    reserved = f"uses a name reserved for cardbook ({RESERVED_PREFIX}*)"
                    problems.append(
                        error(
                            card.rel, fence.line, f"file target {fence.file!r} {reserved}", rule="file-target"
                        )
                    )
                    continue
                name = name or target
                known = found.targets.setdefault(target, name)
                if known != name:
                    problems.append(
                        error(
                            card.rel,
                            fence.line,
                            f"{target} is already written from blocks named {known!r}, not {name!r}",
                            rule="file-target",
                        )
                    )
                    continue
            assert name is not None
            index = counters.get(name, 0)
            counters[name] = index + 1
            found.blocks.setdefault(name, []).append(Block(card, fence, name, index))
            found.keyed[(card.rel, name, index)] = fence
    return found


def _check_order(graph: Graph, name: str, blocks: list[Block], problems: list[Problem]) -> None:
    """Blocks from several cards need those cards ordered by requires."""
    stems: list[Block] = []
    for block in blocks:
        if not stems or stems[-1].card.stem != block.card.stem:
            stems.append(block)
    for i, first in enumerate(stems):
        for second in stems[i + 1 :]:
            if not graph.ordered(first.card.stem, second.card.stem):
                message = (
                    f"{first.card.stem} and {second.card.stem} both add to {name}, but neither requires "
                    "the other, so their order would be arbitrary: add one to the other's requires"
                )
                problems.append(error(second.card.rel, second.fence.line, message, rule="block-order"))


Line = tuple[str, "Source | None", "Block | None"]


def naked_body(body: tuple[str, ...]) -> list[str]:
    """A block's lines as Entangled's naked mode has them: one trailing blank line is dropped,
    and an empty block still takes one (empty) line. Entangled's shebang hook splits off a
    first line starting with `#!`, so such a block loses one more trailing blank line."""
    lines = _drop_last_blank(list(body))
    if lines and lines[0].startswith("#!"):
        return [lines[0], *_drop_last_blank(lines[1:])]
    return lines or [""]


def _drop_last_blank(lines: list[str]) -> list[str]:
    return lines[:-1] if lines and lines[-1] == "" else lines


class _Frame:
    """One chunk being expanded: its blocks, where we are in them, and how we got here."""

    __slots__ = ("block", "blocks", "body", "indent", "line", "stack")

    def __init__(self, blocks: list[Block], stack: tuple[str, ...], indent: str) -> None:
        self.blocks = blocks
        self.stack = stack  # names being expanded, outermost first (for cycles)
        self.indent = indent  # the indentation of every reference leading here, added up
        self.block = -1  # index of the current block; -1 before the first
        self.body: list[str] = []
        self.line = 0  # next line of the current block's body


class _Expander:
    """Expands chunk references, keeping for every line the card line it came from.

    Iterative, with an explicit stack: references nested hundreds deep never reach Python's
    recursion limit (MAX_DEPTH bounds them with a clear error instead)."""

    def __init__(self, blocks: dict[str, list[Block]], annotate: bool, problems: list[Problem]) -> None:
        self.blocks = blocks
        self.annotate = annotate
        self.problems = problems
        self.used: set[str] = set()
        self.reported: set[tuple[str, ...]] = set()

    def expand(
        self, name: str, style: tuple[str, str] | None, stack: tuple[str, ...], cards: list[Card]
    ) -> list[Line] | None:
        """Lines of every block named `name`, each with its source and owning block.

        A reference's indentation is added to every non-blank line it expands to (blank and
        whitespace-only lines stay as they are, like textwrap.indent)."""
        out: list[Line] = []
        append = out.append
        frames = [_Frame(self.blocks[name], stack, "")]
        while frames:
            frame = frames[-1]
            if frame.block >= 0:
                block = frame.blocks[frame.block]
                body, indent, first = frame.body, frame.indent, block.fence.body_line
                stem, rel = block.card.stem, block.card.rel
                reference = None
                # The hottest loop of a tangle: locals, not attributes of the frame.
                offset = next_line = frame.line
                count = len(body)
                while next_line < count:
                    offset = next_line
                    next_line += 1
                    text = body[offset]
                    reference = REFERENCE.match(text) if "<<" in text else None
                    if reference is not None:
                        break
                    line = (indent + text) if indent and text.strip() else text
                    append((line, _new_tuple(Source, (stem, rel, first + offset)), block))
                frame.line = next_line
                if reference is not None:
                    inner = reference["name"]
                    if not self.enter(inner, block, first + offset, frame.stack):
                        return None
                    if len(out) > MAX_LINES:
                        self.problems.append(
                            error(
                                rel,
                                first + offset,
                                f"expanding <<{inner}>> here makes {stack[0]} longer than {MAX_LINES:,} "
                                "lines: chunks referencing each other many times multiply",
                                rule="chunk-cycle",
                            )
                        )
                        return None
                    nested = _Frame(self.blocks[inner], (*frame.stack, inner), indent + reference["indent"])
                    frames.append(nested)
                    continue
                if style is not None:
                    append((_indented(indent, end_marker(style, block)), None, None))
            frame.block += 1
            if frame.block == len(frame.blocks):
                frames.pop()
                continue
            block = frame.blocks[frame.block]
            if all(known.stem != block.card.stem for known in cards):
                cards.append(block.card)
            fence = block.fence
            frame.body = list(fence.body) if self.annotate else naked_body(fence.body)
            frame.line = 0
            if style is not None:
                marker = begin_marker(style, block, block_hash(fence.body))
                append((_indented(frame.indent, marker), None, None))
        return out

    def enter(self, name: str, block: Block, line: int, stack: tuple[str, ...]) -> bool:
        """May the reference <<name>> at `line` of `block` be expanded? Reports why not."""
        if name not in self.blocks:
            self.problems.append(
                error(block.card.rel, line, f"unknown chunk <<{name}>>", rule="unknown-chunk")
            )
            return False
        if name in stack:
            cycle = (*stack[stack.index(name) :], name)
            if cycle not in self.reported:
                self.reported.add(cycle)
                path = " -> ".join(f"<<{n}>>" for n in cycle)
                self.problems.append(
                    error(block.card.rel, line, f"chunk references itself: {path}", rule="chunk-cycle")
                )
            return False
        if len(stack) >= MAX_DEPTH:
            self.problems.append(
                error(
                    block.card.rel, line, f"chunk references nest deeper than {MAX_DEPTH}", rule="chunk-cycle"
                )
            )
            return False
        self.used.add(name)
        return True


_MODE = re.compile(r"0?[0-7]{3}")


def _file_mode(path: str, blocks: list[Block], problems: list[Problem]) -> int | None:
    """The mode the file's own blocks ask for with `mode=0755` (as Entangled reads it)."""
    mode: int | None = None
    for block in blocks:
        written = block.fence.attributes.get("mode")
        if written is None:
            continue
        if not _MODE.fullmatch(written):
            message = f"mode={written} is not an octal mode like 0755"
            problems.append(error(block.card.rel, block.fence.line, message, rule="file-mode"))
            continue
        value = int(written, 8)
        if mode is not None and value != mode:
            message = f"mode={written} differs from {mode:04o}, asked for {path} by another of its blocks"
            problems.append(error(block.card.rel, block.fence.line, message, rule="file-mode"))
            continue
        mode = value
    return mode


def _indented(indent: str, text: str) -> str:
    return (indent + text) if indent and text.strip() else text


def tangle(runbook: Runbook, graph: Graph) -> TangleResult:
    settings = runbook.settings
    problems: list[Problem] = []
    found = collect_blocks(runbook, graph, problems)
    for name, blocks in found.blocks.items():
        _check_order(graph, name, blocks, problems)
    expander = _Expander(found.blocks, settings.annotate, problems)
    files: dict[str, OutputFile] = {}
    unproduced: set[str] = set()
    for path in sorted(found.targets):
        name = found.targets[path]
        style = comment_style(settings, path) if settings.annotate else None
        if settings.annotate and style is None:
            first = found.blocks[name][0]
            suffix = PurePosixPath(path).suffix or "(none)"
            problems.append(
                error(
                    first.card.rel,
                    first.fence.line,
                    f"no comment style for {suffix} files: add one under the plugin's comment_styles",
                    rule="comment-style",
                )
            )
            unproduced.add(path)
            continue
        cards: list[Card] = []
        lines = expander.expand(name, style, (name,), cards)
        if lines is None:  # the error is reported; the chunks it names are not unused
            unproduced.add(path)
            expander.used |= _referenced(name, found.blocks)
            continue
        files[path] = _assemble(path, style, lines, cards)
        own = found.blocks[name]
        files[path].writers = list(dict.fromkeys(block.card.stem for block in own))
        files[path].origin = (own[0].card.rel, own[0].fence.line)
        files[path].mode = _file_mode(path, own, problems)
    unused = set(found.blocks) - expander.used - set(found.targets.values())
    for name in sorted(unused):
        block = found.blocks[name][0]
        problems.append(
            warning(
                block.card.rel,
                block.fence.line,
                f"chunk #{name} is not used by any file",
                rule="unused-chunk",
            )
        )
    return TangleResult(files, found.fences, problems, found.keyed, unproduced)


def _referenced(name: str, blocks: dict[str, list[Block]]) -> set[str]:
    """Every known chunk `name`'s blocks reference, directly or through others."""
    seen: set[str] = set()
    waiting = [name]
    while waiting:
        for block in blocks.get(waiting.pop(), ()):
            for line in block.fence.body:
                found = REFERENCE.match(line) if "<<" in line else None
                if found is not None and found["name"] in blocks and found["name"] not in seen:
                    seen.add(found["name"])
                    waiting.append(found["name"])
    return seen


def _assemble(
    path: str,
    style: tuple[str, str] | None,
    lines: list[tuple[str, Source | None, Block | None]],
    cards: list[Card],
) -> OutputFile:
    texts: list[str] = []
    sources: list[Source | None] = []
    if style is not None:
        head = header_lines(style, ", ".join(card.rel for card in cards), path)
        # A shebang must stay the first line of a script.
        if lines and lines[0][1] is None and len(lines) > 1 and lines[1][0].startswith("#!"):
            texts.append(lines[1][0])
            sources.append(lines[1][1])
            lines = [lines[0], *lines[2:]]
        texts.extend(head)
        sources.extend([None] * len(head))
    segments: list[Segment] = []
    current: Segment | None = None
    for text, source, owner in lines:
        texts.append(text)
        sources.append(source)
        if owner is None or source is None:
            current = None
            continue
        number = len(texts)
        if current is not None and current.fence_line == owner.fence.line and current.rel == owner.card.rel:
            current.end = number
        else:
            current = Segment(owner.card.stem, owner.card.rel, owner.fence.line, owner.name, number, number)
            segments.append(current)
    text = "\n".join(texts)
    if style is not None and texts:
        text += "\n"  # annotated files end with a newline; naked ones match Entangled byte for byte
    return OutputFile(path, text, [card.stem for card in cards], sources, segments)


def _nameable(target: str) -> bool:
    """The file system encoding of this run (an ASCII locale without Python's UTF-8 mode) can
    name the path: else every step that touches it would fail with a traceback."""
    try:
        os.fsencode(target)
    except UnicodeEncodeError:
        return False
    return True
