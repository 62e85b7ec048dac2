"""A new user's first hour: setups that used to fail silently or mislead, and the reports CI needs.

Each setup error is a configuration error (exit status 2) at the line of mkdocs.yml that
causes it, with nothing written; Nix failures caused by the machine's own Nix setup are one
line saying what to change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cardbook.nix.environment import setup_failure
from helpers import HELLO_DERIVATION, card, fence, run_cardbook, write_tree

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
MKDOCS = Path(sys.executable).parent / "mkdocs"
NIX_CONFIG = "substituters =\nexperimental-features = nix-command flakes"

SITE = """\
site_name: first hour
{extra}markdown_extensions:
  - attr_list
  - pymdownx.superfences
plugins:
  - cardbook:
      card_roots: [docs/how-to]
{options}"""

HELLO_BODY = fence("```nix {file=nix/hello.nix}", '{ greeting = "hello"; }')


def project(root: Path, *, extra: str = "", options: str = "", files: dict[str, str] | None = None) -> Path:
    tree = {
        "mkdocs.yml": SITE.format(extra=extra, options=options),
        "docs/index.md": "# Home\n",
        "docs/how-to/hello.md": card(title="Hello", body=HELLO_BODY),
    }
    return write_tree(root, tree | (files or {}))


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def line_of(root: Path, text: str) -> int:
    return (root / "mkdocs.yml").read_text().split("\n").index(text) + 1


def mkdocs_build(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [str(MKDOCS), "build", "--strict"], cwd=root, capture_output=True, text=True, env=env, timeout=120
    )


# Card roots -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["check"], ["tangle"], ["next"], ["graph"], ["stitch"]])
def test_a_card_root_with_a_typo_is_a_configuration_error(tmp_path: Path, command: list[str]) -> None:
    root = project(tmp_path, options="      output_roots: [nix]\n")
    (root / "mkdocs.yml").write_text((root / "mkdocs.yml").read_text().replace("docs/how-to]", "docs/howto]"))
    before = snapshot(root)
    result = run_cardbook(command, root)
    line = line_of(root, "      card_roots: [docs/howto]")
    assert (result.returncode, result.stdout) == (EXIT_USAGE, "")
    assert result.stderr == (
        f"mkdocs.yml:{line}: error: card root docs/howto does not exist (did you mean docs/how-to?) "
        "[config]\n"
    )
    assert snapshot(root) == before


@pytest.mark.parametrize("command", [["check"], ["tangle"], ["stale"], ["tags"]])
def test_a_docs_dir_with_a_typo_is_a_configuration_error(tmp_path: Path, command: list[str]) -> None:
    """Found by an outside probe: `docs_dir: nodocs` checked clean (exit 0), with a broken-link
    warning for every link into the docs."""
    root = project(tmp_path, options="      output_roots: [nix]\n")
    (root / "mkdocs.yml").write_text("docs_dir: doc\n" + (root / "mkdocs.yml").read_text())
    before = snapshot(root)
    result = run_cardbook(command, root)
    assert (result.returncode, result.stdout) == (EXIT_USAGE, ""), result.stderr
    assert result.stderr == "mkdocs.yml:1: error: docs_dir doc does not exist (did you mean docs?) [config]\n"
    assert snapshot(root) == before


def test_a_card_root_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "docs/how-to").rename(root / "cards")
    (root / "docs/how-to").symlink_to(root / "cards")
    result = run_cardbook(["tangle"], root)
    assert result.returncode == EXIT_USAGE
    assert f"card root docs/how-to is a symlink (to {root / 'cards'})" in result.stderr
    assert not (root / "nix").exists()


def test_no_cards_while_generated_files_are_on_disk_writes_nothing(tmp_path: Path) -> None:
    """Cards moved away (or a wrong card root): tangling would remove every generated file."""
    root = project(tmp_path)
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    (root / "docs/how-to/hello.md").rename(root / "docs/hello.md")
    before = snapshot(root)
    for command in (["check"], ["tangle"], ["tangle", "--force"]):
        result = run_cardbook(command, root)
        assert result.returncode == EXIT_USAGE, command
        assert "no cards under card_roots (docs/how-to), yet 1 files cardbook generated are on disk " in (
            result.stderr
        )
        assert "cardbook tangle" not in result.stdout  # no advice that would delete them
    assert snapshot(root) == before


def test_removing_more_than_half_of_the_generated_files_needs_force(tmp_path: Path) -> None:
    cards = {
        f"docs/how-to/c{n}.md": card(
            title=f"C{n}", body=fence(f"```nix {{file=nix/c{n}.nix}}", f"{{ n = {n}; }}")
        )
        for n in range(4)
    }
    root = project(tmp_path, files=cards)
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    for n in range(3):
        (root / f"docs/how-to/c{n}.md").unlink()
    before = snapshot(root)
    refused = run_cardbook(["tangle"], root)
    assert refused.returncode == EXIT_PROBLEMS
    assert "refusing to remove 3 of 5 generated files in one run (nix/c0.nix, nix/c1.nix, nix/c2.nix)" in (
        refused.stdout
    )
    assert snapshot(root) == before
    forced = run_cardbook(["tangle", "--force"], root)
    assert forced.returncode == EXIT_OK
    assert sorted(path.name for path in (root / "nix").iterdir()) == ["c3.nix", "hello.nix"]


def test_removing_half_or_fewer_needs_no_force(tmp_path: Path) -> None:
    extra = {"docs/how-to/more.md": card(title="More", body=fence("```nix {file=nix/more.nix}", "{ }"))}
    root = project(tmp_path, files=extra)
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    (root / "docs/how-to/more.md").unlink()
    result = run_cardbook(["tangle"], root)
    assert (result.returncode, result.stdout) == (EXIT_OK, "1 file: 0 written, 1 unchanged, 1 removed\n")


# The site's setup -------------------------------------------------------------------------


def test_cards_with_attribute_fences_need_superfences(tmp_path: Path) -> None:
    root = project(tmp_path)
    config = (root / "mkdocs.yml").read_text().replace("  - pymdownx.superfences\n", "")
    (root / "mkdocs.yml").write_text(config)
    before = snapshot(root)
    expected = (
        "mkdocs.yml:2: error: the cards have code blocks with attributes ({file=...}, {#id}, {.check}), "
        "which render only with the pymdownx.superfences extension: add it to markdown_extensions"
    )
    result = run_cardbook(["tangle"], root)
    assert result.returncode == EXIT_USAGE and result.stderr.startswith(expected)
    built = mkdocs_build(root)
    assert built.returncode != 0 and expected in built.stderr
    assert snapshot(root) == before  # neither wrote nix/ nor site/


def test_a_runbook_without_attribute_fences_needs_no_superfences(tmp_path: Path) -> None:
    plain = {"docs/how-to/hello.md": card(title="Hello", body="```sh\necho hi\n```\n")}
    root = project(tmp_path, files=plain)
    (root / "mkdocs.yml").write_text(
        (root / "mkdocs.yml").read_text().replace("  - pymdownx.superfences\n", "")
    )
    assert run_cardbook(["check"], root).returncode == EXIT_OK


@pytest.mark.parametrize(
    ("extra", "options", "key", "message"),
    [
        (
            "site_dir: nix/site\n",
            "      output_roots: [nix]\n",
            "site_dir: nix/site",
            "site_dir nix/site is inside output root nix: the site's files would mix with the generated "
            "files",
        ),
        (
            "",
            "      output_roots: [site/nix]\n",
            "      output_roots: [site/nix]",
            "output root site/nix is inside site_dir site: every site build empties site_dir",
        ),
    ],
)
def test_site_dir_and_output_roots_must_not_nest(
    tmp_path: Path, extra: str, options: str, key: str, message: str
) -> None:
    root = project(tmp_path, extra=extra, options=options)
    (root / "docs/how-to/hello.md").write_text(
        card(title="Hello", body=HELLO_BODY.replace("nix/", "site/nix/"))
    )
    before = snapshot(root)
    result = run_cardbook(["tangle"], root)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.startswith(f"mkdocs.yml:{line_of(root, key)}: error: {message}")
    built = mkdocs_build(root)
    assert built.returncode != 0 and message in built.stderr
    assert snapshot(root) == before


# Reports for CI ---------------------------------------------------------------------------


def drifted(root: Path) -> Path:
    project(root)
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    path = root / "docs/how-to/hello.md"
    path.write_text(path.read_text().replace('"hello"', '"hi, there"'))
    return root


def test_github_format_prints_workflow_annotations(tmp_path: Path) -> None:
    root = drifted(tmp_path)
    (root / "docs/how-to/lonely.md").write_text(card(title="Lonely, 100%", status="active"))
    result = run_cardbook(["check", "--format", "github"], root)
    assert result.returncode == EXIT_PROBLEMS
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert annotations == [
        "::error file=docs/how-to/hello.md,line=6,title=cardbook drift::nix/hello.nix:4 is out of date with "
        "this card; run `cardbook tangle`",
        "::notice file=docs/how-to/lonely.md,line=4,title=cardbook lone-card::open card is required by "
        "nothing "
        "and requires nothing",
    ]
    assert "+++ nix/hello.nix (from the cards)" in result.stdout  # the diff stays in the log


def test_github_annotations_name_files_from_the_working_directory(tmp_path: Path) -> None:
    """A runbook in a subfolder of the repository: annotations need repository paths."""
    drifted(tmp_path / "runbook")
    result = run_cardbook(["check", "-f", "runbook/mkdocs.yml", "--format", "github"], tmp_path)
    assert result.returncode == EXIT_PROBLEMS
    assert result.stdout.count("::error file=runbook/docs/how-to/hello.md,line=6,") == 1


def test_github_annotations_escape_what_would_end_the_command(tmp_path: Path) -> None:
    from cardbook.cli.main import github_annotation
    from cardbook.core.problems import error

    line = github_annotation(error("docs/a,b:c.md", 3, "50% done", "first\nsecond", rule="drift"))
    assert line == "::error file=docs/a%2Cb%3Ac.md,line=3,title=cardbook drift::50%25 done%0Afirst%0Asecond"


def test_json_carries_each_drift_diff(tmp_path: Path) -> None:
    root = drifted(tmp_path)
    result = run_cardbook(["check", "--format", "json"], root)
    assert result.returncode == EXIT_PROBLEMS
    document = json.loads(result.stdout)
    assert [entry["path"] for entry in document["drift"]] == ["nix/hello.nix"]
    assert '+{ greeting = "hi, there"; }' in document["drift"][0]["diff"]
    assert "nix" not in document  # no Nix tier was asked for


def test_no_skip_needs_nix(tmp_path: Path) -> None:
    result = run_cardbook(["check", "--no-skip"], project(tmp_path))
    assert result.returncode == EXIT_USAGE and "--no-skip goes with --nix" in result.stderr


# Nix: the machine's setup, and messages about the cards --------------------------------------


@pytest.mark.parametrize(
    ("stderr", "start"),
    [
        (
            "warning: x\nerror: the group 'nixbld' specified in 'build-users-group' does not exist\n",
            "Nix is set up to build as the users of group 'nixbld', which does not exist",
        ),
        (
            "error: cannot connect to socket at '/nix/var/nix/daemon-socket/socket': "
            "No such file or directory",
            "the Nix daemon is not running (/nix/var/nix/daemon-socket/socket is missing)",
        ),
        (
            "error: could not set permissions on '/nix/var/nix/profiles/per-user' to 755: "
            "Operation not permitted",
            "no permission to use the Nix store under /nix",
        ),
        (
            "error: creating directory '/nix/store': Permission denied",
            "no permission to use the Nix store under /nix",
        ),
    ],
)
def test_nix_setup_failures_are_recognised(stderr: str, start: str) -> None:
    advice = setup_failure(stderr)
    assert advice is not None and advice.startswith(start)


def test_card_errors_are_not_setup_failures() -> None:
    assert setup_failure("error: undefined variable 'x'\n       at /tmp/a.nix:1:1:") is None
    assert setup_failure("error: opening file '/home/a/nix/b.nix': No such file or directory") is None


needs_nix = pytest.mark.skipif(
    shutil.which("nix-build") is None and os.environ.get("CI") != "true",
    reason="nix is not installed (scripts/test installs it as root)",
)

BUILDABLE = f"""\
---
title: Hello
modified: 2026-01-01
build: nix/hello.nix
---
{
    fence("```nix {file=nix/hello.nix}", *HELLO_DERIVATION)
}
{fence("```sh {.check}", 'test -s "$out"', 'test -e "$out.missing"')}"""


def nix_run(root: Path, *args: str, nix_config: str = NIX_CONFIG) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NIX_CONFIG": nix_config, "NO_COLOR": "1"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "cardbook"), "check", "--nix", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@needs_nix
def test_a_missing_build_users_group_is_one_line_saying_what_to_change(tmp_path: Path) -> None:
    root = project(tmp_path, files={"docs/how-to/hello.md": BUILDABLE})
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    config = NIX_CONFIG + "\nbuild-users-group = cardbook-test-no-such-group"
    result = nix_run(root, nix_config=config)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.splitlines() == [
        "error: nix: skipped: Nix is set up to build as the users of group 'cardbook-test-no-such-group', "
        "which does not exist: create that group and its build users (Debian: apt-get install "
        "nix-setup-systemd), or build single-user as root with `build-users-group =` in NIX_CONFIG (it "
        "overrides nix.conf, and sets the group now) (see the Nix setup page)"
    ]
    assert "docs/how-to" not in result.stdout  # not Nix's raw error at every card


@needs_nix
def test_a_missing_daemon_is_one_line(tmp_path: Path) -> None:
    root = project(tmp_path, files={"docs/how-to/hello.md": BUILDABLE})
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    socket = tmp_path / "no-daemon" / "socket"
    env_config = NIX_CONFIG
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cardbook"), "check", "--nix"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "NIX_CONFIG": env_config, "NIX_REMOTE": f"unix://{socket}"},
        timeout=600,
    )
    assert result.returncode == EXIT_USAGE
    assert result.stderr.startswith("error: nix: skipped: the Nix daemon is not running (")


@needs_nix
def test_nix_messages_name_the_generated_file_not_a_temporary_copy(tmp_path: Path) -> None:
    body = fence("```nix {file=nix/a.nix}", "{ a = 1; a = 2; }")
    root = project(tmp_path, files={"docs/how-to/hello.md": card(title="A", body=body)})
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    result = nix_run(root)
    assert result.returncode == EXIT_PROBLEMS
    assert (
        "docs/how-to/hello.md:6: error: nix/a.nix:4: nix: attribute 'a' already defined at nix/a.nix:4:3 "
        "[nix-parse]"
        in (result.stdout.splitlines())
    )
    assert "cardbook-parse-" not in result.stdout + result.stderr


@needs_nix
def test_a_failing_check_names_the_command_even_when_it_prints_nothing(tmp_path: Path) -> None:
    root = project(tmp_path, files={"docs/how-to/hello.md": BUILDABLE})
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    result = nix_run(root, "--format", "json")
    assert result.returncode == EXIT_PROBLEMS
    document = json.loads(result.stdout)
    (problem,) = document["problems"]
    # the check fence opens at card line 15: the second command is line 17
    assert (problem["path"], problem["line"]) == ("docs/how-to/hello.md", 17)
    assert problem["message"] == 'check failed: `test -e "$out.missing"` exited with status 1'
    assert problem["detail"] == "(the block printed nothing)"
    nix = document["nix"]
    assert (nix["parsed"], nix["built"], nix["verified"], nix["skipped"]) == (2, ["hello"], [], [])


NEEDS_NIXPKGS = """\
---
title: Uses nixpkgs
modified: 2026-01-01
build: nix/pkg.nix
---
```nix {file=nix/pkg.nix}
{ stdenv }: stdenv.mkDerivation { name = "x"; }
```
"""


@needs_nix
def test_no_skip_makes_a_card_that_cannot_be_built_here_fail(tmp_path: Path) -> None:
    root = project(tmp_path, files={"docs/how-to/hello.md": NEEDS_NIXPKGS})
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    if nix_run(root).stdout.count("1 skipped") == 0:
        pytest.skip("this machine has nixpkgs in its search path: nothing is skipped")
    relaxed = nix_run(root, "--format", "json")
    assert relaxed.returncode == EXIT_OK
    assert json.loads(relaxed.stdout)["nix"]["skipped"] == [
        {"card": "hello", "reason": "needs <nixpkgs>, which is not in the Nix search path"}
    ]
    strict = nix_run(root, "--no-skip")
    assert strict.returncode == EXIT_PROBLEMS
    assert (
        "docs/how-to/hello.md:4: error: not built: needs <nixpkgs>, which is not in the Nix search path "
        "(--no-skip makes this an error) [not-built]"
    ) in strict.stdout.splitlines()


# Found by an outside probe of the first hour ----------------------------------------------


@pytest.mark.parametrize("site_dir", ["{root}/nix/x", "../{name}/nix/site", "nixlink/site", "."])
def test_site_dir_in_an_output_root_however_it_is_written(tmp_path: Path, site_dir: str) -> None:
    root = project(tmp_path / "book")
    (root / "nixlink").symlink_to("nix")
    written = site_dir.format(root=root, name=root.name)
    (root / "mkdocs.yml").write_text(f"site_dir: {written}\n" + (root / "mkdocs.yml").read_text())
    result = run_cardbook(["check"], root)
    assert result.returncode == EXIT_USAGE
    assert "mkdocs.yml:1: error: " in result.stderr and "inside" in result.stderr


def test_check_of_a_generated_folder_reports_the_drift_there(tmp_path: Path) -> None:
    root = drifted(tmp_path)
    for paths in (["nix"], ["nix/hello.nix"], ["docs"]):
        result = run_cardbook(["check", *paths], root)
        assert result.returncode == EXIT_PROBLEMS, paths
        assert "nix/hello.nix:4 is out of date with this card" in result.stdout, paths


def test_new_refuses_a_card_root_with_a_typo(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK  # generated files exist: not a new book
    config = (root / "mkdocs.yml").read_text().replace("[docs/how-to]", "[runbooks/ops]")
    (root / "mkdocs.yml").write_text(config)
    before = snapshot(root)
    result = run_cardbook(["new", "x"], root)
    assert (
        result.returncode == EXIT_USAGE and "card root runbooks/ops does not exist [config]" in result.stderr
    )
    assert snapshot(root) == before


def test_a_duplicate_stem_is_reported_as_such_not_as_no_cards(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    write_tree(root, {"docs/hello.md": "# Another hello\n"})
    result = run_cardbook(["check"], root)
    assert result.returncode == EXIT_PROBLEMS
    assert "docs/how-to/hello.md:1: error: duplicate stem 'hello'" in result.stdout
    assert "no cards under card_roots" not in result.stderr


def test_commands_run_from_a_subfolder_name_the_runbooks_config(tmp_path: Path) -> None:
    root = project(tmp_path)
    for command in (["check"], ["tangle"], ["next"], ["new", "x"]):
        result = run_cardbook(command, root / "docs/how-to")
        assert result.returncode == EXIT_USAGE, command
        assert result.stderr.startswith(
            "../../mkdocs.yml:1: error: this runbook's config is ../../mkdocs.yml, not in this folder"
        ), command
    assert not (root / "docs/how-to/docs").exists()


def test_a_check_block_without_build_never_runs_and_says_so(tmp_path: Path) -> None:
    body = fence("```sh {.check}", "false")
    root = project(tmp_path, files={"docs/how-to/lonely.md": card(title="L", body=body)})
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    result = run_cardbook(["check"], root)
    assert "docs/how-to/lonely.md:5: warning: this {.check} block never runs" in result.stdout


def test_build_needs_every_writer_of_its_file_not_only_a_chunk_author(tmp_path: Path) -> None:
    files = {
        "docs/how-to/port.md": card(title="Port", body=fence("```nix {#port}", "5432")),
        "docs/how-to/backup.md": card(
            title="Backup", requires=["port"], body=fence("```nix {file=nix/b.nix}", "<<port>>")
        ),
        "docs/how-to/unit.md": card(title="Unit", requires=["port"], extra="build: nix/b.nix"),
    }
    result = run_cardbook(["check"], project(tmp_path, files=files))
    assert (
        "build: nix/b.nix is written by backup, which this card does not require [build-key]" in result.stdout
    )
    # a problem about the file is at the fence that names it, not at the chunk it starts with
    assert "docs/how-to/backup.md:6: error: nix/b.nix: missing: the cards produce it" in result.stdout


@needs_nix
def test_nix_setup_advice_names_nix_config_when_it_sets_the_group(tmp_path: Path) -> None:
    root = project(tmp_path, files={"docs/how-to/hello.md": BUILDABLE})
    assert run_cardbook(["tangle"], root).returncode == EXIT_OK
    config = NIX_CONFIG + "\nbuild-users-group = cardbook-test-no-such-group"
    result = nix_run(root, "--format", "json", nix_config=config)
    assert result.returncode == EXIT_USAGE
    assert "`build-users-group =` in NIX_CONFIG (it overrides nix.conf" in result.stderr
    document = json.loads(result.stdout)
    assert document["cards"] == 1 and document["nix"]["unavailable"].startswith("Nix is set up")
    github = nix_run(root, "--format", "github", nix_config=config)
    assert github.stdout.startswith("::error title=cardbook::nix: skipped: Nix is set up")
