"""One fault engine: what the active network faults make of a frame.

Pure: no clock, no I/O. The simulated network (`sim/network.py`), the live
server (`sim/live/server.py`) and the aio client's own links
(`transport/aio/faulty.py`) hand it each frame with `now`, the direction and
the link, and get back when and as what the frame arrives:

- `decide(text, way, now, link)` -> `Delivery(at, text)` values, in order:
  none (dropped), one (maybe later, maybe corrupted), two (duplicated), and
  possibly frames held earlier on the same link and direction that go out
  with it. Per link and direction, arrivals never go back in time (FIFO):
  latency jitter delays a frame but never lets it overtake; only `reorder`
  reorders.
- `next_deadline()` / `due(now)` release frames held by `blackhole` (at its
  end, or at once when it is removed) and by `reorder` (at most
  `REORDER_HOLD` after it would have arrived, if no frame overtook it).
- `refuses(now, link)`: no new connection (outage; crash of its instance).
  `closes(now, link)`: an open connection is closed (outage).

The rules, one per kind (the same in virtual time and live):
- `outage`: connections closed and refused; a connection needs both ways, so
  `direction` does not narrow that; frames that still meet it (in its
  direction) are dropped.
- `blackhole`: frames in its direction are held, connections look open, and
  everything held is delivered, in order and after its own travel time, when
  the blackhole ends (as TCP would deliver after retransmitting); a frame
  behind held frames on its link waits with them.
- `loss{p}`: dropped with probability p. `duplicate{p}`: a second copy.
- `latency{ms, jitter}`: `ms` plus uniform [0, jitter] ms, FIFO kept.
- `reorder{p}`: with probability p held back until the next frame of its
  link and direction overtakes it, at most `REORDER_HOLD` s.
- `corrupt{count, mode}`: the first `count` frames the fault carries (all
  links together) that go on their way are edited; a frame `loss` drops does
  not use the count.
Faults apply in the order they were added, each drawing from the one `rng`,
so a seeded run is reproducible.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from typing import Any

from statecharts.faults import (
    Blackhole,
    Corrupt,
    Crash,
    Direction,
    Duplicate,
    Fault,
    Latency,
    Loss,
    Outage,
    Reorder,
)
from statecharts.frame_corruption import corrupt_frame

# A frame held back by `reorder` waits for the next one at most this long.
REORDER_HOLD = 0.1
_AT_ONCE = -math.inf  # the release time of frames whose blackhole was removed


@dataclass(frozen=True)
class Link:
    """One connection as faults see it: a fault's `client` names the client or its chat."""

    conn: str
    instance: str
    client: str | None = None
    chat: str | None = None


@dataclass(frozen=True)
class Delivery:
    """A frame arriving at `at` (seconds, the caller's clock) as `text`."""

    at: float
    text: str


@dataclass(frozen=True)
class Released:
    """A held frame that is now on its way."""

    link: Link
    way: Direction
    delivery: Delivery


@dataclass(frozen=True)
class Note:
    """What a fault did to a frame, for traces and logs: drop, corrupt, dup, hold."""

    kind: str
    link: Link
    way: Direction
    data: tuple[tuple[str, Any], ...] = ()


@dataclass
class _Held:
    text: str
    copies: int
    travel: float  # blackhole: its own one-way delay, counted from its release
    release: float  # when it goes at the latest (reorder) or its blackhole's end
    blackhole: int | None = None  # the id of the blackhole holding it


@dataclass(eq=False, slots=True)
class _Pipe:
    """One link in one direction: its FIFO floor and what is held on it.

    The live server keeps two per open connection: the blackhole queue is made
    only when a frame is first held (an empty deque costs ~0.7 KiB)."""

    link: Link
    way: Direction
    floor: float = 0.0
    blackholed: deque[_Held] | None = None
    reordered: _Held | None = None
    forgotten: bool = False

    def holds(self) -> bool:
        return bool(self.blackholed) or self.reordered is not None


class FaultEngine:
    def __init__(
        self,
        rng: random.Random,
        *,
        latency: float = 0.0,
        notes: bool = False,
    ) -> None:
        """`latency`: the base one-way delay of every frame (the simulated network's);
        `notes`: keep a `Note` of what each fault did, for `take_notes()`."""
        self.rng = rng
        self.latency = latency
        self._keep_notes = notes
        self._faults: dict[int, Fault] = {}
        self._corrupt_left: dict[int, int] = {}
        self._pipes: dict[tuple[str, Direction], _Pipe] = {}
        self._holding: dict[_Pipe, None] = {}  # a dict: ordered, so runs repeat
        self._notes: list[Note] = []
        self._next_id = 1

    # -- the faults ---------------------------------------------------------------
    def add(self, fault: Fault, now: float) -> int:
        """Add a fault (active over [fault.at, fault.end)); returns its id."""
        del now  # faults carry their own times; kept for the callers' symmetry
        fault_id = self._next_id
        self._next_id += 1
        self._faults[fault_id] = fault
        if isinstance(fault, Corrupt):
            self._corrupt_left[fault_id] = fault.count
        return fault_id

    def remove(self, fault_id: int) -> Fault | None:
        """Take a fault away; frames its blackhole held become due at once."""
        self._corrupt_left.pop(fault_id, None)
        fault = self._faults.pop(fault_id, None)
        if isinstance(fault, Blackhole):
            for pipe in self._holding:
                for held in pipe.blackholed or ():
                    if held.blackhole == fault_id:
                        held.release = _AT_ONCE
        return fault

    def clear(self) -> list[Fault]:
        return [f for f in (self.remove(i) for i in list(self._faults)) if f is not None]

    def faults(self) -> dict[int, Fault]:
        return dict(self._faults)

    def used_up(self) -> list[int]:
        """Corrupt faults whose count is spent (they do nothing more)."""
        return [i for i, left in self._corrupt_left.items() if left <= 0]

    @property
    def idle(self) -> bool:
        """No fault and nothing held: frames just take the base latency."""
        return not self._faults and not self._holding

    # -- connections ----------------------------------------------------------------
    def refuses(self, now: float, link: Link) -> bool:
        """A new connection is refused: an outage, or its instance crashed."""
        return any(
            (
                isinstance(f, Outage)
                or (isinstance(f, Crash) and f.instance in (None, link.instance))
            )
            and self._hits(f, now, link)
            for f in self._faults.values()
        )

    def closes(self, now: float, link: Link) -> bool:
        """An open connection is closed: an outage covers it."""
        return any(
            isinstance(f, Outage) and self._hits(f, now, link) for f in self._faults.values()
        )

    def forget(self, conn: str, *, discard: bool = False) -> None:
        """The connection is gone: drop its state (held frames still come out, unless discarded)."""
        for way in (Direction.UP, Direction.DOWN):
            pipe = self._pipes.get((conn, way))
            if pipe is None:
                continue
            if discard or not pipe.holds():
                self._drop_pipe(pipe)
            else:
                pipe.forgotten = True

    # -- frames -------------------------------------------------------------------------
    def path_delay(self, way: Direction, now: float, link: Link) -> float:
        """The one-way delay of this link now: base latency plus latency faults."""
        delay = self.latency
        for f in self._faults.values():
            if isinstance(f, Latency) and self._hits(f, now, link, way):
                delay += self._latency_of(f)
        return delay

    def decide(self, text: str, way: Direction, now: float, link: Link) -> tuple[Delivery, ...]:
        """What becomes of one frame sent now; see the module's rules."""
        if not self._faults and (link.conn, way) not in self._pipes:
            # Nothing held and nothing to hold: no pipe for it (idle live connections are
            # many). Its frames so far all took the base latency, so a pipe made later
            # (floor 0) orders them the same: faults only add delay.
            return (Delivery(now + self.latency, text),)
        pipe = self._pipe(link, way)
        out = self._release(pipe, now)
        delay, copies, reorder = self.latency, 1, False
        blackhole: int | None = None
        corrupt: list[int] = []
        for fault_id, f in self._faults.items():
            if not self._hits(f, now, link, way):
                continue
            if isinstance(f, Outage):
                self._note("drop", link, way, why="outage")
                return tuple(out)
            if isinstance(f, Blackhole):
                blackhole = fault_id if blackhole is None else blackhole
            elif isinstance(f, Loss):
                if self.rng.random() < f.p:
                    self._note("drop", link, way, why="loss")
                    return tuple(out)
            elif isinstance(f, Corrupt):
                corrupt.append(fault_id)
            elif isinstance(f, Latency):
                delay += self._latency_of(f)
            elif isinstance(f, Duplicate):
                if self.rng.random() < f.p:
                    copies += 1
            elif isinstance(f, Reorder) and self.rng.random() < f.p:
                reorder = True
        text = self._corrupt(text, corrupt, link, way)
        if copies > 1:
            self._note("dup", link, way, copies=copies)
        if blackhole is not None or pipe.blackholed:
            self._hold_blackholed(pipe, _Held(text, copies, delay, math.inf, blackhole))
            return tuple(out)
        if reorder and pipe.reordered is None:
            self._note("hold", link, way)
            pipe.reordered = _Held(text, copies, 0.0, now + delay + REORDER_HOLD)
            self._holding[pipe] = None
            return tuple(out)
        at = self._arrive(pipe, now + delay)
        out.extend(Delivery(at, text) for _ in range(copies))
        held, pipe.reordered = pipe.reordered, None
        if held is not None:  # the frame held back arrives right behind the one that overtook it
            out.extend(Delivery(at, held.text) for _ in range(held.copies))
        self._settle(pipe)
        return tuple(out)

    def next_deadline(self) -> float | None:
        """When a held frame is next due (None: nothing held, or only until a removal)."""
        times = [t for pipe in self._holding for t in self._releases(pipe)]
        finite = [t for t in times if t < math.inf]
        return min(finite) if finite else None

    def due(self, now: float) -> list[Released]:
        """The held frames whose time has come, in order per link and direction."""
        out: list[Released] = []
        for pipe in list(self._holding):
            out.extend(Released(pipe.link, pipe.way, d) for d in self._release(pipe, now))
        return out

    def take_notes(self) -> list[Note]:
        notes, self._notes = self._notes, []
        return notes

    # -- inside ---------------------------------------------------------------------------
    def _hits(self, f: Fault, now: float, link: Link, way: Direction | None = None) -> bool:
        return (
            f.active(now)
            and (way is None or f.direction.covers(way))
            and (f.client is None or f.client in (link.client, link.chat))
            and (f.instance is None or f.instance == link.instance)
        )

    def _latency_of(self, f: Latency) -> float:
        jitter = self.rng.uniform(0.0, f.jitter) if f.jitter > 0 else 0.0
        return (f.ms + jitter) / 1000.0

    def _corrupt(self, text: str, fault_ids: list[int], link: Link, way: Direction) -> str:
        for fault_id in fault_ids:
            fault = self._faults[fault_id]
            left = self._corrupt_left.get(fault_id, 0)
            if isinstance(fault, Corrupt) and left > 0:
                self._corrupt_left[fault_id] = left - 1
                text = corrupt_frame(text, fault.mode)
                self._note("corrupt", link, way, mode=fault.mode.value)
        return text

    def _hold_blackholed(self, pipe: _Pipe, held: _Held) -> None:
        queue = pipe.blackholed if pipe.blackholed is not None else deque()
        if held.blackhole is None:  # behind frames still held: waits with the last of them
            last = queue[-1]
            held.blackhole, held.release = last.blackhole, last.release
        else:
            fault = self._faults[held.blackhole]
            held.release = math.inf if fault.end is None else fault.end
            if queue:  # never before the frames ahead of it
                held.release = max(held.release, queue[-1].release)
        self._note("hold", pipe.link, pipe.way, why="blackhole")
        queue.append(held)
        pipe.blackholed = queue
        self._holding[pipe] = None

    def _releases(self, pipe: _Pipe) -> list[float]:
        """When something on this pipe can go next (blackholed frames go in order)."""
        out = [pipe.blackholed[0].release] if pipe.blackholed else []
        if pipe.reordered is not None:
            out.append(pipe.reordered.release)
        return out

    def _release(self, pipe: _Pipe, now: float) -> list[Delivery]:
        """Deliveries for what is held on this pipe and due by `now`, in order."""
        if not pipe.holds():
            return []
        out: list[Delivery] = []
        held = pipe.reordered
        if held is not None and held.release <= now:
            pipe.reordered = None
            at = self._arrive(pipe, held.release)
            out.extend(Delivery(at, held.text) for _ in range(held.copies))
        while pipe.blackholed and pipe.blackholed[0].release <= now:
            held = pipe.blackholed.popleft()
            start = now if held.release == _AT_ONCE else held.release
            at = self._arrive(pipe, start + held.travel)
            out.extend(Delivery(at, held.text) for _ in range(held.copies))
        self._settle(pipe)
        return out

    def _arrive(self, pipe: _Pipe, at: float) -> float:
        at = max(at, pipe.floor)
        pipe.floor = at
        return at

    def _settle(self, pipe: _Pipe) -> None:
        if pipe.holds():
            return
        self._holding.pop(pipe, None)
        if pipe.forgotten:
            self._drop_pipe(pipe)

    def _pipe(self, link: Link, way: Direction) -> _Pipe:
        key = (link.conn, way)
        pipe = self._pipes.get(key)
        if pipe is None:
            pipe = self._pipes[key] = _Pipe(link, way)
        elif pipe.link != link:
            pipe.link = link  # the live server learns a connection's client and chat late
        return pipe

    def _drop_pipe(self, pipe: _Pipe) -> None:
        self._pipes.pop((pipe.link.conn, pipe.way), None)
        self._holding.pop(pipe, None)

    def _note(self, kind: str, link: Link, way: Direction, **data: Any) -> None:
        if self._keep_notes:
            self._notes.append(Note(kind, link, way, tuple(data.items())))
