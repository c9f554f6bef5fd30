"""Guards against clients that misbehave: bounded queues, capped connections, strict bodies.

Each guard answers in the protocol's own terms (HTTP 400/408/413/503, a
WebSocket close code with a reason) and never raises into aiohttp, so the log
holds one line per refusal and no traceback. The bounds come from
`sim.live.limits.Limits`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler, Middleware

from sim.live.limits import Limits

log = logging.getLogger("chatsim.live")

# Charsets a long-poll body may declare: what browsers and CometD send.
TEXT_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
CLOSE_GRACE = 2.0  # seconds a closing WebSocket gets before its TCP connection is cut
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n"
)


class SendQueue:
    """Frames waiting to be written to one WebSocket client, bounded in characters.

    `put` says False instead of growing past the bound: the client does not
    read, and the caller disconnects it. An idle queue holds no buffer, task or
    future (tens of thousands of sessions sit idle): a writer task runs only
    while frames wait, and writes them in order through `send`."""

    __slots__ = ("_closed", "_frames", "_send", "_size", "_writer", "limit")

    def __init__(self, limit: int, send: Callable[[str], Awaitable[None]]) -> None:
        self.limit = limit
        self._send = send
        self._frames: deque[str] | None = None
        self._size = 0
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    def put(self, text: str) -> bool:
        if self._closed:
            return True  # closing: nothing more goes out, and that is no fault of the client
        if self._size + len(text) > self.limit:
            return False
        self._size += len(text)
        if self._frames is None:
            self._frames = deque()
        self._frames.append(text)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(self._frames))
        return True

    def close(self) -> None:
        """No more frames; those already queued are still written."""
        self._closed = True

    async def flushed(self) -> None:
        """Until the writer has written (or given up on) what was queued."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _write(self, frames: deque[str]) -> None:
        try:
            while frames:
                text = frames.popleft()
                self._size -= len(text)
                await self._send(text)
        except (ConnectionError, RuntimeError):
            self._closed = True  # the connection is going: the rest cannot be written
            frames.clear()
            self._size = 0
        finally:
            self._frames = None
            self._writer = None


# Reasons for the closes aiohttp makes itself (protocol errors), which it sends without one.
CLOSE_REASONS = {
    1002: "WebSocket protocol error (RFC 6455 framing)",
    1003: "unsupported data",
    1007: "a text frame is not valid UTF-8",
    1008: "policy violation",
    1009: "message over the size limit",
    1011: "the server could not handle the message",
}


class ExplainingWebSocket(web.WebSocketResponse):
    """A WebSocketResponse whose every non-normal close carries a reason."""

    async def close(self, *, code: int = 1000, message: bytes = b"", drain: bool = True) -> bool:
        if not message and code in CLOSE_REASONS:
            message = CLOSE_REASONS[code].encode()
        return await super().close(code=code, message=message, drain=drain)


async def shut(
    ws: web.WebSocketResponse,
    transport: asyncio.BaseTransport | None,
    code: int,
    reason: str,
) -> None:
    """Close with a code and reason; cut the connection if the client does not take the close."""
    try:
        async with asyncio.timeout(CLOSE_GRACE):
            await ws.close(code=code, message=reason[:120].encode())
    except (TimeoutError, ConnectionError, RuntimeError):
        pass
    finally:
        # A no-op after a clean close; frees a socket stuck behind unread data.
        if isinstance(transport, asyncio.Transport):
            transport.abort()


async def read_body(request: web.Request, limits: Limits) -> str | web.Response:
    """A long-poll body as text, or the HTTP answer that refuses it."""
    charset = (request.charset or "utf-8").lower()
    if charset not in TEXT_CHARSETS:
        return _refuse(400, f"unsupported charset {charset[:40]!r}: send UTF-8 JSON")
    try:
        async with asyncio.timeout(limits.body_timeout):
            raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _refuse(413, f"body over {limits.max_frame} bytes")
    except TimeoutError:
        return _refuse(408, f"body not received within {limits.body_timeout:g} s")
    except ConnectionError:
        return _refuse(400, "the client went away before sending its body")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _refuse(400, f"body is not UTF-8 (byte {exc.start})")


async def read_json(request: web.Request, limits: Limits) -> Any:
    """A JSON body (control API) read like a frame, or the HTTP answer that refuses it."""
    body = await read_body(request, limits)
    if isinstance(body, web.Response):
        return web.json_response({"error": (body.text or "").strip()}, status=body.status)
    try:
        # Values are the caller's to judge (the fault API names the field of a NaN).
        value = json.loads(body)
    except RecursionError:
        reason = "JSON nested too deep"
    except ValueError as exc:
        reason = f'the body must be a JSON object like {{"kind": ...}}: {str(exc)[:120]}'
    else:
        return value
    log.info("control request refused with 400: %s", reason)
    return web.json_response({"error": reason}, status=400)


def _refuse(status: int, reason: str) -> web.Response:
    log.info("long-poll refused with %d: %s", status, reason)
    return web.Response(status=status, text=reason + "\n", headers={"Connection": "close"})


class _Busy(asyncio.Protocol):
    """Answers a connection over the cap with 503 and closes it."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.Transport):
            transport.write(BUSY)
        transport.close()


class CappedFactory:
    """aiohttp's protocol factory, refusing connections past `max_connections`."""

    def __init__(self, server: web.Server, max_connections: int) -> None:
        self._server = server
        self._max = max_connections
        self._warned = False
        # Made but not yet registered with the server: a burst of accepts runs the
        # factory many times before any connection_made.
        self._pending = 0

    def __call__(self) -> asyncio.BaseProtocol:
        if len(self._server.connections) + self._pending >= self._max:
            if not self._warned:
                log.warning("connection cap %d reached: refusing with 503", self._max)
                self._warned = True
            return _Busy()
        self._warned = False
        self._pending += 1
        loop = asyncio.get_running_loop()
        # connection_made is queued right after this returns; settle after it ran.
        loop.call_soon(loop.call_soon, self._settled)
        return self._server()

    def _settled(self) -> None:
        self._pending -= 1


class GuardedSite(web.TCPSite):
    """A TCP site whose connections are capped (`Limits.max_connections`)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, max_connections: int) -> None:
        super().__init__(runner, host, port)
        self._max_connections = max_connections

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            CappedFactory(server, self._max_connections),
            self._host,
            self._port,
            backlog=self._backlog,
        )
        self._bound_port = self._server.sockets[0].getsockname()[1]


class OneLineHttpErrors(logging.Filter):
    """aiohttp logs a malformed request (answered 400) with a traceback: keep one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError | ConnectionError):
            record.msg, record.args = "bad HTTP request: %s", (str(exc).strip()[:200],)
            record.exc_info = record.exc_text = None
        return True


def quiet_loop_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Log the loop's own errors (e.g. accept() out of file descriptors) as one line."""

    def handle(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
        log.warning("%s%s", context.get("message", "event loop error"), detail)

    loop.set_exception_handler(handle)
    logging.getLogger("aiohttp.server").addFilter(OneLineHttpErrors())


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def loopback_host_middleware() -> Middleware:
    """Refuse requests whose Host is not a loopback name (DNS rebinding).

    A page on a host name that resolves to 127.0.0.1 is the server's own origin
    to the browser; its Host header still names the attacker's domain."""

    @web.middleware
    def check_host(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
        # A tail call: no frame of this middleware stays alive as long as a WebSocket.
        name = _host_name(request.host)
        if name not in LOOPBACK_NAMES and not name.endswith(".localhost"):
            log.info("refused a request for Host %r: not a loopback name", request.host[:80])
            return answered(
                web.Response(
                    status=421,
                    text=f"Host {request.host[:80]!r} is not served here "
                    "(a loopback server answers localhost and 127.0.0.1)\n",
                )
            )
        return handler(request)

    return check_host


async def answered(response: web.StreamResponse) -> web.StreamResponse:
    """A middleware's own answer, as the awaitable a handler would give."""
    return response


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
