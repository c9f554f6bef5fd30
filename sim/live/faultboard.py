"""The live server's faults: the board behind the control API, and the frame path.

The same fault values and the same fault engine (`statecharts.fault_engine`)
as the simulator, applied to real connections. A fault added through the
control API starts `at` seconds from now (default at once) and ends
`duration` seconds later (None: until removed). A fault's `client` matches
the Bayeux clientId seen on the connection or the chatId of the chat that
client runs; the server-side kinds are handed to the cluster by
`sim.live.server`. Times are the live server's clock in seconds; nothing here
reads it, so both classes can be driven with plain numbers and a fake timer.

`FaultPath` carries frames through the engine: each one is handed on at the
time the engine gives (at once when that is now), first in first out per
connection and direction, and what a blackhole or reorder held comes out on
time through one timer.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sim.fault_engine import Delivery, FaultEngine, Link
from sim.faults import Direction, Fault, Reload, parse_fault
from statecharts.errors import BadInput

SOURCE = "fault API"


@dataclass(frozen=True)
class Posted:
    """A fault on the board: its id and the value with an absolute start time."""

    id: int
    fault: Fault

    def as_dict(self, now: float, error: str | None = None) -> dict[str, Any]:
        out = {"id": self.id, "active": self.fault.active(now), "fault": self.fault.as_dict()}
        if error is not None:
            out["error"] = error
        return out


class FaultBoard:
    """The faults posted through the control API, judged by one `FaultEngine`."""

    def __init__(self, rng: random.Random) -> None:
        self.engine = FaultEngine(rng)
        self._posted: dict[int, Posted] = {}
        self._errors: dict[int, str] = {}

    # -- the control API ---------------------------------------------------
    def add(
        self,
        raw: Mapping[str, Any],
        now: float,
        *,
        instances: Collection[str] | None = None,
        clients: Collection[str] | None = None,
    ) -> Posted:
        """Validate and post a fault (`at` is seconds from now); BadInput names the field."""
        fault = parse_fault(raw, SOURCE, instances=instances, clients=clients)
        if isinstance(fault, Reload):
            raise BadInput(
                SOURCE,
                "a server or network fault (reload happens in the browser)",
                field="kind",
                got="reload",
            )
        fault = replace(fault, at=now + fault.at)
        posted = Posted(self.engine.add(fault, now), fault)
        self._posted[posted.id] = posted
        return posted

    def remove(self, fault_id: int) -> Posted | None:
        """Take a fault off; what its blackhole held is due at once."""
        self.engine.remove(fault_id)
        self._errors.pop(fault_id, None)
        return self._posted.pop(fault_id, None)

    def clear(self) -> list[Posted]:
        return [p for p in (self.remove(i) for i in list(self._posted)) if p is not None]

    def failed(self, fault_id: int, reason: str) -> None:
        """Its start raised: listed with the reason until removed."""
        if fault_id in self._posted:
            self._errors[fault_id] = reason

    def listing(self, now: float) -> list[dict[str, Any]]:
        return [p.as_dict(now, self._errors.get(p.id)) for p in self._posted.values()]

    def get(self, fault_id: int) -> Posted | None:
        return self._posted.get(fault_id)

    def ended(self, now: float) -> list[Posted]:
        """Take the faults whose time is over (or whose corrupt count is used up) off the board."""
        spent = set(self.engine.used_up())
        gone = [
            p
            for p in self._posted.values()
            if (p.fault.end is not None and now >= p.fault.end) or p.id in spent
        ]
        for p in gone:
            self.remove(p.id)
        return gone

    # -- judging connections --------------------------------------------------
    def refuses(self, now: float, link: Link) -> bool:
        """A new connection is refused (an outage covers it)."""
        return self.engine.refuses(now, link)

    def closes(self, now: float, link: Link) -> bool:
        """An open connection must close (an outage covers it)."""
        return self.engine.closes(now, link)


class Timer(Protocol):
    def cancel(self) -> None: ...


Deliver = Callable[[str, Direction, str], None]  # (connection id, direction, frame text)
CallLater = Callable[[float, Callable[[], None]], Timer]


class FaultPath:
    """Frames through the board's engine to `deliver`, each at its time, FIFO per link."""

    def __init__(
        self,
        board: FaultBoard,
        deliver: Deliver,
        call_later: CallLater,
        clock: Callable[[], float],
    ) -> None:
        self.board = board
        self._deliver = deliver
        self._call_later = call_later
        self._clock = clock
        self._queues: dict[tuple[str, Direction], deque[Delivery]] = {}
        self._timer: Timer | None = None
        self._timer_at: float | None = None

    def send(self, now: float, way: Direction, link: Link, text: str) -> None:
        """One frame leaves now on `link` in direction `way`."""
        for delivery in self.board.engine.decide(text, way, now, link):
            self._queue(link.conn, way, delivery)
        self.flush(now)

    def flush(self, now: float) -> None:
        """Hand on everything due by `now` (held frames released included), re-arm the timer."""
        for released in self.board.engine.due(now):
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
        self.board.engine.forget(conn, discard=True)

    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def _queue(self, conn: str, way: Direction, delivery: Delivery) -> None:
        self._queues.setdefault((conn, way), deque()).append(delivery)

    def _arm(self, now: float) -> None:
        times = [q[0].at for q in self._queues.values()]
        deadline = self.board.engine.next_deadline()
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
