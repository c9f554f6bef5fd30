"""Faults in the emulated browser's own network: the one fault engine on the client's links.

The same fault values (`statecharts.faults`) and the same engine
(`statecharts.fault_engine`) as the simulator and the live server, applied
between the client core and its real socket, so any server can be tested
without a proxy:

    faults = ClientFaults([Outage(at=5.0, duration=3.0)], seed=1)
    async with await ChatSession.connect(url, faults=faults) as chat:
        ...
        faults.add({"kind": "latency", "ms": 200, "duration": 10}, chat.now())

Times are the session's clock (seconds since it started; a fault's `at` in
the constructor counts from there), or `clock` when given (e.g. seconds since
a load run started, shared by many sessions). Network kinds only (outage, blackhole,
latency, loss, duplicate, reorder, corrupt); `up` is client→server. An outage
refuses new links and closes the open one; a blackhole holds frames both
ways until it ends; the others act per frame as everywhere else. `seed` makes
the draws of loss/duplicate/reorder/jitter reproducible (no secret is drawn).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from itertools import count
from typing import Any

from statecharts.errors import BadInput
from statecharts.fault_engine import FaultEngine
from statecharts.fault_engine import Link as Route
from statecharts.fault_path import FaultPath
from statecharts.faults import NETWORK_KINDS, Direction, Fault, Outage, parse_fault
from transport.aio.links import CloseHandler, ClosesOnce, FrameHandler, Link, LinkFailed
from transport.wire import ConnectionType

LinkFactory = Callable[[FrameHandler, CloseHandler], Link]
Clock = Callable[[], float]
SOURCE = "client fault"


class ClientFaults:
    """The faults of one emulated browser's network (or of several sharing it)."""

    def __init__(
        self,
        faults: Iterable[Fault | Mapping[str, Any]] = (),
        *,
        seed: int | None = None,
        name: str = "client",
        clock: Clock | None = None,
    ) -> None:
        self.engine = FaultEngine(random.Random(seed))
        self.name = name
        self._clock = clock
        self._path: FaultPath | None = None
        self._links: dict[str, FaultyLink] = {}
        self._ids = count(1)
        for fault in faults:
            self.add(fault)

    def add(self, fault: Fault | Mapping[str, Any], now: float = 0.0) -> int:
        """Add a network fault (a value, or a mapping as in scenarios); `at` counts from `now`."""
        value = fault if isinstance(fault, Fault) else parse_fault(fault, SOURCE)
        if value.kind not in NETWORK_KINDS:
            kinds = ", ".join(sorted(NETWORK_KINDS))
            raise BadInput(SOURCE, f"a network fault ({kinds})", field="kind", got=value.kind)
        value = replace(value, at=now + value.at)
        fault_id = self.engine.add(value, now)
        for link in list(self._links.values()):
            link.watch()
        return fault_id

    def remove(self, fault_id: int, now: float) -> None:
        """Take a fault away; what its blackhole held goes on its way at once."""
        self.engine.remove(fault_id)
        if self._path is not None:
            self._path.flush(now)

    def link(
        self,
        make: LinkFactory,
        on_frame: FrameHandler,
        on_closed: CloseHandler,
        instance: str,
        clock: Clock,
    ) -> FaultyLink:
        """Wrap the link `make` builds so that its frames go through the faults."""
        clock = self._clock or clock
        if self._path is None:
            loop = asyncio.get_running_loop()
            self._path = FaultPath(self.engine, self._deliver, loop.call_later, clock)
        route = Route(f"{self.name}/{next(self._ids)}", instance, client=self.name)
        link = FaultyLink(self, self._path, make, on_frame, on_closed, route=route, clock=clock)
        self._links[route.conn] = link
        return link

    def _deliver(self, conn: str, way: Direction, text: str) -> None:
        link = self._links.get(conn)
        if link is not None:
            link.deliver(way, text)

    def forget(self, conn: str) -> None:
        """A link closed: nothing more is delivered for it."""
        self._links.pop(conn, None)
        if self._path is not None:
            self._path.forget(conn)


class FaultyLink(ClosesOnce):
    """A `Link` whose frames, both ways, pass through the client's fault engine."""

    def __init__(
        self,
        faults: ClientFaults,
        path: FaultPath,
        make: LinkFactory,
        on_frame: FrameHandler,
        on_closed: CloseHandler,
        *,
        route: Route,
        clock: Clock,
    ) -> None:
        self._faults, self._path, self._route, self._clock = faults, path, route, clock
        self._on_frame, self._on_closed = on_frame, on_closed
        self._inner = make(self._received, self._finish)
        self.kind: ConnectionType = self._inner.kind
        self._closed = False
        self._watcher: asyncio.TimerHandle | None = None

    async def open(self) -> None:
        if self._faults.engine.refuses(self._clock(), self._route):
            raise LinkFailed("outage: connection refused (client-side fault)")
        await self._inner.open()
        self.watch()

    def send(self, text: str) -> None:
        if not self._closed and not self._outage():
            self._path.send(self._clock(), Direction.UP, self._route, text)

    def _received(self, text: str) -> None:
        if not self._closed and not self._outage():
            self._path.send(self._clock(), Direction.DOWN, self._route, text)

    def deliver(self, way: Direction, text: str) -> None:
        """A frame through the faults: up to the real socket, down to the driver."""
        if self._closed:
            return
        if way is Direction.UP:
            self._inner.send(text)
        else:
            self._on_frame(text)

    def watch(self) -> None:
        """Close this link when the next outage covering it starts."""
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        now = self._clock()
        starts = [
            f.at
            for f in self._faults.engine.faults().values()
            if isinstance(f, Outage) and f.at > now
        ]
        if starts and not self._closed:
            delay = min(starts) - now
            self._watcher = asyncio.get_running_loop().call_later(delay, self._watched)

    def _watched(self) -> None:
        self._watcher = None
        if not self._outage():
            self.watch()  # that outage spares this link: wait for the next one

    def _outage(self) -> bool:
        if not self._faults.engine.closes(self._clock(), self._route):
            return False
        self._finish("outage (client-side fault)")
        return True

    async def close(self, reason: str) -> None:
        self._closed = True
        if self._watcher is not None:
            self._watcher.cancel()
        self._faults.forget(self._route.conn)
        await self._inner.close(reason)
