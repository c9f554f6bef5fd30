"""What the server (or the simulated world) knows and a client's trace cannot tell.

The judge takes this as plain values, so it needs nothing of the simulator
or the live server: `sim/truth.py` builds one from a simulated world; the
live oracle builds one from the server's own lines in a live trace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from statecharts.values import quick_init_all


@dataclass(frozen=True, slots=True)
class Accepted:
    """One event the server accepted into a chat's transcript."""

    index: int
    id: str | None = None  # the clientMessageId of a client message
    party: str | None = None
    t: float | None = None  # when, on a wall clock (None: not known / virtual run settled)

    def __init__(
        self,
        index: int,
        id: str | None = None,
        party: str | None = None,
        t: float | None = None,
    ) -> None:
        # Written out so that the compiled build makes it natively (quick_init
        # stands in for it in pure Python).
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "party", party)
        object.__setattr__(self, "t", t)


@dataclass(frozen=True)
class Truth:
    # chat -> what the server accepted, in order (None: unknown, I6 judged on the trace only)
    transcripts: Mapping[str, Sequence[Accepted]] | None = None
    # chat -> {client message id: index} as the server acknowledged it
    server_acks: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    # client src -> its chat, when the trace may not say (a session restored from a cookie)
    chats: Mapping[str, str] = field(default_factory=dict)
    # client src -> times of frames it received that no server sent (None: I4 not judged)
    foreign: Mapping[str, Sequence[float]] | None = None
    # the run drained until every session settled (False: some did not; None: unknown)
    settled: bool | None = None


# Pure Python only (a compiled build's classes are built natively already).
quick_init_all(Accepted)
