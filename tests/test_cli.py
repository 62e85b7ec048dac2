"""The installed `cardbook` command on trees in a temp dir: output, exit codes, bad input."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from cardbook.core.settings import KNOWN_KEYS
from helpers import CARDBOOK, card, fence, run_cardbook
from helpers import write_cards_tree as write_tree

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

CLOSED_REQUIRES_OPEN = (
    "docs/how-to/b.md:4: error: done card requires 'c', which is still open (active): "
    "its prerequisites are not satisfied [unfinished-prerequisite]"
)


def assert_no_crash(result) -> None:  # type: ignore[no-untyped-def]
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout
    assert result.returncode in (EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE), result.stderr


def test_the_command_is_installed() -> None:
    assert CARDBOOK.is_file()


def test_help_and_version(tmp_path: Path) -> None:
    result = run_cardbook(["--help"], tmp_path)
    assert result.returncode == EXIT_OK
    for command in ("check", "graph", "next"):
        assert command in result.stdout
    result = run_cardbook(["--version"], tmp_path)
    assert result.returncode == EXIT_OK
    assert result.stdout.startswith("cardbook, version ")


# check -----------------------------------------------------------------------------------


def test_clean_tree(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "docs/how-to/a.md": card(title="A", status="active", requires=["b"]),
            "docs/how-to/b.md": card(title="B"),
        },
    )
    result = run_cardbook(["check"], tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        EXIT_OK,
        "2 cards checked: no problems\n",
        "",
    )


def test_an_empty_project_names_the_missing_card_root(tmp_path: Path) -> None:
    result = run_cardbook(["check"], tmp_path)
    assert (result.returncode, result.stdout) == (EXIT_USAGE, "")
    assert result.stderr.startswith("docs/how-to:1: error: card root docs/how-to does not exist; there is no")


def test_an_empty_card_root_has_no_problems(tmp_path: Path) -> None:
    (tmp_path / "docs/how-to").mkdir(parents=True)
    result = run_cardbook(["check"], tmp_path)
    assert (result.returncode, result.stdout) == (EXIT_OK, "0 cards checked: no problems\n")


def problem_tree(root: Path) -> Path:
    return write_tree(
        root,
        {
            "docs/how-to/a.md": card(title="A", status="active", requires=["b", "c"]),
            "docs/how-to/b.md": card(title="B", requires=["c"]),
            "docs/how-to/c.md": card(title="C", status="active"),
        },
    )


def test_problems_sorted_then_a_summary(tmp_path: Path) -> None:
    result = run_cardbook(["check"], problem_tree(tmp_path))
    assert result.returncode == EXIT_PROBLEMS
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "docs/how-to/a.md:5: info: requires 'c', which is already required through 'b' [redundant-requires]",
        CLOSED_REQUIRES_OPEN,
        "3 cards checked: 1 error, 0 warnings, 1 info",
    ]


def test_output_is_stable_whatever_the_creation_order(tmp_path: Path) -> None:
    files = {
        "docs/how-to/x.md": card(requires=["m"]),
        "docs/how-to/m.md": card(requires=["b"], status="wip"),
        "docs/how-to/b.md": card(requires=["x"]),
        "docs/how-to/lonely.md": card(status="active"),
    }
    outputs = []
    for name, order in (("forward", list(files)), ("backward", list(reversed(files)))):
        for rel in order:
            write_tree(tmp_path / name, {rel: files[rel]})
        outputs.append(run_cardbook(["check"], tmp_path / name).stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].splitlines() == [
        "docs/how-to/b.md:4: error: dependency cycle: b -> x -> m -> b [cycle]",
        "docs/how-to/lonely.md:4: info: open card is required by nothing and requires nothing [lone-card]",
        "docs/how-to/m.md:4: error: unknown status 'wip': allowed are active, done [bad-value]",
        "4 cards checked: 2 errors, 0 warnings, 1 info",
    ]


def test_a_future_date_by_the_real_clock(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/how-to/a.md": card(modified="2999-01-01")})
    result = run_cardbook(["check"], tmp_path)
    assert result.returncode == EXIT_PROBLEMS
    assert result.stdout.splitlines() == [
        "docs/how-to/a.md:3: error: 'modified' is in the future: 2999-01-01 [bad-value]",
        "1 card checked: 1 error, 0 warnings",
    ]


def test_json_report(tmp_path: Path) -> None:
    result = run_cardbook(["check", "--format", "json"], problem_tree(tmp_path))
    assert result.returncode == EXIT_PROBLEMS
    assert json.loads(result.stdout) == {
        "cards": 3,
        "errors": 1,
        "warnings": 0,
        "info": 1,
        "problems": [
            {
                "path": "docs/how-to/a.md",
                "line": 5,
                "severity": "info",
                "message": "requires 'c', which is already required through 'b'",
                "detail": "",
                "rule": "redundant-requires",
            },
            {
                "path": "docs/how-to/b.md",
                "line": 4,
                "severity": "error",
                "message": "done card requires 'c', which is still open (active): "
                "its prerequisites are not satisfied",
                "detail": "",
                "rule": "unfinished-prerequisite",
            },
        ],
        "drift": [],
    }


def test_json_report_when_clean(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/how-to/a.md": card()})
    result = run_cardbook(["check", "--format=json"], tmp_path)
    assert result.returncode == EXIT_OK
    assert json.loads(result.stdout) == {
        "cards": 1,
        "errors": 0,
        "warnings": 0,
        "info": 0,
        "problems": [],
        "drift": [],
    }


def test_strict_makes_warnings_fail(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "mkdocs.yml": "site_name: t\nplugins:\n  - cardbook:\n      rules: {lone-card: warning}\n",
            "docs/how-to/lonely.md": card(status="active"),
        },
    )
    lines = [
        "docs/how-to/lonely.md:4: warning: open card is required by nothing and requires nothing [lone-card]",
        "1 card checked: 0 errors, 1 warning",
    ]
    relaxed = run_cardbook(["check"], tmp_path)
    assert (relaxed.returncode, relaxed.stdout.splitlines()) == (EXIT_OK, lines)
    strict = run_cardbook(["check", "--strict"], tmp_path)
    assert (strict.returncode, strict.stdout.splitlines()) == (EXIT_PROBLEMS, lines)


def test_check_paths_restricts_the_report(tmp_path: Path) -> None:
    problem_tree(tmp_path)
    write_tree(tmp_path, {"docs/how-to/sub/d.md": card(title=None)})
    only_b = run_cardbook(["check", "docs/how-to/b.md"], tmp_path)
    assert only_b.returncode == EXIT_PROBLEMS
    # The summary counts what is reported; how many cards it says were checked is left open.
    assert only_b.stdout.splitlines()[:-1] == [CLOSED_REQUIRES_OPEN]
    assert only_b.stdout.splitlines()[-1].endswith(" checked: 1 error, 0 warnings")

    only_a = run_cardbook(["check", "docs/how-to/a.md"], tmp_path)
    assert only_a.returncode == EXIT_OK  # its problem is information
    assert only_a.stdout.splitlines()[0].startswith("docs/how-to/a.md:5: info: ")

    sub = run_cardbook(["check", "docs/how-to/sub", "docs/how-to/b.md"], tmp_path)
    assert sub.stdout.splitlines()[:-1] == [
        CLOSED_REQUIRES_OPEN,
        "docs/how-to/sub/d.md:1: error: missing required key 'title' [required-key]",
    ]
    assert sub.stdout.splitlines()[-1].endswith(" checked: 2 errors, 0 warnings")

    everything = run_cardbook(["check", "."], tmp_path)
    assert everything.stdout == run_cardbook(["check"], tmp_path).stdout


def test_check_paths_given_from_a_subdirectory(tmp_path: Path) -> None:
    write_tree(problem_tree(tmp_path), {"mkdocs.yml": "site_name: t\n"})
    result = run_cardbook(["check", "-f", "../../mkdocs.yml", "b.md"], tmp_path / "docs/how-to")
    assert result.stdout.splitlines()[:-1] == [CLOSED_REQUIRES_OPEN]
    assert result.stdout.splitlines()[-1].endswith(" checked: 1 error, 0 warnings")


def test_custom_statuses_from_mkdocs_yml(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "mkdocs.yml": "site_name: t\nplugins:\n  - search\n  - cardbook:\n"
            "      statuses: {todo: open, shipped: closed}\n",
            "docs/how-to/a.md": card(status="todo", requires=["b"]),
            "docs/how-to/b.md": card(status="shipped"),
            "docs/how-to/c.md": card(status="active"),
        },
    )
    result = run_cardbook(["check"], tmp_path)
    assert result.returncode == EXIT_PROBLEMS
    assert result.stdout.splitlines() == [
        "docs/how-to/c.md:4: error: unknown status 'active': allowed are shipped, todo [bad-value]",
        "3 cards checked: 1 error, 0 warnings",
    ]


def test_config_file_of_another_directory(tmp_path: Path) -> None:
    project = problem_tree(tmp_path / "project")
    write_tree(project, {"site.yml": "site_name: t\nplugins:\n  - cardbook\n"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cardbook(["check", "--config-file", project / "site.yml"], elsewhere)
    assert result.returncode == EXIT_PROBLEMS
    assert CLOSED_REQUIRES_OPEN in result.stdout.splitlines()


def test_mkdocs_yml_with_python_tags_is_read_without_running_them(tmp_path: Path) -> None:
    config = (
        "site_name: t\n"
        "markdown_extensions:\n"
        "  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "      generator: !!python/object/apply:os.system ['touch pwned']\n"
        "plugins:\n"
        "  - cardbook:\n"
        "      statuses: {active: open}\n"
        "      cards: all\n"
    )
    write_tree(tmp_path, {"mkdocs.yml": config, "docs/how-to/a.md": card()})
    result = run_cardbook(["check"], tmp_path)
    assert (result.returncode, result.stdout) == (EXIT_OK, "1 card checked: no problems\n")
    assert not (tmp_path / "pwned").exists()


# exit status 2 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "site_name: t\nplugins: [\n",
            "mkdocs.yml:3: error: invalid YAML: did not find expected node content",
        ),
        ("- just\n- a list\n", "mkdocs.yml:1: error: the config file must be a mapping"),
        (
            "site_name: t\nplugins:\n  - search\n  - cardbook:\n      colour: red\n",
            # each option's problem is at that option's own line
            f"mkdocs.yml:5: error: plugin cardbook: unknown option colour (known: {', '.join(KNOWN_KEYS)})",
        ),
        (
            "site_name: t\nplugins:\n  - cardbook:\n      statuses: {active: maybe}\n",
            "mkdocs.yml:4: error: plugin cardbook: statuses: 'active' must be declared open or closed, "
            "not 'maybe'",
        ),
        (
            "site_name: t\nplugins:\n  - cardbook:\n      card_roots: [../elsewhere]\n",
            "mkdocs.yml:4: error: plugin cardbook: card_roots: '../elsewhere' must be a relative path "
            "inside the project",
        ),
        (
            "site_name: t\nplugins:\n  cardbook: [a]\n",
            "mkdocs.yml:3: error: plugin cardbook: options must be a mapping",
        ),
        (
            "site_name: t\nextra: " + "[" * 100_000 + "]" * 100_000 + "\n",
            "mkdocs.yml:2: error: invalid YAML: nested deeper than 1000 levels",
        ),
    ],
    ids=[
        "invalid-yaml",
        "a-list",
        "unknown-option",
        "bad-status-kind",
        "root-outside",
        "options-not-mapping",
        "deep-nesting",
    ],
)
def test_a_broken_mkdocs_yml(tmp_path: Path, config: str, message: str) -> None:
    write_tree(tmp_path, {"mkdocs.yml": config, "docs/how-to/a.md": card()})
    for command in (["check"], ["graph"], ["next"]):
        result = run_cardbook(command, tmp_path)
        assert_no_crash(result)
        assert (result.returncode, result.stdout, result.stderr) == (EXIT_USAGE, "", message + " [config]\n")


def test_a_missing_config_file(tmp_path: Path) -> None:
    result = run_cardbook(["check", "--config-file", "missing.yml"], tmp_path)
    assert (result.returncode, result.stderr) == (
        EXIT_USAGE,
        "missing.yml:1: error: config file does not exist [usage]\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--bogus"], "No such option '--bogus'"),
        (["check", "--format", "xml"], "Invalid value for '--format'"),
        (["graph", "--format", "png"], "Invalid value for '--format'"),
        (["check", "no/such/path"], "Path 'no/such/path' does not exist"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_bad_command_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cardbook(args, tmp_path)
    assert_no_crash(result)
    assert result.returncode == EXIT_USAGE
    assert message in result.stderr


def test_a_path_outside_the_project(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "project", {"docs/how-to/a.md": card()})
    result = run_cardbook(["check", tmp_path], project)
    assert (result.returncode, result.stderr) == (
        EXIT_USAGE,
        f"{tmp_path}:1: error: path is outside the project [usage]\n",
    )


# graph and next --------------------------------------------------------------------------


def graph_tree(root: Path) -> Path:
    return write_tree(
        root,
        {
            "docs/how-to/goal.md": card(title="Goal", status="active", requires=["step"]),
            "docs/how-to/step.md": card(title="Step", status="active", requires=["base"]),
            "docs/how-to/base.md": card(title="Base"),
        },
    )


def test_graph_mermaid_is_the_default(tmp_path: Path) -> None:
    graph_tree(tmp_path)
    result = run_cardbook(["graph"], tmp_path)
    assert (result.returncode, result.stderr) == (EXIT_OK, "")
    assert result.stdout == (
        "flowchart LR\n"
        '  c0["Base"]:::closed\n'
        '  c1["Goal"]:::open\n'
        '  c2["Step"]:::open\n'
        "  c1 --> c2\n"
        "  c2 --> c0\n"
        "  classDef open fill:#fff3cd,stroke:#b58900\n"
        "  classDef closed fill:#d4edda,stroke:#2e7d32\n"
    )
    assert run_cardbook(["graph", "--format", "mermaid"], tmp_path).stdout == result.stdout


def test_graph_dot(tmp_path: Path) -> None:
    result = run_cardbook(["graph", "--format", "dot"], graph_tree(tmp_path))
    assert result.returncode == EXIT_OK
    lines = result.stdout.splitlines()
    assert lines[0] == "digraph cardbook {"
    assert lines[-3:] == ['  "goal" -> "step";', '  "step" -> "base";', "}"]
    assert (
        '  "base" [label="Base", tooltip="base (done)", '
        'class="cardbook-node status-done closed"];'
    ) in lines


def test_graph_json(tmp_path: Path) -> None:
    result = run_cardbook(["graph", "--format", "json"], graph_tree(tmp_path))
    assert result.returncode == EXIT_OK
    data = json.loads(result.stdout)
    assert [(node["id"], node["open"], node["requires"], node["required_by"]) for node in data["cards"]] == [
        ("base", False, [], ["step"]),
        ("goal", True, ["step"], []),
        ("step", True, ["base"], ["goal"]),
    ]
    assert (data["goals"], data["leaves"], data["cycles"]) == (["goal"], ["step"], [])


def test_graph_with_problems_still_prints_and_notes_them(tmp_path: Path) -> None:
    graph_tree(tmp_path)
    write_tree(tmp_path, {"docs/how-to/x.md": card(requires=["x"])})
    result = run_cardbook(["graph", "--format", "json"], tmp_path)
    assert result.returncode == EXIT_OK
    assert len(json.loads(result.stdout)["cards"]) == 4
    assert result.stderr == "note: 1 error in the cards; run `cardbook check`\n"


def test_next(tmp_path: Path) -> None:
    result = run_cardbook(["next"], graph_tree(tmp_path))
    assert (result.returncode, result.stderr) == (EXIT_OK, "")
    assert result.stdout == (
        "Goals (1):\n"
        "  [ ] goal: Goal (active)\n"
        "\n"
        "Leaves, ready to work on (1):\n"
        "  [ ] step: Step (active)\n"
        "\n"
        "Chain of goal:\n"
        "  [ ] goal: Goal (active)\n"
        "      [ ] step: Step (active)\n"
        "          [x] base: Base (done)\n"
    )


# bad input through the installed command ---------------------------------------------------


def billion_laughs() -> str:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 10):
        name, previous = chr(ord("a") + index), chr(ord("a") + index - 1)
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "---\n" + "\n".join(levels) + "\n---\n"


DEPTH = 100_000
BAD_INPUT = [
    pytest.param(
        "# Title\n\nNo frontmatter here.\n",
        "1: error: no frontmatter: a card starts with YAML between '---' lines [frontmatter-yaml]",
        id="no-frontmatter",
    ),
    pytest.param(
        "---\ntitle: T\nmodified: 2026-01-01\n\n# Body\n",
        "1: error: frontmatter opened with '---' is never closed [frontmatter-yaml]",
        id="unclosed",
    ),
    pytest.param(
        "---\ntitle: [T\nmodified: 2026-01-01\n---\n",
        "3: error: invalid YAML in frontmatter: did not find expected ',' or ']' [frontmatter-yaml]",
        id="invalid-yaml",
    ),
    pytest.param(
        "---\n- title: T\n- modified: 2026-01-01\n---\n",
        "2: error: frontmatter must be a mapping of keys to values, found a list [frontmatter-yaml]",
        id="yaml-list",
    ),
    pytest.param(
        b"---\ntitle: T\nmodified: 2026-01-01\n---\n\nStra\xdfe\n",
        "6: error: not valid UTF-8 (byte 0xdf) [unreadable-page]",
        id="non-utf8",
    ),
    pytest.param(
        b"",
        "1: error: empty card: a card starts with YAML frontmatter between '---' lines [frontmatter-yaml]",
        id="empty",
    ),
    pytest.param(
        "---\ntitle: T\nmodified: 2026-01-01\nrequires:\n\t- x\n---\n",
        "5: error: invalid YAML in frontmatter: found character that cannot start any token "
        "[frontmatter-yaml]",
        id="tabs",
    ),
    pytest.param(
        '---\ntitle: !!python/object/apply:os.system ["touch pwned"]\nmodified: 2026-01-01\n---\n',
        "2: error: invalid YAML in frontmatter: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system' [frontmatter-yaml]",
        id="python-tag",
    ),
    pytest.param(
        billion_laughs(),
        "2: error: YAML anchors and aliases are not allowed in card frontmatter [frontmatter-yaml]",
        id="billion-laughs",
    ),
    pytest.param(
        "---\ntitle: " + "[" * DEPTH + "]" * DEPTH + "\nmodified: 2026-01-01\n---\n",
        "2: error: frontmatter nests deeper than 1000 levels [frontmatter-yaml]",
        id="deep-nesting",
    ),
    pytest.param(
        card(modified="2026-02-30"),
        "3: error: 'modified' must be a date like 2026-01-31, not '2026-02-30' [bad-value]",
        id="impossible-date",
    ),
    pytest.param(
        card(extra="count: !!int many"),
        "4: error: invalid YAML in frontmatter: cannot read 'many' as tag:yaml.org,2002:int: "
        "invalid literal for int() with base 10: 'many' [frontmatter-yaml]",
        id="bad-int-tag",
    ),
]


@pytest.mark.parametrize(("content", "expected"), BAD_INPUT)
def test_bad_input_is_answered_without_a_traceback(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    rel = "docs/how-to/bad.md"
    write_tree(tmp_path, {rel: content, "docs/how-to/fine.md": card()})
    start = time.monotonic()
    result = run_cardbook(["check"], tmp_path, timeout=30)
    elapsed = time.monotonic() - start
    assert_no_crash(result)
    assert result.stderr == ""
    assert result.returncode == EXIT_PROBLEMS
    assert result.stdout.splitlines()[:-1] == [f"{rel}:{expected}"]
    assert result.stdout.splitlines()[-1].endswith("checked: 1 error, 0 warnings")
    assert elapsed < 10
    assert not (tmp_path / "pwned").exists()


def test_a_symlinked_card_pointing_outside_the_tree(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "project", {"docs/how-to/fine.md": card()})
    secret = write_tree(tmp_path / "outside", {"secret.md": card()}) / "secret.md"
    (project / "docs/how-to/secret.md").symlink_to(secret)
    result = run_cardbook(["check"], project)
    assert_no_crash(result)
    assert result.returncode == EXIT_PROBLEMS
    assert result.stdout.splitlines() == [
        f"docs/how-to/secret.md:1: error: symlink leads outside the project to {secret.resolve()} "
        "[unreadable-page]",
        "1 card checked: 1 error, 0 warnings",
    ]


def test_a_symlink_loop(tmp_path: Path) -> None:
    how_to = write_tree(tmp_path, {"docs/how-to/fine.md": card()}) / "docs/how-to"
    (how_to / "loop.md").symlink_to(how_to / "loop.md")
    result = run_cardbook(["check"], tmp_path)
    assert_no_crash(result)
    assert result.stdout.splitlines()[0] == "docs/how-to/loop.md:1: error: symlink loop [unreadable-page]"


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/how-to/bom.md": b"\xef\xbb\xbf" + card(title="BOM").encode()})
    result = run_cardbook(["check"], tmp_path)
    assert (result.returncode, result.stdout) == (EXIT_OK, "1 card checked: no problems\n")


def test_a_5_mb_card_passes_quickly(tmp_path: Path) -> None:
    paragraph = "Rotate the signing keys, then restart the workers and watch the logs. " * 14 + "\n\n"
    body = "# Big card\n\n" + paragraph * (5 * 1024 * 1024 // len(paragraph) + 1)
    write_tree(tmp_path, {"docs/how-to/big.md": card(title="Big", body=body)})
    assert (tmp_path / "docs/how-to/big.md").stat().st_size > 5 * 1024 * 1024
    start = time.monotonic()
    result = run_cardbook(["check"], tmp_path)
    elapsed = time.monotonic() - start
    assert (result.returncode, result.stdout, result.stderr) == (EXIT_OK, "1 card checked: no problems\n", "")
    assert elapsed < 5, f"cardbook check took {elapsed:.2f}s on a 5 MB card"


def test_a_5_mb_frontmatter_passes(tmp_path: Path) -> None:
    notes = "notes: " + "x" * (5 * 1024 * 1024) + "\n"
    write_tree(tmp_path, {"docs/how-to/big.md": card(title="Big", extra=notes)})
    result = run_cardbook(["check"], tmp_path)
    assert (result.returncode, result.stdout) == (EXIT_OK, "1 card checked: no problems\n")


def test_a_target_the_locale_cannot_name_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    """Found by an outside probe: under an ASCII locale without Python's UTF-8 mode, a file=
    target with an accented name ended `tangle` and `check` with a UnicodeEncodeError."""
    write_tree(tmp_path, {"docs/how-to/a.md": card(body=fence("``` {.nix file=nix/ünï/x.nix}", "{ }"))})
    ascii_locale = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}
    for command in (["tangle"], ["check"], ["tangle", "--"]):
        done = run_cardbook(command, tmp_path, env=ascii_locale)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 1
        assert "cannot be named here" in done.stdout and "[file-target]" in done.stdout
    assert not (tmp_path / "nix").exists()
    assert run_cardbook(["tangle"], tmp_path).returncode == 0  # a UTF-8 locale names it


@pytest.mark.parametrize("kind", ["folder", "named pipe", "symlink to nothing"])
@pytest.mark.parametrize("command", [["tangle"], ["check"], ["check", "--"], ["next"]])
def test_a_mkdocs_yml_that_is_no_file_is_a_usage_error(tmp_path: Path, kind: str, command: list[str]) -> None:
    """Found by an outside probe: it was taken for "no mkdocs.yml", and the run went on with the
    default options (card roots, output roots) instead of the project's."""
    write_tree(tmp_path, {"docs/how-to/a.md": card(), "mkdocs.yml": ""})
    config = tmp_path / "mkdocs.yml"
    config.unlink()
    {"folder": config.mkdir, "named pipe": lambda: os.mkfifo(config)}.get(
        kind, lambda: config.symlink_to(tmp_path / "gone.yml")
    )()
    done = run_cardbook(command, tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    reason = f"mkdocs.yml is a {kind}: cardbook reads its options from a file"
    assert done.stderr == f"mkdocs.yml:1: error: {reason} [usage]\n"


def test_a_config_file_given_that_is_no_file_says_what_it_is(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/how-to/a.md": card()})
    os.mkfifo(tmp_path / "pipe.yml")
    for extra in ([], ["--"]):
        done = run_cardbook(["tangle", "-f", "pipe.yml", *extra], tmp_path)
        expected = "pipe.yml:1: error: config file is a named pipe [usage]\n"
        assert (done.returncode, done.stderr) == (2, expected)


def test_a_file_an_unknown_chunk_stops_is_not_called_stale(tmp_path: Path) -> None:
    """Found by an outside probe: a `<<missing>>` reference stops the file, and check also said
    it was "generated by cardbook but no card produces it any more", with a diff deleting it,
    and that the chunk referenced after it was unused."""
    body = fence("``` {.nix file=nix/m.nix}", "{", "  <<used>>", "}") + fence("``` {.nix #used}", "x = 1;")
    write_tree(tmp_path, {"docs/how-to/a.md": card(body=body)})
    assert run_cardbook(["tangle"], tmp_path).returncode == 0
    text = (tmp_path / "docs/how-to/a.md").read_text().replace("  <<used>>", "  <<missing>>\n  <<used>>")
    (tmp_path / "docs/how-to/a.md").write_text(text)
    done = run_cardbook(["check"], tmp_path)
    assert done.returncode == 1
    assert "unknown chunk <<missing>> [unknown-chunk]" in done.stdout
    assert "stale-generated" not in done.stdout and "unused-chunk" not in done.stdout, done.stdout
    assert "--- " not in done.stdout  # no diff deleting the file
    assert run_cardbook(["tangle"], tmp_path).returncode == 1
    assert (tmp_path / "nix/m.nix").exists()


def test_two_targets_joined_by_a_symlinked_folder_are_refused(tmp_path: Path) -> None:
    """Found by an outside probe: with `nix/sub -> .`, cards writing nix/x.nix and nix/sub/x.nix
    took turns over one file, every tangle rewriting it and check never clean."""
    write_tree(
        tmp_path,
        {
            "docs/how-to/a1.md": card(body=fence("``` {.nix file=nix/x.nix}", "AAA")),
            "docs/how-to/a2.md": card(body=fence("``` {.nix file=nix/sub/x.nix}", "BBB")),
        },
    )
    (tmp_path / "nix").mkdir()
    (tmp_path / "nix/sub").symlink_to(".")
    for _ in range(2):
        done = run_cardbook(["tangle"], tmp_path)
        assert done.returncode == 1
        assert "nix/sub/x.nix and nix/x.nix are one file on disk" in done.stdout, done.stdout
        assert not (tmp_path / "nix/x.nix").exists()
    assert run_cardbook(["check"], tmp_path).returncode == 1


def test_a_file_target_ending_with_a_slash_is_an_error(tmp_path: Path) -> None:
    """Found by an outside probe: `file=nix/a.nix/` was written as nix/a.nix."""
    write_tree(tmp_path, {"docs/how-to/a.md": card(body=fence("``` {.nix file=nix/a.nix/}", "{ }"))})
    done = run_cardbook(["check"], tmp_path)
    assert done.returncode == 1
    assert "file target 'nix/a.nix/' ends with /: it names a folder, not a file [file-target]" in done.stdout
    assert run_cardbook(["tangle"], tmp_path).returncode == 1
    assert not (tmp_path / "nix").exists()
