"""Adding a card: what `cardbook new` writes, and where the new card sits in the graph.

Everything is decided before the first write, and nothing that exists is ever overwritten:
a refusal is a ConfigError (exit status 2) and leaves the tree as it was. The command line
(cli/scaffold.py) only parses arguments and prints; `cardbook init` is in start_init.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from cardbook.core.cards import SECTION_STEMS, Runbook, load_runbook
from cardbook.core.disk import atomic_write, runbook_lock
from cardbook.core.graph import Graph
from cardbook.core.layout import layout_problems, missing_card_roots, missing_docs_dir, raise_first
from cardbook.core.problems import ConfigError, error
from cardbook.core.settings import Settings
from cardbook.core.suggest import did_you_mean

NEW_CARD_TAGS = ("how-to",)
# A stem names a card in `requires`, in wiki-links ([[stem]]) and in URLs: letters, digits,
# '-', '_' and '.', starting with a letter or digit, so none of those needs quoting.
_PLAIN_STEM = re.compile(r"[^\W_][\w.-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@dataclass(frozen=True)
class PlannedFile:
    rel: str  # posix path relative to the project root
    text: str


# YAML -----------------------------------------------------------------------------------


def yaml_scalar(text: str, *, in_flow: bool = False) -> str:
    """`text` as a YAML scalar that reads back as the same string: plain when that is safe
    (`Deploy the app`), double-quoted otherwise (`"yes"`, `"a: b"`, `"2026-01-01"`)."""
    document = f"[{text}]" if in_flow else f"key: {text}"
    expected: object = [text] if in_flow else {"key": text}
    try:
        if text == text.strip() and yaml.safe_load(document) == expected:
            return text
    except yaml.YAMLError:
        pass
    # A JSON string is a YAML double-quoted scalar with the same escapes.
    return json.dumps(text, ensure_ascii=False)


# cardbook new ---------------------------------------------------------------------------


def title_from_stem(stem: str) -> str:
    """`deploy-the-app` -> `Deploy the app`: a start the card's author rewrites as they like."""
    words = re.sub(r"[-_]+", " ", stem).strip() or stem
    return words[0].upper() + words[1:]


def first_open_status(settings: Settings) -> str:
    for name, is_open in settings.statuses.items():
        if is_open:
            return name
    raise ConfigError(
        error(
            settings.config_name,
            settings.line_of("statuses"),
            "every status is declared closed: a new card starts open, so declare one status open",
            rule="config",
        )
    )


def plain_stem(stem: str, card_root: str) -> str:
    """The stem of a new card, `stem.md` accepted; anything that is not a plain name is refused."""
    name = stem[:-3] if stem.endswith(".md") else stem

    def refuse(message: str) -> ConfigError:
        return ConfigError(error(card_root, 1, f"cannot name a card {stem!r}: {message}", rule="usage"))

    if not name:
        raise refuse("a card needs a name")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise refuse("a card's name is a plain file name, without folders; it is created in " + card_root)
    if not _PLAIN_STEM.fullmatch(name) or name.endswith(".md"):
        raise refuse("use letters, digits, '-', '_' and '.', starting with a letter or digit")
    if name in SECTION_STEMS or name == card_root.rstrip("/").rpartition("/")[2]:
        raise refuse(f"{name}.md is a section page (named like its folder), never a card")
    return name


def blocking_parent(root: Path, rel: str) -> str | None:
    """The first folder on the way to `rel` that is not a folder (a file is there), if any."""
    parts = PurePosixPath(rel).parts[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/".join(parts[:depth])
        if os.path.lexists(root / folder) and not (root / folder).is_dir():
            return folder
    return None


def _requirement_stem(written: str) -> str:
    name = written.strip().rstrip("/").rsplit("/", 1)[-1]
    return name[:-3] if name.endswith(".md") else name


def resolve_requires(runbook: Runbook, stem: str, requires: Sequence[str], where: str) -> list[str]:
    """The stems of the cards named by `--requires` (a stem, `stem.md` or a path to the card),
    in the order given, each once; a name that is no card is refused."""
    stems: list[str] = []
    for written in requires:
        target = _requirement_stem(written)
        problem = _requirement_problem(runbook, stem, written, target)
        if problem:
            raise ConfigError(error(where, 1, f"--requires {written!r}: {problem}", rule="usage"))
        if target not in stems:
            stems.append(target)
    return stems


def _requirement_problem(runbook: Runbook, stem: str, written: str, target: str) -> str | None:
    """Why `--requires written` names no card the new card can require, or None."""
    if target == stem:
        return "a card cannot require itself"
    # An ordinary page under a card root (`cards: marked`) becomes a card by being required.
    card = runbook.cards.get(target) or runbook.plain.get(target)
    if card is None:
        pages = runbook.pages.get(target, [])
        if len(pages) > 1:
            return f"the stem {target!r} is not unique: {', '.join(page.rel for page in pages)}"
        if pages:
            return f"{pages[0].rel} is a page outside the card roots, not a card"
        return f"no card is named {target!r}{did_you_mean(target, runbook.sources)}"
    # A path (docs/how-to/db.md, as a shell completes it) must be where that card is.
    path = PurePosixPath(written.strip()).as_posix()
    if "/" in path and not ("/" + card.rel).endswith("/" + (path if path.endswith(".md") else path + ".md")):
        return f"the card {target!r} is {card.rel}"
    return None


def new_card_text(title: str, status: str, requires: Sequence[str], today: dt.date, output_root: str) -> str:
    lines = ["---", f"title: {yaml_scalar(title)}", f"modified: {today.isoformat()}", f"status: {status}"]
    if requires:
        lines.append("requires: [" + ", ".join(yaml_scalar(stem, in_flow=True) for stem in requires) + "]")
    lines.append("tags: [" + ", ".join(NEW_CARD_TAGS) + "]")
    lines.append("---")
    body = [
        "",
        f"# {title}",
        "",
        "Say what this step achieves, how to do it and how to tell it is done; code blocks with a",
        f"`{{file={output_root}/...}}` target are written into `{output_root}/` by `cardbook tangle`.",
    ]
    return "\n".join(lines + body) + "\n"


def _refuse_a_mistyped_card_root(settings: Settings) -> None:
    """A missing card root (and docs_dir) is created for the first card of a new runbook, but not where
    files cardbook generated exist already: there the card root is more likely mistyped."""
    from cardbook.core.ondisk import generated_on_disk, read_manifest

    problems = layout_problems(settings)
    missing_only = len(problems) == len(missing_card_roots(settings)) + missing_docs_dir(settings)
    if problems and (not missing_only or generated_on_disk(settings, read_manifest(settings))):
        raise_first(problems)


def plan_new_card(
    settings: Settings,
    stem: str,
    *,
    title: str | None = None,
    requires: Sequence[str] = (),
    today: dt.date | None = None,
) -> PlannedFile:
    """The card `cardbook new` would write, or a ConfigError saying why it will not."""
    _refuse_a_mistyped_card_root(settings)
    card_root = settings.card_roots[0]
    stem = plain_stem(stem, card_root)
    rel = f"{card_root}/{stem}.md"
    if os.path.lexists(settings.root / rel):
        raise ConfigError(error(rel, 1, "already exists: cardbook new never overwrites a card", rule="usage"))
    in_the_way = blocking_parent(settings.root, rel)
    if in_the_way:
        raise ConfigError(error(in_the_way, 1, f"not a folder: the new card would be {rel}", rule="usage"))
    if title is not None:
        title = title.strip()
        if not title or _CONTROL.search(title):
            raise ConfigError(error(rel, 1, "--title must be one line of text", rule="usage"))
    status = first_open_status(settings)
    today = today or dt.date.today()
    runbook = load_runbook(settings, today=today)
    # Found by a re-check of the probe's fixes: `new Fix-Thing` next to fix-thing was written,
    # two files that are one on macOS' and Windows' default file systems.
    folded = stem.casefold()
    taken = runbook.pages.get(stem) or [
        page for other, pages in runbook.pages.items() if other.casefold() == folded for page in pages
    ]
    if taken:
        others = ", ".join(page.rel for page in taken)
        raise ConfigError(
            error(
                rel,
                1,
                f"the stem {stem!r} is taken by {others}: stems are unique across the docs tree, "
                "whatever their letter case",
                rule="usage",
            )
        )
    stems = resolve_requires(runbook, stem, requires, rel)
    text = new_card_text(title or title_from_stem(stem), status, stems, today, settings.output_roots[0])
    return PlannedFile(rel, text)


def create_card(
    settings: Settings,
    stem: str,
    *,
    title: str | None = None,
    requires: Sequence[str] = (),
    today: dt.date | None = None,
) -> PlannedFile:
    """Plan and write a new card, holding the runbook's lock so two runs cannot both create it."""
    with runbook_lock(settings) as journal:
        card = plan_new_card(settings, stem, title=title, requires=requires, today=today)
        atomic_write(settings.root / card.rel, card.text, journal)
    return card


def _with_statuses(stems: Sequence[str], graph: Graph) -> str:
    """`a, b (both done)` when they share a status, else `a (done), b (active)`."""
    labels = [graph.cards[stem].status_label for stem in stems]
    if len(set(labels)) == 1:
        quantity = {1: "", 2: "both "}.get(len(stems), "all ")
        return f"{', '.join(stems)} ({quantity}{labels[0]})"
    return ", ".join(f"{stem} ({label})" for stem, label in zip(stems, labels, strict=True))


def _names(stems: Sequence[str]) -> str:
    return stems[0] if len(stems) == 1 else ", ".join(stems[:-1]) + " and " + stems[-1]


def describe_position(graph: Graph, stem: str) -> list[str]:
    """Where a new card sits: its prerequisites and whether it is ready, who requires it."""
    needs, users = graph.requires[stem], graph.required_by[stem]
    if not needs and not users:
        return [
            "requires nothing and nothing requires it: a goal that is also a leaf; "
            "add it to another card's requires to make it a prerequisite"
        ]
    lines = []
    if needs:
        still_open = [need for need in needs if graph.cards[need].is_open]
        if still_open:
            verb = "is" if len(still_open) == 1 else "are"
            readiness = f"not ready: {_names(still_open)} {verb} still open"
        else:
            readiness = "ready to work on"
        lines.append(f"requires: {_with_statuses(needs, graph)} — {readiness}")
    else:
        lines.append("requires nothing — ready to work on")
    if users:
        closed = [user for user in users if not graph.cards[user].is_open]
        line = f"required by: {_with_statuses(users, graph)}"
        if closed:
            verb = "is" if len(closed) == 1 else "are"
            line += (
                f" — {_names(closed)} {verb} closed but now require{'s' if len(closed) == 1 else ''} "
                "an open card: `cardbook check` reports it until this card is closed"
            )
        lines.append(line)
    else:
        lines.append("nothing requires it: a goal")
    for cycle in graph.cycles:
        if stem in cycle:
            lines.append("it closes a dependency cycle: " + " -> ".join([*cycle, cycle[0]]))
    return lines


def position_of(settings: Settings, stem: str, *, today: dt.date | None = None) -> list[str]:
    """Read the runbook again (the new card included) and describe the card's place in it."""
    from cardbook.core.graph import build_graph

    runbook = load_runbook(settings, today=today)
    if stem not in runbook.cards:  # another run made its stem ambiguous meanwhile
        return []
    graph, _ = build_graph(runbook.cards)
    return describe_position(graph, stem)


# cardbook init --------------------------------------------------------------------------

