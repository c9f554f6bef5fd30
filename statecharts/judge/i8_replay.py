"""I8: the same scenario and seed give the same bytes.

A replay is compared with the first run item by item (trace records or
trace lines) as the replay makes them, so the replay's own trace is never
kept, however long the run: `Replay.see` each item, then `Replay.parting()`.
`parting` compares two whole streams the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Parting(Generic[T]):
    """Where two runs part: the trace line, and what each has there (None: it had ended)."""

    line: int
    first: T | None
    again: T | None


class Replay(Generic[T]):
    """The first run's items, compared with a replay's as they come (none kept).

    `first_line`: the trace line of the first item (2 for records: line 1 is the header).
    """

    def __init__(self, first: Sequence[T], first_line: int = 1) -> None:
        self.first = first
        self.first_line = first_line
        self.seen = 0  # items of the replay so far
        self._parting: Parting[T] | None = None

    def see(self, item: T) -> None:
        n = self.seen
        self.seen = n + 1
        if self._parting is None:
            first = self.first
            expected = first[n] if n < len(first) else None
            if expected != item:
                self._parting = Parting(n + self.first_line, expected, item)

    @property
    def parted(self) -> bool:
        return self._parting is not None

    def parting(self) -> Parting[T] | None:
        """The first difference, once the replay is over; a longer first run is one too."""
        n = self.seen
        if self._parting is None and n < len(self.first):
            return Parting(n + self.first_line, self.first[n], None)
        return self._parting


def parting(first: Sequence[T], again: Iterable[T], first_line: int = 1) -> Parting[T] | None:
    """Where `again` parts from `first`; None when they are the same."""
    replay = Replay(first, first_line)
    for item in again:
        replay.see(item)
        if replay.parted:
            break
    return replay.parting()
