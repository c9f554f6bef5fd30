"""The discrete-event kernel: virtual clock, event queue, RNG streams, tracer.

Virtual time only: nothing here reads the wall clock. The kernel owns the one
clock of a simulated run; every core gets `now` from it. Events at the same
time run in the order they were scheduled, so a run is a pure function of its
scenario and seed (I8).
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from statecharts.errors import UsageError
from statecharts.events import AppEvent
from statecharts.trace import RunHeader, TraceRecord, TraceWriter


class ClockError(UsageError):
    """Virtual time was asked to run backwards."""


class VirtualClock:
    """A clock that only moves forward, and only when told to."""

    __slots__ = ("_now",)

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    @property
    def now(self) -> float:
        return self._now

    def advance_to(self, t: float) -> None:
        # `not >=` also refuses NaN.
        if not t >= self._now:
            raise ClockError(f"virtual clock cannot go back from {self._now!r} to {t!r}")
        self._now = t


class Handle:
    """A scheduled call; pass it to `Kernel.cancel`. `cancelled` is True once
    it was cancelled or has run, so a False one is still to come."""

    __slots__ = ("args", "cancelled", "fn", "when")

    def __init__(self, when: float, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
        self.when = when
        self.fn = fn
        self.args = args
        self.cancelled = False

    def __repr__(self) -> str:
        state = " cancelled" if self.cancelled else ""
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        return f"<Handle t={self.when!r} {name}{state}>"


# A queue entry: (time, sequence, handle or None, fn, args).
_Entry = tuple[float, int, "Handle | None", Callable[..., object], tuple[Any, ...]]


class Kernel:
    """Event queue over a virtual clock: ties break by insertion order."""

    def __init__(self, clock: VirtualClock | None = None) -> None:
        self.clock = clock if clock is not None else VirtualClock()
        # Entries are (time, sequence, handle, fn, args); the sequence number is
        # unique, so tuple comparison never reaches the handle. `post` entries
        # have no handle (None): they cannot be cancelled and cost no object.
        self._queue: list[_Entry] = []
        self._seq = 0
        self._dead = 0
        self.executed = 0

    @property
    def now(self) -> float:
        return self.clock._now

    def call_at(self, t: float, fn: Callable[..., object], *args: Any) -> Handle:
        if not t >= self.clock._now:
            raise ClockError(f"cannot schedule at {t!r}, before now ({self.clock._now!r})")
        handle = Handle(t, fn, args)
        self._seq += 1
        heapq.heappush(self._queue, (t, self._seq, handle, fn, args))
        return handle

    def post(self, t: float, fn: Callable[..., object], *args: Any) -> None:
        """`call_at` for a call that is never cancelled (the hot paths: no Handle)."""
        if not t >= self.clock._now:
            raise ClockError(f"cannot schedule at {t!r}, before now ({self.clock._now!r})")
        self._seq += 1
        heapq.heappush(self._queue, (t, self._seq, None, fn, args))

    def call_later(self, delay: float, fn: Callable[..., object], *args: Any) -> Handle:
        return self.call_at(self.clock.now + delay, fn, *args)

    def cancel(self, handle: Handle | None) -> None:
        """Forget a scheduled call; cancelling twice, or after it ran, is harmless."""
        if handle is None or handle.cancelled:
            return
        handle.cancelled = True
        self._dead += 1
        if self._dead > 64 and self._dead * 2 > len(self._queue):
            self._compact()

    def _compact(self) -> None:
        # Lazy deletion leaves dead entries behind; drop them once they dominate.
        # In place: step()/run_until() hold an alias to the list while callbacks run.
        self._queue[:] = [e for e in self._queue if e[2] is None or not e[2].cancelled]
        heapq.heapify(self._queue)
        self._dead = 0

    def next_time(self) -> float | None:
        """Time of the next live event, or None when nothing is scheduled."""
        queue = self._queue
        while queue and (handle := queue[0][2]) is not None and handle.cancelled:
            heapq.heappop(queue)
            self._dead -= 1
        return queue[0][0] if queue else None

    @property
    def pending(self) -> int:
        return len(self._queue) - self._dead

    def step(self) -> bool:
        """Run the next live event; False when the queue is empty."""
        queue = self._queue
        while queue:
            t, _, handle, fn, args = heapq.heappop(queue)
            if handle is not None:
                if handle.cancelled:
                    self._dead -= 1
                    continue
                handle.cancelled = True  # ran: a later cancel() is a no-op
            self.clock._now = t  # see run_until
            self.executed += 1
            fn(*args)
            return True
        return False

    def run_until(self, t: float) -> int:
        """Run every event due at or before `t`, then move the clock to `t`."""
        if not t >= self.clock.now:
            raise ClockError(f"cannot run until {t!r}, before now ({self.clock.now!r})")
        queue = self._queue
        pop = heapq.heappop
        clock = self.clock
        ran = 0
        while queue and queue[0][0] <= t:
            when, _, handle, fn, args = pop(queue)
            if handle is not None:
                if handle.cancelled:
                    self._dead -= 1
                    continue
                handle.cancelled = True
            # The heap pops in time order and call_at refuses the past, so the
            # clock only moves forward here: skip advance_to's check.
            clock._now = when
            fn(*args)
            ran += 1
        self.executed += ran
        clock.advance_to(t)
        return ran

    def run(self, max_events: int | None = None) -> int:
        """Run until the queue is empty (or `max_events` ran)."""
        ran = 0
        while (max_events is None or ran < max_events) and self.step():
            ran += 1
        return ran


class Streams:
    """One independent `random.Random` per named component, derived from the run seed.

    Each stream's seed is a hash of (run seed, name), so adding a component
    never shifts the draws of another, and equal seeds give equal streams
    on every platform and Python process (no `hash()`, no global random).
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def derive(self, name: str) -> int:
        digest = hashlib.blake2b(
            f"{self.seed}\x00{name}".encode(), digest_size=16, person=b"chatsim-rng"
        ).digest()
        return int.from_bytes(digest, "big")

    def get(self, name: str) -> random.Random:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = random.Random(self.derive(name))
        return stream

    def __getitem__(self, name: str) -> random.Random:
        return self.get(name)

    def names(self) -> list[str]:
        return sorted(self._streams)


class Tracer:
    """Collects trace records stamped with the virtual clock."""

    def __init__(
        self,
        clock: VirtualClock,
        scenario: str,
        seed: int | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.clock = clock
        header = RunHeader(scenario, seed, extra={"clock": "virtual", **(extra or {})})
        self.writer = TraceWriter(header)

    def emit(self, src: str, kind: str, **data: Any) -> None:
        self.writer.append(self.clock._now, src, kind, data)

    def event(self, src: str, event: AppEvent, t: float | None = None) -> None:
        """Trace an application event, at `t` if the core stamped it, else now."""
        self.writer.append(self.clock._now if t is None else t, src, event.kind, event.fields())

    @property
    def records(self) -> list[TraceRecord]:
        return self.writer.records

    def text(self) -> str:
        return self.writer.text()

    def save(self, path: Path) -> None:
        self.writer.save(path)


class Simulation:
    """A kernel, its streams and its tracer: what a simulated run needs to start."""

    def __init__(
        self, seed: int, scenario: str = "", header_extra: dict[str, Any] | None = None
    ) -> None:
        self.kernel = Kernel()
        self.clock = self.kernel.clock
        self.streams = Streams(seed)
        self.tracer = Tracer(self.clock, scenario, seed, header_extra)
