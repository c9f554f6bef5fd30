"""The live server's active faults, and what they do to one frame.

The same fault values as the simulator (`sim.faults`), applied to real
connections. A fault added through the control API starts `at` seconds from
now (default at once) and ends `duration` seconds later (None: until removed).
Network faults are judged per frame, for one direction, one instance and one
client: a fault's `client` matches the Bayeux clientId seen on the connection
or the chatId of the chat that client runs; the server-side kinds are handed to the cluster by
`sim.live.server`. Times are the live server's clock in seconds; nothing here
reads it, so the board can be tested with plain numbers.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sim.faults import (
    NETWORK_KINDS,
    Blackhole,
    Corrupt,
    Direction,
    Duplicate,
    Fault,
    Latency,
    Loss,
    Outage,
    Reload,
    Reorder,
    parse_fault,
)
from sim.frame_corruption import corrupt_frame
from statecharts.errors import BadInput

SOURCE = "fault API"


@dataclass(frozen=True)
class Posted:
    """A fault on the board: its id and the value with an absolute start time."""

    id: int
    fault: Fault

    def as_dict(self, now: float) -> dict[str, Any]:
        return {"id": self.id, "active": self.fault.active(now), "fault": self.fault.as_dict()}


@dataclass(frozen=True)
class Delivery:
    """One frame to pass on after `delay` seconds."""

    text: str
    delay: float = 0.0


class FaultBoard:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._posted: dict[int, Posted] = {}
        self._corrupt_left: dict[int, int] = {}
        self._held: dict[tuple[str, Direction], str] = {}
        self._next_id = 1

    # -- the control API ---------------------------------------------------
    def add(self, raw: Mapping[str, Any], now: float) -> Posted:
        fault = parse_fault(raw, SOURCE)
        if isinstance(fault, Reload):
            raise BadInput(SOURCE, "a server or network fault (reload happens in the browser)",
                           field="kind", got="reload")
        posted = Posted(self._next_id, replace(fault, at=now + fault.at))
        self._next_id += 1
        self._posted[posted.id] = posted
        if isinstance(fault, Corrupt):
            self._corrupt_left[posted.id] = fault.count
        return posted

    def remove(self, fault_id: int) -> Posted | None:
        self._corrupt_left.pop(fault_id, None)
        return self._posted.pop(fault_id, None)

    def clear(self) -> list[Posted]:
        gone = list(self._posted.values())
        self._posted.clear()
        self._corrupt_left.clear()
        return gone

    def listing(self, now: float) -> list[dict[str, Any]]:
        return [p.as_dict(now) for p in self._posted.values()]

    def get(self, fault_id: int) -> Posted | None:
        return self._posted.get(fault_id)

    def ended(self, now: float) -> list[Posted]:
        """Take the faults whose time is over (or whose corrupt count is used up) off the board."""
        gone = [
            p for p in self._posted.values()
            if (p.fault.end is not None and now >= p.fault.end)
            or self._corrupt_left.get(p.id, 1) <= 0
        ]
        for p in gone:
            self.remove(p.id)
        return gone

    # -- judging connections and frames -------------------------------------
    def _matching(
        self, now: float, instance: str, names: Sequence[str], way: Direction | None = None,
    ) -> list[Posted]:
        return [
            p for p in self._posted.values()
            if p.fault.kind in NETWORK_KINDS and p.fault.active(now)
            and (p.fault.instance is None or p.fault.instance == instance)
            and (p.fault.client is None or p.fault.client in names)
            and (way is None or p.fault.direction.covers(way))
        ]

    def refuses(self, now: float, instance: str, names: Sequence[str] = ()) -> bool:
        """An outage closes matching connections and refuses new ones.

        `names`: the clientId and chatId of the connection, when known."""
        return any(isinstance(p.fault, Outage) for p in self._matching(now, instance, names))

    def frame(
        self, now: float, way: Direction, where: tuple[str, Sequence[str], str], text: str,
    ) -> list[Delivery]:
        """What becomes of one frame: nothing (dropped), itself, edited, delayed or doubled.

        `where` is (instance, the connection's client names, connection key)."""
        instance, names, conn_key = where
        out = [Delivery(text)]
        for posted in self._matching(now, instance, names, way):
            out = self._apply(posted, out, way, conn_key)
        return out

    def _apply(
        self, posted: Posted, out: list[Delivery], way: Direction, conn_key: str,
    ) -> list[Delivery]:
        fault = posted.fault
        if isinstance(fault, Outage | Blackhole):
            return []
        if isinstance(fault, Loss):
            return [d for d in out if self._rng.random() >= fault.p]
        if isinstance(fault, Latency):
            return [replace(d, delay=d.delay + self._latency(fault)) for d in out]
        if isinstance(fault, Duplicate):
            return [e for d in out for e in ([d, d] if self._rng.random() < fault.p else [d])]
        if isinstance(fault, Corrupt):
            return [self._corrupt(posted.id, fault, d) for d in out]
        if isinstance(fault, Reorder):
            return self._reorder(fault, out, (conn_key, way))
        return out

    def _latency(self, fault: Latency) -> float:
        jitter = self._rng.uniform(0.0, fault.jitter) if fault.jitter else 0.0
        return (fault.ms + jitter) / 1000.0

    def _corrupt(self, fault_id: int, fault: Corrupt, delivery: Delivery) -> Delivery:
        left = self._corrupt_left.get(fault_id, 0)
        if left <= 0:
            return delivery
        self._corrupt_left[fault_id] = left - 1
        return replace(delivery, text=corrupt_frame(delivery.text, fault.mode))

    def _reorder(
        self, fault: Reorder, out: list[Delivery], key: tuple[str, Direction],
    ) -> list[Delivery]:
        result: list[Delivery] = []
        for delivery in out:
            held = self._held.pop(key, None)
            if held is None and self._rng.random() < fault.p:
                self._held[key] = delivery.text  # goes out behind the next frame
                continue
            result.append(delivery)
            if held is not None:
                result.append(Delivery(held, delivery.delay))
        return result

    def forget_connection(self, conn_key: str) -> None:
        for way in Direction:
            self._held.pop((conn_key, way), None)
