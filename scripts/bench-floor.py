"""The floor for `cardbook check`: read every card and YAML-parse its frontmatter, nothing else.

    python scripts/bench-floor.py DIRECTORY

Walks DIRECTORY (a runbook's card root) for `*.md` files, reads each one, splits off the
frontmatter between the first two `---` lines and parses it with PyYAML's C loader. No
schema, no graph, no tangle: cardbook cannot check the cards faster than this, since it has
to do the same reading and parsing first. Run it with the interpreter that runs cardbook, so
start-up costs the same. Prints the number of cards and of frontmatter keys.
"""

import os
import sys

import yaml


def main() -> int:
    loader = yaml.CSafeLoader  # fails loudly where libyaml is missing: the floor must use it
    cards = keys = 0
    for directory, _dirnames, filenames in os.walk(sys.argv[1]):
        for name in filenames:
            if not name.endswith(".md"):
                continue
            with open(os.path.join(directory, name), encoding="utf-8") as handle:
                text = handle.read()
            if not text.startswith("---\n"):
                continue
            end = text.find("\n---\n", 3)
            if end < 0:
                continue
            values = yaml.load(text[4 : end + 1], Loader=loader)
            cards += 1
            keys += len(values) if isinstance(values, dict) else 0
    print(f"{cards} cards, {keys} frontmatter keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
