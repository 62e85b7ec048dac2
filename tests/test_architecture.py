"""The package's parts, as docs/explanation/architecture.md draws them, checked from the source.

- core: cards, graph, tangle, the write plan and safe writes, stitch: no MkDocs, no Nix, no HTML;
- nix: the core plus Nix (pure aggregator and references; the subprocess tiers apart);
- site: the core plus HTML and SVG; only its MkDocs adapter imports MkDocs;
- pipeline (core + nix, and the site's stylesheet file), start_new/start_init (cardbook
  new/init), rename (cardbook mv) and cli over all of them.
Every import counts, also those inside functions (a lazy import hides a cycle, not removes it).
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "plugins" / "cardbook"
MAX_LINES = 450  # "about 400": a module past this is doing more than one job

# Which parts each part may import from (the part is the first name under `cardbook.`).
ALLOWED = {
    "core": {"core"},
    "nix": {"core", "nix"},
    "site": {"core", "site"},
    "pipeline": {"core", "nix", "gitlog"},
    "gitlog": set(),  # one `git log`, for the dates the core may not ask a process for
    "start_new": {"core"},
    "start_init": {"core", "pipeline", "start_new"},
    "rename": {"core"},
    "cli": {"core", "nix", "site", "cli", "pipeline", "start_new", "start_init", "rename", "gitlog"},
}
# The engine adapters are the site part's doors to the rest: each runs the pipeline once per
# build (the MkDocs plugin, and the Markdown extension's build under Zensical).
EXCEPTIONS = {"cardbook.site.mkdocs_plugin": {"pipeline"}, "cardbook.site.zensical": {"pipeline"}}
# The pipeline adds the generated files other parts make: the Nix aggregator, and the
# stylesheet file of the `stylesheet:` option (site/styles.py), so check and tangle see both.
EXCEPTIONS["cardbook.pipeline"] = {"site"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Absolute names of every module imported anywhere in the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            for alias in node.names:  # `from . import x` imports the module x
                found.add(f"{target}.{alias.name}")
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
OURS = {name: {i for i in imports(path) if i in MODULES and i != name} for name, path in MODULES.items()}


def part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ""


@pytest.mark.parametrize("module", sorted(name for name in MODULES if part(name)))
def test_each_part_imports_only_what_it_stands_on(module: str) -> None:
    allowed = ALLOWED[part(module)] | EXCEPTIONS.get(module, set())
    wrong = sorted(target for target in OURS[module] if part(target) and part(target) not in allowed)
    assert not wrong, f"{module} imports {wrong}"


def test_no_import_cycles() -> None:
    sorter = graphlib.TopologicalSorter(OURS)
    try:
        list(sorter.static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_the_core_has_no_mkdocs_no_nix_and_no_html(module: str) -> None:
    everything = imports(MODULES[module])
    if part(module) == "core":
        assert not {"mkdocs", "html", "subprocess", "markdown"} & {name.split(".")[0] for name in everything}
    if module != "cardbook.site.mkdocs_plugin":
        assert not any(name.split(".")[0] == "mkdocs" for name in everything), module


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_does_several_jobs(module: str) -> None:
    lines = MODULES[module].read_text().count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines"


def test_the_architecture_page_names_every_module() -> None:
    page = (PACKAGE.parent.parent / "docs/explanation/architecture.md").read_text()
    missing = [
        name
        for name, path in MODULES.items()
        if path.name != "__init__.py" and f"{path.relative_to(PACKAGE).as_posix()}" not in page
    ]
    assert not missing, f"docs/explanation/architecture.md does not mention {missing}"
