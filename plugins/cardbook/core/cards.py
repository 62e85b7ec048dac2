"""How-to cards: discovery, frontmatter schema, and the problems a card can have."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from . import frontmatter
from .disk import file_stat, read_known_size, walk_with_links
from .frontmatter import as_date, type_name
from .problems import Problem, error
from .record import Record
from .settings import Settings
from .suggest import did_you_mean

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any

# Section pages share these names by design; they are never cards and never clash.
SECTION_STEMS = frozenset({"index", "README"})


def is_section_index(rel: str) -> bool:
    """A folder's own page: `index.md`, `README.md`, or a page named like its folder
    (`how-to/how-to.md`, as Obsidian's folder notes are). Never a card."""
    folder, _, name = rel.rpartition("/")  # strings, not paths: called for every page
    stem = name.rpartition(".")[0] or name
    return stem in SECTION_STEMS or stem == folder.rpartition("/")[2]


# Rule ids (core/rules.py) of what makes a page unreadable, often repeated here.
UNREADABLE, NO_YAML = "unreadable-page", "frontmatter-yaml"
DUPLICATE, CONFLICT = "duplicate-stem", "merge-conflict"


class Requirement(Record):
    __slots__ = ("written", "stem", "line")

    def __init__(self, written: str, stem: str, line: int) -> None:
        self.written = written  # as in the frontmatter: a stem, `foo.md` or `dir/foo.md`
        self.stem = stem
        self.line = line


class Card(Record):
    __slots__ = (
        "stem", "rel", "path", "text", "title", "modified", "status", "is_open", "tags", "requires",
        "missing", "build", "extra", "key_lines", "body_line", "body_offset", "valid", "broken",
    )  # fmt: skip

    def __init__(self, stem: str, rel: str, path: Path, text: str) -> None:
        self.stem = stem
        self.rel = rel  # posix path relative to the project root, used in every message
        self.path = path
        self.text = text
        # From the frontmatter (read_card sets them):
        self.title = ""
        self.modified: dt.date | None = None
        self.status: str | None = None
        self.is_open = False
        self.tags: list[str] = []
        self.requires: list[Requirement] = []
        self.missing: list[str] = []  # requires entries that name no card
        self.build: str | None = None
        self.extra: dict[str, Any] = {}
        self.key_lines: dict[str, int] = {}
        self.body_line = 1
        self.body_offset = 0
        self.valid = True  # False when the frontmatter could not be read at all
        self.broken = False  # True when it could not be read because it is broken (not missing)

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)

    @property
    def status_label(self) -> str:
        if self.status:
            return self.status
        return "open" if self.is_open else "done"  # no status, or the empty one the runbook declared


class Page(Record):
    """Any Markdown page of the docs tree, card or not (for stems and wiki-links)."""

    __slots__ = ("stem", "rel", "path")

    def __init__(self, stem: str, rel: str, path: Path) -> None:
        self.stem = stem
        self.rel = rel
        self.path = path


class Runbook(Record):
    __slots__ = ("settings", "cards", "pages", "problems", "plain", "stylesheets")

    def __init__(
        self,
        settings: Settings,
        cards: dict[str, Card],  # by stem, only cards that have a unique stem
        pages: dict[str, list[Page]],  # by stem, every Markdown page of the docs tree
        problems: list[Problem],
        # Pages under the card roots that are not cards (evergreen how-tos): their code blocks
        # still tangle, but they are not counted, not in the graph and get no card header.
        plain: dict[str, Card] | None = None,
        stylesheets: list[str] | None = None,  # the .css files of docs_dir
    ) -> None:
        self.settings = settings
        self.cards = cards
        self.pages = pages
        self.problems = problems
        self.plain = {} if plain is None else plain
        self.stylesheets = [] if stylesheets is None else stylesheets

    @property
    def sources(self) -> dict[str, Card]:
        """Every page whose code blocks tangle: the cards and the plain pages, by stem."""
        return {**self.cards, **self.plain} if self.plain else self.cards


MAX_CARD_BYTES = 64 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The lines git writes around a conflict (`=======` alone is also a Markdown heading rule).
CONFLICT_LINE = r"^(?:<{7}|>{7})(?: .*)?\r?$"
_CONFLICT = re.compile(CONFLICT_LINE, re.MULTILINE)


def _walk_markdown(
    root: Path, project: Path, problems: list[Problem], stylesheets: list[str] | None = None
) -> Iterable[tuple[Path, str]]:
    """(path, posix path relative to the project) of the Markdown files below root, sorted,
    refusing symlinks that lead out of the project; `stylesheets` collects the .css files."""
    if not root.is_dir():
        return
    project_resolved = project.resolve()
    prefix = len(str(project)) + 1
    for directory, dirnames, filenames, links in walk_with_links(str(root)):
        # Hidden names are editors' and tools' (an Emacs lock `.#card.md` is a dangling
        # symlink); MkDocs leaves them out of the site too.
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        relative_directory = directory[prefix:].replace(os.sep, "/")
        for name in sorted(filenames):
            if not name.endswith(".md") or name.startswith("."):
                if stylesheets is not None and name.endswith(".css") and name not in links:
                    stylesheets.append(f"{relative_directory}/{name}")
                continue
            path = Path(directory, name)
            rel = f"{relative_directory}/{name}"
            if _CONTROL.search(rel):  # a newline in a name would break every line naming it
                shown = rel.encode("unicode_escape").decode("ascii")
                message = "the file's path holds a control character (a newline, a tab): rename it"
                problems.append(error(shown, 1, message, rule=UNREADABLE))
                continue
            if name in links:
                try:
                    target = path.resolve()
                except (OSError, RuntimeError):  # RuntimeError: a symlink loop, on Python 3.11
                    problems.append(error(rel, 1, "symlink loop", rule=UNREADABLE))
                    continue
                if not target.is_relative_to(project_resolved):
                    message = f"symlink leads outside the project to {target}"
                    problems.append(error(rel, 1, message, rule=UNREADABLE))
                    continue
                if not target.is_file():
                    problems.append(error(rel, 1, "broken symlink", rule=UNREADABLE))
                    continue
            yield path, rel


def load_runbook(settings: Settings, *, today: dt.date | None = None) -> Runbook:
    """Read every page of the docs tree and every card of the card roots."""
    problems: list[Problem] = []
    project = settings.root
    pages: dict[str, list[Page]] = {}
    seen: set[str] = set()
    # Card roots inside the docs tree were walked with it already.
    docs_prefix = settings.docs_dir.rstrip("/") + "/"
    roots = [settings.docs_dir, *(r for r in settings.card_roots if not r.startswith(docs_prefix))]
    stylesheets: list[str] = []  # of docs_dir: one may be a stylesheet no option names any more
    for root in roots:
        for path, rel in _walk_markdown(project / root, project, problems, stylesheets):
            if rel in seen:
                continue
            seen.add(rel)
            stem = path.stem
            pages.setdefault(stem, []).append(Page(stem, rel, path))
    card_prefixes = tuple(root.rstrip("/") + "/" for root in settings.card_roots)
    card_pages = sorted(
        (page for group in pages.values() for page in group if page.rel.startswith(card_prefixes)),
        key=lambda page: page.rel,
    )
    for stem, group in pages.items():
        if len(group) > 1 and stem not in SECTION_STEMS:
            group.sort(key=lambda page: page.rel)
            others = ", ".join(page.rel for page in group[1:])
            message = f"duplicate stem {stem!r}: also {others} (stems must be unique)"
            problems.append(error(group[0].rel, 1, message, rule=DUPLICATE))
            for page in group[1:]:
                message = f"duplicate stem {stem!r}: also {group[0].rel} (stems must be unique)"
                problems.append(error(page.rel, 1, message, rule=DUPLICATE))
    today = today or dt.date.today()
    cards: dict[str, Card] = {}
    candidates: dict[str, Card] = {}
    schema_problems: dict[str, list[Problem]] = {}
    for page in card_pages:
        if is_section_index(page.rel):
            continue
        schema: list[Problem] = []
        card = read_card(page.path, page.rel, settings, today, problems, schema)
        if card is None:
            continue
        if len(pages[page.stem]) != 1:
            problems.extend(schema)
            continue
        candidates[card.stem] = card
        schema_problems[card.stem] = schema
    chosen = set(candidates) if settings.cards == "all" else _marked_or_required(candidates)
    plain: dict[str, Card] = {}
    for stem, card in candidates.items():
        if stem in chosen:
            cards[stem] = card
            problems.extend(schema_problems[stem])
        else:
            plain[stem] = card
    _resolve_requires(cards, pages, problems)
    return Runbook(settings, cards, pages, problems, plain, stylesheets)


CARD_KEYS = ("status", "requires", "build")


def _marked_or_required(candidates: dict[str, Card]) -> set[str]:
    """The pages that are cards: those with `status`, `requires` or `build` (or frontmatter too
    broken to tell), and those another card requires. An evergreen how-to is none of these."""
    marked = {
        stem
        for stem, card in candidates.items()
        if card.broken or any(key in card.key_lines for key in CARD_KEYS)
    }
    required = {
        requirement.stem
        for stem in marked
        for requirement in candidates[stem].requires
        if requirement.stem in candidates
    }
    return marked | required


def read_card(
    path: Path,
    rel: str,
    settings: Settings,
    today: dt.date,
    problems: list[Problem],
    schema: list[Problem] | None = None,
) -> Card | None:
    """The card at `path`. What makes it unreadable goes to `problems`; what a card must have
    (frontmatter, its keys and their values) to `schema` (default: `problems` too), which the
    caller keeps only if the page turns out to be a card."""
    schema = problems if schema is None else schema
    try:
        info = file_stat(path)  # one stat for the kind and the size
        if info is None:  # reading a named pipe blocks forever, a device may never end
            message = "not a regular file (a named pipe or a device): a card is a file"
            problems.append(error(rel, 1, message, rule=UNREADABLE))
            return None
        size = info.st_size
        if size > MAX_CARD_BYTES:  # refused before reading: a 2 GB file would exhaust memory
            limit = f"cardbook reads cards of at most {MAX_CARD_BYTES:,}"
            problems.append(error(rel, 1, f"the card is {size:,} bytes; {limit}", rule=UNREADABLE))
            return None
        data = read_known_size(path, size)
    except OSError as exc:
        problems.append(error(rel, 1, f"cannot read the card: {exc.strerror}", rule=UNREADABLE))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(error(rel, line, f"not valid UTF-8 (byte {data[exc.start]:#04x})", rule=UNREADABLE))
        return None
    if text.startswith("\ufeff"):  # editors on some systems add a byte order mark
        text = text[1:]
    card = Card(stem=path.stem, rel=rel, path=path, text=text)
    # The regex is tried at every line start; a conflict line holds one of these runs, which a
    # substring search rules out in a fraction of the time.
    conflict = _CONFLICT.search(text) if "<<<<<<<" in text or ">>>>>>>" in text else None
    if conflict is not None:  # git left a merge half done: nothing below it can be trusted
        line = text.count("\n", 0, conflict.start()) + 1
        message = "unresolved merge conflict (a <<<<<<< or >>>>>>> line): resolve it"
        problems.append(error(rel, line, message, rule=CONFLICT))
        card.broken = True
        card.valid = False
        return card
    if not text.strip():
        message = "empty card: a card starts with YAML frontmatter between '---' lines"
        schema.append(error(rel, 1, message, rule=NO_YAML))
        card.valid = False
        return card
    try:
        meta = frontmatter.parse(text)
    except frontmatter.FrontmatterError as exc:
        problems.append(error(rel, exc.line, exc.message, rule=NO_YAML))
        card.valid = False
        card.broken = True
        return card
    if meta is None:
        message = "no frontmatter: a card starts with YAML between '---' lines"
        schema.append(error(rel, 1, message, rule=NO_YAML))
        card.valid = False
        return card
    card.key_lines = meta.key_lines
    card.body_line = meta.body_line
    card.body_offset = meta.body_offset
    _apply_schema(card, meta, settings, today, schema)
    return card


def _apply_schema(
    card: Card,
    meta: frontmatter.Frontmatter,
    settings: Settings,
    today: dt.date,
    problems: list[Problem],
) -> None:
    values = dict(meta.values)
    rel = card.rel

    def report(key: str, message: str, line: int | None = None, rule: str = "bad-value") -> None:
        problems.append(error(rel, line or meta.line_of(key), message, rule=rule))

    title = values.pop("title", None)
    if "title" not in meta.key_lines:
        report("title", "missing required key 'title'", rule="required-key")
    elif not isinstance(title, str) or not title.strip():
        report("title", f"'title' must be a non-empty string, not {type_name(title)}")
    else:
        card.title = title.strip()

    modified = values.pop("modified", None)
    if "modified" not in meta.key_lines:
        report("modified", "missing required key 'modified' (a date like 2026-01-31)", rule="required-key")
    else:
        date = as_date(modified)
        if date is None:
            report("modified", f"'modified' must be a date like 2026-01-31, not {modified!r}")
        elif date > today + dt.timedelta(days=2):  # zones 26 h apart can be two dates apart
            report("modified", f"'modified' is in the future: {date.isoformat()}")
        else:
            card.modified = date

    tags = values.pop("tags", [])
    if "tags" in meta.key_lines:
        if isinstance(tags, list) and all(isinstance(tag, str) for tag in tags):
            card.tags = list(tags)
        elif isinstance(tags, list):
            index, tag = next((i, tag) for i, tag in enumerate(tags) if not isinstance(tag, str))
            lines = meta.item_lines.get("tags", [])
            line = lines[index] if index < len(lines) else None
            report("tags", f"'tags' entries must be strings, not {type_name(tag)}", line)
        else:
            report("tags", f"'tags' must be a list of strings, not {type_name(tags)}")

    if "status" in meta.key_lines:
        status = values.pop("status")
        allowed = ", ".join(sorted(name for name in settings.statuses if name))
        if (status is None or status == "") and "" in settings.statuses:
            card.status = ""  # the runbook gave the empty status a meaning (`'': closed`)
            card.is_open = settings.statuses[""]
        elif status is None or status == "":
            report(
                "status",
                f"empty 'status': write one of {allowed}, or remove the key to mark the card done",
                rule="empty-status",
            )
        elif not isinstance(status, str):
            report("status", f"'status' must be one of {allowed}, not {type_name(status)}")
        elif status not in settings.statuses:
            report("status", f"unknown status {status!r}: allowed are {allowed}")
        else:
            card.status = status
            card.is_open = settings.is_open(status)

    requires = values.pop("requires", [])
    if "requires" in meta.key_lines:
        lines = meta.item_lines.get("requires", [])
        if requires is None:
            requires = []
        if not isinstance(requires, list):
            report("requires", f"'requires' must be a list of card stems, not {type_name(requires)}")
        else:
            for index, item in enumerate(requires):
                line = lines[index] if index < len(lines) else meta.line_of("requires")
                if not isinstance(item, str) or not item.strip():
                    report("requires", f"'requires' entries must be card stems, not {type_name(item)}", line)
                    continue
                card.requires.append(Requirement(item, _stem_of(item), line))

    if "build" in meta.key_lines:
        build = values.pop("build")
        if not isinstance(build, str) or not build.strip():
            report("build", f"'build' must be the path of a generated Nix file, not {type_name(build)}")
        else:
            card.build = PurePosixPath(build.strip()).as_posix()

    card.extra = values


def _stem_of(written: str) -> str:
    name = written.strip().rstrip("/").rsplit("/", 1)[-1]
    return name[:-3] if name.endswith(".md") else name


def _resolve_requires(cards: dict[str, Card], pages: dict[str, list[Page]], problems: list[Problem]) -> None:
    """Check each requires entry names an existing card, in whichever form it was written."""
    for card in cards.values():
        kept = []
        for requirement in card.requires:
            target = cards.get(requirement.stem)
            written = requirement.written
            if target is None:
                if requirement.stem in pages:
                    where = pages[requirement.stem][0].rel
                    message = f"requires {written!r}, which is a page ({where}), not a card"
                    if len(pages[requirement.stem]) > 1:
                        message = f"requires {written!r}, whose stem is not unique"
                else:
                    message = (
                        f"requires {written!r}, which does not exist{did_you_mean(requirement.stem, cards)}"
                    )
                problems.append(error(card.rel, requirement.line, message, rule="missing-requirement"))
                card.missing.append(written)
                continue
            if "/" not in written:  # a stem or `foo.md`: nothing to normalise or compare
                kept.append(requirement)
                continue
            path = PurePosixPath(written.strip()).as_posix()  # ./foo.md is foo.md
            if "/" in path and not ("/" + target.rel).endswith(
                "/" + (path if path.endswith(".md") else path + ".md")
            ):
                message = f"requires {written!r}, but that card is {target.rel}"
                problems.append(error(card.rel, requirement.line, message, rule="missing-requirement"))
                card.missing.append(written)
                continue
            kept.append(requirement)
        card.requires = kept

