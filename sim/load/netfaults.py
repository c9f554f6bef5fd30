"""Network faults in an emulated browser's own link, so they work against any server.

The same fault values as the simulator (`sim.faults`), decided by the live
server's fault board (`sim.live.faultboard.FaultBoard`: one piece of code
says what a fault does to a frame), applied here on the client's side of the
socket: an outage closes the browser's connection when it starts and refuses
new ones while it lasts; blackhole, loss, latency, duplicate, reorder and
corrupt act on each frame, `up` (browser to server) or `down`; `reload`
reloads the page at `at`. Times are seconds since the run started.

This is a small adapter: `FaultyDriver` wraps the links the transport's
`Driver` opens and reaches into a link's frame callback (`_on_frame`), until
the transport grows a client-side seam for faults.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sim.faults import Direction, Outage, parse_fault
from sim.live.faultboard import FaultBoard
from transport.aio.links import Link
from transport.aio.session import Driver
from transport.core import ClientCore, Conn
from transport.wire import ConnectionType

GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
SOURCE = "--fault"


def chosen(number: int, share: float | None) -> bool:
    """Whether browser `number` is in a `share` of the browsers (evenly spread)."""
    return share is None or (number * GOLDEN) % 1.0 < share


def faults_for(number: int, faults: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The browser-side faults (without `share`) that hit browser `number`."""
    out = []
    for raw in faults:
        fault = {k: v for k, v in raw.items() if k != "share"}
        kind = parse_fault(fault, SOURCE).kind
        if kind in CLIENT_KINDS and chosen(number, raw.get("share")):
            out.append(fault)
    return out


CLIENT_KINDS = frozenset(
    {"outage", "blackhole", "latency", "loss", "duplicate", "reorder", "corrupt", "reload"}
)


class FaultyDriver(Driver):
    """A `Driver` whose links pass through this browser's network faults."""

    def __init__(
        self,
        core: ClientCore,
        urls: Mapping[str, str],
        transport: ConnectionType,
        faults: Sequence[Mapping[str, Any]],
        run_started: float,
    ) -> None:
        super().__init__(core, urls, transport)
        self.board = FaultBoard(random.Random(secrets.randbits(64)))
        self._run_started = run_started
        self._names = (core.client_id,)
        loop = asyncio.get_running_loop()
        for raw in faults:
            fault = parse_fault(raw, SOURCE)
            start = max(0.0, fault.at - self.run_now())
            if fault.kind == "reload":
                loop.call_later(start, self._reload)
                continue
            self.board.add(raw, 0.0)
            if isinstance(fault, Outage):
                loop.call_later(start, self._outage_starts)

    def run_now(self) -> float:
        return asyncio.get_running_loop().time() - self._run_started

    # -- connections -----------------------------------------------------------------
    def _open(self, instance: str) -> None:
        if self.board.refuses(self.run_now(), instance, self._names):
            self._drop_link("outage")
            asyncio.get_running_loop().call_soon(self._refused)
            return
        super()._open(instance)
        if self._link is not None:
            self._link = FaultyLink(
                self._link, self, instance, f"{self.core.client_id}-{self._epoch}"
            )

    def _refused(self) -> None:
        if not self._closed:
            self.call(lambda now: self.core.connection_failed(now, "outage"))

    def _outage_starts(self) -> None:
        if self._closed or self._link is None:
            return
        was_open = self.core.conn is Conn.OPEN
        self._drop_link("outage")
        if was_open:
            self.call(lambda now: self.core.connection_closed(now, "outage"))
        else:
            self.call(lambda now: self.core.connection_failed(now, "outage"))

    def _reload(self) -> None:
        if not self._closed:
            self.call(self.core.reload)

    def pass_frame(
        self,
        way: Direction,
        instance: str,
        key: str,
        text: str,
        out: Callable[[str], None],
    ) -> None:
        now = self.run_now()
        for delivery in self.board.frame(now, way, (instance, self._names, key), text):
            if delivery.delay <= 0:
                out(delivery.text)
            else:
                asyncio.get_running_loop().call_later(delivery.delay, out, delivery.text)
        self.board.ended(now)


class FaultyLink:
    """A link whose frames, both ways, go through the browser's faults."""

    def __init__(self, inner: Link, driver: FaultyDriver, instance: str, key: str) -> None:
        self.inner = inner
        self.kind = inner.kind
        self._driver = driver
        self._instance = instance
        self._key = key
        deliver: Callable[[str], None] = inner._on_frame  # type: ignore[attr-defined]
        inner._on_frame = lambda text: self._pass(Direction.DOWN, text, deliver)  # type: ignore[attr-defined]

    def _pass(self, way: Direction, text: str, out: Callable[[str], None]) -> None:
        self._driver.pass_frame(way, self._instance, self._key, text, out)

    async def open(self) -> None:
        await self.inner.open()

    def send(self, text: str) -> None:
        self._pass(Direction.UP, text, self.inner.send)

    async def close(self, reason: str) -> None:
        self._driver.board.forget_connection(self._key)
        await self.inner.close(reason)
