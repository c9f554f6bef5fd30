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

from transport.bayeux import BayeuxLayer
from transport.outputs import LinkState
from transport.service import Service


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

    @property
    def link(self) -> LinkState: ...

    def interrupt_deadline(self) -> float | None: ...
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
_GETTERS = tuple(getter for _, getter, _ in TIMER_TABLE)


class TimerTable:
    """Mixin of the connection: its deadlines come from `TIMER_TABLE`."""

    def deadlines(self: Timed) -> dict[Wake, float]:
        """Every armed timer and its deadline (for tests and diagnostics)."""
        out: dict[Wake, float] = {}
        for wake, getter, _ in TIMER_TABLE:
            when = getter(self)
            if when is not None:
                out[wake] = when
        return out

    def next_deadline(self: Timed) -> float | None:
        earliest: float | None = None
        for getter in _GETTERS:
            when = getter(self)
            if when is not None and (earliest is None or when < earliest):
                earliest = when
        return earliest

    def advance(self: Timed, now: float) -> None:
        """Run every timer due at `now`, earliest first (ties in table order)."""
        for _ in range(10_000):
            first = -1
            first_when = 0.0
            for slot, getter in enumerate(_GETTERS):
                when = getter(self)
                if when is not None and when <= now and (first < 0 or when < first_when):
                    first, first_when = slot, when
            if first < 0:
                return
            TIMER_TABLE[first][2](self, now)
        raise RuntimeError("client core timers do not settle")  # a bug, never input
