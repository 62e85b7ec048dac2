"""`cardbook mv OLD NEW`: rename a card or page and every `requires` entry and wiki-link that
names it, in one change of the files (all of it, or nothing)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cardbook.core.cards import Card, Page, is_section_index, load_runbook
from cardbook.core.disk import DiskError, apply_changes, inside, read_text, runbook_lock
from cardbook.core.links import find_wikilinks
from cardbook.core.problems import ConfigError, error
from cardbook.core.settings import Settings


@dataclass
class RenamePlan:
    old: str  # project-relative paths
    new: str
    writes: dict[str, str] = field(default_factory=dict)  # rel -> new text (NEW included)
    changes: list[str] = field(default_factory=list)  # what a person reads: "path:line: ..."


def _refuse(path: str, message: str) -> ConfigError:
    return ConfigError(error(path, 1, message, rule="usage"))


def _project_rel(settings: Settings, written: str, cwd: Path) -> str:
    absolute = os.path.normpath(os.path.join(cwd, written))
    root = str(settings.root)
    if not inside(absolute, root):
        raise _refuse(written, "is outside the runbook")
    return os.path.relpath(absolute, root).replace(os.sep, "/")


def plan_rename(settings: Settings, old_written: str, new_written: str, cwd: Path) -> RenamePlan:
    """Every file to write; raises ConfigError (nothing written) when the rename cannot be."""
    old, new = _project_rel(settings, old_written, cwd), _project_rel(settings, new_written, cwd)
    if not new.endswith(".md"):
        raise _refuse(new_written, "the new name must end in .md")
    runbook = load_runbook(settings)
    pages = {page.rel: page for group in runbook.pages.values() for page in group}
    if old not in pages:
        raise _refuse(old_written, "is not a page of this runbook (a .md file under docs_dir or a card root)")

    if os.path.lexists(settings.root / new):
        raise _refuse(new_written, "already exists: cardbook mv never overwrites a file")
    roots = [settings.docs_dir, *settings.card_roots]
    if not any(inside(new, root) for root in roots if root not in ("", ".")) and settings.docs_dir not in (
        "",
        ".",
    ):
        raise _refuse(new_written, f"must stay under {settings.docs_dir}/ or a card root")
    old_stem, new_stem = PurePosixPath(old).stem, PurePosixPath(new).stem
    if any(char in new_stem for char in "|#[]^"):  # they end or split a wiki-link: no link could name it
        raise _refuse(new_written, "the name holds | # [ ] or ^, which end a wiki-link: no link names it")
    clash = [page.rel for page in runbook.pages.get(new_stem, []) if page.rel != old]
    if clash:
        message = f"another page has the stem {new_stem!r} ({clash[0]}): stems must be unique"
        raise _refuse(new_written, message)
    required = {need.stem for other in runbook.cards.values() for need in other.requires}
    if old_stem in runbook.cards and old_stem in required:
        # A required card must stay a card: under a card root, and not a section's index page.
        card_prefixes = tuple(root.rstrip("/") + "/" for root in settings.card_roots)
        if not new.startswith(card_prefixes) or is_section_index(new):
            raise _refuse(new_written, "other cards require this card, and there it would not be a card")
    plan = RenamePlan(old, new)
    # Path links and requires name folders below docs_dir: never the docs_dir itself.
    prefix = settings.docs_prefix
    in_docs = new[len(prefix) :] if prefix and new.startswith(prefix) else new
    texts: dict[str, str] = {}

    def text_of(rel: str) -> str:
        if rel not in texts:
            found = read_text(settings.root / rel)
            if found is None or found == "\x00":
                raise _refuse(rel, "cannot be read as UTF-8 text")
            texts[rel] = found
        return texts[rel]

    for card in sorted(runbook.cards.values(), key=lambda card: card.rel):
        _rewrite_requires(card, old, in_docs, old_stem, text_of, texts, plan)
    for page in sorted(pages.values(), key=lambda page: page.rel):
        _rewrite_links(page, old, in_docs, old_stem, text_of, texts, plan)
    moved = texts.pop(old, None)
    plan.writes = dict(texts)
    plan.writes[new] = moved if moved is not None else text_of(old)
    texts.pop(old, None)
    return plan


def _renamed(written: str, old: str, new: str, new_stem: str) -> str:
    """A reference written as `stem`, `stem.md` or `folder/stem.md`, in the same form for NEW:
    a path keeps as many folders as it had (the shortest form that still names it)."""
    bare = written.strip()
    if "/" not in bare:
        return new_stem + (".md" if bare.endswith(".md") else "")
    parts = new.split("/")
    depth = min(bare.count("/"), len(parts) - 1)
    suffix = "/".join(parts[-(depth + 1) :])
    return suffix if bare.endswith(".md") else suffix[:-3]


def _rewrite_requires(card: Card, old: str, new: str, old_stem: str, text_of, texts, plan) -> None:  # type: ignore[no-untyped-def]
    targets = [req for req in card.requires if req.stem == old_stem]
    if not targets:
        return
    lines = text_of(card.rel).split("\n")
    new_stem = PurePosixPath(new).stem
    for requirement in targets:
        index = requirement.line - 1
        written = requirement.written.strip()
        replacement = _renamed(written, old, new, new_stem)
        pattern = re.compile(rf"(?<![\w./-]){re.escape(written)}(?![\w./-])")
        updated, count = pattern.subn(replacement, lines[index], count=1)
        if count:
            lines[index] = updated
            plan.changes.append(f"{card.rel}:{requirement.line}: requires {written} -> {replacement}")
    texts[card.rel] = "\n".join(lines)


def _rewrite_links(page: Page, old: str, new: str, old_stem: str, text_of, texts, plan) -> None:  # type: ignore[no-untyped-def]
    text = text_of(page.rel)
    links = [
        link for link in find_wikilinks(text) if link.target and PurePosixPath(link.target).stem == old_stem
    ]
    if not links:
        return
    new_stem = PurePosixPath(new).stem
    out, previous = [], 0
    for link in links:
        written = text[link.start : link.end]
        inner = written[2:-2]
        target = link.target
        replacement = _renamed(target, old, new, new_stem)
        out.append(text[previous : link.start])
        out.append("[[" + inner.replace(target, replacement, 1) + "]]")
        previous = link.end
        if replacement != target:  # a bare stem of the same name reads the same: not a change to print
            plan.changes.append(f"{page.rel}:{link.line}: [[{target}]] -> [[{replacement}]]")
    out.append(text[previous:])
    texts[page.rel] = "".join(out)


def rename(settings: Settings, old: str, new: str, cwd: Path) -> RenamePlan:
    """Plan, then write every file and remove OLD in one change."""
    with runbook_lock(settings) as journal:
        plan = plan_rename(settings, old, new, cwd)
        try:
            apply_changes(
                {settings.root / rel: text for rel, text in plan.writes.items()},
                removals=[settings.root / plan.old],
                journal=journal,
            )
        except DiskError as exc:
            rel = os.path.relpath(exc.path, settings.root)
            raise ConfigError(
                error(rel, 1, f"cannot write: {exc.reason}; nothing was changed", rule="cannot-write")
            ) from None
    return plan
