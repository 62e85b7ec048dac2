"""Reading an annotated generated file back: its blocks, and whether a person edited it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .markers import DO_NOT_EDIT, HEADER_MARK, REFERENCE, block_hash, marker


@dataclass
class ParsedBlock:
    rel: str  # card path
    name: str
    index: int
    digest: str  # hash of the fence body when cardbook wrote the file
    line: int  # line of the begin marker in the generated file
    indent: str
    body: list[str] = field(default_factory=list)  # the fence body, references restored
    # Lines of the file that read as `<<name>>` but are no marked block: a person wrote them
    # (tangle expands every reference with markers), and the next tangle would expand them.
    literal_references: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, int]:
        return self.rel, self.name, self.index

    @property
    def edited(self) -> bool:
        return block_hash(self.body) != self.digest


@dataclass
class ParsedFile:
    blocks: list[ParsedBlock]
    stray_lines: list[int]  # non-blank lines outside every block: edits we cannot place
    malformed: str | None = None  # why the markers could not be read
    body_edited: bool = False  # for files cardbook writes itself (no fences): the whole body
    body_marked: bool = False
    # The path the header says the file was written as (`... into nix/a.nix.`); None in files
    # of older versions. A copy of a generated file names the path it was copied from.
    named_path: str | None = None
    header_edited: int = 0  # the first header line a person changed, or 0

    @property
    def has_record(self) -> bool:
        """A header alone proves nothing: cardbook's files carry block or body hashes."""
        return bool(self.blocks) or self.body_marked

    @property
    def edited_blocks(self) -> list[ParsedBlock]:
        return [block for block in self.blocks if block.edited]

    @property
    def clean(self) -> bool:
        return (
            self.malformed is None
            and not self.stray_lines
            and not self.edited_blocks
            and not self.body_edited
            and not self.header_edited
        )


def _patterns(style: tuple[str, str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    start, end = (re.escape(part) for part in style)
    tail = rf"(?:\s+{end})?" if end else ""
    begin = re.compile(
        rf"^(?P<indent>[ \t]*){start} ~~ begin (?P<rel>.+?\.md)#(?P<name>.+?)\[(?P<index>\d+)\] "
        rf"(?P<digest>[0-9a-f]{{10}}) ~~{tail}[ \t]*$"
    )
    finish = re.compile(
        rf"^(?P<indent>[ \t]*){start} ~~ end (?P<rel>.+?\.md)#(?P<name>.+?)\[(?P<index>\d+)\] ~~{tail}[ \t]*$"
    )
    return begin, finish


def is_generated(text: str, style: tuple[str, str]) -> bool:
    """cardbook's header is in the first lines (after a shebang, if any)."""
    head = text.split("\n", 3)[:3]
    return any(line.lstrip().startswith(style[0]) and HEADER_MARK in line for line in head)


_NAMED = re.compile(rf"{HEADER_MARK} from (?P<cards>.+) into (?P<path>.+)\.$")


HEADER_LINES = 2  # cardbook writes exactly these, after a shebang (and before a body marker)


def _header(lines: list[str], style: tuple[str, str], first: int) -> tuple[str | None, str | None, int]:
    """Read the header at lines[first:]: (the cards it names, the path it names, the first
    line a person changed or 0). cardbook writes exactly its HEADER_LINES lines (then a body
    marker, for files without blocks); any other line there is a person's."""
    title = lines[first] if first < len(lines) else ""
    start, end = style
    inner = title.strip()
    inner = inner[len(start) :].strip() if inner.startswith(start) else inner
    inner = inner[: -len(end)].rstrip() if end and inner.endswith(end) else inner
    named = _NAMED.match(inner)
    cards = named["cards"] if named else None
    if named is None and inner.startswith(f"{HEADER_MARK} from ") and inner.endswith("."):
        cards = inner[len(HEADER_MARK) + 6 : -1]  # an older header, without the path
    changed = 0 if HEADER_MARK in title else first + 1
    # spaces, tabs and \r at a line's end are no edit (tangle.md), on header lines too
    if first + 1 >= len(lines) or lines[first + 1].rstrip(" \t\r") != marker(style, DO_NOT_EDIT):
        changed = changed or first + 2
    return cards, named["path"] if named else None, changed


def parse_generated(text: str, style: tuple[str, str]) -> ParsedFile | None:
    """The blocks of a file cardbook wrote, or None if cardbook did not write it."""
    if not is_generated(text, style):
        return None
    begin, finish = _patterns(style)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    shebang: str | None = lines[0] if lines and lines[0].startswith("#!") else None
    first = 1 if shebang is not None else 0
    cards, named_path, header_edited = _header(lines, style, first)
    taken = HEADER_LINES
    body_mark = re.compile(rf"^{re.escape(style[0])} ~~ body (?P<digest>[0-9a-f]{{10}}) ~~")
    found = body_mark.match(lines[first + taken]) if first + taken < len(lines) else None
    if found is not None:
        edited = block_hash(lines[first + taken + 1 :]) != found["digest"]
        return ParsedFile(
            [], [], body_edited=edited, body_marked=True, named_path=named_path, header_edited=header_edited
        )
    blocks: list[ParsedBlock] = []
    stack: list[ParsedBlock] = []
    # For each open block: the last nested group (name, indent, blocks seen) just closed, to
    # merge consecutive blocks of one chunk back into a single reference line. A block seen
    # again starts a new reference: the same chunk referenced on consecutive lines.
    last_group: list[tuple[str, str, set[tuple[str, str, int]]] | None] = []
    stray: list[int] = []
    for number, line in enumerate(lines, start=1):
        if number <= first + taken:
            continue  # the shebang and the header, read above
        opened = begin.match(line)
        if opened is not None:
            block = ParsedBlock(
                opened["rel"],
                opened["name"],
                int(opened["index"]),
                opened["digest"],
                number,
                opened["indent"],
            )
            if stack:
                parent = stack[-1]
                group = last_group[-1]
                if group is None or group[:2] != (block.name, block.indent) or block.key in group[2]:
                    relative = (
                        block.indent[len(parent.indent) :] if block.indent.startswith(parent.indent) else ""
                    )
                    parent.body.append(f"{relative}<<{block.name}>>")
                    group = (block.name, block.indent, set())
                    last_group[-1] = group
                group[2].add(block.key)
            elif shebang is not None and not blocks:
                block.body.append(shebang)
            blocks.append(block)
            stack.append(block)
            last_group.append(None)
            continue
        closed = finish.match(line)
        if closed is not None:
            if not stack or stack[-1].key != (closed["rel"], closed["name"], int(closed["index"])):
                return ParsedFile(blocks, stray, f"line {number}: end marker without its begin marker")
            stack.pop()
            last_group.pop()
            continue
        if not stack:
            if line.strip():
                stray.append(number)
            continue
        current = stack[-1]
        last_group[-1] = None
        if not line.strip():
            current.body.append(line)  # tangle never indents whitespace-only lines
        elif line.startswith(current.indent):
            current.body.append(line[len(current.indent) :])
        else:
            current.body.append(line)
        if "<<" in line and REFERENCE.match(line):
            current.literal_references.append(line.strip())
    if stack:
        return ParsedFile(blocks, stray, f"block {stack[-1].name} is never closed")
    if cards is not None and not all(name.endswith(".md") for name in cards.split(", ")):
        header_edited = header_edited or first + 1  # words added among the cards it names
    return ParsedFile(blocks, stray, named_path=named_path, header_edited=header_edited)
