"""The Nix tiers of `cardbook check --nix` on deliberately broken cards, and on this runbook.

These need Nix (Debian: nix-bin, installed by scripts/test when run as root). Without it they
are skipped with the reason; with CI=true they fail instead, because CI must run every tier.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import run_cardbook, write_tree

pytestmark = pytest.mark.nix
REPOSITORY = Path(__file__).resolve().parent.parent
NIX_CONFIG = "substituters =\nexperimental-features = nix-command flakes"


@pytest.fixture(autouse=True)
def needs_nix() -> None:
    if shutil.which("nix-build") is None or shutil.which("nix-instantiate") is None:
        reason = "nix is not installed (Debian: apt-get install nix-bin; scripts/test does it as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true: the Nix tier must run")
        pytest.skip(reason)


def card_text(title: str, body: str, *, build: str | None = None, requires: list[str] | None = None) -> str:
    """A card whose frontmatter is always 5 or 6 lines, so body line numbers are predictable."""
    lines = ["---", f"title: {title}", "modified: 2026-01-01"]
    lines.append(f"build: {build}" if build else "tags: [how-to]")
    if requires:
        lines.append(f"requires: [{', '.join(requires)}]")
    lines.append("---")
    return "\n".join(lines) + "\n" + body


HELLO = """\
```nix {file=nix/hello.nix}
derivation {
  name = "hello";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo hello > $out" ];
}
```

```sh {.check}
grep -q hello "$out"
```
"""


def tangled(root: Path, files: dict[str, str]) -> Path:
    write_tree(root, files)
    result = run_cardbook(["tangle"], root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def check_nix(root: Path) -> subprocess.CompletedProcess[str]:
    return run_cardbook(["check", "--nix"], root, timeout=600)


def problem_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if ": error: " in line or ": warning: " in line]


def test_a_buildable_card_is_built_and_verified(tmp_path: Path) -> None:
    root = tangled(tmp_path, {"docs/how-to/hello.md": card_text("Hello", HELLO, build="nix/hello.nix")})
    result = check_nix(root)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith("nix: 2 files parsed, 1 built, 1 verified, 0 skipped in ")


def test_a_person_builds_a_card_with_nix_build(tmp_path: Path) -> None:
    root = tangled(tmp_path, {"docs/how-to/hello.md": card_text("Hello", HELLO, build="nix/hello.nix")})
    built = subprocess.run(
        ["nix-build", "nix", "-A", "hello", "--no-out-link"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "NIX_CONFIG": NIX_CONFIG},
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert Path(built.stdout.strip()).read_text() == "hello\n"


def test_a_syntax_error_is_reported_at_the_card_line(tmp_path: Path) -> None:
    body = "Text.\n\n```nix {file=nix/broken.nix}\n{\n  a = 1;\n  b = ;\n}\n```\n"
    root = tangled(tmp_path, {"docs/how-to/broken.md": card_text("Broken", body)})
    result = check_nix(root)
    assert result.returncode == 1
    # Card: frontmatter lines 1-5, fence opens at 8, `b = ;` is card line 11, file line 6.
    assert problem_lines(result) == [
        "docs/how-to/broken.md:11: error: nix/broken.nix:6: nix: syntax error, unexpected ';' [nix-parse]"
    ]


def test_every_bad_file_is_listed_not_only_the_first(tmp_path: Path) -> None:
    first = "```nix {file=nix/a.nix}\nlet x = 1; in x + missingOne\n```\n"
    second = "```nix {file=nix/b.nix}\nlet x = 1; in x + missingTwo\n```\n"
    root = tangled(
        tmp_path,
        {
            "docs/how-to/a.md": card_text("A", first),
            "docs/how-to/b.md": card_text("B", second),
        },
    )
    result = check_nix(root)
    assert problem_lines(result) == [
        "docs/how-to/a.md:7: error: nix/a.nix:4: nix: undefined variable 'missingOne' [nix-parse]",
        "docs/how-to/b.md:7: error: nix/b.nix:4: nix: undefined variable 'missingTwo' [nix-parse]",
    ]


def test_a_typo_in_an_attribute_of_a_buildable_card(tmp_path: Path) -> None:
    body = HELLO.replace('  name = "hello";', '  name = names.helo;\n  names = { hello = "hello"; };')
    body = body.replace("derivation {", 'let names = { hello = "hello"; }; in derivation {', 1)
    body = body.replace('  names = { hello = "hello"; };\n', "")
    root = tangled(tmp_path, {"docs/how-to/hello.md": card_text("Hello", body, build="nix/hello.nix")})
    result = check_nix(root)
    assert result.returncode == 1
    # `name = names.helo;` is card line 8 (the fence opens at 6), line 5 of the generated file.
    assert problem_lines(result) == [
        "docs/how-to/hello.md:8: error: nix/hello.nix:5: nix: attribute 'helo' missing [nix-build]"
    ]


def test_a_failing_verification_is_reported_at_its_fence_with_its_output(tmp_path: Path) -> None:
    body = HELLO.replace('grep -q hello "$out"', 'echo "looking in $out"\ngrep -q goodbye "$out"')
    root = tangled(tmp_path, {"docs/how-to/hello.md": card_text("Hello", body, build="nix/hello.nix")})
    result = check_nix(root)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    # The check fence opens at card line 15; the failing grep is card line 17.
    failed = (
        'docs/how-to/hello.md:17: error: check failed: `grep -q goodbye "$out"` exited with status 1 '
        "[nix-check]"
    )
    assert failed in lines
    detail = lines[lines.index(failed) + 1]
    assert detail.startswith("    looking in /nix/store/") and detail.endswith("-hello")
    assert ", 1 built, 0 verified," in lines[-1]


def test_a_card_using_another_cards_file_must_require_it(tmp_path: Path) -> None:
    library = '```nix {file=nix/lib.nix}\n{ greeting = "hi"; }\n```\n'
    app = "```nix {file=nix/app.nix}\nlet lib = import ./lib.nix; in lib.greeting\n```\n"
    root = write_tree(
        tmp_path,
        {
            "docs/how-to/lib-card.md": card_text("Library", library),
            "docs/how-to/app-card.md": card_text("App", app),
        },
    )
    result = run_cardbook(["check"], root)
    assert result.returncode == 1
    # Nothing was tangled yet (tangle refuses while the graph is wrong): leave those out.
    assert [line for line in problem_lines(result) if "missing: the cards produce it" not in line] == [
        "docs/how-to/app-card.md:7: error: uses nix/lib.nix from lib-card but does not require it "
        "[undeclared-use]"
    ]
    fixed = card_text("App", app, requires=["lib-card"])
    write_tree(root, {"docs/how-to/app-card.md": fixed})
    assert run_cardbook(["tangle"], root).returncode == 0
    assert run_cardbook(["check"], root).returncode == 0


def test_outputs_that_need_nixpkgs_are_skipped_and_counted(tmp_path: Path) -> None:
    probe = subprocess.run(
        ["nix-instantiate", "--find-file", "nixpkgs"],
        capture_output=True,
        env={**os.environ, "NIX_CONFIG": NIX_CONFIG},
        check=False,
    )
    if probe.returncode == 0:
        pytest.skip("nixpkgs is on this machine's Nix search path: the card would really be built")
    package = (
        "```nix {file=nix/pkg.nix}\n{ lib, stdenv }:\n"
        'stdenv.mkDerivation { pname = "x"; version = "1"; }\n```\n'
    )
    root = tangled(
        tmp_path,
        {
            "docs/how-to/hello.md": card_text("Hello", HELLO, build="nix/hello.nix"),
            "docs/how-to/pkg.md": card_text("Package", package, build="nix/pkg.nix"),
        },
    )
    result = check_nix(root)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1].endswith(
        "(skipped: needs <nixpkgs>, which is not in the Nix search path)"
    )
    assert ", 1 built, 1 verified, 1 skipped in " in result.stdout.splitlines()[-1]


def test_this_runbook_parses_builds_and_verifies(tmp_path: Path) -> None:
    """The repository's own cards: every tangled file parses, the toolchain chain builds
    (wheels fetched from PyPI's file host by fixed-output derivations, a sandboxed venv)
    and its check builds this very site with the built mkdocs."""
    result = check_nix(REPOSITORY)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.splitlines()[-1]
    print(summary)
    assert " 0 built" not in summary and " 0 verified" not in summary
    assert "toolchain" not in "".join(problem_lines(result))


def test_a_function_whose_arguments_all_have_defaults_needs_no_nixpkgs(tmp_path: Path) -> None:
    body = HELLO.replace("derivation {", '{ greeting ? "hello" }:\nderivation {').replace(
        "echo hello > $out", "echo ${greeting} > $out"
    )
    root = tangled(tmp_path, {"docs/how-to/hello.md": card_text("Hello", body, build="nix/hello.nix")})
    result = check_nix(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 1 built, 1 verified, 0 skipped in " in result.stdout.splitlines()[-1]
