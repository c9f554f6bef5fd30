"""Real connections that carry whole Bayeux frames: WebSocket and HTTP long-polling.

A link knows nothing about Bayeux or the chat: it opens, sends frame texts,
hands received frame texts to `on_frame` and reports the end of the connection
once to `on_closed`. The adapter (`transport.aio.driver`) turns these callbacks
into the sans-I/O core's `frame_received`/`connection_closed` inputs.

Long-polling has no connection to open: every frame is one HTTP POST whose
response body is the reply frame, and a failed request closes the "link".
Several POSTs may be in flight at once (a held `/meta/connect` and a publish),
as the CometD long-polling transport does.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Callable
from typing import Protocol

import aiohttp
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import WebSocketException

from transport.reactions import parse_retry_after
from transport.wire import ConnectionType

FrameHandler = Callable[[str], None]
CloseHandler = Callable[[str], None]

# The longest a long-poll request may take: the server's hold plus slack.
DEFAULT_REQUEST_TIMEOUT = 45.0
MAX_FRAME_BYTES = 1 << 20


class LinkFailed(Exception):
    """The connection could not be opened; the message says why."""


class Link(Protocol):
    kind: ConnectionType

    async def open(self) -> None: ...
    def send(self, text: str) -> None: ...
    async def close(self, reason: str) -> None: ...


def http_to_ws(url: str) -> str:
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


class ClosesOnce:
    """The end of a link, told to its owner once however many ways it ends."""

    _closed: bool
    _on_closed: CloseHandler

    def _finish(self, reason: str) -> None:
        if not self._closed:
            self._closed = True
            self._on_closed(reason)


class WebSocketLink(ClosesOnce):
    """One WebSocket carrying frames both ways (websockets library client)."""

    kind = ConnectionType.WEBSOCKET

    def __init__(
        self,
        url: str,
        on_frame: FrameHandler,
        on_closed: CloseHandler,
        open_timeout: float = 5.0,
    ) -> None:
        self.url = http_to_ws(url)
        self._on_frame = on_frame
        self._on_closed = on_closed
        self._open_timeout = open_timeout
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closed = False

    async def open(self) -> None:
        try:
            self._socket = await ws_connect(
                self.url,
                open_timeout=self._open_timeout,
                max_size=MAX_FRAME_BYTES,
                ping_interval=None,
                compression=None,
            )
        except (OSError, WebSocketException, TimeoutError) as exc:
            raise LinkFailed(f"websocket {self.url}: {exc or type(exc).__name__}") from None
        self._reader = asyncio.create_task(self._read(self._socket))

    async def _read(self, socket: ClientConnection) -> None:
        reason = "closed by peer"
        try:
            async for data in socket:
                if self._closed:
                    return
                self._on_frame(data if isinstance(data, str) else data.decode("utf-8", "replace"))
        except (OSError, WebSocketException) as exc:
            reason = f"websocket error: {exc or type(exc).__name__}"
        if socket.close_reason:
            reason = f"closed by peer: {socket.close_reason}"
        self._finish(reason)

    def send(self, text: str) -> None:
        socket = self._socket
        if socket is None or self._closed:
            return
        task = asyncio.create_task(self._send(socket, text))
        task.add_done_callback(_consume)

    async def _send(self, socket: ClientConnection, text: str) -> None:
        try:
            await socket.send(text)
        except (OSError, WebSocketException) as exc:
            self._finish(f"websocket send failed: {exc or type(exc).__name__}")

    async def close(self, reason: str) -> None:
        self._closed = True
        if self._socket is not None:
            with contextlib.suppress(OSError, WebSocketException):
                await self._socket.close(reason=reason[:100])
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


class LongPollLink(ClosesOnce):
    """HTTP long-polling: one POST per frame, the response body is the reply frame."""

    kind = ConnectionType.LONG_POLLING

    def __init__(
        self,
        url: str,
        on_frame: FrameHandler,
        on_closed: CloseHandler,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        self.url = url
        self._on_frame = on_frame
        self._on_closed = on_closed
        self._timeout = aiohttp.ClientTimeout(total=request_timeout, connect=5.0)
        self._http: aiohttp.ClientSession | None = None
        self._requests: set[asyncio.Task[None]] = set()
        self._closed = False
        self._not_before = 0.0  # loop time before which no POST goes (a 429's Retry-After)

    async def open(self) -> None:
        # Nothing to open: the first POST tells whether the server is there.
        self._http = aiohttp.ClientSession(timeout=self._timeout)

    def send(self, text: str) -> None:
        if self._http is None or self._closed:
            return
        task = asyncio.create_task(self._post(self._http, text))
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    async def _post(self, http: aiohttp.ClientSession, text: str) -> None:
        wait = self._not_before - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)  # the server asked (429 + Retry-After): not before then
        headers = {"Content-Type": "application/json;charset=UTF-8"}
        body_bytes = text.encode()
        # aiohttp warns on large raw bodies (a LiveChat 10 MB message): stream those.
        data = io.BytesIO(body_bytes) if len(body_bytes) > _LARGE_BODY else body_bytes
        try:
            async with http.post(self.url, data=data, headers=headers) as response:
                body = await response.text()
                if response.status == 429:
                    self._honour_retry_after(response.headers.get("Retry-After"))
                rate_limited = response.status == 429 and _is_json(response.content_type)
                if response.status != 200 and not rate_limited:
                    self._finish(f"HTTP {response.status}")
                    return
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self._finish(f"long-poll request failed: {exc or type(exc).__name__}")
            return
        if not self._closed:
            self._on_frame(body)

    def _honour_retry_after(self, value: str | None) -> None:
        """A 429 carrying Retry-After: no POST before then (its body, Bayeux replies
        refusing the rate-limited command, is read as any other)."""
        wait = parse_retry_after(value)
        if wait is not None:
            until = asyncio.get_running_loop().time() + wait
            self._not_before = max(self._not_before, until)

    async def close(self, reason: str) -> None:
        self._closed = True
        for task in list(self._requests):
            task.cancel()
        for task in list(self._requests):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.close()


_LARGE_BODY = 1024 * 1024


def _is_json(content_type: str) -> bool:
    return content_type == "application/json"


def _consume(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
