"""Frames through the fault engine on a real clock: the live server's and the aio client's.

`FaultPath` hands each frame to the engine and on to `deliver` at the time
the engine gives (at once when that is now), first in first out per
connection and direction; what a blackhole or reorder held comes out on time
through one timer. It reads no clock itself: the owner passes `call_later`
(asyncio's, or a hand-run one in tests) and `clock`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from statecharts.fault_engine import Delivery, FaultEngine, Link
from statecharts.faults import Direction


class Timer(Protocol):
    def cancel(self) -> None: ...


Deliver = Callable[[str, Direction, str], None]  # (connection id, direction, frame text)
CallLater = Callable[[float, Callable[[], None]], Timer]


class FaultPath:
    """Frames through the engine to `deliver`, each at its time, FIFO per link."""

    def __init__(
        self,
        engine: FaultEngine,
        deliver: Deliver,
        call_later: CallLater,
        clock: Callable[[], float],
    ) -> None:
        self.engine = engine
        self._deliver = deliver
        self._call_later = call_later
        self._clock = clock
        self._queues: dict[tuple[str, Direction], deque[Delivery]] = {}
        self._timer: Timer | None = None
        self._timer_at: float | None = None

    def send(self, now: float, way: Direction, link: Link, text: str) -> None:
        """One frame leaves now on `link` in direction `way`."""
        for delivery in self.engine.decide(text, way, now, link):
            self._queue(link.conn, way, delivery)
        self.flush(now)

    def flush(self, now: float) -> None:
        """Hand on everything due by `now` (held frames released included), re-arm the timer."""
        for released in self.engine.due(now):
            self._queue(released.link.conn, released.way, released.delivery)
        for key in list(self._queues):
            queue = self._queues.get(key)
            while queue and queue[0].at <= now:
                text = queue.popleft().text
                if not queue:
                    del self._queues[key]
                self._deliver(key[0], key[1], text)
        self._arm(now)

    def forget(self, conn: str) -> None:
        """The connection is gone: nothing more is handed on for it."""
        for way in (Direction.UP, Direction.DOWN):
            self._queues.pop((conn, way), None)
        self.engine.forget(conn, discard=True)

    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def _queue(self, conn: str, way: Direction, delivery: Delivery) -> None:
        self._queues.setdefault((conn, way), deque()).append(delivery)

    def _arm(self, now: float) -> None:
        times = [q[0].at for q in self._queues.values()]
        deadline = self.engine.next_deadline()
        if deadline is not None:
            times.append(deadline)
        when = min(times) if times else None
        if when == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._timer_at = None
        if when is not None:
            self._timer_at = when
            self._timer = self._call_later(max(0.0, when - now), self._wake)

    def _wake(self) -> None:
        self._timer = self._timer_at = None
        self.flush(self._clock())
