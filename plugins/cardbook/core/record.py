"""A base for the core's plain records: equality and repr read from `__slots__`.

The core's data classes are written out (`__slots__` and `__init__`) instead of decorated
with `@dataclass`: a `cardbook check` is a short process, and importing `dataclasses` (it
imports `inspect`) and generating the methods of eighteen classes took about a tenth of a
1000-card check (scripts/bench). Nothing is generated here; a subclass lists its fields in
`__slots__`, in the order its `__init__` takes them.
"""

from __future__ import annotations


class Record:
    __slots__ = ()
    # Fields left out of equality and repr (a build log, an index kept for speed).
    _uncompared: tuple[str, ...] = ()

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__ if name not in self._uncompared)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable unless a subclass says otherwise

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.__slots__ if name not in self._uncompared
        )
        return f"{type(self).__name__}({shown})"


class FrozenRecord(Record):
    """A record that is set once, in `__init__`, and hashable by its compared fields."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only: make a new one (replace)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __hash__(self) -> int:
        return hash(self._fields())

    def _set(self, **values: object) -> None:
        """For `__init__` only."""
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes: object) -> FrozenRecord:
        """A copy with some fields changed (as dataclasses.replace)."""
        copy = object.__new__(type(self))
        for name in self.__slots__:
            object.__setattr__(copy, name, changes.pop(name) if name in changes else getattr(self, name))
        if changes:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(changes)}")
        return copy
