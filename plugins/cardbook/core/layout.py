"""Checks of the project's layout that come before reading any card.

Each finding is a configuration error (exit status 2) at the line of mkdocs.yml that causes
it, raised before anything is written: a card root with a typo must not read as "no cards",
which would make tangling remove every generated file.
"""

from __future__ import annotations

import os
from pathlib import Path

from .disk import inside, kind_of
from .problems import ConfigError, Problem, error
from .settings import Settings
from .suggest import close_names

# Cards' code blocks with attributes (```nix {file=...}) render as code only through this
# extension; without it they come out as paragraphs and `<<chunk>>` disappears as a tag.
FENCE_EXTENSION = "pymdownx.superfences"


def _at(settings: Settings, key: str, message: str) -> Problem:
    return error(settings.config_name, settings.line_of(key), message, rule="config")


def missing_card_roots(settings: Settings) -> list[str]:
    """Card roots with nothing at their path (no folder, no file, no link)."""
    return [card_root for card_root in settings.card_roots if not os.path.lexists(settings.root / card_root)]


def missing_docs_dir(settings: Settings) -> bool:
    """docs_dir has nothing at its path (a runbook before its first card, or a typo)."""
    return settings.config_file is not None and not os.path.lexists(settings.root / settings.docs_dir)


def layout_problems(settings: Settings) -> list[Problem]:
    """Card roots that are missing or symlinks, and output roots tangled with site_dir."""
    problems: list[Problem] = []
    root = settings.root
    aggregator = settings.aggregator
    written = "aggregator" in settings.lines  # the default is only used when a card has `build:`
    within = any(aggregator.startswith(out.rstrip("/") + "/") for out in settings.output_roots)
    if written and aggregator and not within:
        roots = ", ".join(f"{output_root}/" for output_root in settings.output_roots)
        message = f"aggregator {aggregator!r} is not a file inside the output roots ({roots})"
        problems.append(_at(settings, "aggregator", message))
    for card_root in settings.card_roots:
        path = root / card_root
        if os.path.islink(path):
            target = os.path.realpath(path)
            problems.append(
                _at(
                    settings,
                    "card_roots",
                    f"card root {card_root} is a symlink (to {target}): cardbook reads and writes cards "
                    "only through real folders; name the real folder in card_roots",
                )
            )
        elif not path.is_dir():
            what = "is not a folder" if path.exists() else "does not exist"
            message = f"card root {card_root} {what}{_nearby_folder(root, card_root)}"
            if settings.config_file is None:  # no mkdocs.yml to point at: name the folder itself
                problems.append(
                    error(
                        card_root,
                        1,
                        f"{message}; there is no mkdocs.yml here, so this is the default card root "
                        "(run `cardbook init` to start a runbook)", rule="config",
                    )
                )
            else:
                problems.append(_at(settings, "card_roots", message))
    docs = root / settings.docs_dir
    if settings.config_file is not None and not docs.is_dir():
        # Found by an outside probe: a docs_dir with a typo checked clean, with broken-link
        # warnings for every link into the docs. MkDocs stops on it too.
        what = "is not a folder" if docs.exists() else "does not exist"
        nearby = _nearby_folder(root, settings.docs_dir)
        problems.append(_at(settings, "docs_dir", f"docs_dir {settings.docs_dir} {what}{nearby}"))
    # Compared as the folders they really are: written absolute, with `..` or through a symlink.
    site = os.path.realpath(root / settings.site_dir)
    for output_root in settings.output_roots:
        output = os.path.realpath(root / output_root)
        if inside(output, site):
            problems.append(
                _at(
                    settings,
                    "site_dir" if "site_dir" in settings.lines else "output_roots",
                    f"output root {output_root} is inside site_dir {settings.site_dir}: every site build "
                    "empties site_dir and would delete the generated files",
                )
            )
        elif inside(site, output):
            problems.append(
                _at(
                    settings,
                    "site_dir",
                    f"site_dir {settings.site_dir} is inside output root {output_root}: the site's files "
                    "would mix with the generated files; put the site elsewhere",
                )
            )
    problems.extend(_site_over_docs(settings, site))
    problems.extend(_overlapping_roots(settings))
    return problems


def _site_over_docs(settings: Settings, site: str) -> list[Problem]:
    """site_dir on, in or around docs_dir or a card root: a build empties site_dir first (MkDocs
    refuses this itself; Zensical does not, and deletes the pages)."""
    if settings.config_file is None:  # no mkdocs.yml: no site
        return []
    for kind, folder in (("docs_dir", settings.docs_dir), *(("card root", f) for f in settings.card_roots)):
        real = os.path.realpath(settings.root / folder)
        if real == site:
            where = "is"
        elif inside(real, site):
            where = "holds"
        elif inside(site, real):
            where = "is inside"
        else:
            continue
        message = (
            f"site_dir {settings.site_dir} {where} {kind} {folder}: every site build empties "
            "site_dir and would delete the pages (Zensical does it without a word); put the site "
            "elsewhere"
        )
        return [_at(settings, "site_dir", message)]
    return []


def _overlapping_roots(settings: Settings) -> list[Problem]:
    """Output roots inside each other or around a card root, and output roots that are not
    folders. A file under two output roots would be planned twice; a card under an output
    root could be taken for a stale generated file."""
    problems: list[Problem] = []
    root = settings.root
    real = {name: os.path.realpath(root / name) for name in settings.output_roots}
    names = list(real)
    for index, outer in enumerate(names):
        for inner in names[index + 1 :]:
            if inside(real[inner], real[outer]) or inside(real[outer], real[inner]):
                problems.append(
                    _at(
                        settings,
                        "output_roots",
                        f"output roots {outer} and {inner} overlap: a file below both would be written "
                        "and removed twice; list only the outer one",
                    )
                )
        for card_root in settings.card_roots:
            cards = os.path.realpath(root / card_root)
            if inside(cards, real[outer]) or inside(real[outer], cards):
                problems.append(
                    _at(
                        settings,
                        "output_roots",
                        f"output root {outer} and card root {card_root} overlap: cards and generated "
                        "files must live in separate folders",
                    )
                )
        if os.path.lexists(root / outer) and not os.path.isdir(root / outer):
            problems.append(
                _at(
                    settings,
                    "output_roots",
                    f"output root {outer} is {kind_of(root / outer)}, not a folder: move it away, or name "
                    "another folder in output_roots",
                )
            )
    return problems




def fence_extension_problems(settings: Settings, needs_fences: bool) -> list[Problem]:
    """Cards with tangling or checked code blocks need pymdownx.superfences to render them."""
    extensions = settings.markdown_extensions
    if extensions is None or not needs_fences or FENCE_EXTENSION in extensions:
        return []
    return [
        _at(
            settings,
            "markdown_extensions",
            f"the cards have code blocks with attributes ({{file=...}}, {{#id}}, {{.check}}), which render "
            f"only with the {FENCE_EXTENSION} extension: add it to markdown_extensions "
            "(without it the site shows them as text and drops <<chunk>> references)",
        )
    ]


def no_cards_problems(settings: Settings) -> list[Problem]:
    """No card at all, yet files cardbook generated are on disk: the card roots are wrong, not
    the files (tangling now would remove every one of them)."""
    from .ondisk import generated_on_disk, read_manifest  # only on this rare path

    generated = generated_on_disk(settings, read_manifest(settings))
    if not generated:
        return []
    roots = ", ".join(settings.card_roots)
    shown = ", ".join(generated[:3]) + (", ..." if len(generated) > 3 else "")
    return [
        _at(
            settings,
            "card_roots",
            f"no cards under card_roots ({roots}), yet {len(generated)} files cardbook generated are on "
            f"disk ({shown}): check card_roots; nothing was written or removed",
        )
    ]


def raise_first(problems: list[Problem]) -> None:
    """Configuration errors stop the run before anything is read or written."""
    if problems:
        raise ConfigError(problems[0], more=problems[1:])


def refuse_from_a_subfolder(cwd: Path) -> None:
    """Without -f, every command reads ./mkdocs.yml. Run from a folder inside a runbook, it
    would see no runbook at all (and `cardbook new` would start a second one there): refuse,
    naming the real config file."""
    if (cwd / "mkdocs.yml").is_file():
        return
    for folder in cwd.resolve().parents:
        config = folder / "mkdocs.yml"
        if config.is_file():
            shown = os.path.relpath(config, cwd.resolve())
            raise ConfigError(
                error(
                    shown,
                    1,
                    f"this runbook's config is {shown}, not in this folder: run cardbook in "
                    f"{os.path.dirname(shown)}, or pass -f {shown}", rule="config",
                )
            )


def _nearby_folder(root: Path, card_root: str) -> str:
    """A did-you-mean among the sibling folders of a missing card root."""
    parent = (root / card_root).parent
    try:
        siblings = [entry.name for entry in os.scandir(parent) if entry.is_dir()]
    except OSError:
        return ""
    close = close_names(Path(card_root).name, siblings, n=1)
    if not close:
        return ""
    suggestion = (Path(card_root).parent / close[0]).as_posix()
    return f" (did you mean {suggestion}?)"
