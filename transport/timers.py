"""The client's timers: one named table, earliest first, ties in table order.

Each row names a timer, where its deadline is read (None: not armed) and what
runs when it is due. `advance(now)` runs every due timer, earliest first; a
tie runs in table order (a connection attempt that timed out before a request
deadline at the same instant, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Protocol

from mypy_extensions import mypyc_attr

from transport.bayeux import BayeuxLayer
from transport.outputs import LinkState
from transport.recovery import Outage
from transport.service import Service

_INF = float("inf")


class Wake(StrEnum):
    OPEN = "open"  # a link that does not open within max_network_delay
    REQUEST = "request"  # the earliest outstanding request past its deadline
    INTERRUPT = "interrupt"  # the outage reached interrupt_after: tell the application
    DRAIN = "drain"  # end(): stop waiting for the farewell's replies
    ATTEMPT = "attempt"  # the next connection attempt (backoff), while no link
    CONNECT = "connect"  # the next /meta/connect after advice.interval
    SERVICE = "service"  # the service's own retry (login after retryAfter, restore)


class Timed(Protocol):
    open_deadline: float | None
    retry_at: float | None
    connect_at: float | None
    drain_until: float | None
    bayeux: BayeuxLayer
    service: Service
    outage: Outage
    interrupt_hooked: bool  # interrupt_deadline is overridden
    settled: bool
    settled_row: int
    settled_at: float

    @property
    def link(self) -> LinkState: ...

    def interrupt_deadline(self) -> float | None: ...
    def earliest_timer(self) -> tuple[int, float]: ...
    def advance(self, now: float) -> None: ...
    def open_timed_out(self, now: float) -> None: ...
    def request_timed_out(self, now: float) -> None: ...
    def interrupt_due(self, now: float) -> None: ...
    def finish_drain(self, now: float) -> None: ...
    def attempt(self, now: float) -> None: ...
    def connect_due(self, now: float) -> None: ...
    def service_retry_due(self, now: float) -> None: ...


Row = tuple[Wake, Callable[[Timed], float | None], Callable[[Timed, float], None]]

TIMER_TABLE: tuple[Row, ...] = (
    (Wake.OPEN, lambda c: c.open_deadline, lambda c, now: c.open_timed_out(now)),
    (Wake.REQUEST, lambda c: c.bayeux.next_deadline(), lambda c, now: c.request_timed_out(now)),
    (Wake.INTERRUPT, lambda c: c.interrupt_deadline(), lambda c, now: c.interrupt_due(now)),
    (Wake.DRAIN, lambda c: c.drain_until, lambda c, now: c.finish_drain(now)),
    (
        Wake.ATTEMPT,
        lambda c: c.retry_at if c.link is LinkState.NONE else None,
        lambda c, now: c.attempt(now),
    ),
    (Wake.CONNECT, lambda c: c.connect_at, lambda c, now: c.connect_due(now)),
    (Wake.SERVICE, lambda c: c.service.retry_at, lambda c, now: c.service_retry_due(now)),
)
_ACTIONS = tuple(action for _, _, action in TIMER_TABLE)
_NONE = LinkState.NONE


@mypyc_attr(allow_interpreted_subclasses=True)  # see ClientCore
class TimerTable:
    """Base of the connection (its other mixins are traits): deadlines from `TIMER_TABLE`."""

    open_deadline: float | None
    retry_at: float | None
    connect_at: float | None
    drain_until: float | None
    interrupt_hooked: bool
    # The earliest timer as the last `advance` left it; `settled`: nothing changed since.
    settled: bool
    settled_row: int
    settled_at: float

    def init_timers(self, *, interrupt_hooked: bool) -> None:
        """No timer armed; `interrupt_hooked`: a subclass moves the interruption deadline
        (a planted bug), so it is asked even without an outage."""
        self.open_deadline = None
        self.retry_at = None
        self.connect_at = None
        self.drain_until = None
        self.interrupt_hooked = interrupt_hooked
        self.settled = False
        self.settled_row, self.settled_at = -1, _INF

    def deadlines(self: Timed) -> dict[Wake, float]:
        """Every armed timer and its deadline (for tests and diagnostics)."""
        out: dict[Wake, float] = {}
        for wake, getter, _ in TIMER_TABLE:
            when = getter(self)
            if when is not None:
                out[wake] = when
        return out

    def earliest_timer(self: Timed) -> tuple[int, float]:
        """(row of TIMER_TABLE, deadline) of the earliest armed timer; (-1, inf) if none.

        The table's getters read inline, in table order (a tie keeps the first row):
        this runs three times per input, so it calls nothing it need not.
        """
        first, earliest = -1, _INF
        when = self.open_deadline
        if when is not None:
            first, earliest = 0, when
        for pending in self.bayeux.pending.values():
            if first < 0 or pending.deadline < earliest:
                first, earliest = 1, pending.deadline
        # Not armed without an outage, unless a subclass moved the deadline (a planted bug).
        if self.outage.since is not None or self.interrupt_hooked:
            when = self.interrupt_deadline()
            if when is not None and (first < 0 or when < earliest):
                first, earliest = 2, when
        when = self.drain_until
        if when is not None and (first < 0 or when < earliest):
            first, earliest = 3, when
        when = self.retry_at
        if when is not None and (first < 0 or when < earliest) and self.link is _NONE:
            first, earliest = 4, when
        when = self.connect_at
        if when is not None and (first < 0 or when < earliest):
            first, earliest = 5, when
        when = self.service.retry_at
        if when is not None and (first < 0 or when < earliest):
            first, earliest = 6, when
        return first, earliest

    def next_deadline(self: Timed) -> float | None:
        if self.settled:
            return self.settled_at if self.settled_row >= 0 else None
        first, earliest = self.earliest_timer()
        return earliest if first >= 0 else None

    def settle(self: Timed, now: float) -> None:
        """`advance` as the last step of an input: what it found stays known until the
        next input (the driver's `next_deadline()` reads it, the next input's first
        `advance` starts from it). Every input and command starts with `advance`, which
        forgets it, as the input may change any timer after that."""
        self.advance(now)
        self.settled = True

    def advance(self: Timed, now: float) -> None:
        """Run every timer due at `now`, earliest first (ties in table order)."""
        if self.settled:
            first, earliest = self.settled_row, self.settled_at
            self.settled = False
        else:
            first, earliest = self.settled_row, self.settled_at = self.earliest_timer()
        if first < 0 or not earliest <= now:
            return  # the common case: nothing due
        for _ in range(10_000):
            _ACTIONS[first](self, now)
            first, earliest = self.settled_row, self.settled_at = self.earliest_timer()
            if first < 0 or not earliest <= now:
                return
        raise RuntimeError("client core timers do not settle")  # a bug, never input
