"""What is on disk under the output roots: did cardbook write a file, has a person edited it
since, and may it be written at all (symlinks)? The manifest records what cardbook wrote when
files carry no markers (annotate: false)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Container
from pathlib import Path

from .disk import TEMP_PREFIX, inside, read_text, regular_file
from .markers import LINE_END_SPACE, comment_style
from .problems import Problem, error
from .record import Record
from .settings import Settings

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:  # parsing markers is for files that differ: a clean check never loads it
    from .generated import ParsedBlock, ParsedFile

MANIFEST = ".cardbook-manifest.json"  # the record of what was written, for annotate: false
TEXT_END_SPACE = LINE_END_SPACE + "\n"  # blind to these at a file's end (markers.LINE_END_SPACE)


def same_text(a: str, b: str) -> bool:
    """Equal but for spaces, tabs and newlines at the end, which formatters like to add."""
    return a.rstrip(TEXT_END_SPACE) == b.rstrip(TEXT_END_SPACE)


_DIGEST = re.compile(r"( ~~ begin .+?\[\d+\]) [0-9a-f]{10} ~~")


def same_but_digests(a: str, b: str) -> bool:
    """Equal once the block hashes are left out: after a stitch, only the hashes are stale."""
    return same_text(_DIGEST.sub(r"\1 ~~", a), _DIGEST.sub(r"\1 ~~", b))


def _digest(text: str) -> str:
    return hashlib.sha256(text.rstrip(TEXT_END_SPACE).encode()).hexdigest()


STITCH_ADVICE = (
    "run `cardbook stitch` to carry the edit into the cards, or `cardbook tangle --force` to discard it"
)
OUTSIDE_ADVICE = (
    "stitch cannot place lines outside the blocks: move them into a block and run `cardbook stitch`, "
    "or run `cardbook tangle --force` to discard them"
)
NAKED_ADVICE = (
    "with annotate: false the file has no block markers, so stitch cannot place the edit: copy it "
    "into its card by hand, or run `cardbook tangle --force` to discard it"
)
BODY_ADVICE = (
    "cardbook makes this file from the cards themselves (their `build:` keys): change the cards "
    "instead, or run `cardbook tangle --force` to discard the edit"
)
STYLESHEET_ADVICE = (
    "cardbook makes this file from the `statuses` in mkdocs.yml and its own rules (the `stylesheet:` "
    "option): put rules of your own in another file under extra_css, or run `cardbook tangle --force` "
    "to discard the edit"
)
MARKERS_ADVICE = (
    "restore the marker lines (`cardbook check` shows the file as the cards produce it), then run "
    "`cardbook stitch`; or run `cardbook tangle --force` to discard the edit"
)
ENCODING_ADVICE = "run `cardbook tangle --force` to write it back as the cards produce it (no line is lost)"


class OnDisk(Record):
    __slots__ = (
        "path", "text", "state", "detail", "first_line", "advice", "owned", "edited_blocks", "blocks_only"
    )  # fmt: skip

    def __init__(
        self,
        path: str,
        text: str | None,  # None when missing
        state: str,  # missing | generated | edited | foreign | unreadable
        detail: str = "",
        first_line: int = 1,
        advice: str = STITCH_ADVICE,
        # Proof that cardbook wrote this very file: the header names its path (annotated), or
        # the manifest records its content (annotate: false). Only such a file is ever removed.
        owned: bool = False,
        # The blocks a person edited (annotated files): stitch can carry them into the cards.
        edited_blocks: tuple[ParsedBlock, ...] = (),
        blocks_only: bool = False,  # every edit is inside blocks (none in the header, none outside)
    ) -> None:
        self.path = path
        self.text = text
        self.state = state
        self.detail = detail
        self.first_line = first_line
        self.advice = advice
        self.owned = owned
        self.edited_blocks = edited_blocks
        self.blocks_only = blocks_only


def editor_changes(text: str) -> tuple[str, str]:
    """The text without what editors add to a whole file (a byte order mark, CRLF line
    endings), and a description of what was added, or ""."""
    changes = []
    if text.startswith("\ufeff"):
        text = text[1:]
        changes.append("added a byte order mark")
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
        changes.append("changed its line endings to CRLF")
    return text, " and ".join(changes)


def inspect(
    settings: Settings, rel: str, manifest: dict[str, tuple[str, ...]], text: str | None = None
) -> OnDisk:
    """Classify the file at `rel`: did cardbook write it, and has a person edited it since?

    `text` is the file's content when the caller has read it already."""
    from .generated import parse_generated

    if text is None:
        text = read_text(settings.root / rel)
    if text is None:
        return OnDisk(rel, None, "missing")
    if not settings.annotate:
        recorded = manifest.get(rel)
        if recorded is None:
            # Written before `annotate: false` was set: its markers still prove it is ours.
            style = comment_style(settings, rel)
            parsed = parse_generated(text, style) if style else None
            if parsed is not None and parsed.named_path == rel and parsed.clean:
                return OnDisk(rel, text, "generated", owned=True)
            return OnDisk(rel, text, "foreign")
        if _digest(text) not in recorded:
            detail = "it differs from what cardbook last wrote"
            return OnDisk(rel, text, "edited", detail, advice=NAKED_ADVICE, owned=True)
        return OnDisk(rel, text, "generated", owned=True)
    style = comment_style(settings, rel)
    plain, editor = editor_changes(text)
    parsed: ParsedFile | None = parse_generated(plain, style) if style else None
    if parsed is None or not parsed.has_record:
        if _digest(text) in manifest.get(rel, ()):  # written naked before `annotate: true`
            return OnDisk(rel, text, "generated", owned=True)
        return OnDisk(rel, text, "foreign")
    owned = parsed.named_path == rel
    if parsed.named_path is not None and not owned and not _plausible_copy(settings, parsed.named_path, rel):
        parsed.header_edited = parsed.header_edited or 1  # words added after the path, not a copy
    found = OnDisk(rel, text, "edited", owned=owned, edited_blocks=tuple(parsed.edited_blocks))
    found.blocks_only = not (
        parsed.malformed or parsed.body_edited or parsed.header_edited or parsed.stray_lines or editor
    )
    if parsed.malformed:
        found.detail = f"its block markers were changed ({parsed.malformed})"
        found.advice = MARKERS_ADVICE
    elif parsed.body_edited:
        found.detail, found.first_line = "it was changed after cardbook wrote it", 4
        found.advice = BODY_ADVICE
    elif parsed.edited_blocks:
        block = parsed.edited_blocks[0]
        found.detail, found.first_line = f"block {block.rel}#{block.name} was changed", block.line + 1
    elif parsed.header_edited:
        found.detail, found.first_line = "its header lines were changed", parsed.header_edited
        found.advice = OUTSIDE_ADVICE
    elif parsed.stray_lines:
        found.detail, found.first_line = "lines were added outside the blocks", parsed.stray_lines[0]
        found.advice = OUTSIDE_ADVICE
    elif editor:
        found.detail, found.advice = f"an editor {editor}; its lines are unchanged", ENCODING_ADVICE
    else:
        found.state = "generated"
    if editor and found.state == "edited" and not found.detail.startswith("an editor"):
        found.detail += f" (and an editor {editor})"
    if rel == settings.stylesheet and found.advice != ENCODING_ADVICE:
        found.advice = STYLESHEET_ADVICE  # no card holds its lines: stitch cannot take them
    return found


def _plausible_copy(settings: Settings, named: str, rel: str) -> bool:
    """A header naming another path is a copy of a generated file (or one moved by hand) when
    that path could be one cardbook writes: under an output root, with this file's comment
    style. Otherwise a person added words after the path."""
    in_root = any(named.startswith(root.rstrip("/") + "/") for root in settings.output_roots)
    return in_root and comment_style(settings, named) == comment_style(settings, rel)


def first_edited_line(disk: OnDisk, expected: str) -> int:
    """The first line at or after the edited block's start where the file differs from what
    the cards produce (block hashes aside): where a person's edit begins."""
    if disk.text is None or disk.first_line <= 1:
        return disk.first_line
    have, want = disk.text.split("\n"), expected.split("\n")
    for index in range(disk.first_line - 1, len(have)):
        if index >= len(want) or _DIGEST.sub(r"\1 ~~", have[index]) != _DIGEST.sub(r"\1 ~~", want[index]):
            return index + 1
    return disk.first_line


def edited_message(disk: OnDisk, expected: str | None = None) -> Problem:
    line = disk.first_line if expected is None else first_edited_line(disk, expected)
    return error(disk.path, line, f"edited by hand: {disk.detail}; {disk.advice}", rule="edited-generated")


def foreign_message(disk: OnDisk, card_rel: str | None, stylesheet: bool = False) -> Problem:
    """A file of a person's where cardbook would write; `card_rel` None: the aggregator's or,
    with `stylesheet`, the stylesheet's."""
    if stylesheet:
        return error(
            disk.path,
            1,
            "a file cardbook did not write is where the `stylesheet:` option puts cardbook's "
            "stylesheet: move it away, or name another file in that option (it is never overwritten)",
            rule="not-generated",
        )
    if card_rel is None:
        return error(
            disk.path,
            1,
            "a file cardbook did not write is in the way of the aggregator (made from the cards' "
            "`build:` keys): move it away, or set the plugin's `aggregator:` to another path "
            "(it is never overwritten)", rule="not-generated",
        )
    return error(
        disk.path,
        1,
        f"a file cardbook did not write is in the way of {card_rel}: move it away "
        "or change the card's file= target (it is never overwritten)", rule="not-generated",
    )


def _manifest_path(settings: Settings) -> Path:
    return settings.root / settings.output_roots[0] / MANIFEST


def read_manifest(settings: Settings) -> dict[str, tuple[str, ...]]:
    """The digests cardbook may have left in each file it wrote (written with annotate: false;
    read with either setting, so that files written before `annotate: true` stay cardbook's).

    `files` is what the last complete run wrote; `pending` what a run was about to write when
    it was interrupted: either content is cardbook's own, so the next run can repair the tree."""
    try:
        text = read_text(_manifest_path(settings))
        import json  # only with annotate: false: most runs never load it

        data = json.loads(text) if text is not None else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    manifest: dict[str, tuple[str, ...]] = {}
    for section in ("files", "pending"):
        entries = data.get(section)
        for rel, digest in entries.items() if isinstance(entries, dict) else ():
            manifest[str(rel)] = (*manifest.get(str(rel), ()), str(digest))
    return manifest


def generated_on_disk(
    settings: Settings, manifest: dict[str, tuple[str, ...]], skip: Container[str] = ()
) -> list[str]:
    """Files under the output roots that cardbook wrote earlier, except those in `skip`.

    The callers pass the files the cards produce, which they have read already: only the
    others are opened here, to look for cardbook's header.
    """
    if not settings.annotate:
        return sorted(rel for rel in manifest if rel not in skip)
    found = [rel for rel in manifest if rel not in skip]  # written naked before `annotate: true`
    project = str(settings.root)
    for root in settings.output_roots:
        base = os.path.join(project, root)
        if not os.path.isdir(base) or os.path.islink(base):
            continue
        for directory, dirnames, filenames in os.walk(base):
            dirnames.sort()
            folder = os.path.relpath(directory, project).replace(os.sep, "/")
            for name in sorted(filenames):
                rel = f"{folder}/{name}"
                if rel in skip or name.startswith(TEMP_PREFIX):
                    continue
                style = comment_style(settings, name)
                path = os.path.join(directory, name)
                if style is None or not regular_file(path):
                    continue
                head = _head(path)
                from .generated import is_generated

                if head is not None and is_generated(head, style) and rel not in found:
                    found.append(rel)
    return sorted(found)


def written_stylesheets(settings: Settings, rels: list[str]) -> list[str]:
    """The files of `rels` (.css files of docs_dir) whose header says cardbook wrote them under
    that name: stylesheets of an earlier `stylesheet:` option."""
    from .generated import parse_generated

    found = []
    for rel in rels:
        style = comment_style(settings, rel)
        if not rel.startswith(settings.docs_prefix) or style is None:
            continue
        head = _head(os.path.join(settings.root, rel))
        parsed = parse_generated("\n".join(head.split("\n")[:4]), style) if head is not None else None
        if parsed is not None and parsed.named_path == rel:
            found.append(rel)
    return found


def _head(path: str) -> str | None:
    """The first 4 KB of a file as text, where cardbook's header would be; None if unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return None


def unsafe_target(
    settings: Settings, rel: str, resolved: dict[str, str] | None = None, in_docs: bool = False
) -> str | None:
    """Why writing `rel` could land outside its output root (symlinks), or None. The
    stylesheet, and with `in_docs` an earlier one, has docs_dir as its root instead.

    `resolved` caches directory resolutions across the files of one run."""
    cache = resolved if resolved is not None else {}

    def resolve(path: str) -> str:
        if path not in cache:
            cache[path] = os.path.realpath(path)
        return cache[path]

    project_dir = str(settings.root)
    project = resolve(project_dir)
    in_docs = in_docs or rel == settings.stylesheet
    roots = (settings.docs_prefix.rstrip("/") or ".",) if in_docs else settings.output_roots
    for root in roots:
        if root != "." and not rel.startswith(root.rstrip("/") + "/"):
            continue
        resolved_root = resolve(os.path.join(project_dir, root))
        if not inside(resolved_root, project):
            what = "docs_dir" if in_docs else "output root"
            return f"{what} {root} leads outside the project (symlink to {resolved_root})"
        target = os.path.join(project_dir, rel)
        if os.path.islink(target):
            return f"{rel} is a symlink"
        parent = resolve(os.path.dirname(target))
        if not inside(parent, resolved_root):
            return f"a symlinked directory leads {rel} outside {root}/ (to {parent})"
        return None
    return f"{rel} is outside the output roots"
