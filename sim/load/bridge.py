"""One asyncio event loop per Locust worker process, beside the gevent hub.

Locust users are gevent greenlets; chatsim's live transport is asyncio. Every
session of a worker process lives on one asyncio loop that runs in a real OS
thread (not a greenlet: Locust monkey-patches `threading`, so the thread is
started with the original `_thread.start_new_thread`, and the loop gets the
original epoll selector). The two sides hand work over without ever blocking
the gevent hub:

- gevent -> asyncio: `loop.call_soon_threadsafe` schedules the coroutine;
- asyncio -> gevent: results and callbacks go through a gevent `async_`
  watcher (its `send()` is the one thread-safe way to wake a hub) and a
  deque, and are run in the hub's thread, where an `AsyncResult` wakes the
  waiting greenlet.

Name resolution would normally run in a thread-pool executor, which does not
work with a patched `threading` inside a non-hub thread; the loop resolves
with the C-level `_socket.getaddrinfo` instead and caches the answer.
"""

from __future__ import annotations

import _socket
import asyncio
import collections
import selectors
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import gevent
from gevent import monkey
from gevent.event import AsyncResult

T = TypeVar("T")
AddrInfo = list[tuple[Any, ...]]


class _Loop(asyncio.SelectorEventLoop):
    """A selector loop that resolves names without an executor thread."""

    def __init__(self, selector: selectors.BaseSelector) -> None:
        super().__init__(selector)
        self._resolved: dict[tuple[Any, ...], AddrInfo] = {}

    async def getaddrinfo(
        self,
        host: Any,
        port: Any,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> AddrInfo:
        key = (host, port, family, type, proto, flags)
        if key not in self._resolved:
            # Blocks this loop for one lookup per name and port; cached afterwards.
            self._resolved[key] = list(_socket.getaddrinfo(host, port, family, type, proto, flags))
        return self._resolved[key]


def _original_selector() -> selectors.BaseSelector:
    cls: type[selectors.BaseSelector] | None
    try:
        cls = monkey.get_original("selectors", "EpollSelector")
    except AttributeError:  # not Linux
        cls = None
    if cls is None:
        cls = monkey.get_original("selectors", "SelectSelector")
    return cls()


class _HubInbox:
    """Callables posted from any thread, run in the gevent hub's thread."""

    def __init__(self) -> None:
        self._pending: collections.deque[Callable[[], None]] = collections.deque()
        self._watcher = gevent.get_hub().loop.async_(ref=False)
        self._watcher.start(self._drain)

    def post(self, fn: Callable[[], None]) -> None:
        self._pending.append(fn)  # deque.append is atomic
        self._watcher.send()

    def _drain(self) -> None:
        while self._pending:
            fn = self._pending.popleft()
            fn()


class Bridge:
    """The asyncio loop of this process and the way in and out of it."""

    def __init__(self) -> None:
        self._inbox = _HubInbox()
        allocate = monkey.get_original("_thread", "allocate_lock")
        start_thread = monkey.get_original("_thread", "start_new_thread")
        started = allocate()
        started.acquire()
        box: list[asyncio.AbstractEventLoop] = []

        def run() -> None:
            loop = _Loop(_original_selector())
            asyncio.set_event_loop(loop)
            box.append(loop)
            started.release()
            loop.run_forever()

        start_thread(run, ())
        started.acquire()  # a real lock: a short wait for the thread to come up
        self.loop = box[0]

    def call(self, make: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        """Run `make()` on the loop; the calling greenlet waits, the hub does not."""
        result: AsyncResult = AsyncResult()

        def finished(task: asyncio.Future[T]) -> None:
            if task.cancelled():
                self._inbox.post(lambda: result.set_exception(asyncio.CancelledError()))
            elif (exc := task.exception()) is not None:
                self._inbox.post(lambda: result.set_exception(exc))
            else:
                value = task.result()
                self._inbox.post(lambda: result.set(value))

        def begin() -> None:
            asyncio.ensure_future(make()).add_done_callback(finished)

        self.loop.call_soon_threadsafe(begin)
        try:
            value: T = result.get(timeout=timeout)
        except gevent.Timeout:
            raise TimeoutError(f"no answer from the session loop in {timeout} s") from None
        return value


_bridge: Bridge | None = None


def bridge() -> Bridge:
    """The process's one bridge, started on first use (from the hub's thread)."""
    global _bridge  # noqa: PLW0603 (one loop per process, by design)
    if _bridge is None:
        _bridge = Bridge()
    return _bridge
