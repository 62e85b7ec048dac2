"""Starting a runbook and adding a card: what `cardbook init` and `cardbook new` write.

Everything is decided before the first write, and nothing that exists is ever overwritten:
a refusal is a ConfigError (exit status 2) and leaves the tree as it was. The command line
(scaffold_cli.py) only parses arguments and prints.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from cardbook.core.cards import SECTION_STEMS, Runbook, load_runbook
from cardbook.core.disk import atomic_write, atomic_write_many, runbook_lock
from cardbook.core.graph import Graph
from cardbook.core.problems import ConfigError, Problem, error
from cardbook.core.settings import DEFAULT_STATUSES, Settings, load_settings
from cardbook.core.suggest import did_you_mean

NEW_CARD_TAGS = ("how-to",)
# A stem names a card in `requires`, in wiki-links ([[stem]]) and in URLs: letters, digits,
# '-', '_' and '.', starting with a letter or digit, so none of those needs quoting.
_PLAIN_STEM = re.compile(r"[^\W_][\w.-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")

INIT_CONFIG = "mkdocs.yml"
INIT_INDEX = "docs/index.md"
INIT_CARD_ROOT = "docs/how-to"
INIT_OUTPUT_ROOT = "nix"
INIT_CARD_STEM = "hello"


@dataclass(frozen=True)
class PlannedFile:
    rel: str  # posix path relative to the project root
    text: str


@dataclass(frozen=True)
class InitPlan:
    sources: list[PlannedFile]  # mkdocs.yml, the index page, the first card
    generated: list[PlannedFile]  # what the first card tangles into

    @property
    def files(self) -> list[PlannedFile]:
        return [*self.sources, *self.generated]


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
        )
    )


def plain_stem(stem: str, card_root: str) -> str:
    """The stem of a new card, `stem.md` accepted; anything that is not a plain name is refused."""
    name = stem[:-3] if stem.endswith(".md") else stem

    def refuse(message: str) -> ConfigError:
        return ConfigError(error(card_root, 1, f"cannot name a card {stem!r}: {message}"))

    if not name:
        raise refuse("a card needs a name")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise refuse("a card's name is a plain file name, without folders; it is created in " + card_root)
    if not _PLAIN_STEM.fullmatch(name) or name.endswith(".md"):
        raise refuse("use letters, digits, '-', '_' and '.', starting with a letter or digit")
    if name in SECTION_STEMS:
        raise refuse(f"{name}.md is a section page, never a card")
    return name


def blocking_parent(root: Path, rel: str) -> str | None:
    """The first folder on the way to `rel` that is not a folder (a file is there), if any."""
    parts = PurePosixPath(rel).parts[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/".join(parts[:depth])
        if os.path.lexists(root / folder) and not (root / folder).is_dir():
            return folder
    return None


def refuse_from_a_subfolder(cwd: Path) -> None:
    """Without -f, `cardbook new` reads ./mkdocs.yml. Run from a folder inside a runbook that has
    none, it would start a second runbook there (docs/docs/how-to/...): refuse, naming the real one."""
    if (cwd / INIT_CONFIG).is_file():
        return
    for folder in cwd.resolve().parents:
        config = folder / INIT_CONFIG
        if config.is_file():
            shown = os.path.relpath(config, cwd.resolve())
            raise ConfigError(
                error(
                    shown,
                    1,
                    f"this runbook's config is {shown}, not in this folder: run cardbook new in "
                    f"{os.path.dirname(shown)}, or pass -f {shown}",
                )
            )


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
            raise ConfigError(error(where, 1, f"--requires {written!r}: {problem}"))
        if target not in stems:
            stems.append(target)
    return stems


def _requirement_problem(runbook: Runbook, stem: str, written: str, target: str) -> str | None:
    """Why `--requires written` names no card the new card can require, or None."""
    if target == stem:
        return "a card cannot require itself"
    card = runbook.cards.get(target)
    if card is None:
        pages = runbook.pages.get(target, [])
        if len(pages) > 1:
            return f"the stem {target!r} is not unique: {', '.join(page.rel for page in pages)}"
        if pages:
            return f"{pages[0].rel} is a page outside the card roots, not a card"
        return f"no card is named {target!r}{did_you_mean(target, runbook.cards)}"
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


def plan_new_card(
    settings: Settings,
    stem: str,
    *,
    title: str | None = None,
    requires: Sequence[str] = (),
    today: dt.date | None = None,
) -> PlannedFile:
    """The card `cardbook new` would write, or a ConfigError saying why it will not."""
    card_root = settings.card_roots[0]
    stem = plain_stem(stem, card_root)
    rel = f"{card_root}/{stem}.md"
    if os.path.lexists(settings.root / rel):
        raise ConfigError(error(rel, 1, "already exists: cardbook new never overwrites a card"))
    in_the_way = blocking_parent(settings.root, rel)
    if in_the_way:
        raise ConfigError(error(in_the_way, 1, f"not a folder: the new card would be {rel}"))
    if title is not None:
        title = title.strip()
        if not title or _CONTROL.search(title):
            raise ConfigError(error(rel, 1, "--title must be one line of text"))
    status = first_open_status(settings)
    today = today or dt.date.today()
    runbook = load_runbook(settings, today=today)
    taken = runbook.pages.get(stem)
    if taken:
        others = ", ".join(page.rel for page in taken)
        raise ConfigError(
            error(rel, 1, f"the stem {stem!r} is taken by {others}: stems are unique across the docs tree")
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
    with runbook_lock(settings):
        card = plan_new_card(settings, stem, title=title, requires=requires, today=today)
        atomic_write(settings.root / card.rel, card.text)
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


def init_config(site_name: str) -> str:
    closed = next(name for name, is_open in DEFAULT_STATUSES.items() if not is_open)
    opened = next(name for name, is_open in DEFAULT_STATUSES.items() if is_open)
    return f"""\
site_name: {yaml_scalar(site_name)}
theme:
  name: material

# cardbook's code blocks need these: attributes on fences ({{file=...}}, {{#id}}),
# highlighting, fences nested in lists and admonitions, links to headings.
markdown_extensions:
  - admonition
  - attr_list
  - toc: {{permalink: true}}
  - pymdownx.highlight
  - pymdownx.superfences

plugins:
  - search
  - cardbook:
      card_roots: [{INIT_CARD_ROOT}]
      output_roots: [{INIT_OUTPUT_ROOT}]
      statuses:
        {opened}: open
        {closed}: closed
"""


def init_index(site_name: str) -> str:
    return f"""\
# {site_name}

This runbook is a set of how-to cards in `{INIT_CARD_ROOT}/`: each card is one step, and the
cards it `requires` come first. The code blocks of the cards are written into
`{INIT_OUTPUT_ROOT}/` by `cardbook tangle` and by every site build.

The [runbook overview](runbook.md) shows how the cards depend on each other: the goals, and
the cards that are ready to work on.
"""


def init_card(today: dt.date) -> str:
    closed = next(name for name, is_open in DEFAULT_STATUSES.items() if not is_open)
    return f"""\
---
title: Say hello
modified: {today.isoformat()}
status: {closed}
tags: [how-to]
---

# Say hello

A card is one step of the runbook: its frontmatter gives a title, the date it last changed,
a status and the cards it `requires`; its body says how to do the step. A code block with a
`file=` target is tangled: `cardbook tangle` writes this one into `{INIT_OUTPUT_ROOT}/hello.nix`.

```nix {{file={INIT_OUTPUT_ROOT}/hello.nix}}
# A derivation that needs nothing but /bin/sh: no nixpkgs, no download.
derivation {{
  name = "hello";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo hello > $out" ];
}}
```

With Nix installed, `cardbook check --nix` parses the file; with `build: {INIT_OUTPUT_ROOT}/hello.nix`
in the frontmatter, it builds it too. Add the next card with `cardbook new STEM`.
"""


def init_sources(site_name: str, today: dt.date) -> list[PlannedFile]:
    return [
        PlannedFile(INIT_CONFIG, init_config(site_name)),
        PlannedFile(INIT_INDEX, init_index(site_name)),
        PlannedFile(f"{INIT_CARD_ROOT}/{INIT_CARD_STEM}.md", init_card(today)),
    ]


def _tangle_in_scratch(sources: Sequence[PlannedFile], today: dt.date) -> list[PlannedFile]:
    """The generated files of the new runbook, tangled in a scratch folder by the same code as
    `cardbook tangle`, so that `cardbook check` is clean right after `cardbook init`."""
    from .pipeline import load_and_check

    with tempfile.TemporaryDirectory(prefix="cardbook-init-") as scratch:
        root = Path(scratch)
        for source in sources:
            (root / source.rel).parent.mkdir(parents=True, exist_ok=True)
            (root / source.rel).write_text(source.text, encoding="utf-8")
        result = load_and_check(load_settings(root / INIT_CONFIG), today=today)
        if result.problems:  # the scaffold itself is wrong: a bug, not the user's doing
            raise RuntimeError("cardbook init's own files do not check: " + result.problems[0].format())
        return [PlannedFile(path, output.text) for path, output in sorted(result.tangled.files.items())]


def plan_init(directory: Path, *, today: dt.date | None = None, shown_as: str = "") -> InitPlan:
    """The files `cardbook init` writes into `directory`, or a ConfigError listing every file in
    the way. `shown_as` prefixes the paths in messages (the directory as the user typed it)."""
    today = today or dt.date.today()
    if directory.exists() and not directory.is_dir():
        raise ConfigError(error(shown_as.rstrip("/") or str(directory), 1, "not a folder"))
    site_name = directory.resolve().name or "runbook"
    sources = init_sources(site_name, today)
    plan = InitPlan(sources, _tangle_in_scratch(sources, today))
    problems: list[Problem] = []
    for planned in plan.files:
        in_the_way = blocking_parent(directory, planned.rel)
        if in_the_way:
            message = f"not a folder: cardbook init writes {shown_as}{planned.rel} (nothing written)"
            problems.append(error(shown_as + in_the_way, 1, message))
            continue
        if not os.path.lexists(directory / planned.rel):
            continue
        if planned.rel == INIT_CONFIG:
            message = (
                "already exists: this folder has a MkDocs site already; add the cardbook plugin to "
                "its mkdocs.yml instead (nothing written)"
            )
        else:
            message = "already exists: cardbook init never overwrites a file (nothing written)"
        problems.append(error(shown_as + planned.rel, 1, message))
    problems.extend(_stems_taken(directory, plan.sources, shown_as))
    if problems:
        raise ConfigError(problems[0], more=problems[1:])
    return plan


def _stems_taken(directory: Path, files: Sequence[PlannedFile], shown_as: str) -> list[Problem]:
    """A page elsewhere in an existing docs folder with the stem of the first card."""
    if not (directory / "docs").is_dir():
        return []
    runbook = load_runbook(Settings(root=directory.resolve()))
    problems = []
    for planned in files:
        stem = PurePosixPath(planned.rel).stem
        if not planned.rel.startswith(INIT_CARD_ROOT + "/") or stem in SECTION_STEMS:
            continue
        for page in runbook.pages.get(stem, []):
            if page.rel != planned.rel:
                problems.append(
                    error(
                        shown_as + page.rel,
                        1,
                        f"the first card would be {shown_as}{planned.rel}, and stems are unique "
                        "across the docs tree (nothing written)",
                    )
                )
    return problems


def init_runbook(directory: Path, *, today: dt.date | None = None, shown_as: str = "") -> InitPlan:
    """Write a new runbook into `directory` (created if missing); refuse if anything is in the way."""
    with runbook_lock(Settings(root=directory.resolve())):
        plan = plan_init(directory, today=today, shown_as=shown_as)
        atomic_write_many({directory / planned.rel: planned.text for planned in plan.files})
    return plan
