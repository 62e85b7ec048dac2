"""`cardbook check` on a runbook that Zensical would build: the `zensical` rule."""

from __future__ import annotations

from pathlib import Path

from cardbook.core.engines import engine_problems
from cardbook.core.settings import load_settings
from helpers import run_cardbook, write_tree

PLUGIN_ONLY = "site_name: x\nmarkdown_extensions:\n  - toc\nplugins:\n  - cardbook\n"
BOTH = "site_name: x\nmarkdown_extensions:\n  - toc\n  - cardbook\nplugins:\n  - cardbook\n"
CARD = "---\ntitle: A\nmodified: 2026-01-01\n---\n# A\n"


def problems(root: Path, *, installed: bool) -> list[str]:
    settings = load_settings(root / "mkdocs.yml")
    return [problem.format() for problem in engine_problems(settings, zensical_installed=installed)]


def test_the_plugin_without_the_extension_is_named_only_where_zensical_is_installed(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"mkdocs.yml": PLUGIN_ONLY, "docs/how-to/a.md": CARD})
    assert problems(root, installed=False) == []
    (found,) = problems(root, installed=True)
    assert found.startswith("mkdocs.yml:2: info: Zensical is installed and ignores the cardbook plugin")
    assert found.endswith("[zensical]") and "add `- cardbook` under markdown_extensions" in found


def test_with_the_extension_in_mkdocs_yml_nothing_is_said(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"mkdocs.yml": BOTH, "docs/how-to/a.md": CARD})
    assert problems(root, installed=True) == []


def test_a_zensical_toml_is_read_for_the_extension(tmp_path: Path) -> None:
    toml = '[project]\nsite_name = "x"\n\n[project.markdown_extensions]\ntoc = {}\n'
    root = write_tree(tmp_path, {"mkdocs.yml": BOTH, "zensical.toml": toml, "docs/how-to/a.md": CARD})
    (found,) = problems(root, installed=False)
    assert found.startswith("zensical.toml:4: info: Zensical reads zensical.toml before mkdocs.yml")
    (root / "zensical.toml").write_text(toml + "cardbook = {}\n")
    (found,) = problems(root, installed=False)
    assert "writes no generated file (run `cardbook tangle` first)" in found
    (root / "zensical.toml").write_text("[project\n")
    (found,) = problems(root, installed=False)
    assert found.startswith("zensical.toml:1: info: cannot read zensical.toml")


def test_the_rule_can_be_turned_off_and_never_fails_the_check(tmp_path: Path) -> None:
    toml = '[project]\nsite_name = "x"\n'
    root = write_tree(tmp_path, {"mkdocs.yml": PLUGIN_ONLY, "zensical.toml": toml, "docs/how-to/a.md": CARD})
    done = run_cardbook(["check", "--strict"], root)
    assert done.returncode == 0 and "[zensical]" in done.stdout, done.stdout + done.stderr
    off = PLUGIN_ONLY.replace("  - cardbook\n", "  - cardbook:\n      rules: {zensical: 'off'}\n")
    (root / "mkdocs.yml").write_text(off)
    done = run_cardbook(["check"], root)
    assert done.returncode == 0 and "[zensical]" not in done.stdout, done.stdout + done.stderr


def test_wrong_options_of_the_extension_are_configuration_errors(tmp_path: Path) -> None:
    """Found by an outside probe: Zensical stopped on a bare TypeError or KeyError, while the
    check and MkDocs said nothing."""
    for options, says in (
        ("{config_file: 42}", "config_file must be a path, not 42"),
        ("{bogus: 1}", "has no option 'bogus': it takes config_file only"),
        ("[a, b]", "options must be a mapping"),
    ):
        config = PLUGIN_ONLY.replace("  - toc\n", f"  - toc\n  - cardbook: {options}\n")
        folder = tmp_path / options.strip("{}[]").replace(" ", "").replace(":", "-")
        root = write_tree(folder, {"mkdocs.yml": config, "docs/how-to/a.md": CARD})
        done = run_cardbook(["check"], root)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "mkdocs.yml:2: error: the cardbook Markdown extension" in done.stderr and says in done.stderr


def test_a_zensical_toml_of_odd_shape_gives_no_traceback(tmp_path: Path) -> None:
    for toml in ("[project]\nmarkdown_extensions = 5\n", "project = 3\n", "[project.markdown_extensions]\n"):
        files = {"mkdocs.yml": BOTH, "zensical.toml": toml, "docs/how-to/a.md": CARD}
        root = write_tree(tmp_path / str(len(toml)), files)
        (found,) = problems(root, installed=False)
        assert "without `cardbook` under [project.markdown_extensions]" in found


def test_an_extension_config_file_that_is_no_file_is_a_configuration_error(tmp_path: Path) -> None:
    """Found by an outside probe: the check said nothing, and Zensical stopped on it."""
    config = PLUGIN_ONLY.replace("  - toc\n", "  - toc\n  - cardbook: {config_file: nowhere.yml}\n")
    root = write_tree(tmp_path, {"mkdocs.yml": config, "docs/how-to/a.md": CARD})
    done = run_cardbook(["check"], root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "config_file 'nowhere.yml' is no file in the project" in done.stderr


def test_a_site_dir_on_the_docs_or_a_card_root_is_refused(tmp_path: Path) -> None:
    """Found by an outside probe: `site_dir: docs/how-to` checked clean, then Zensical emptied
    the card root before any Markdown ran: every card was deleted."""
    for number, site_dir in enumerate(("docs/how-to", "docs", "docs/assets", "docs/how-to/..", "public")):
        config = f"site_name: x\nsite_dir: {site_dir}\nplugins:\n  - cardbook\n"
        root = write_tree(tmp_path / str(number), {"mkdocs.yml": config, "docs/how-to/a.md": CARD})
        done = run_cardbook(["check"], root)
        if site_dir == "public":
            assert done.returncode == 0, done.stdout + done.stderr
            continue
        assert done.returncode == 2, (site_dir, done.stdout + done.stderr)
        assert "mkdocs.yml:2: error: site_dir docs" in done.stderr and "[config]" in done.stderr
