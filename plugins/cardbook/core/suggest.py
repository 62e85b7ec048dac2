"""Did-you-mean suggestions for names a user mistyped (stems, folders)."""

from __future__ import annotations

from collections.abc import Iterable

CUTOFF = 0.6


def close_names(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """difflib.get_close_matches(name, candidates, n, 0.6), after dropping, in C, the
    candidates it would drop anyway: its quick_ratio counts the characters two names share
    (with repeats), at most the characters of the candidate that occur in `name` at all. On
    a large runbook most stems share too few characters with a mistyped one, and difflib
    (imported only when some candidate is left) looked at each of them in Python."""
    letters = set(name)
    in_name = dict.fromkeys(map(ord, letters))  # str.translate deletes these
    size = len(name)
    possible = [
        candidate
        for candidate in candidates
        if not (letters and letters.isdisjoint(candidate))  # nothing shared (a quick first test)
        and _ratio(len(candidate) - len(candidate.translate(in_name)), len(candidate) + size) >= CUTOFF
    ]
    if not possible:
        return []
    import difflib  # only when a name is mistyped: a clean `check` never loads it

    return difflib.get_close_matches(name, possible, n=n, cutoff=CUTOFF)


def _ratio(matches: int, length: int) -> float:
    """As difflib computes a ratio (its _calculate_ratio)."""
    return 2.0 * matches / length if length else 1.0


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'a' or 'b'?)`, or "" when nothing is close."""
    names = list(candidates)
    # The same name in other letter case first (found by an outside probe: [[FIX-THING]] for
    # fix-thing got no suggestion; Obsidian ignores case in links, cardbook does not).
    folded = name.casefold()
    same = [candidate for candidate in names if candidate.casefold() == folded and candidate != name]
    close = same or close_names(name, names)
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)" if close else ""
