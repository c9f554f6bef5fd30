"""The client core on real sockets, with the real clock (the only clock of `transport`).

Applications use `ChatSession` (the chat service of our server) or
`BayeuxSession` (pure Bayeux, e.g. a Faye server); each runs its core on a
`transport.aio.driver.Driver`:

    async with ChatSession.connect(url) as chat:
        await chat.ready()
        ack = await chat.send_message("hello")
        async for t, event in chat.events():
            ...
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Generic, Self, TypeVar, overload

from statecharts.chart import TERMINAL, State, Timers
from statecharts.errors import ServerError, UsageError
from statecharts.events import Acked, AppEvent, CommandDone, EventError, SendFailed
from transport.aio.driver import C, Callback, Driver, TimedEvent
from transport.aio.faulty import ClientFaults
from transport.broadcast import Broadcast, BroadcastCore
from transport.core import ClientConfig, ClientCore
from transport.wire import ConnectionType

__all__ = ["BayeuxSession", "ChatSession", "Driver"]

E = TypeVar("E", bound=AppEvent)


class _Session(Generic[C]):
    """What both session kinds share: lifecycle, events, waiting."""

    def __init__(self, driver: Driver[C]) -> None:
        self.driver = driver

    @property
    def state(self) -> State:
        return self.driver.core.state

    @property
    def transport(self) -> ConnectionType:
        return self.driver.transport

    @property
    def history(self) -> list[TimedEvent]:
        return self.driver.history

    def now(self) -> float:
        return self.driver.now()

    def on(self, kind: str | None, callback: Callback) -> None:
        """Call `callback(t, event)` for every event of `kind` (None: all)."""
        self.driver.on(kind, callback)

    def events(self, *, replay: bool = True) -> AsyncIterator[TimedEvent]:
        return self.driver.events(replay=replay)

    @overload
    async def wait_for(
        self,
        kind: type[E],
        predicate: Callable[[E], bool] = ...,
        *,
        after: int = 0,
        timeout: float = 10.0,
    ) -> tuple[float, E]: ...

    @overload
    async def wait_for(
        self,
        kind: str,
        predicate: Callable[[AppEvent], bool] = ...,
        *,
        after: int = 0,
        timeout: float = 10.0,
    ) -> tuple[float, AppEvent]: ...

    async def wait_for(
        self,
        kind: type[Any] | str,
        predicate: Callable[[Any], bool] = lambda _e: True,
        *,
        after: int = 0,
        timeout: float = 10.0,
    ) -> tuple[float, Any]:
        """The first event of `kind` (a class, or a trace kind like "interrupted")."""

        def match(event: AppEvent) -> bool:
            right_kind = event.kind == kind if isinstance(kind, str) else isinstance(event, kind)
            return right_kind and predicate(event)

        return await self.driver.wait_for(match, after=after, timeout=timeout)

    async def ready(self, timeout: float = 10.0) -> None:
        await self.driver.wait_for(
            lambda e: e.kind == "ready" or (e.kind == "state" and e.fields()["to"] in TERMINAL),
            timeout=timeout,
        )
        if self.state in TERMINAL:
            raise UsageError(f"the session did not become ready: it is {self.state}")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.driver.close()


def _config(
    transport: ConnectionType,
    timers: Timers | None,
    interruption_error: bool,
) -> ClientConfig:
    return ClientConfig(
        timers=timers or Timers(),
        interruption_error=interruption_error,
        transport=transport,
    )


def _urls(url: str | Mapping[str, str]) -> dict[str, str]:
    if isinstance(url, str):
        return {"i1": url}
    if not url:
        raise UsageError("give at least one server URL")
    return dict(url)


class ChatSession(_Session[ClientCore]):
    """A chat over our server's chat service (`/service/chat`)."""

    @property
    def core(self) -> ClientCore:
        return self.driver.core

    @classmethod
    async def connect(
        cls,
        url: str | Mapping[str, str],
        *,
        transport: ConnectionType = ConnectionType.WEBSOCKET,
        timers: Timers | None = None,
        interruption_error: bool = True,
        nickname: str = "client",
        client_id: str = "c1",
        seed: int | None = None,
        faults: ClientFaults | None = None,
    ) -> ChatSession:
        """Start a chat; `url` is one endpoint or {instance: endpoint} for failover.

        `faults`: network faults applied in this client's own links."""
        urls = _urls(url)
        config = ClientConfig(
            timers=timers or Timers(),
            interruption_error=interruption_error,
            transport=transport,
            nickname=nickname,
        )
        core = ClientCore(client_id, config, list(urls), random.Random(seed))
        driver = Driver(core, urls, transport, faults)
        session = cls(driver)
        driver.start()
        driver.call(core.start)
        return session

    async def send_message(self, text: str, timeout: float = 10.0) -> Acked:
        """Send a chat message and wait until the server acknowledged it."""
        after = len(self.history)
        message_id: str = self.driver.call(lambda now: self.core.send_message(text, now))

        def settled(event: AppEvent) -> bool:
            return isinstance(event, Acked | SendFailed) and event.id == message_id

        _, event = await self.driver.wait_for(settled, after=after, timeout=timeout)
        if isinstance(event, SendFailed):
            raise ServerError(event.code, f"message {message_id} failed")
        assert isinstance(event, Acked)
        return event

    def send_typing(self) -> None:
        self.driver.call(self.core.send_typing)

    async def end(self, timeout: float = 5.0) -> None:
        self.driver.call(self.driver.core.end)
        with contextlib.suppress(TimeoutError):
            await self.driver.wait_for(lambda e: e.kind == "ended", timeout=timeout)


class BayeuxSession(_Session[BroadcastCore]):
    """Pure Bayeux: subscribe to broadcast channels, publish on them (e.g. a Faye server)."""

    @classmethod
    async def connect(
        cls,
        url: str | Mapping[str, str],
        channels: Sequence[str],
        *,
        transport: ConnectionType = ConnectionType.WEBSOCKET,
        timers: Timers | None = None,
        interruption_error: bool = True,
        client_id: str = "b1",
        seed: int | None = None,
        faults: ClientFaults | None = None,
    ) -> BayeuxSession:
        urls = _urls(url)
        core = BroadcastCore(
            client_id,
            channels,
            _config(transport, timers, interruption_error),
            list(urls),
            random.Random(seed),
        )
        driver = Driver(core, urls, transport, faults)
        session = cls(driver)
        driver.start()
        driver.call(core.start)
        return session

    @property
    def core(self) -> BroadcastCore:
        return self.driver.core

    async def publish(self, channel: str, data: Any, timeout: float = 10.0) -> None:
        """Publish and wait for the server's confirmation (ServerError if refused)."""
        after = len(self.history)
        command_id: str = self.driver.call(lambda now: self.core.publish(channel, data, now))

        def done(event: AppEvent) -> bool:
            return isinstance(event, CommandDone) and event.id == command_id

        _, event = await self.driver.wait_for(done, after=after, timeout=timeout)
        assert isinstance(event, CommandDone)
        if not event.ok:
            raise ServerError(event.code or 52, f"publish on {channel} refused")

    def broadcasts(self) -> list[Broadcast]:
        return [e for _, e in self.history if isinstance(e, Broadcast)]

    def errors(self) -> list[EventError]:
        return [e for _, e in self.history if isinstance(e, EventError)]
