"""What `cardbook init` writes into an empty folder: a minimal mkdocs.yml, an index page and
a first card whose generated file is already tangled, so `cardbook check` is clean at once.

Everything is decided before the first write, and nothing that exists is ever overwritten:
a refusal is a ConfigError (exit status 2) and leaves the tree as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cardbook.core.cards import SECTION_STEMS, load_runbook
from cardbook.core.disk import apply_changes, runbook_lock
from cardbook.core.problems import ConfigError, Problem, error
from cardbook.core.settings import DEFAULT_STATUSES, Settings, load_settings

from .start_new import PlannedFile, blocking_parent, yaml_scalar

INIT_CONFIG = "mkdocs.yml"


INIT_INDEX = "docs/index.md"


INIT_CARD_ROOT = "docs/how-to"


INIT_OUTPUT_ROOT = "nix"


INIT_CARD_STEM = "hello"


@dataclass(frozen=True)
class InitPlan:
    sources: list[PlannedFile]  # mkdocs.yml, the index page, the first card
    generated: list[PlannedFile]  # what the first card tangles into

    @property
    def files(self) -> list[PlannedFile]:
        return [*self.sources, *self.generated]


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
  - cardbook  # cardbook's page renderer for Zensical; MkDocs and ProperDocs use the plugin

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
        counted = [problem for problem in result.problems if problem.severity != "info"]
        if counted:  # the scaffold itself is wrong: a bug, not the user's doing (info never is)
            raise RuntimeError("cardbook init's own files do not check: " + counted[0].format())
        return [PlannedFile(path, output.text) for path, output in sorted(result.tangled.files.items())]


def plan_init(directory: Path, *, today: dt.date | None = None, shown_as: str = "") -> InitPlan:
    """The files `cardbook init` writes into `directory`, or a ConfigError listing every file in
    the way. `shown_as` prefixes the paths in messages (the directory as the user typed it)."""
    today = today or dt.date.today()
    if directory.exists() and not directory.is_dir():
        raise ConfigError(error(shown_as.rstrip("/") or str(directory), 1, "not a folder", rule="usage"))
    site_name = directory.resolve().name or "runbook"
    sources = init_sources(site_name, today)
    plan = InitPlan(sources, _tangle_in_scratch(sources, today))
    problems: list[Problem] = []
    for planned in plan.files:
        in_the_way = blocking_parent(directory, planned.rel)
        if in_the_way:
            message = f"not a folder: cardbook init writes {shown_as}{planned.rel} (nothing written)"
            problems.append(error(shown_as + in_the_way, 1, message, rule="usage"))
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
        problems.append(error(shown_as + planned.rel, 1, message, rule="usage"))
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
                        "across the docs tree (nothing written)", rule="usage",
                    )
                )
    return problems


def init_runbook(directory: Path, *, today: dt.date | None = None, shown_as: str = "") -> InitPlan:
    """Write a new runbook into `directory` (created if missing); refuse if anything is in the way."""
    with runbook_lock(Settings(root=directory.resolve())) as journal:
        plan = plan_init(directory, today=today, shown_as=shown_as)
        apply_changes({directory / planned.rel: planned.text for planned in plan.files}, journal=journal)
    return plan
