"""Every rule cardbook reports by, with its id, default severity, an example and the fix.

Each problem carries the id of its rule (`path:line: warning: ... [lone-card]`). A runbook sets
the severity of a rule it sees differently under the plugin's `rules:` option; rules that guard
a person's files or the generated output are fixed (`changeable=False`): turning them down
would let cardbook write over work or publish wrong files. The reference page
docs/reference/rules.md is checked against this table (tests/test_rules.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from .problems import Problem

SEVERITIES = ("error", "warning", "info", "off")


class Rule:
    """One rule of the table below; read-only by convention (a plain class: see core/record.py)."""

    __slots__ = ("id", "severity", "changeable", "group", "finds", "example", "fix")

    def __init__(
        self, id: str, severity: str, changeable: bool, group: str, finds: str, example: str, fix: str
    ) -> None:
        self.id = id
        self.severity = severity  # the default: error, warning, info or off
        self.changeable = changeable
        self.group = group
        self.finds = finds
        self.example = example
        self.fix = fix

    def __repr__(self) -> str:
        return f"Rule({self.id!r}, {self.severity!r})"


_CARDS, _GRAPH, _PAGES, _TANGLE, _FILES, _NIX, _SETUP = (
    "Cards",
    "Dependency graph",
    "Pages and links",
    "Code blocks and tangling",
    "Generated files",
    "Nix",
    "Setup and commands",
)

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        # Cards -------------------------------------------------------------------------------------
        Rule("unreadable-page", "error", False, _CARDS,
             "a page that cannot be read as UTF-8 text",
             "docs/how-to/a.md:1: error: not valid UTF-8 (byte 0xff)",
             "save the file as UTF-8; replace a named pipe, a broken or outside symlink by a file"),
        Rule("merge-conflict", "error", False, _CARDS,
             "a `<<<<<<<` or `>>>>>>>` line left by a merge",
             "docs/how-to/a.md:7: error: unresolved merge conflict (a <<<<<<< or >>>>>>> line): resolve it",
             "resolve the conflict and remove the markers"),
        Rule("frontmatter-yaml", "error", False, _CARDS,
             "a card without frontmatter, or frontmatter that is not YAML",
             "docs/how-to/a.md:3: error: invalid YAML: mapping values are not allowed here",
             "start the card with YAML between two `---` lines"),
        Rule("required-key", "error", True, _CARDS,
             "a key a card needs (`title`, `modified`) or the page rules require is missing",
             "docs/how-to/a.md:1: error: missing required key 'modified' (a date like 2026-01-31)",
             "add the key; the page rules are set under `frontmatter: required`"),
        Rule("bad-value", "error", False, _CARDS,
             "a frontmatter value of the wrong kind: a title that is no text, a date more than two "
             "days in the future, an unknown status",
             "docs/how-to/a.md:4: error: unknown status 'wip': allowed are blocked, done, todo",
             "write the value as the message says; statuses are declared under `statuses`"),
        Rule("empty-status", "error", False, _CARDS,
             "`status:` with no value, while `statuses` gives the empty status no meaning",
             "docs/how-to/a.md:4: error: empty 'status': write one of done, todo, or remove the key",
             "write a status, remove the key, or declare the empty status: `statuses: {'': closed}`"),
        Rule("duplicate-stem", "error", False, _CARDS,
             "two pages with one file name (stem) in the docs tree",
             "docs/how-to/a.md:1: error: duplicate stem 'a': also docs/ref/a.md (stems must be unique)",
             "rename one: requires and wiki-links name pages by stem (`cardbook mv`)"),
        # Dependency graph --------------------------------------------------------------------------
        Rule("missing-requirement", "error", True, _GRAPH,
             "a `requires` entry that names no card (a typo, a plain page, a card in another folder)",
             "docs/how-to/b.md:5: error: requires 'nix-stup', which does not exist; did you mean "
             "'nix-setup'?",
             "name an existing card by its stem; a plain page becomes a card with a `status`"),
        Rule("cycle", "error", False, _GRAPH,
             "cards that require each other, or themselves",
             "docs/how-to/a.md:5: error: dependency cycle: a -> b -> a",
             "remove one `requires` entry of the cycle"),
        Rule("unfinished-prerequisite", "error", True, _GRAPH,
             "a done card that requires an open card",
             "docs/how-to/b.md:5: error: done card requires 'a', which is still open (todo): its "
             "prerequisites are not satisfied",
             "finish the prerequisite first, or reopen the card"),
        Rule("duplicate-requires", "warning", True, _GRAPH,
             "one card named twice in a `requires` list",
             "docs/how-to/b.md:6: warning: requires 'a' twice",
             "remove the second entry"),
        Rule("redundant-requires", "info", True, _GRAPH,
             "a prerequisite that another prerequisite already requires",
             "docs/how-to/c.md:6: info: requires 'a', which is already required through 'b'",
             "drop the entry, or keep it when the author wants it said"),
        Rule("lone-card", "info", True, _GRAPH,
             "an open card that requires nothing and that nothing requires: a goal that is also a leaf",
             "docs/how-to/a.md:4: info: open card is required by nothing and requires nothing",
             "nothing, when it is a small goal; otherwise link it into its chain"),
        # Pages and links ---------------------------------------------------------------------------
        Rule("broken-link", "warning", True, _PAGES,
             "a wiki-link to a page that does not exist, or to a heading the page does not have",
             "docs/how-to/a.md:12: warning: wiki-link [[nix-setup]] matches no page (did you mean "
             "'nix-set-up'?)",
             "fix the name or the heading; list targets outside the site under `links: ignore`"),
        Rule("ambiguous-link", "warning", True, _PAGES,
             "a wiki-link whose stem names several pages",
             "docs/how-to/a.md:12: warning: wiki-link [[setup]] is ambiguous: docs/a/setup.md, "
             "docs/b/setup.md share the stem 'setup'",
             "rename one page, or write the folder: `[[a/setup]]`"),
        Rule("link-folder", "warning", True, _PAGES,
             "a path wiki-link `[[folder/stem]]` whose folder is wrong",
             "docs/how-to/a.md:12: warning: wiki-link [[ref/setup]] names a folder the page is not in (it "
             "is docs/how-to/setup.md)",
             "write the page's real folder, or the stem alone"),
        Rule("path-link", "off", True, _PAGES,
             "any path wiki-link `[[folder/stem]]`, for teams whose editor follows stems only",
             "docs/how-to/a.md:12: warning: wiki-link [[ref/setup]] names a folder: write [[setup]]",
             "write the stem alone"),
        Rule("link-spaces", "warning", True, _PAGES,
             "a wiki-link with spaces inside its brackets",
             "docs/how-to/a.md:12: warning: wiki-link [[ setup ]] has spaces inside the brackets",
             "write `[[setup]]`"),
        Rule("card-only-key", "warning", True, _PAGES,
             "a card key (`status`, `requires`, `build`) on a page outside the card roots, where it means "
             "nothing",
             "docs/reference/a.md:4: warning: 'status' only means something on a card",
             "remove it, or move the page under a card root"),
        Rule("index-links", "off", True, _PAGES,
             "a page of a section that the section's index page does not link",
             "docs/how-to/b.md:1: warning: not linked from its section's index page "
             "docs/how-to/how-to.md: add [[b]] there",
             "link the page from the index"),
        Rule("orphan-page", "off", True, _PAGES,
             "a page that no page links to, no card requires and no `nav` entry lists",
             "docs/how-to/old.md:1: warning: orphan page: no page links to it and no nav entry lists it",
             "link it from a page of its section, or delete it"),
        Rule("modified-stale", "off", True, _PAGES,
             "a page whose last commit is later than its `modified` date (needs git)",
             "docs/how-to/a.md:3: warning: modified: 2026-01-02, but the page was last committed on "
             "2026-03-04",
             "set `modified` to the date of the change (`cardbook stitch` does it for the cards it edits)"),
        Rule("unrendered-callout", "warning", True, _PAGES,
             "an Obsidian callout (`> [!note]`) that the configured Markdown extensions show as raw text",
             "docs/how-to/a.md:9: warning: callout [!note] is shown as raw text: add `pymdownx.quotes: "
             "{callouts: true}` to markdown_extensions",
             "add the extension the message names under `markdown_extensions`"),
        Rule("zensical", "info", True, _PAGES,
             "a runbook Zensical would build without cardbook: `zensical.toml` without the `cardbook` "
             "Markdown extension, or the plugin without the extension while Zensical is installed; with "
             "the extension in `zensical.toml`, what Zensical still leaves out; a `stylesheet:` file "
             "that `extra_css` does not list (Zensical pages then carry the stylesheet inline)",
             "mkdocs.yml:12: info: Zensical is installed and ignores the cardbook plugin: built with it, "
             "this runbook shows no card header, resolved wiki-link, graph or overview; add `- cardbook` "
             "under markdown_extensions (MkDocs keeps using the plugin)",
             "list `cardbook` under `markdown_extensions` (docs/reference/engines.md)"),
        # Code blocks and tangling ------------------------------------------------------------------
        Rule("fence-attributes", "error", False, _TANGLE,
             "a code fence whose `{...}` attributes cannot be read, name a thing twice, or hold characters "
             "that split lines",
             "docs/how-to/a.md:9: error: the fence has file= twice: keep one",
             "write one `{.lang #id file=path}` per fence"),
        Rule("unclosed-fence", "error", False, _TANGLE,
             "a tangled code block that is never closed",
             "docs/how-to/a.md:9: error: code fence is never closed",
             "close the fence"),
        Rule("unclosed-code", "warning", True, _TANGLE,
             "a code block (not tangled) that is never closed",
             "docs/how-to/a.md:9: warning: code fence is never closed",
             "close the fence"),
        Rule("braceless-file", "warning", True, _TANGLE,
             "`file=` written outside braces, which nothing tangles",
             "docs/how-to/a.md:9: warning: file= outside braces is not tangled and breaks rendering",
             "write ```nix {file=...}"),
        Rule("quoted-fence", "warning", True, _TANGLE,
             "a tangled fence inside a `>` quote or a callout",
             "docs/how-to/a.md:9: warning: this fence is inside a quote",
             "move the block out of the quote"),
        Rule("file-target", "error", False, _TANGLE,
             "a `file=` target cardbook will not write: outside the output roots, too long, reserved, "
             "written under two names",
             "docs/how-to/a.md:9: error: file target '../x.nix' is outside nix/",
             "write a relative path inside an output root"),
        Rule("block-order", "error", False, _TANGLE,
             "two cards adding to one file or chunk with no `requires` between them",
             "docs/how-to/b.md:9: error: a and b both add to nix/x.nix, but neither requires the other",
             "add one card to the other's `requires`"),
        Rule("unknown-chunk", "error", False, _TANGLE,
             "a `<<name>>` reference to a chunk no block defines",
             "docs/how-to/a.md:12: error: unknown chunk <<deps>>",
             "define the chunk, or fix the name"),
        Rule("chunk-cycle", "error", False, _TANGLE,
             "chunk references that refer to themselves, nest too deep or expand too long",
             "docs/how-to/a.md:12: error: chunk references itself: a -> b -> a",
             "break the loop of references"),
        Rule("file-mode", "error", False, _TANGLE,
             "a `mode=` that is not an octal mode, or two different ones",
             "docs/how-to/a.md:9: error: mode=755x is not an octal mode like 0755",
             "write mode=0755"),
        Rule("comment-style", "error", False, _TANGLE,
             "a generated file type with no comment style for its markers",
             "docs/how-to/a.md:9: error: no comment style for .txt files",
             "add one under `comment_styles`, or set `annotate: false`"),
        Rule("unused-chunk", "warning", True, _TANGLE,
             "a named chunk that no file uses",
             "docs/how-to/a.md:9: warning: chunk #deps is not used by any file",
             "reference it with <<deps>>, or drop its #id"),
        Rule("check-without-build", "warning", True, _TANGLE,
             "a `{.check}` block on a card without `build:`",
             "docs/how-to/a.md:9: warning: this {.check} block never runs",
             "add `build:` to the card"),
        # Generated files ---------------------------------------------------------------------------
        Rule("drift", "error", False, _FILES,
             "a generated file that differs from what the cards produce",
             "nix/a.nix:3: error: out of date with the cards; run `cardbook tangle`",
             "run `cardbook tangle`"),
        Rule("edited-generated", "error", False, _FILES,
             "a generated file holding a hand edit",
             "nix/a.nix:5: error: edited by hand: line 5; run `cardbook stitch` to carry it into the card",
             "`cardbook stitch`, or copy the edit into the card; `--force` discards it"),
        Rule("unsafe-target", "error", False, _FILES,
             "a generated file's path that leads through a symlink, out of its root, or onto a folder",
             "docs/how-to/a.md:9: error: nix/a.nix: refusing to write: nix/a.nix is a symlink",
             "replace the symlink or the folder by nothing: cardbook writes the file itself"),
        Rule("stale-generated", "error", False, _FILES,
             "a generated file no card produces any more",
             "nix/old.nix:1: error: generated by cardbook but no card produces it any more",
             "run `cardbook tangle` (it removes the file when it holds no edit)"),
        Rule("not-generated", "error", False, _FILES,
             "a file cardbook did not write where a card wants to write one",
             "nix/a.nix:1: error: not written by cardbook: cardbook never overwrites it",
             "move the file away, or fold it into the card"),
        Rule("generated-copy", "warning", True, _FILES,
             "a file that looks generated but is a copy under another name, or from an older cardbook",
             "nix/a-copy.nix:1: warning: looks generated but names nix/a.nix: left as it is",
             "delete the copy when it is not wanted"),
        Rule("mass-removal", "error", False, _FILES,
             "a run that would remove more than half of the generated files",
             "nix/a.nix:1: error: this run would remove 40 of 60 generated files",
             "check `card_roots`; `cardbook tangle --force` when it is meant"),
        Rule("cannot-write", "error", False, _FILES,
             "a write the machine refused; nothing was changed",
             "nix/a.nix:1: error: cannot write: No space left on device; nothing was changed",
             "free the disk, fix permissions"),
        Rule("stitch", "error", False, _FILES,
             "an edit `cardbook stitch` cannot carry back safely",
             "nix/a.nix:7: error: two copies of block a.md#1 were edited differently",
             "keep one edit, then stitch again"),
        # Nix ---------------------------------------------------------------------------------------
        Rule("build-key", "error", False, _NIX,
             "a `build:` that names no generated Nix file of the card",
             "docs/how-to/a.md:5: error: build: nix/x.nix is not a file any card writes",
             "name the file the card's blocks write"),
        Rule("undeclared-use", "error", True, _NIX,
             "Nix code that uses another card's file without requiring it",
             "docs/how-to/b.md:9: error: uses nix/a.nix from a but does not require it",
             "add the card to `requires`"),
        Rule("nix-parse", "error", False, _NIX,
             "a generated file Nix cannot parse (check --nix)",
             "nix/a.nix:3: error: nix cannot parse this file",
             "fix the card's Nix"),
        Rule("nix-build", "error", False, _NIX,
             "a card's `build:` that fails to evaluate or build (check --nix)",
             "docs/how-to/a.md:5: error: nix build failed",
             "fix the card's Nix"),
        Rule("nix-check", "error", False, _NIX,
             "a `{.check}` block that fails or times out (check --nix)",
             "docs/how-to/a.md:12: error: check failed (exit status 1)",
             "fix the check or the build"),
        Rule("not-built", "error", False, _NIX,
             "a card the Nix tier skipped, with `--no-skip`",
             "docs/how-to/a.md:5: error: not built: needs the network (--no-skip makes this an error)",
             "build it where it can be built, or drop `--no-skip`"),
        # Setup and commands ------------------------------------------------------------------------
        Rule("config", "error", False, _SETUP,
             "a `mkdocs.yml` or project layout cardbook cannot work with (exit 2)",
             "mkdocs.yml:12: error: plugin cardbook: unknown option card_root (known: ...)",
             "fix the option the message names"),
        Rule("usage", "error", False, _SETUP,
             "a command refused before it changed anything (exit 2)",
             "docs/how-to/a.md:1: error: already exists: cardbook new never overwrites a card",
             "run the command as the message says"),
    )
}


def apply_severities(problems: Iterable[Problem], overrides: Mapping[str, str]) -> list[Problem]:
    """Each problem at its rule's severity (the runbook's, else the default); off reports nothing.

    The table above is the one source of a changeable rule's severity, so the check, the site
    and CI agree; a fixed rule keeps the severity it was found with."""
    result = []
    for problem in problems:
        rule = RULES.get(problem.rule)
        if rule is None or not rule.changeable:
            result.append(problem)
            continue
        wanted = overrides.get(rule.id, rule.severity)
        if wanted != "off":
            result.append(problem if problem.severity == wanted else problem.replace(severity=wanted))
    return result


def rules_markdown() -> str:
    """The reference part of docs/reference/rules.md: a table, then one section per rule."""
    out = ["| Rule | Default | Changeable | Finds |", "|---|---|---|---|"]
    for rule in RULES.values():
        changeable = "yes" if rule.changeable else "no"
        out.append(f"| [`{rule.id}`](#{rule.id}) | {rule.severity} | {changeable} | {rule.finds} |")
    group = ""
    for rule in RULES.values():
        if rule.group != group:
            group = rule.group
            out += ["", f"## {group}"]
        changeable = (
            "can be changed under `rules:`" if rule.changeable else "fixed: it guards files or output"
        )
        out += [
            "",
            f"### {rule.id}",
            "",
            f"Default **{rule.severity}**, {changeable}. Finds {rule.finds}.",
            "",
            "```text",
            rule.example,
            "```",
            "",
            f"Fix: {rule.fix}.",
        ]
    return "\n".join(out) + "\n"
