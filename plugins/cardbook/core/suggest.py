"""Did-you-mean suggestions for names a user mistyped (stems, folders)."""

from __future__ import annotations

from collections.abc import Iterable


def close_names(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    import difflib  # only when a name is mistyped: a clean `check` never loads it

    return difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'a' or 'b'?)`, or "" when nothing is close."""
    close = close_names(name, candidates)
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)" if close else ""
