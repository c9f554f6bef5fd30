"""Runs a sans-I/O client core on real sockets, with the real clock.

`Driver` turns `OpenConnection`/`SendFrame`/`CloseConnection` into WebSocket
or long-polling links, feeds frames and closes back as core inputs, and keeps
one wake-up task sleeping until `core.next_deadline()`. Time is `loop.time()`
minus the start, in seconds.

Transport negotiation: a WebSocket is tried first (unless long-polling is
asked for); when the server answers the upgrade with a refusal that means "no
WebSocket here" (400/404/405/426/501) before any WebSocket ever opened, the
driver falls back to long-polling for good. A refused or dropped connection
is an outage, not a reason to fall back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Generic, TypeVar

from websockets.exceptions import InvalidStatus

from statecharts.events import AppEvent
from transport.aio.faulty import ClientFaults
from transport.aio.links import (
    CloseHandler,
    FrameHandler,
    Link,
    LinkFailed,
    LongPollLink,
    WebSocketLink,
)
from transport.aio.wakeup import run_wakeups
from transport.connection import ClientConnection
from transport.outputs import CloseConnection, OpenConnection, SendFrame
from transport.reactions import parse_retry_after
from transport.wire import ConnectionType

TimedEvent = tuple[float, AppEvent]
Callback = Callable[[float, AppEvent], None]
NO_WEBSOCKET_STATUSES = frozenset({400, 404, 405, 426, 501})
C = TypeVar("C", bound=ClientConnection)  # the core a driver runs


class Driver(Generic[C]):
    """Runs one client core over real links; see the module docstring."""

    def __init__(
        self,
        core: C,
        urls: Mapping[str, str],
        transport: ConnectionType,
        faults: ClientFaults | None = None,
    ) -> None:
        """`faults`: network faults in this browser's own links (`transport.aio.faulty`)."""
        self.core = core
        self.faults = faults
        self.urls = dict(urls)
        self.transport = transport
        self.history: list[TimedEvent] = []
        self._callbacks: list[tuple[str | None, Callback]] = []
        self._queues: list[asyncio.Queue[TimedEvent | None]] = []
        self._changed = asyncio.Condition()
        self._link: Link | None = None
        self._epoch = 0  # which link the callbacks belong to
        self._ws_worked = False
        self._t0 = asyncio.get_running_loop().time()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._clock: asyncio.Task[None] | None = None
        self._closed = False

    # -- the clock ---------------------------------------------------------------
    def now(self) -> float:
        return asyncio.get_running_loop().time() - self._t0

    def start(self) -> None:
        self._clock = asyncio.create_task(self._run_clock())

    async def _run_clock(self) -> None:
        await run_wakeups(self.core.next_deadline, self.now, self._wake, self._running, self._tick)

    def _running(self) -> bool:
        return not self._closed

    def _tick(self) -> None:
        self.call(self.core.tick)

    # -- core calls and outputs ------------------------------------------------------
    def call(self, method: Callable[[float], Any]) -> Any:
        """Call a core method with `now`, then carry out what it asked for."""
        result = method(self.now())
        self._pump()
        return result

    def _pump(self) -> None:
        for out in self.core.take_outputs():
            if isinstance(out, OpenConnection):
                self._open(out.instance)
            elif isinstance(out, SendFrame):
                if self._link is not None:
                    self._link.send(out.text)
            elif isinstance(out, CloseConnection):
                self._drop_link(out.reason)
        events = self.core.take_events()
        for timed in events:
            self._publish(timed)
        if events:
            self._spawn(self._notify())
        self._wake.set()

    def _publish(self, timed: TimedEvent) -> None:
        self.history.append(timed)
        for queue in self._queues:
            queue.put_nowait(timed)
        for kind, callback in self._callbacks:
            if kind is None or kind == timed[1].kind:
                callback(*timed)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- links ---------------------------------------------------------------------
    def _open(self, instance: str) -> None:
        self._drop_link("superseded")
        self._epoch += 1
        epoch = self._epoch
        url = self.urls.get(instance)
        if url is None:
            self.call(lambda now: self.core.connection_failed(now, f"no URL for {instance}"))
            return

        def on_frame(text: str) -> None:
            if epoch == self._epoch:
                self.call(lambda now: self.core.frame_received(text, now))

        def on_closed(reason: str) -> None:
            self._spawn(link.close(reason))
            if epoch == self._epoch:
                self._link = None
                self.call(lambda now: self.core.connection_closed(now, reason))

        def make(frame: FrameHandler, closed: CloseHandler) -> Link:
            if self.transport is ConnectionType.WEBSOCKET:
                return WebSocketLink(url, frame, closed)
            return LongPollLink(url, frame, closed)

        link: Link = (
            make(on_frame, on_closed)
            if self.faults is None
            else self.faults.link(make, on_frame, on_closed, instance, self.now)
        )
        self._link = link
        self._spawn(self._connect(link, epoch))

    async def _connect(self, link: Link, epoch: int) -> None:
        failure: LinkFailed | None
        try:
            await link.open()
        except LinkFailed as exc:
            failure = exc
        else:
            failure = None
        if failure is not None:
            if epoch == self._epoch:
                self._link = None
                if self._should_fall_back(failure):
                    self.transport = ConnectionType.LONG_POLLING
                    self.core.set_transport(ConnectionType.LONG_POLLING)
                reason, wait = str(failure), _retry_after_of(failure) or 0.0
                self.call(lambda now: self.core.connection_failed(now, reason, wait))
            await link.close("failed")
            return
        if epoch != self._epoch:
            await link.close("superseded")
            return
        if link.kind is ConnectionType.WEBSOCKET:
            self._ws_worked = True
        self.call(self.core.connection_made)

    def _should_fall_back(self, exc: LinkFailed) -> bool:
        cause = exc.__context__ or exc.__cause__
        refused_upgrade = isinstance(cause, InvalidStatus) and (
            cause.response.status_code in NO_WEBSOCKET_STATUSES
        )
        first_try = self.transport is ConnectionType.WEBSOCKET and not self._ws_worked
        return first_try and refused_upgrade

    def _drop_link(self, reason: str) -> None:
        link, self._link = self._link, None
        self._epoch += 1
        if link is not None:
            self._spawn(link.close(reason))

    async def close(self) -> None:
        self._closed = True
        self._drop_link("closed by the application")
        self._wake.set()
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
        for queue in self._queues:
            queue.put_nowait(None)
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- for applications -------------------------------------------------------------
    def on(self, kind: str | None, callback: Callback) -> None:
        self._callbacks.append((kind, callback))

    async def events(self, *, replay: bool = True) -> AsyncIterator[TimedEvent]:
        queue: asyncio.Queue[TimedEvent | None] = asyncio.Queue()
        for old in self.history if replay else []:
            queue.put_nowait(old)
        self._queues.append(queue)
        try:
            while (timed := await queue.get()) is not None:
                yield timed
        finally:
            self._queues.remove(queue)

    async def wait_for(
        self,
        predicate: Callable[[AppEvent], bool],
        *,
        after: int = 0,
        timeout: float = 10.0,
    ) -> TimedEvent:
        """The first event (from history index `after` on) that matches."""

        async def scan() -> TimedEvent:
            async with self._changed:
                while True:
                    for timed in self.history[after:]:
                        if predicate(timed[1]):
                            return timed
                    await self._changed.wait()

        return await asyncio.wait_for(scan(), timeout)


def _retry_after_of(exc: LinkFailed) -> float | None:
    """The Retry-After of a WebSocket upgrade refused 429 (PolyAI: too many sockets)."""
    cause = exc.__context__ or exc.__cause__
    if not isinstance(cause, InvalidStatus) or cause.response.status_code != 429:
        return None
    return parse_retry_after(cause.response.headers.get("Retry-After"))
