"""Properties over generated card trees (hypothesis), hostile ones included (issue 8).

Two kinds of trees:

- any tree: random requires (a DAG, sometimes a cycle, a self-requirement or an unknown
  stem), random statuses, random chunks and references (cycles and unknown chunks allowed),
  random blank and indented lines, fences in comments, malformed or unclosed fences,
  targets outside the roots, duplicate stems, and sometimes broken frontmatter. `check`
  never raises, every problem is one line at `path:line`, and the problems and the tangled
  files do not depend on the order in which the files were created;
- a clean tree (no errors by construction, but a random DAG of requires, several blocks per
  name from cards ordered by it, chunks referenced any number of times): tangle is
  deterministic and idempotent (nothing rewritten, modification times kept), and stitch then
  tangle is the identity on every file the edit does not touch (bytes and mtimes).

Tangle and stitch already have their own properties in test_tangle_properties.py (a chain of
cards, each chunk referenced once); these extend them to DAGs, shared chunks and bad input.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cardbook.core.plan import write_outputs
from cardbook.core.settings import Settings
from cardbook.core.stitch import stitch
from cardbook.pipeline import CheckResult, load_and_check
from helpers import card, write_tree

pytest_plugins = ["reliability_counts"]

TODAY = dt.date(2026, 6, 1)
STEMS = ["alpha", "beta", "gamma", "delta", "eps", "zeta"]
DIRS = ["", "ops/", "ops/deep/", "net/"]
DIGEST = re.compile(r"( ~~ begin \S+\[\d+\]) [0-9a-f]{10} ~~")
MARKER = re.compile(r"^(?P<indent>[ \t]*)# ~~ (?P<kind>begin|end) (?P<key>\S+) ")
ANY_TREE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLEAN_TREE = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INDENTS = ["", "", "  ", "    ", "\t", " \t", "\t  "]
WORDS = [
    "a = 1;",
    "{",
    "}",
    "pkgs.hello",
    "inherit (pkgs) lib;",
    "x  y",
    "''",
    "é → 世",
    "# note",
    "<< not a ref",
]
line_strategy = st.one_of(
    st.just(""),
    st.sampled_from(["  ", "\t", " \t "]),
    st.builds(lambda i, w: i + w, st.sampled_from(INDENTS), st.sampled_from(WORDS)),
)


def count() -> None:
    import reliability_counts  # imported late: pytest loads it first, as the plugin named above

    reliability_counts.add(reliability_counts.TREES)


@dataclass
class Tree:
    files: dict[str, str | bytes]  # relative path -> card content

    def create(self, root: Path, order: list[str]) -> Path:
        for rel in order:
            write_tree(root, {rel: self.files[rel]})
        return root


# Any tree ------------------------------------------------------------------------------------------


BROKEN = {
    "no title": lambda body: card(title=None, body=body),
    "title mapping": lambda body: card(title="{a: 1}", body=body),
    "future": lambda body: card(modified="2999-01-01", body=body),
    "impossible date": lambda body: card(modified="2026-02-30", body=body),
    "tab": lambda body: card(extra="\tnotes: 1", body=body),
    "unclosed": lambda body: "---\ntitle: T\nmodified: 2026-01-01\n" + body,
    "none": lambda body: body or "just prose\n",
    "list": lambda body: "---\n- a\n- b\n---\n" + body,
    "alias": lambda body: card(extra="x: &a [1]\ny: *a", body=body),
    "python tag": lambda body: card(extra="x: !!python/object/apply:os.system ['false']", body=body),
    "control character": lambda body: card(title="A\x01B", body=body),
    "empty": lambda body: "",
    "not utf-8": lambda body: card(title="caf\udcff", body=body).encode("utf-8", "surrogateescape"),
    "byte order mark": lambda body: "\ufeff" + card(body=body),
    "crlf": lambda body: card(body=body).replace("\n", "\r\n"),
    "duplicate key": lambda body: card(extra="title: again", body=body),
    "requires a string": lambda body: card(requires="alpha", body=body),
    "deep": lambda body: card(extra="x: " + "[" * 1100 + "]" * 1100, body=body),
}
TARGETS = ["nix/f0.nix", "nix/f1.nix", "nix/sub/f2.nix", "nix/f3.sh"]
HOSTILE_TARGETS = [
    "../up.nix",
    "/abs.nix",
    "~/home.nix",
    "nix/%2e%2e/x.nix",
    "nix/f.weird",
    "nix/.cardbook-x",
]
CHUNKS = ["k0", "k1", "k2", "k3"]


@st.composite
def any_trees(draw: st.DrawFn) -> Tree:
    stems = draw(st.permutations(STEMS))[: draw(st.integers(1, len(STEMS)))]
    where = {stem: draw(st.sampled_from(DIRS)) for stem in stems}
    requires: dict[str, list[str]] = {stem: [] for stem in stems}
    for i, stem in enumerate(stems):  # a DAG: a card may require cards drawn before it
        for earlier in stems[:i]:
            if draw(st.integers(0, 2)) == 0:
                written = draw(
                    st.sampled_from([earlier, f"{earlier}.md", f"docs/how-to/{where[earlier]}{earlier}.md"])
                )
                requires[stem].append(written)
    extra_edge = draw(st.sampled_from(["none"] * 8 + ["cycle", "self", "unknown", "wrong dir"]))
    first, last = stems[0], stems[-1]
    if extra_edge == "cycle" and len(stems) > 1:
        requires[first].append(last)
    elif extra_edge == "self":
        requires[last].append(last)
    elif extra_edge == "unknown":
        requires[last].append(draw(st.sampled_from(["alpah", "nowhere", "../../etc/passwd"])))
    elif extra_edge == "wrong dir":
        requires[last].append(f"elsewhere/{first}.md")
    statuses = {
        stem: draw(st.sampled_from([None] * 6 + ["active"] * 3 + ["done", "", "wip"])) for stem in stems
    }

    bodies: dict[str, list[str]] = {stem: ["", "Some prose.", ""] for stem in stems}
    for _ in range(draw(st.integers(0, 8))):
        stem = draw(st.sampled_from(stems))
        kind = draw(st.sampled_from(["file"] * 4 + ["chunk"] * 4 + ["hostile", "prose", "malformed"]))
        indent = draw(st.sampled_from(["", "", "", "  ", "   "]))
        lines = draw(st.lists(line_strategy, max_size=4))
        for _ in range(draw(st.integers(0, 2))):
            target = draw(st.sampled_from([*CHUNKS, *CHUNKS, "nope"]))
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(INDENTS)) + f"<<{target}>>")
        if kind == "file":
            opening = draw(
                st.sampled_from(["```nix {{file={}}}", "``` {{.nix file={}}}", "```nix {{#k0 file={}}}"])
            )
            opening = opening.format(draw(st.sampled_from(TARGETS)))
        elif kind == "chunk":
            opening = draw(st.sampled_from(["```nix {{#{}}}", "``` {{.nix #{}}}"])).format(
                draw(st.sampled_from(CHUNKS))
            )
        elif kind == "hostile":
            opening = f'``` {{.nix file="{draw(st.sampled_from(HOSTILE_TARGETS))}"}}'
        elif kind == "prose":
            opening = "```nix"
        else:
            opening = draw(st.sampled_from(["```nix {file=nix/f0.nix", "```nix {#}", "```nix {file=}"]))
        block = [indent + opening, *((indent + line) if line else line for line in lines), indent + "```"]
        wrapping = draw(st.sampled_from(["plain"] * 8 + ["comment", "longer fence", "unclosed"]))
        if wrapping == "comment":
            block = ["<!--", *block, "-->"]
        elif wrapping == "longer fence":
            block = ["````markdown", *block, "````"]
        elif wrapping == "unclosed":
            block = block[:-1]
        bodies[stem].extend([*block, ""])

    files: dict[str, str | bytes] = {}
    for stem in stems:
        body = "\n".join(bodies[stem]) + "\n"
        broken = draw(st.sampled_from([None] * 40 + sorted(BROKEN)))
        if broken is not None:
            text: str | bytes = BROKEN[broken](body)
        else:
            text = card(
                title=stem.title(),
                status=statuses[stem],
                requires=requires[stem] or None,
                body=body,
            )
        files[f"docs/how-to/{where[stem]}{stem}.md"] = text
    if draw(st.integers(0, 9)) == 9:  # the same stem twice
        stem = draw(st.sampled_from(stems))
        files[f"docs/how-to/other/{stem}.md"] = card(title="Again")
    if draw(st.integers(0, 9)) == 9:  # a page that is not a card, sharing a stem
        files[f"docs/{draw(st.sampled_from(stems))}.md"] = "# A page\n"
    return Tree(files)


def problems_of(result: CheckResult, root: Path) -> list[str]:
    return [problem.format().replace(str(root), "<root>") for problem in result.problems]


@ANY_TREE
@given(any_trees(), st.randoms(use_true_random=False))
def test_check_never_crashes_and_does_not_depend_on_file_system_order(tree: Tree, rng: random.Random) -> None:
    count()
    forward = sorted(tree.files)
    shuffled = list(forward)
    rng.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        first_root = tree.create(Path(one), forward)
        second_root = tree.create(Path(two), list(reversed(shuffled)))
        first = load_and_check(Settings(root=first_root), today=TODAY, drift=True)
        second = load_and_check(Settings(root=second_root), today=TODAY, drift=True)
        assert problems_of(first, first_root) == problems_of(second, second_root)
        assert {p: f.text for p, f in first.tangled.files.items()} == {
            p: f.text for p, f in second.tangled.files.items()
        }
        for problem in first.problems:
            assert problem.line >= 1
            assert not problem.path.startswith("/") and ".." not in problem.path.split("/")
            assert "\n" not in problem.message, problem.message
        event("errors" if first.errors else "no errors")
        event(f"{len(first.tangled.files)} files tangled")
        # Every tangled file stays inside the output roots.
        assert all(path.startswith("nix/") and ".." not in path.split("/") for path in first.tangled.files)
        # A tree with errors is never written by `cardbook tangle` (it stops before writing);
        # without, writing it and checking again finds no drift.
        if not first.errors:
            report = write_outputs(Settings(root=first_root), first.tangled)
            assert report.problems == []
            again = load_and_check(Settings(root=first_root), today=TODAY, drift=True)
            assert again.errors == []


# Clean trees -------------------------------------------------------------------------------------------


@dataclass
class CleanTree:
    files: dict[str, str]


@st.composite
def clean_trees(draw: st.DrawFn) -> CleanTree:
    stems = draw(st.permutations(STEMS))[: draw(st.integers(1, 5))]
    requires: dict[str, list[str]] = {stem: [] for stem in stems}
    for i, stem in enumerate(stems):
        for earlier in stems[:i]:
            if draw(st.booleans()):
                requires[stem].append(earlier)
    below: dict[str, set[str]] = {}  # every card a card requires, transitively
    for stem in stems:
        below[stem] = set(requires[stem]).union(*(below[need] for need in requires[stem]))

    def ordered(a: str, b: str) -> bool:
        return a == b or a in below[b] or b in below[a]

    # A card that requires an open card is open too: a closed card never requires an open one.
    status: dict[str, str | None] = {}
    for stem in stems:
        if any(status[need] == "active" for need in requires[stem]):
            status[stem] = "active"
        else:
            status[stem] = draw(st.sampled_from([None, "done", "active"]))

    files = draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3, unique=True))
    chunks = CHUNKS[: draw(st.integers(0, len(CHUNKS)))]
    blocks: dict[str, list[tuple[str, list[str]]]] = {}
    for name in files + chunks:
        chain = [draw(st.sampled_from(stems))]
        for _ in range(draw(st.integers(0, 2))):  # more blocks, from cards ordered with every other
            candidate = draw(st.sampled_from(stems))
            if all(ordered(candidate, other) for other in chain):
                chain.append(candidate)
        blocks[name] = [(stem, draw(st.lists(line_strategy, max_size=4))) for stem in chain]
    # References: a file may use any chunk, chunk i only chunks after it (no cycles), any number
    # of times, at any indentation.
    for name in files + chunks:
        allowed = chunks if name in files else chunks[chunks.index(name) + 1 :]
        for _, lines in blocks[name]:
            for _ in range(draw(st.integers(0, 2)) if allowed else 0):
                target = draw(st.sampled_from(allowed))
                reference = (
                    draw(st.sampled_from(INDENTS)) + f"<<{target}>>" + draw(st.sampled_from(["", " "]))
                )
                lines.insert(draw(st.integers(0, len(lines))), reference)
    # Document order within a card: the order the blocks of one name were drawn in; blocks of
    # one name from several cards are concatenated in requires order, whatever their order here.
    bodies: dict[str, list[str]] = {stem: ["", "Prose.", ""] for stem in stems}
    for name in files + chunks:
        for stem, lines in blocks[name]:
            attribute = f"file={name}" if name in files else f"#{name}"
            opening = draw(st.sampled_from([f"```nix {{{attribute}}}", f"``` {{.nix {attribute}}}"]))
            bodies[stem].extend([opening, *lines, "```", ""])
    texts = {
        f"docs/how-to/{stem}.md": card(
            title=stem.title(),
            status=status[stem],
            requires=requires[stem] or None,
            body="\n".join(bodies[stem]),
        )
        for stem in stems
    }
    return CleanTree(texts)


def outputs(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under nix/: its bytes and modification time."""
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted((root / "nix").rglob("*"))
        if path.is_file()
    }


def cards_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "docs").rglob("*.md"))}


def clean_check(root: Path) -> tuple[Settings, CheckResult]:
    config = Settings(root=root)
    result = load_and_check(config, today=TODAY)
    assert result.errors == [], [problem.format() for problem in result.errors]
    return config, result


def tangle_into(root: Path) -> dict[str, tuple[bytes, int]]:
    config, result = clean_check(root)
    report = write_outputs(config, result.tangled)
    assert report.problems == []
    return outputs(root)


def backdate(root: Path) -> None:
    """Old modification times, so a rewrite shows even within one clock tick."""
    for path in (root / "nix").rglob("*"):
        if path.is_file():
            os.utime(path, ns=(10**18, 10**18))


@CLEAN_TREE
@given(clean_trees(), st.data())
def test_tangle_is_deterministic_idempotent_and_stitch_then_tangle_keeps_untouched_files(
    tree: CleanTree, data: st.DataObject
) -> None:
    count()
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        root = Path(one)
        write_tree(root, tree.files)
        write_tree(Path(two), dict(reversed(list(tree.files.items()))))
        first = tangle_into(root)
        assert {k: v for k, (v, _) in first.items()} == {k: v for k, (v, _) in tangle_into(Path(two)).items()}
        backdate(root)
        generated = outputs(root)

        # Idempotent: nothing is rewritten, not even touched.
        config, result = clean_check(root)
        report = write_outputs(config, result.tangled)
        assert (report.written, report.removed, report.problems) == ([], [], [])
        assert outputs(root) == generated
        assert load_and_check(config, today=TODAY, drift=True).errors == []

        # Stitch with no edit changes no card, and the tangle after it changes no file.
        cards_before = cards_of(root)
        stitched = stitch(config, result.runbook, result.tangled, today=TODAY)
        assert (stitched.problems, stitched.cards_written, stitched.blocks) == ([], [], 0)
        assert cards_of(root) == cards_before
        assert tangle_into(root) == generated

        # An edit inside one block that appears once: stitch, tangle; every file that does not
        # hold that block keeps its bytes and its modification time.
        keys: dict[str, list[tuple[str, int]]] = {}
        for rel, (text, _) in generated.items():
            for number, line in enumerate(text.decode().split("\n")):
                marker = MARKER.match(line)
                if marker is not None and marker["kind"] == "begin":
                    keys.setdefault(marker["key"], []).append((rel, number))
        once = sorted(key for key, places in keys.items() if len(places) == 1)
        event("an edit" if once else "no block appears once")
        if not once:
            return
        key = data.draw(st.sampled_from(once))
        rel, begin = keys[key][0]
        lines = generated[rel][0].decode().split("\n")
        indent = MARKER.match(lines[begin])["indent"]  # type: ignore[index]
        lines.insert(begin + 1, indent + data.draw(st.sampled_from(["edited = 1;", "{ edited }"])))
        edited = "\n".join(lines)
        (root / rel).write_text(edited)
        os.utime(root / rel, ns=(10**18, 10**18))
        config, result = clean_check(root)
        stitched = stitch(config, result.runbook, result.tangled, today=TODAY)
        assert stitched.problems == []
        assert stitched.blocks == 1
        after = tangle_into(root)
        assert DIGEST.sub(r"\1 ~~", after[rel][0].decode()) == DIGEST.sub(r"\1 ~~", edited)
        untouched = {name for name, (text, _) in generated.items() if f"~~ begin {key} " not in text.decode()}
        assert {name: after[name] for name in untouched} == {name: generated[name] for name in untouched}
        assert load_and_check(config, today=TODAY, drift=True).errors == []
