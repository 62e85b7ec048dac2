"""Properties of tangle and stitch over generated card trees (hypothesis).

A tree: a few cards ordered by requires, a few files and chunks, every name made of one or
more blocks spread over the cards, chunks referenced at most once (a forest, no cycles) with
random indentation, block lines random and often blank or whitespace-only.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardbook.core.plan import write_outputs
from cardbook.core.settings import Settings
from cardbook.core.stitch import stitch
from cardbook.pipeline import CheckResult, load_and_check
from helpers import card, write_tree

TODAY = dt.date(2026, 6, 1)
STEMS = ["a", "b", "c", "d"]
DIGEST = re.compile(r"( ~~ begin \S+\[\d+\]) [0-9a-f]{10} ~~")
MARKER = re.compile(r"^(?P<indent>[ \t]*)# ~~ (?P<kind>begin|end) ")
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INDENTS = ["", "", "  ", "    ", "\t", " \t", "\t  "]
WORDS = ["a = 1;", "{", "}", "pkgs.hello", "inherit (pkgs) lib;", "x y  z", "''", "[ 1 2 ]", "é → 世"]
lines_strategy = st.one_of(
    st.just(""),
    st.sampled_from(["  ", "\t", "    ", " \t "]),
    st.builds(
        lambda i, w, t: i + w + t,
        st.sampled_from(INDENTS),
        st.sampled_from(WORDS),
        st.sampled_from(["", "", "  "]),
    ),
)


@dataclass
class Tree:
    files: dict[str, str]  # relative path -> card text

    def reordered(self) -> dict[str, str]:
        return dict(reversed(list(self.files.items())))


@st.composite
def trees(draw: st.DrawFn) -> Tree:
    stems = draw(st.permutations(STEMS))[: draw(st.integers(1, len(STEMS)))]
    # A chain of requires: every card is ordered against every other one.
    requires = {stem: ([stems[i - 1]] if i else None) for i, stem in enumerate(stems)}
    n_files = draw(st.integers(1, 3))
    n_chunks = draw(st.integers(0, 4))
    files = [draw(st.sampled_from([f"nix/f{i}.nix", f"nix/sub/f{i}.nix"])) for i in range(n_files)]
    chunks = [f"chunk-{i}" for i in range(n_chunks)]
    # blocks per name: (card stem, lines)
    blocks: dict[str, list[tuple[str, list[str]]]] = {}
    for name in files + chunks:
        count = draw(st.integers(1, 3))
        blocks[name] = [
            (draw(st.sampled_from(stems)), draw(st.lists(lines_strategy, min_size=0, max_size=5)))
            for _ in range(count)
        ]
    # Each chunk is referenced at most once, from a file or an earlier chunk: no cycles.
    for index, chunk in enumerate(chunks):
        parents = files + chunks[:index]
        parent = draw(st.one_of(st.none(), st.sampled_from(parents)))
        if parent is None:
            continue
        _, lines = draw(st.sampled_from(blocks[parent]))
        position = draw(st.integers(0, len(lines)))
        indent = draw(st.sampled_from(INDENTS))
        trailing = draw(st.sampled_from(["", " ", "\t"]))
        lines.insert(position, f"{indent}<<{chunk}>>{trailing}")
    # Cards: their blocks in document order, each name's blocks in the order drawn.
    bodies: dict[str, list[str]] = {stem: ["", f"# {stem.upper()}", ""] for stem in stems}
    for name in files + chunks:
        for stem, lines in blocks[name]:
            if name.startswith("nix/"):
                opening = draw(st.sampled_from([f"```nix {{file={name}}}", f"``` {{.nix file={name}}}"]))
            else:
                opening = draw(st.sampled_from([f"```nix {{#{name}}}", f"``` {{.nix #{name}}}"]))
            bodies[stem].extend([opening, *lines, "```", "", "Some prose.", ""])
    texts = {
        f"docs/how-to/{stem}.md": card(
            title=stem.upper(), requires=requires[stem], body="\n".join(bodies[stem])
        )
        for stem in stems
    }
    return Tree(texts)


def checked(root: Path, *, annotate: bool = True) -> tuple[Settings, CheckResult]:
    config = Settings(root=root, annotate=annotate)
    result = load_and_check(config, today=TODAY)
    assert result.errors == [], [p.format() for p in result.errors]
    return config, result


def tangle_into(root: Path, tree: dict[str, str], *, annotate: bool = True) -> dict[str, bytes]:
    write_tree(root, tree)
    config, result = checked(root, annotate=annotate)
    report = write_outputs(config, result.tangled)
    assert report.problems == []
    return outputs(root)


def outputs(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted((root / "nix").rglob("*"))
        if p.is_file()
    }


def cards_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "docs").rglob("*.md"))}


# determinism and idempotence -----------------------------------------------------------------


@PROPERTY
@given(trees(), st.booleans())
def test_tangle_is_deterministic_and_idempotent(tree: Tree, annotate: bool) -> None:
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        first = tangle_into(Path(one), tree.files, annotate=annotate)
        second = tangle_into(Path(two), tree.reordered(), annotate=annotate)
        assert first == second
        assert any(name.endswith(".nix") for name in first)
        # Again in the same place: nothing is written and nothing changes.
        config, result = checked(Path(one), annotate=annotate)
        report = write_outputs(config, result.tangled)
        assert (report.written, report.removed, report.problems) == ([], [], [])
        assert outputs(Path(one)) == first
        # And the drift check agrees.
        assert load_and_check(config, today=TODAY, drift=True).errors == []


# stitch round trip ---------------------------------------------------------------------------


def edit_positions(lines: list[str]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(lines after which a line can be inserted, content lines that can be replaced), each with
    the indentation of the block that holds them."""
    stack: list[str] = []
    insert_after: list[tuple[int, str]] = []
    content: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        marker = MARKER.match(line)
        if marker is not None and marker["kind"] == "begin":
            stack.append(marker["indent"])
            insert_after.append((index, stack[-1]))
        elif marker is not None:
            stack.pop()
        elif stack:
            insert_after.append((index, stack[-1]))
            content.append((index, stack[-1]))
    return insert_after, content


@PROPERTY
@given(trees(), st.data())
def test_an_edit_then_stitch_then_tangle_gives_back_the_edited_file(tree: Tree, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        generated = tangle_into(root, tree.files)
        target = data.draw(st.sampled_from(sorted(generated)))
        lines = generated[target].decode().split("\n")
        insert_after, content = edit_positions(lines)
        non_blank = [(i, indent) for i, indent in content if lines[i].strip()]
        kinds = ["insert"] + (["replace"] if content else []) + (["delete"] if non_blank else [])
        kind = data.draw(st.sampled_from(kinds))
        new_text = data.draw(st.sampled_from(["edited = 1;", "{ edited }", "edited  x"]))
        if kind == "insert":
            index, indent = data.draw(st.sampled_from(insert_after))
            lines.insert(index + 1, indent + new_text)
        elif kind == "replace":
            index, indent = data.draw(st.sampled_from(content))
            lines[index] = indent + new_text
        else:
            index, _ = data.draw(st.sampled_from(non_blank))
            del lines[index]
        edited = "\n".join(lines)
        (root / target).write_text(edited)
        cards_before = cards_of(root)

        config, result = checked(root)
        report = stitch(config, result.runbook, result.tangled, today=TODAY)
        assert report.problems == []
        assert (report.blocks, len(report.cards_written)) == (1, 1)
        # Only the card that owns the edited block changed.
        cards_after = cards_of(root)
        changed = [rel for rel in cards_after if cards_after[rel] != cards_before[rel]]
        assert changed == report.cards_written

        config, result = checked(root)
        written = write_outputs(config, result.tangled)
        assert written.problems == []
        after = outputs(root)
        assert DIGEST.sub(r"\1 ~~", after[target].decode()) == DIGEST.sub(r"\1 ~~", edited)
        assert {k: v for k, v in after.items() if k != target} == {
            k: v for k, v in generated.items() if k != target
        }
        assert load_and_check(config, today=TODAY, drift=True).errors == []
