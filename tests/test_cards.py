"""Card discovery and the frontmatter schema: each rule with a tree that triggers it."""

from __future__ import annotations

import datetime as dt
import errno
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardbook.core import cards
from cardbook.core.cards import Requirement, load_runbook
from cardbook.core.settings import Settings, load_settings
from cardbook.pipeline import load_and_check
from helpers import card, check_problems
from helpers import write_cards_tree as write_tree

A = "docs/how-to/a.md"


def problems_of(root: Path, today: dt.date, files: dict[str, str | bytes]) -> list[str]:
    write_tree(root, files)
    return check_problems(root, today=today)


# title -----------------------------------------------------------------------------------


def test_a_valid_card_has_no_problems(tmp_path: Path, today: dt.date) -> None:
    assert problems_of(tmp_path, today, {A: card(title="A")}) == []


def test_missing_title(tmp_path: Path, today: dt.date) -> None:
    assert problems_of(tmp_path, today, {A: card(title=None)}) == [
        f"{A}:1: error: missing required key 'title' [required-key]"
    ]


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("{text: Deploy}", "a mapping"),
        ("[Deploy]", "a list"),
        ("42", "a number"),
        ("yes", "a boolean"),
        ("2026-01-01", "a date"),
        ('"  "', "an empty string"),
        ("", "empty"),
    ],
)
def test_title_must_be_a_non_empty_string(tmp_path: Path, today: dt.date, title: str, kind: str) -> None:
    assert problems_of(tmp_path, today, {A: card(title=title)}) == [
        f"{A}:2: error: 'title' must be a non-empty string, not {kind} [bad-value]"
    ]


def test_a_block_mapping_title_is_reported_at_the_key(tmp_path: Path, today: dt.date) -> None:
    text = "---\nmodified: 2026-01-01\ntitle:\n  en: Deploy\n  de: Ausrollen\n---\n"
    assert problems_of(tmp_path, today, {A: text}) == [
        f"{A}:3: error: 'title' must be a non-empty string, not a mapping [bad-value]"
    ]


def test_title_is_stripped(tmp_path: Path, today: dt.date) -> None:
    write_tree(tmp_path, {A: card(title="'  Deploy  '")})
    runbook = load_runbook(Settings(root=tmp_path, cards="all"), today=today)
    assert runbook.cards["a"].title == "Deploy"


# modified --------------------------------------------------------------------------------


def test_missing_modified(tmp_path: Path, today: dt.date) -> None:
    assert problems_of(tmp_path, today, {A: card(modified=None)}) == [
        f"{A}:1: error: missing required key 'modified' (a date like 2026-01-31) [required-key]"
    ]


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("last week", "'last week'"),
        ("2026-02-30", "'2026-02-30'"),  # looks like a date, is none: YAML cannot build it
        ("2026-13-01", "'2026-13-01'"),
        ("2026-6-1", "'2026-6-1'"),
        ("20260131", "20260131"),
        ("", "None"),
        ("[2026-01-01]", "[datetime.date(2026, 1, 1)]"),
    ],
)
def test_unparsable_modified(tmp_path: Path, today: dt.date, written: str, shown: str) -> None:
    assert problems_of(tmp_path, today, {A: card(modified=written)}) == [
        f"{A}:3: error: 'modified' must be a date like 2026-01-31, not {shown} [bad-value]"
    ]


def test_future_modified(tmp_path: Path, today: dt.date) -> None:
    """Two days of slack: a card written where it is already the day after tomorrow (UTC+14)
    and checked where it is still yesterday (UTC-12) is not from the future (issue 14)."""
    for days in (1, 2):
        written = (today + dt.timedelta(days=days)).isoformat()
        assert problems_of(tmp_path, today, {A: card(modified=written)}) == []
    later = (today + dt.timedelta(days=3)).isoformat()
    assert problems_of(tmp_path, today, {A: card(modified=later)}) == [
        f"{A}:3: error: 'modified' is in the future: {later} [bad-value]"
    ]


@pytest.mark.parametrize("written", ["2026-06-01", "'2026-06-01'", "2026-06-01 23:59:00"])
def test_accepted_dates(tmp_path: Path, today: dt.date, written: str) -> None:
    assert today == dt.date(2026, 6, 1)
    write_tree(tmp_path, {A: card(modified=written)})
    runbook = load_runbook(Settings(root=tmp_path, cards="all"), today=today)
    assert runbook.problems == []
    assert runbook.cards["a"].modified == today


# tags ------------------------------------------------------------------------------------


def test_tags_not_a_list(tmp_path: Path, today: dt.date) -> None:
    assert problems_of(tmp_path, today, {A: card(tags="nix")}) == [
        f"{A}:4: error: 'tags' must be a list of strings, not a string [bad-value]"
    ]


def test_tags_entries_must_be_strings(tmp_path: Path, today: dt.date) -> None:
    text = card(extra="tags:\n  - nix\n  - 3\n")
    assert problems_of(tmp_path, today, {A: text}) == [
        f"{A}:6: error: 'tags' entries must be strings, not a number [bad-value]"
    ]


def test_tags_are_kept(tmp_path: Path, today: dt.date) -> None:
    write_tree(tmp_path, {A: card(tags=["nix", "postgres"])})
    assert load_runbook(Settings(root=tmp_path, cards="all"), today=today).cards["a"].tags == [
        "nix",
        "postgres",
    ]


# requires --------------------------------------------------------------------------------


def test_requires_a_string_instead_of_a_list(tmp_path: Path, today: dt.date) -> None:
    files = {A: card(requires="b"), "docs/how-to/b.md": card()}
    assert problems_of(tmp_path, today, files) == [
        f"{A}:4: error: 'requires' must be a list of card stems, not a string [bad-value]"
    ]


def test_requires_entries_must_be_stems(tmp_path: Path, today: dt.date) -> None:
    text = card(extra="requires:\n  - b\n  - 7\n  - ''\n")
    files = {A: text, "docs/how-to/b.md": card()}
    assert problems_of(tmp_path, today, files) == [
        f"{A}:6: error: 'requires' entries must be card stems, not a number [bad-value]",
        f"{A}:7: error: 'requires' entries must be card stems, not an empty string [bad-value]",
    ]


def test_an_empty_requires_is_no_requires(tmp_path: Path, today: dt.date) -> None:
    assert problems_of(tmp_path, today, {A: card(requires="")}) == []


def test_every_form_of_a_requires_resolves_to_the_card(tmp_path: Path, today: dt.date) -> None:
    written = [
        "stem",
        "plain.md",
        "sub/nested.md",
        "sub/without-suffix",
        "./dotted.md",
        "how-to/from-docs.md",
        "docs/how-to/from-root.md",
    ]
    files = {A: card(requires=written)}
    for target in ["stem", "plain", "sub/nested", "sub/without-suffix", "dotted", "from-docs", "from-root"]:
        files[f"docs/how-to/{target}.md"] = card(title=target)
    write_tree(tmp_path, files)
    result = load_and_check(Settings(root=tmp_path), today=today)
    assert [p.format() for p in result.problems] == []
    stems = ["stem", "plain", "nested", "without-suffix", "dotted", "from-docs", "from-root"]
    assert result.graph.requires["a"] == stems
    assert result.runbook.cards["a"].requires == [
        Requirement(text, stem, 4) for text, stem in zip(written, stems, strict=True)
    ]


def test_requires_lines_are_the_lines_of_the_items(tmp_path: Path, today: dt.date) -> None:
    files = {A: card(extra="requires:\n  - b\n  - ghost\n"), "docs/how-to/b.md": card()}
    assert problems_of(tmp_path, today, files) == [
        f"{A}:6: error: requires 'ghost', which does not exist [missing-requirement]"
    ]


def test_a_path_form_in_the_wrong_directory(tmp_path: Path, today: dt.date) -> None:
    files = {A: card(requires=["other/d.md"]), "docs/how-to/sub/d.md": card()}
    assert problems_of(tmp_path, today, files) == [
        f"{A}:4: error: requires 'other/d.md', but that card is docs/how-to/sub/d.md [missing-requirement]"
    ]


def test_a_path_form_must_match_whole_directory_names(tmp_path: Path, today: dt.date) -> None:
    files = {A: card(requires=["b/d.md"]), "docs/how-to/sub/d.md": card()}
    assert problems_of(tmp_path, today, files) == [
        f"{A}:4: error: requires 'b/d.md', but that card is docs/how-to/sub/d.md [missing-requirement]"
    ]


def test_unknown_requires_with_did_you_mean(tmp_path: Path, today: dt.date) -> None:
    files = {
        A: card(requires=["postgres-bakup"]),
        "docs/how-to/postgres-backup.md": card(),
        "docs/how-to/unrelated.md": card(),
    }
    assert problems_of(tmp_path, today, files) == [
        f"{A}:4: error: requires 'postgres-bakup', which does not exist (did you mean 'postgres-backup'?) "
        "[missing-requirement]"
    ]


def test_did_you_mean_lists_the_closest_stems(tmp_path: Path, today: dt.date) -> None:
    files = {
        A: card(requires=["deploy.md"]),
        "docs/how-to/deploy-a.md": card(),
        "docs/how-to/deploys.md": card(),
    }
    assert problems_of(tmp_path, today, files) == [
        f"{A}:4: error: requires 'deploy.md', which does not exist (did you mean 'deploys' or 'deploy-a'?) "
        "[missing-requirement]"
    ]


def test_unknown_requires_without_a_near_stem(tmp_path: Path, today: dt.date) -> None:
    files = {A: card(requires=["zzz"]), "docs/how-to/postgres-backup.md": card()}
    assert problems_of(tmp_path, today, files) == [
        f"{A}:4: error: requires 'zzz', which does not exist [missing-requirement]"
    ]


def test_requires_a_page_that_is_not_a_card(tmp_path: Path, today: dt.date) -> None:
    files = {A: card(requires=["schema"]), "docs/reference/schema.md": "# The schema\n"}
    assert problems_of(tmp_path, today, files) == [
        f"{A}:4: error: requires 'schema', which is a page (docs/reference/schema.md), not a card "
        "[missing-requirement]"
    ]


# stems -----------------------------------------------------------------------------------


def test_duplicate_stems_name_both_files(tmp_path: Path, today: dt.date) -> None:
    files = {
        "docs/how-to/x/setup.md": card(),
        "docs/how-to/y/setup.md": card(),
        A: card(requires=["setup"]),
    }
    assert problems_of(tmp_path, today, files) == [
        f"{A}:4: error: requires 'setup', whose stem is not unique [missing-requirement]",
        "docs/how-to/x/setup.md:1: error: duplicate stem 'setup': also docs/how-to/y/setup.md "
        "(stems must be unique) [duplicate-stem]",
        "docs/how-to/y/setup.md:1: error: duplicate stem 'setup': also docs/how-to/x/setup.md "
        "(stems must be unique) [duplicate-stem]",
    ]


def test_stems_are_unique_across_the_docs_tree(tmp_path: Path, today: dt.date) -> None:
    files = {A: card(), "docs/reference/a.md": "# Not a card\n"}
    assert problems_of(tmp_path, today, files) == [
        f"{A}:1: error: duplicate stem 'a': also docs/reference/a.md (stems must be unique) [duplicate-stem]",
        f"docs/reference/a.md:1: error: duplicate stem 'a': also {A} (stems must be unique) [duplicate-stem]",
    ]


def test_section_pages_are_not_cards_and_may_repeat(tmp_path: Path, today: dt.date) -> None:
    files = {
        "docs/index.md": "# Home\n",
        "docs/how-to/index.md": "# How-to\n",
        "docs/how-to/sub/index.md": "# Sub\n",
        "docs/how-to/README.md": "no frontmatter\n",
        A: card(),
    }
    write_tree(tmp_path, files)
    runbook = load_runbook(Settings(root=tmp_path, cards="all"), today=today)
    assert runbook.problems == []
    assert list(runbook.cards) == ["a"]


def test_pages_outside_the_card_roots_are_not_cards(tmp_path: Path, today: dt.date) -> None:
    write_tree(tmp_path, {"docs/reference/b.md": card(title=None), A: card()})
    runbook = load_runbook(Settings(root=tmp_path, cards="all"), today=today)
    assert runbook.problems == []
    assert list(runbook.cards) == ["a"]
    assert [page.rel for page in runbook.pages["b"]] == ["docs/reference/b.md"]


def test_card_roots_come_from_mkdocs_yml(tmp_path: Path, today: dt.date) -> None:
    files = {
        "mkdocs.yml": "site_name: t\nplugins:\n  - cardbook:\n      card_roots: [docs/runbook]\n"
        "      cards: all\n",
        "docs/runbook/r.md": card(),
        "docs/how-to/h.md": card(title=None),
    }
    assert problems_of(tmp_path, today, files) == []
    assert list(load_runbook(load_settings(cwd=tmp_path), today=today).cards) == ["r"]


# status ----------------------------------------------------------------------------------


def test_empty_status(tmp_path: Path, today: dt.date) -> None:
    assert problems_of(tmp_path, today, {A: card(status="")}) == [
        f"{A}:4: error: empty 'status': write one of active, done, or remove the key to mark the card done "
        "[empty-status]"
    ]


def test_unknown_status_lists_the_allowed_ones(tmp_path: Path, today: dt.date) -> None:
    assert problems_of(tmp_path, today, {A: card(status="wip")}) == [
        f"{A}:4: error: unknown status 'wip': allowed are active, done [bad-value]"
    ]


def test_a_status_that_is_not_a_string(tmp_path: Path, today: dt.date) -> None:
    assert problems_of(tmp_path, today, {A: card(status="[active]")}) == [
        f"{A}:4: error: 'status' must be one of active, done, not a list [bad-value]"
    ]


@pytest.mark.parametrize(
    ("status", "is_open", "label"),
    [(None, False, "done"), ("done", False, "done"), ("active", True, "active")],
)
def test_default_statuses(
    tmp_path: Path, today: dt.date, status: str | None, is_open: bool, label: str
) -> None:
    write_tree(tmp_path, {A: card(status=status), "docs/how-to/b.md": card(requires=["a"])})
    loaded = load_runbook(Settings(root=tmp_path, cards="all"), today=today).cards["a"]
    assert (loaded.status, loaded.is_open, loaded.status_label) == (status, is_open, label)


CUSTOM = """\
site_name: custom
plugins:
  - search
  - cardbook:
      statuses:
        todo: open
        doing: open
        shipped: closed
        dropped: closed
"""


def test_custom_status_vocabulary_from_mkdocs_yml(tmp_path: Path, today: dt.date) -> None:
    files = {
        "mkdocs.yml": CUSTOM,
        A: card(status="active"),
        "docs/how-to/b.md": card(status="doing", requires=["c"]),
        "docs/how-to/c.md": card(status="todo"),
        "docs/how-to/d.md": card(status="shipped", requires=["e"]),
        "docs/how-to/e.md": card(status="dropped"),
    }
    assert problems_of(tmp_path, today, files) == [
        f"{A}:4: error: unknown status 'active': allowed are doing, dropped, shipped, todo [bad-value]"
    ]
    cards = load_runbook(load_settings(cwd=tmp_path), today=today).cards
    assert {stem: c.is_open for stem, c in cards.items()} == {
        "a": False,
        "b": True,
        "c": True,
        "d": False,
        "e": False,
    }


def test_custom_vocabulary_without_done_still_closes_cards_without_status(
    tmp_path: Path, today: dt.date
) -> None:
    files = {"mkdocs.yml": CUSTOM, A: card(status="done")}
    assert problems_of(tmp_path, today, files) == [
        f"{A}:4: error: unknown status 'done': allowed are doing, dropped, shipped, todo [bad-value]"
    ]


# extra keys ------------------------------------------------------------------------------


def test_extra_keys_are_passed_through(tmp_path: Path, today: dt.date) -> None:
    extra = "last-reviewed: 2026-01-15\nbranch: version/2025.12\naliases: [old-name]\nowner: {team: infra}\n"
    write_tree(tmp_path, {A: card(title="A", status="active", tags=["x"], extra=extra)})
    runbook = load_runbook(Settings(root=tmp_path, cards="all"), today=today)
    assert runbook.problems == []
    loaded = runbook.cards["a"]
    assert loaded.extra == {
        "last-reviewed": dt.date(2026, 1, 15),
        "branch": "version/2025.12",
        "aliases": ["old-name"],
        "owner": {"team": "infra"},
    }
    assert loaded.key_lines["branch"] == 7


# the files themselves --------------------------------------------------------------------


NO_FRONTMATTER = "no frontmatter: a card starts with YAML between '---' lines [frontmatter-yaml]"
EMPTY = "empty card: a card starts with YAML frontmatter between '---' lines [frontmatter-yaml]"
BAD_FILES = [
    pytest.param("# Title\n\nJust text.\n", f"1: error: {NO_FRONTMATTER}", id="no-frontmatter"),
    pytest.param(
        "---\ntitle: T\nmodified: 2026-01-01\n\nbody\n",
        "1: error: frontmatter opened with '---' is never closed [frontmatter-yaml]",
        id="unclosed",
    ),
    pytest.param(
        "---\ntitle: T\nmodified: [2026\n---\n",
        "4: error: invalid YAML in frontmatter: did not find expected ',' or ']' [frontmatter-yaml]",
        id="invalid-yaml",
    ),
    pytest.param(
        "---\n- title\n- modified\n---\n",
        "2: error: frontmatter must be a mapping of keys to values, found a list [frontmatter-yaml]",
        id="a-list",
    ),
    pytest.param(
        b"---\ntitle: caf\xe9\nmodified: 2026-01-01\n---\n",
        "2: error: not valid UTF-8 (byte 0xe9) [unreadable-page]",
        id="non-utf8",
    ),
    pytest.param("", f"1: error: {EMPTY}", id="empty"),
    pytest.param("\n  \n", f"1: error: {EMPTY}", id="blank"),
    pytest.param(
        "---\ntitle: T\n\tmodified: 2026-01-01\n---\n",
        "3: error: invalid YAML in frontmatter: found a tab character that violates indentation "
        "[frontmatter-yaml]",
        id="tabs",
    ),
]


@pytest.mark.parametrize(("content", "expected"), BAD_FILES)
def test_unreadable_cards(tmp_path: Path, today: dt.date, content: str | bytes, expected: str) -> None:
    rel = "docs/how-to/bad.md"
    assert problems_of(tmp_path, today, {rel: content}) == [f"{rel}:{expected}"]


def test_a_byte_order_mark_is_accepted(tmp_path: Path, today: dt.date) -> None:
    write_tree(tmp_path, {A: b"\xef\xbb\xbf" + card(title="A").encode()})
    runbook = load_runbook(Settings(root=tmp_path, cards="all"), today=today)
    assert runbook.problems == []
    assert runbook.cards["a"].title == "A"


def test_crlf_line_endings(tmp_path: Path, today: dt.date) -> None:
    write_tree(tmp_path, {A: card(title="A", status="wip").replace("\n", "\r\n").encode()})
    assert check_problems(tmp_path, today=today) == [
        f"{A}:4: error: unknown status 'wip': allowed are active, done [bad-value]"
    ]


def test_an_unreadable_card_can_still_be_required(tmp_path: Path, today: dt.date) -> None:
    files = {A: card(requires=["b"]), "docs/how-to/b.md": "no frontmatter\n"}
    assert problems_of(tmp_path, today, files) == [
        "docs/how-to/b.md:1: error: no frontmatter: a card starts with YAML between '---' lines "
        "[frontmatter-yaml]"
    ]


def test_a_symlink_leading_outside_the_project(tmp_path: Path, today: dt.date) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    write_tree(outside, {"secret.md": card()})
    write_tree(project, {A: card()})
    (project / "docs/how-to/leak.md").symlink_to(outside / "secret.md")
    assert check_problems(project, today=today) == [
        "docs/how-to/leak.md:1: error: symlink leads outside the project to "
        f"{(outside / 'secret.md').resolve()} [unreadable-page]"
    ]


def test_a_symlink_inside_the_project_is_read(tmp_path: Path, today: dt.date) -> None:
    write_tree(tmp_path, {"shared/common.md": card(title="Common"), A: card(requires=["linked"])})
    (tmp_path / "docs/how-to/linked.md").symlink_to(tmp_path / "shared/common.md")
    runbook = load_runbook(Settings(root=tmp_path, cards="all"), today=today)
    assert runbook.problems == []
    assert runbook.cards["linked"].title == "Common"


def test_broken_and_looping_symlinks(tmp_path: Path, today: dt.date) -> None:
    write_tree(tmp_path, {A: card()})
    how_to = tmp_path / "docs/how-to"
    (how_to / "broken.md").symlink_to(how_to / "missing.md")
    (how_to / "loop1.md").symlink_to(how_to / "loop2.md")
    (how_to / "loop2.md").symlink_to(how_to / "loop1.md")
    assert check_problems(tmp_path, today=today) == [
        "docs/how-to/broken.md:1: error: broken symlink [unreadable-page]",
        "docs/how-to/loop1.md:1: error: symlink loop [unreadable-page]",
        "docs/how-to/loop2.md:1: error: symlink loop [unreadable-page]",
    ]


def test_an_unreadable_file(tmp_path: Path, today: dt.date, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {A: card(), "docs/how-to/b.md": card()})
    read_known_size = cards.read_known_size  # what read_card reads a card with, after its stat

    def refuse(path: str | Path, size: int) -> bytes:
        if Path(path).name == "a.md":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return read_known_size(path, size)

    monkeypatch.setattr(cards, "read_known_size", refuse)
    assert check_problems(tmp_path, today=today) == [
        f"{A}:1: error: cannot read the card: Permission denied [unreadable-page]"
    ]


def test_problems_are_sorted_and_every_card_is_reported(tmp_path: Path, today: dt.date) -> None:
    files = {
        "docs/how-to/z.md": card(title=None),
        "docs/how-to/m.md": card(status="wip", modified="soon"),
        A: card(title=None, modified=None),
    }
    assert problems_of(tmp_path, today, files) == [
        f"{A}:1: error: missing required key 'modified' (a date like 2026-01-31) [required-key]",
        f"{A}:1: error: missing required key 'title' [required-key]",
        "docs/how-to/m.md:3: error: 'modified' must be a date like 2026-01-31, not 'soon' [bad-value]",
        "docs/how-to/m.md:4: error: unknown status 'wip': allowed are active, done [bad-value]",
        "docs/how-to/z.md:1: error: missing required key 'title' [required-key]",
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda head, tail: b"---\n" + head + b"\n---\n" + tail,
            st.binary(max_size=120),
            st.binary(max_size=40),
        ),
        st.builds(
            lambda yaml_text: ("---\n" + yaml_text + "\n---\n").encode(),
            st.text(alphabet=st.sampled_from(list("-:[]{}&*!|>'\"#\t\n ab1.%@,?~")), max_size=80),
        ),
    )
)
def test_any_bytes_give_problems_not_exceptions(tmp_path: Path, today: dt.date, content: bytes) -> None:
    """Whatever a card holds, loading and checking it reports problems; it never raises."""
    write_tree(tmp_path, {A: content, "docs/how-to/b.md": card(requires=["a"])})
    result = load_and_check(Settings(root=tmp_path), today=today)
    for problem in result.problems:
        assert problem.line >= 1
        assert problem.path in (A, "docs/how-to/b.md")
