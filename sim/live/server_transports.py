"""The live server's HTTP handlers: WebSocket connections and long-poll requests.

`TransportRoutes` is a mixin of `LiveServer` (its methods take the server as
`self`); split out of `sim.live.server` so the transports read on their own.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, WSMsgType, web

from sim.live import browsers as bx
from sim.live import jsonp
from sim.live.guard import ExplainingWebSocket, SendQueue, read_body, shut
from sim.live.limits import Limits
from sim.live.ports import ClusterPort
from sim.live.server_base import (
    POLL_LIMIT,
    Conn,
    log,
)
from statecharts.dialects import CONNECTION_LIMIT
from transport.reactions import retry_after_header
from transport.wire import Message

# The Retry-After of a refused WebSocket (too many for one session): by then one may be closed.
SOCKET_LIMIT_RETRY_AFTER = 1.0


class TransportRoutes:
    """The `/iN/cometd` handlers of `LiveServer`: WebSocket and long-polling."""

    if TYPE_CHECKING:  # what the mixin uses of `LiveServer` (declarations only)
        cluster: ClusterPort
        browsers: bx.Browsers
        limits: Limits
        _conns: dict[str, Conn]
        _max_frame: int
        _ws_enabled: bool

        def _open(
            self, instance: str, peer: str, ws: web.WebSocketResponse | None
        ) -> Conn | None: ...
        def _close(self, conn: Conn) -> None: ...
        def _parse_up(self, text: str) -> list[Message] | str: ...
        def _frame_up(
            self, conn: Conn, text: str, messages: list[Message] | None = None
        ) -> str | None: ...

    # -- HTTP handlers ------------------------------------------------------------
    def _instance_handler(
        self,
        instance: str,
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        # The coroutine method itself, not a closure awaiting it: one frame less kept
        # alive for as long as each WebSocket lasts.
        return functools.partial(self._websocket, instance=instance)

    async def _websocket(self, request: web.Request, instance: str) -> web.StreamResponse:
        """A WebSocket upgrade; a POST or callback-polling GET of the URL is a long poll."""
        if request.method != "GET" or jsonp.is_jsonp(request):
            return await self._long_poll(request, instance)
        # aiohttp cuts frames past its buffer without a reason; we say why for the rest.
        ws = ExplainingWebSocket(max_msg_size=self.limits.ws_buffer, autoping=True)
        if not self._ws_enabled:
            return web.Response(status=400, text="WebSocket is not available here\n")
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="expected a WebSocket upgrade or a POST\n")
        browser = bx.browser_of(request)
        over_limit = self._socket_limit(browser, request.remote or "?")
        if over_limit is not None:
            return over_limit
        conn = self._open(instance, request.remote or "?", ws)
        if conn is None:
            log.info("websocket %s refused (%s down)", request.path, instance)
            return web.Response(status=503, text=f"{instance} is not available\n")
        conn.browser = browser
        bx.remember(ws, conn.browser)
        self.browsers.websocket_opened(conn.id)
        await ws.prepare(request)
        conn.transport = request.transport
        conn.outbox = SendQueue(self.limits.send_queue, ws.send_str)
        log.info("conn %s %s: websocket open from %s", conn.id, instance, conn.peer)
        try:
            await self._ws_reader(conn, ws)
        finally:
            conn.outbox.close()
            await conn.outbox.flushed()
            self.browsers.websocket_closed(conn.id)
            self._close(conn)
            log.info("conn %s %s: websocket closed (%s)", conn.id, instance, ws.close_code)
        return ws

    def _socket_limit(self, browser: bx.BrowserId, peer: str) -> web.Response | None:
        """The dialect's refusal of one WebSocket too many for a session (PolyAI: the 11th
        is answered 429 `connection limit exceeded for session` in the handshake)."""
        dialect = self.cluster.dialect
        limit = dialect.max_sockets
        if limit is None:
            return None

        def session_of(conn: Conn) -> str:
            known = conn.browser if conn.browser and conn.browser.presented else None
            return known.value if known else f"addr:{conn.peer}"

        key = browser.value if browser.presented else f"addr:{peer}"
        open_now = sum(1 for c in self._conns.values() if c.ws is not None and session_of(c) == key)
        if open_now < limit:
            return None
        row = dialect.behaviour_row(CONNECTION_LIMIT)
        status, text = (429, "connection limit exceeded") if row is None else (row.status, row.key)
        log.info("websocket refused: %d open for one session (limit %d)", open_now, limit)
        headers = {"Retry-After": retry_after_header(SOCKET_LIMIT_RETRY_AFTER)}
        return web.Response(status=status or 429, text=f"{text}\n", headers=headers)

    async def _ws_reader(self, conn: Conn, ws: web.WebSocketResponse) -> None:
        while True:
            try:
                # Silent past the longest hold a client may ask for, plus the idle timeout.
                msg = await ws.receive(timeout=self._ws_idle())
            except TimeoutError:
                await shut(ws, conn.transport, WSCloseCode.POLICY_VIOLATION, "idle timeout")
                return
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return
            if msg.type is WSMsgType.TEXT and len(msg.data) > self._max_frame:
                reason = f"frame over {self._max_frame} bytes"
                await shut(ws, conn.transport, WSCloseCode.MESSAGE_TOO_BIG, reason)
            elif msg.type is WSMsgType.TEXT:
                refused = self._frame_up(conn, msg.data)
                if refused:
                    log.info("conn %s %s: %s", conn.id, conn.instance, refused)
                    await shut(ws, conn.transport, WSCloseCode.UNSUPPORTED_DATA, refused)
            elif msg.type is WSMsgType.BINARY:
                await shut(
                    ws, conn.transport, WSCloseCode.UNSUPPORTED_DATA, "binary frames are not Bayeux"
                )
            elif msg.type is WSMsgType.ERROR:
                log.info("conn %s %s: %s", conn.id, conn.instance, ws.exception())

    def _ws_idle(self) -> float:
        return self.limits.idle_timeout + self.cluster.hold

    async def _long_poll(self, request: web.Request, instance: str) -> web.StreamResponse:
        """One long-poll request (POST, or a callback-polling GET), with the browser cookie."""
        callback = jsonp.callback_name(request) if jsonp.is_jsonp(request) else None
        if jsonp.is_jsonp(request) and callback is None:
            return web.Response(status=400, text="jsonp: the callback must be an identifier\n")
        browser = bx.browser_of(request)
        response = await self._poll(request, instance, browser, callback)
        bx.remember(response, browser)
        return response

    async def _poll(
        self,
        request: web.Request,
        instance: str,
        browser: bx.BrowserId,
        callback: str | None,
    ) -> web.Response:
        body = jsonp.body(request) if callback else await read_body(request, self.limits)
        if isinstance(body, web.Response):
            return body
        conn = self._open(instance, request.remote or "?", None)
        if conn is None:
            return web.Response(status=503, text=f"{instance} is not available\n")
        conn.browser = browser
        conn.reply = asyncio.get_running_loop().create_future()
        messages = self._parse_up(body)  # the one decode of the body
        if isinstance(messages, str):
            self._close(conn)
            return web.Response(status=400, text=messages + "\n")
        polls = bx.poll_key(request, browser) if bx.has_connect(messages) else None
        if polls is not None:
            conn.multi = self.browsers.begin_poll(polls)
        try:
            refused = self._frame_up(conn, body, messages)
            if refused:
                return web.Response(status=400, text=refused + "\n")
            try:
                text = await asyncio.wait_for(asyncio.shield(conn.reply), POLL_LIMIT)
            except TimeoutError:
                text = None
        finally:
            if polls is not None:
                self.browsers.end_poll(polls)
            self._close(conn)
        if text is None:
            # Dropped: cut the TCP connection, as a dying server would.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=503, text="connection dropped\n")
        if conn.multi:
            text = bx.advise_multiple_clients(text)
        response = web.Response(text=text, content_type="application/json")
        if conn.retry_after is not None and callback is None:
            # A rate-limited command: 429 + Retry-After, the replies as ever (a JSONP
            # script cannot read a status, so callback-polling keeps 200).
            response.set_status(429)
            response.headers["Retry-After"] = retry_after_header(conn.retry_after)
        return jsonp.wrap(callback, response) if callback else response
