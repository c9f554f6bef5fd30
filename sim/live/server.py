"""The sans-I/O chat server core served live: aiohttp, WebSocket and long-polling.

One `LiveServer` owns the real clock (seconds since it started, from
`loop.time()`) and a `Cluster` of K instances sharing one session store.
Instance `iN` answers at `/iN/cometd` (and `/iN/cometd/<type>`, where the
CometD JS client appends the message type); `/cometd` is the first instance.
A WebSocket upgrade carries frames both ways; a POST is one long-poll request:
it becomes a short-lived core connection whose first reply is the response.

Faults (`sim.live.faultboard`, on the one fault engine the simulator uses)
are applied per frame and per connection: outage closes matching connections
and refuses new ones, blackhole holds frames until it ends, loss drops them,
corrupt edits them, latency delays them (in order); crash, expire, not_ready,
command_error, slow and the other seeds' behaviours (rate_limit,
expire_credential, redirect, no_reply) are handed to the cluster. The control API is
`/faults` (GET list, POST add, DELETE clear) and `/faults/{id}` (GET, DELETE).

A frame that is not JSON or not Bayeux (`sim.server.inbound`) closes its
WebSocket with 1003 and a reason (HTTP 400 for long-polling); frames over
`max_frame` bytes close with 1009 (HTTP 413). Nobody else notices. The other
bounds (send queue, connections, timeouts) are `sim.live.limits.Limits`,
enforced by `sim.live.guard`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSCloseCode, WSMsgType, web

from sim.fault_engine import Link
from sim.faults import CommandError, Crash, Direction, Expire, Fault, NotReady, Slow
from sim.live import browsers as bx
from sim.live import jsonp
from sim.live.agent_api import agent_routes
from sim.live.dialect_http import dialect_error_middleware
from sim.live.faultboard import FaultBoard, FaultPath, Posted
from sim.live.guard import ExplainingWebSocket, SendQueue, read_body, read_json, shut
from sim.live.limits import DEFAULT_LIMITS, Limits
from sim.live.origins import OriginPolicy, has_token, origin_middleware
from sim.live.ports import ClusterPort, InstancePort
from sim.live.truth import add_truth_routes
from sim.server.inbound import parse_frame
from sim.server.outputs import Drop, Reply, ServerEvent
from statecharts.dialects import CONNECTION_LIMIT
from statecharts.errors import BadInput, ProtocolViolation
from statecharts.faults import BEHAVIOUR_KINDS
from transport.wire import decode

log = logging.getLogger("chatsim.live")

MAX_FRAME_BYTES = DEFAULT_LIMITS.max_frame
# A long-poll request nobody answers (blackholed) is cut after this long.
POLL_LIMIT = 90.0
_CLUSTER_KINDS = frozenset({"crash", "expire", "not_ready", "command_error", "slow"})
SERVER_KINDS = _CLUSTER_KINDS | BEHAVIOUR_KINDS
# Faults that act once when they start (the cluster counts command errors itself).
INSTANT_KINDS = frozenset({"expire", "command_error"}) | (BEHAVIOUR_KINDS - {"redirect"})


class LiveListener(Protocol):
    """Told what the server core reports and when faults start and end (per-session traces)."""

    def server_events(self, events: list[ServerEvent]) -> None: ...
    def fault_started(self, fault_id: int, fault: dict[str, Any], now: float) -> None: ...
    def fault_ended(self, fault_id: int, now: float) -> None: ...


@dataclass(eq=False)
class Conn:
    """One core connection: a WebSocket, or one long-poll request."""

    id: str
    instance: str
    peer: str
    client_id: str | None = None
    chat_id: str | None = None
    ws: web.WebSocketResponse | None = None
    transport: asyncio.BaseTransport | None = None
    outbox: SendQueue | None = None
    reply: asyncio.Future[str | None] | None = None
    closing: bool = False
    browser: bx.BrowserId | None = None
    multi: bool = False  # a long-poll connect from a browser whose other tab holds one
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def names(self) -> tuple[str, ...]:
        """What a fault's `client` may name: the Bayeux clientId or the chatId."""
        return tuple(n for n in (self.client_id, self.chat_id) if n is not None)

    @property
    def link(self) -> Link:
        return Link(self.id, self.instance, client=self.client_id, chat=self.chat_id)


class LiveServer:
    def __init__(
        self, cluster: ClusterPort, *, seed: int = 0, token: str | None = None,
        limits: Limits = DEFAULT_LIMITS, websocket: bool = True,
        allow_origins: Iterable[str] = (),
    ) -> None:
        """`websocket=False` serves long-polling only, like a proxy that strips upgrades.

        `allow_origins`: pages from these origins (`*`: any) may use the Bayeux endpoints."""
        self.cluster = cluster
        self.origins = OriginPolicy.of(allow_origins)
        self.browsers = bx.Browsers()
        self.faults = FaultBoard(random.Random(seed))
        self.fault_path = FaultPath(
            self.faults.engine,
            self._arrive,
            lambda delay, action: asyncio.get_running_loop().call_later(delay, action),
            self.now,
        )
        self._token = token
        self.limits = limits
        self._max_frame = limits.max_frame
        self._ws_enabled = websocket
        self._conns: dict[str, Conn] = {}
        self._chats: dict[str, str] = {}  # Bayeux clientId -> chatId, for client faults
        self._ids = itertools.count(1)
        self._t0: float | None = None
        self._wake = asyncio.Event()
        self._clock_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._timers: dict[int, list[asyncio.TimerHandle]] = {}
        self.listeners: list[LiveListener] = []

    # -- the clock ------------------------------------------------------------
    def now(self) -> float:
        loop = asyncio.get_running_loop()
        if self._t0 is None:
            self._t0 = loop.time()
        return loop.time() - self._t0

    def _instance(self, name: str) -> InstancePort:
        return self.cluster.instances[name]

    async def _run_clock(self) -> None:
        """The single wake-up task: tick the cluster at its next deadline."""
        while not self._stopping:
            deadline = self.cluster.next_deadline()
            self._wake.clear()
            timeout = None if deadline is None else max(0.0, deadline - self.now())
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            deadline = self.cluster.next_deadline()
            if deadline is not None and deadline <= self.now():
                self.cluster.tick(self.now())
                self._pump()

    def _poke(self) -> None:
        self._wake.set()

    # -- outputs of the core ----------------------------------------------------
    def _pump(self) -> None:
        """Drain every instance: a command on one can answer a held connect on another."""
        for _instance, out in self.cluster.take_outputs():
            conn = self._conns.get(out.conn_id)
            if conn is None:
                continue
            if isinstance(out, Reply):
                self._send_down(conn, out.text)
            elif isinstance(out, Drop):
                self._drop(conn, out.reason)
        events = self.cluster.take_events()
        for event in events:
            log.debug("server event %s", event)
            self.browsers.server_event(event)
            if event[2] == "client.end":
                self._chats.pop(event[3].get("client", ""), None)
        for listener in self.listeners:
            listener.server_events(events)
        self._poke()

    def _send_down(self, conn: Conn, text: str) -> None:
        if conn.reply is not None and conn.reply.done():
            return
        self._learn_chat_from_reply(conn, text)
        self.browsers.learn(text, conn.browser, conn.id if conn.ws else None)
        # A dropped or held long-poll reply leaves the request hanging, as on a real network.
        self.fault_path.send(self.now(), Direction.DOWN, conn.link, text)
        self._end_used_up()

    def _arrive(self, conn_id: str, way: Direction, text: str) -> None:
        """A frame through the fault path reaches its end of the connection."""
        conn = self._conns.get(conn_id)
        if conn is None:
            return
        if way is Direction.UP:
            self._receive(conn, text)
        else:
            self._write(conn, text)

    def _write(self, conn: Conn, text: str) -> None:
        if conn.reply is not None:
            if not conn.reply.done():
                conn.reply.set_result(text)
        elif conn.outbox is not None and not conn.closing and not conn.outbox.put(text):
            reason = f"send queue over {conn.outbox.limit} characters: the client does not read"
            self._drop(conn, reason, WSCloseCode.POLICY_VIOLATION)

    def _drop(self, conn: Conn, reason: str, code: int = WSCloseCode.GOING_AWAY) -> None:
        if conn.closing:
            return
        conn.closing = True
        log.info("conn %s %s: closing (%s)", conn.id, conn.instance, reason)
        if conn.reply is not None and not conn.reply.done():
            conn.reply.set_result(None)
        if conn.outbox is not None:
            conn.outbox.put_nowait(None)
        if conn.ws is not None:
            task = asyncio.create_task(shut(conn.ws, conn.transport, code, reason))
            conn.tasks.add(task)
            task.add_done_callback(conn.tasks.discard)

    # -- frames from clients ----------------------------------------------------
    def _open(self, instance: str, peer: str, ws: web.WebSocketResponse | None) -> Conn | None:
        conn = Conn(f"{instance}-{next(self._ids)}", instance, peer, ws=ws)
        if self.faults.refuses(self.now(), conn.link):
            return None
        if not self._instance(instance).open(conn.id, self.now()):
            self._pump()
            return None
        self._conns[conn.id] = conn
        self._pump()
        return conn

    def _close(self, conn: Conn) -> None:
        if self._conns.pop(conn.id, None) is None:
            return
        self.fault_path.forget(conn.id)
        self._instance(conn.instance).closed(conn.id, self.now())
        self._pump()

    def _frame_up(self, conn: Conn, text: str) -> str | None:
        """Feed one client frame to the core; a reason string when the frame is refused."""
        try:
            messages = parse_frame(text, self.limits.max_depth)
        except ProtocolViolation as exc:
            return f"bad frame: {exc}"
        if self.browsers.intruder(messages, conn.browser, conn.id if conn.ws else None):
            log.info("conn %s %s: a clientId used from elsewhere: 402", conn.id, conn.instance)
            self._write(conn, bx.refusal(messages))
            return None
        if conn.multi:
            text = bx.encode(bx.ask_no_hold(messages))
        for message in messages:
            self._learn_names(conn, message)
        now = self.now()
        if self.faults.closes(now, conn.link):
            self._drop(conn, "outage")
            return None
        self.fault_path.send(now, Direction.UP, conn.link, text)
        self._end_used_up()
        return None

    def _learn_names(self, conn: Conn, message: dict[str, Any]) -> None:
        client_id = message.get("clientId")
        if isinstance(client_id, str):
            conn.client_id = client_id
            conn.chat_id = self._chats.get(client_id, conn.chat_id)
        data = message.get("data")
        chat_id = data.get("chatId") if isinstance(data, dict) else None
        if isinstance(chat_id, str) and conn.client_id is not None:
            conn.chat_id = chat_id
            self._remember_chat(conn.client_id, chat_id)

    def _remember_chat(self, client_id: str, chat_id: str) -> None:
        """Only for a live Bayeux client: claimed ids must not grow the map (see client.end)."""
        if self.cluster.has_client(client_id):
            self._chats[client_id] = chat_id

    def _learn_chat_from_reply(self, conn: Conn, text: str) -> None:
        """A requestChat result names the chat before the client ever sends its id."""
        if conn.client_id is None or '"requestChat"' not in text:
            return
        with contextlib.suppress(ProtocolViolation):
            for message in decode(text):
                data = message.get("data")
                result = data.get("result") if isinstance(data, dict) else None
                if isinstance(result, dict) and isinstance(result.get("chatId"), str):
                    conn.chat_id = result["chatId"]
                    self._remember_chat(conn.client_id, result["chatId"])

    def _receive(self, conn: Conn, text: str) -> None:
        if conn.id not in self._conns:
            return
        self._instance(conn.instance).receive(conn.id, text, self.now())
        self._pump()

    # -- HTTP handlers ------------------------------------------------------------
    def _instance_handler(
        self, instance: str,
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            if request.method == "GET" and not jsonp.is_jsonp(request):
                return await self._websocket(request, instance)
            return await self._long_poll(request, instance)

        return handle

    async def _websocket(self, request: web.Request, instance: str) -> web.StreamResponse:
        # aiohttp cuts frames past 4x the limit without a reason; we say why for the rest.
        ws = ExplainingWebSocket(max_msg_size=4 * self._max_frame, autoping=True)
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
        conn.outbox = SendQueue(self.limits.send_queue)
        writer = asyncio.create_task(self._ws_writer(conn, ws, conn.outbox))
        log.info("conn %s %s: websocket open from %s", conn.id, instance, conn.peer)
        try:
            await self._ws_reader(conn, ws)
        finally:
            conn.outbox.put_nowait(None)
            await writer
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
        return web.Response(status=status or 429, text=f"{text}\n")

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
                await shut(ws, conn.transport, WSCloseCode.UNSUPPORTED_DATA,
                           "binary frames are not Bayeux")
            elif msg.type is WSMsgType.ERROR:
                log.info("conn %s %s: %s", conn.id, conn.instance, ws.exception())

    def _ws_idle(self) -> float:
        return self.limits.idle_timeout + self.cluster.hold

    async def _ws_writer(
        self, conn: Conn, ws: web.WebSocketResponse, outbox: SendQueue,
    ) -> None:
        while (text := await outbox.get()) is not None:
            try:
                await ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

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
        self, request: web.Request, instance: str, browser: bx.BrowserId, callback: str | None,
    ) -> web.Response:
        body = jsonp.body(request) if callback else await read_body(request, self.limits)
        if isinstance(body, web.Response):
            return body
        conn = self._open(instance, request.remote or "?", None)
        if conn is None:
            return web.Response(status=503, text=f"{instance} is not available\n")
        conn.browser = browser
        conn.reply = asyncio.get_running_loop().create_future()
        polls = bx.poll_key(request, browser) if bx.connects_in(body) else None
        if polls is not None:
            conn.multi = self.browsers.begin_poll(polls)
        try:
            refused = self._frame_up(conn, body)
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
        return jsonp.wrap(callback, response) if callback else response

    # -- the control API ------------------------------------------------------------
    def agent_say(self, chat_id: str, text: str) -> int | None:
        """The agent writes `text` into chat `chat_id` now; its index (None: no such chat)."""
        index = self.cluster.agent_say(chat_id, text, self.now())
        self._pump()
        return index

    def authorised(self, request: web.Request) -> bool:
        return self._token is None or has_token(request, self._token)

    async def _faults(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return _json({"error": "a bearer token is required"}, 401)
        now = self.now()
        if request.method == "GET":
            return _json({"now": now, "faults": self.faults.listing(now)})
        if request.method == "DELETE":
            self.clear_faults()
            return _json({"cleared": True})
        raw = await read_json(request, self.limits)
        if isinstance(raw, web.Response):
            return raw
        try:
            posted = self.add_fault(raw)
        except BadInput as exc:
            return _json({"error": str(exc)}, 400)
        return _json(posted.as_dict(self.now()), 201)

    async def _fault(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return _json({"error": "a bearer token is required"}, 401)
        try:
            fault_id = int(request.match_info["id"])
        except ValueError:
            return _json({"error": "fault ids are integers"}, 404)
        if request.method == "DELETE":
            posted = self.faults.remove(fault_id)
            if posted is not None:
                self._end_fault(posted, removed=True)
        else:
            posted = self.faults.get(fault_id)
        if posted is None:
            return _json({"error": f"no fault {fault_id}"}, 404)
        return _json(posted.as_dict(self.now()))

    def add_fault(self, raw: Any) -> Posted:
        """Validate (BadInput names the field) and schedule a fault; `at` is seconds from now."""
        posted = self.faults.add(
            raw, self.now(), instances=list(self.cluster.instances), clients=self._client_names(),
        )
        loop = asyncio.get_running_loop()
        start = max(0.0, posted.fault.at - self.now())
        handles = [loop.call_later(start, self._start_fault, posted)]
        if posted.fault.end is not None:
            handles.append(loop.call_later(posted.fault.end - self.now(), self._expire, posted))
        self._timers[posted.id] = handles
        log.info("fault %d added: %s", posted.id, posted.fault.as_dict())
        return posted

    def _client_names(self) -> set[str]:
        """What a fault's `client` may name: clientIds and chatIds this server has seen."""
        names = set(self._chats) | set(self._chats.values())
        names.update(n for conn in self._conns.values() for n in conn.names)
        return names

    def remove_fault(self, fault_id: int) -> bool:
        posted = self.faults.remove(fault_id)
        if posted is not None:
            self._end_fault(posted, removed=True)
        return posted is not None

    def clear_faults(self) -> None:
        """Every fault off the board and its effect undone, even if one of them fails."""
        for posted in self.faults.clear():
            self._end_fault(posted, removed=True)

    def _start_fault(self, posted: Posted) -> None:
        fault, now = posted.fault, self.now()
        log.info("fault %d start: %s", posted.id, fault.kind)
        try:
            if fault.kind == "outage":
                for conn in list(self._conns.values()):
                    if self.faults.closes(now, conn.link):
                        self._drop(conn, "outage")
            elif fault.kind in SERVER_KINDS:
                self._cluster_fault(fault, now, start=True)
        except Exception as exc:  # reported and undone, never left half-applied
            log.warning("fault %d could not start: %s", posted.id, exc)
            self.faults.engine.remove(posted.id)
            self._undo(posted, removed=True)
            self.faults.failed(posted.id, f"could not start: {exc}")
            return
        for listener in self.listeners:
            listener.fault_started(posted.id, fault.as_dict(), now)
        if fault.kind in INSTANT_KINDS and fault.duration is None:
            self._expire(posted)  # done once handed to the cluster

    def _end_used_up(self) -> None:
        for posted in self.faults.ended(self.now()):
            self._end_fault(posted)

    def _expire(self, posted: Posted) -> None:
        if self.faults.remove(posted.id) is not None:
            self._end_fault(posted)

    def _end_fault(self, posted: Posted, *, removed: bool = False) -> None:
        """`removed`: taken off through the API (a pending command_error count is cancelled)."""
        for handle in self._timers.pop(posted.id, []):
            handle.cancel()
        log.info("fault %d end: %s", posted.id, posted.fault.kind)
        for listener in self.listeners:
            listener.fault_ended(posted.id, self.now())
        self._undo(posted, removed=removed)
        self.fault_path.flush(self.now())  # what a blackhole held goes on its way

    def _undo(self, posted: Posted, *, removed: bool) -> None:
        if posted.fault.kind not in SERVER_KINDS or posted.fault.at > self.now():
            return
        try:
            self._cluster_fault(posted.fault, self.now(), start=False, removed=removed)
        except Exception as exc:  # one failing undo must not stop the others
            log.warning("fault %d could not be undone: %s", posted.id, exc)

    def _cluster_fault(
        self, fault: Fault, now: float, *, start: bool, removed: bool = False,
    ) -> None:
        cluster = self.cluster
        names = [fault.instance] if fault.instance else list(cluster.instances)
        if isinstance(fault, Crash):
            for name in names:
                (cluster.crash if start else cluster.recover)(name, now)
            self._chats = {c: chat for c, chat in self._chats.items() if cluster.has_client(c)}
        elif isinstance(fault, Expire) and start:
            cluster.expire(fault.client, now)
        elif isinstance(fault, NotReady) and fault.end is not None:
            cluster.not_ready(fault.end if start else now)
        elif isinstance(fault, CommandError) and (start or removed):
            cluster.command_errors(fault.code, fault.count if start else 0)
        elif isinstance(fault, Slow):
            cluster.slow(fault.ms if start else 0.0)
        elif fault.kind in BEHAVIOUR_KINDS and (start or removed or fault.kind == "redirect"):
            cluster.seed_behaviour(fault, start=start)
        self._pump()

    # -- the application ------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(
            client_max_size=self._max_frame,
            middlewares=[
                origin_middleware(self.origins, self._token),
                dialect_error_middleware(self.cluster.dialect),
            ],
        )
        names = list(self.cluster.instances)
        for name in names:
            handler = self._instance_handler(name)
            for path in (f"/{name}/cometd", f"/{name}/cometd/{{tail:.*}}"):
                app.router.add_route("*", path, handler)
        first = self._instance_handler(names[0])
        app.router.add_route("*", "/cometd", first)
        app.router.add_route("*", "/cometd/{tail:.*}", first)
        app.router.add_route("*", "/faults", self._faults)
        app.router.add_route("*", "/faults/{id}", self._fault)
        app.router.add_routes(agent_routes(self))
        add_truth_routes(app, self)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_startup(self, _app: web.Application) -> None:
        self.now()
        self._clock_task = asyncio.create_task(self._run_clock())

    async def _on_shutdown(self, _app: web.Application) -> None:
        self._stopping = True
        for conn in list(self._conns.values()):
            self._drop(conn, "server shutting down")
        if self._clock_task is not None:
            self._clock_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock_task
        for handles in self._timers.values():
            for handle in handles:
                handle.cancel()


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)
