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

`LiveServer` is assembled from two mixins: the WebSocket and long-poll
handlers (`sim.live.server_transports`) and the fault control
(`sim.live.server_faults`); what they share (`Conn`, `LiveListener`, the
limits and fault kinds) is in `sim.live.server_base`, re-exported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import Iterable
from typing import Any

from aiohttp import WSCloseCode, web

from sim.faults import Direction
from sim.live import browsers as bx
from sim.live.agent_api import agent_routes
from sim.live.dialect_http import dialect_error_middleware
from sim.live.faultboard import FaultBoard, FaultPath
from sim.live.guard import shut
from sim.live.limits import DEFAULT_LIMITS, Limits
from sim.live.origins import OriginPolicy, has_token, origin_middleware
from sim.live.ports import ClusterPort, InstancePort
from sim.live.server_base import (
    INSTANT_KINDS,
    MAX_FRAME_BYTES,
    POLL_LIMIT,
    SERVER_KINDS,
    Conn,
    LiveListener,
    log,
)
from sim.live.server_faults import FaultControl
from sim.live.server_transports import TransportRoutes
from sim.live.truth import add_truth_routes
from sim.server.inbound import ParsedFrame, parse_frame
from sim.server.outputs import Drop, Reply
from statecharts.errors import ProtocolViolation
from transport.aio.wakeup import run_wakeups
from transport.wire import Message

# Re-exported so that old import paths keep working.
__all__ = [
    "INSTANT_KINDS",
    "MAX_FRAME_BYTES",
    "POLL_LIMIT",
    "SERVER_KINDS",
    "Conn",
    "LiveListener",
    "LiveServer",
]


class LiveServer(TransportRoutes, FaultControl):
    def __init__(
        self,
        cluster: ClusterPort,
        *,
        seed: int = 0,
        token: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        websocket: bool = True,
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
        # A dialect's message size limit (LiveChat 10 MB) fits in a frame: its own
        # entity_too_large answers what is over it, as in the simulator.
        self.limits = limits = limits.for_messages(cluster.dialect.max_message_bytes)
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
        await run_wakeups(
            self.cluster.next_deadline, self.now, self._wake, self._running, self._tick
        )

    def _running(self) -> bool:
        return not self._stopping

    def _tick(self) -> None:
        self.cluster.tick(self.now())
        self._pump()

    def _poke(self) -> None:
        self._wake.set()

    # -- outputs of the core ----------------------------------------------------
    def _pump(self, origin: Conn | None = None) -> None:
        """Drain every instance: a command on one can answer a held connect on another.
        `origin`: the connection whose frame the core just took (its handshakes)."""
        for _instance, out in self.cluster.take_outputs():
            conn = self._conns.get(out.conn_id)
            if conn is None:
                continue
            if isinstance(out, Reply):
                if out.retry_after is not None:
                    conn.retry_after = out.retry_after
                self._send_down(conn, out.text)
            elif isinstance(out, Drop):
                self._drop(conn, out.reason)
        events = self.cluster.take_events()
        for event in events:
            log.debug("server event %s", event)
            self.browsers.server_event(event)
            if event[2] == "client.start" and origin is not None:
                websocket = origin.id if origin.ws else None
                self.browsers.client_started(event[3]["client"], origin.browser, websocket)
            elif event[2] == "client.end":
                self._chats.pop(event[3].get("client", ""), None)
        for listener in self.listeners:
            listener.server_events(events)
        self._poke()

    def _send_down(self, conn: Conn, text: str) -> None:
        if conn.reply is not None and conn.reply.done():
            return
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
            conn.outbox.close()
        if conn.ws is not None:
            conn.closer = asyncio.create_task(shut(conn.ws, conn.transport, code, reason))

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

    def _parse_up(self, text: str) -> list[Message] | str:
        """A client frame's messages, or the reason it is refused (the one decode of it)."""
        try:
            return parse_frame(text, self.limits.max_depth)
        except ProtocolViolation as exc:
            return f"bad frame: {exc}"

    def _frame_up(self, conn: Conn, text: str, messages: list[Message] | None = None) -> str | None:
        """Feed one client frame to the core; a reason string when the frame is refused.
        `messages`: the frame already parsed by `_parse_up`."""
        if messages is None:
            parsed = self._parse_up(text)
            if isinstance(parsed, str):
                return parsed
            messages = parsed
        if self.browsers.intruder(messages, conn.browser, conn.id if conn.ws else None):
            log.info("conn %s %s: a clientId used from elsewhere: 402", conn.id, conn.instance)
            self._write(conn, bx.refusal(messages))
            return None
        if conn.multi:
            messages = bx.ask_no_hold(messages)
            text = bx.encode(messages)
        for message in messages:
            self._learn_names(conn, message)
        now = self.now()
        if self.faults.closes(now, conn.link):
            self._drop(conn, "outage")
            return None
        # Through the fault path with its messages: only a corrupted frame is decoded again.
        self.fault_path.send(now, Direction.UP, conn.link, ParsedFrame(text, messages))
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

    def _receive(self, conn: Conn, text: str) -> None:
        if conn.id not in self._conns:
            return
        instance = self._instance(conn.instance)
        client_id = conn.client_id
        bound = None if client_id is None else self.cluster.chat_of(client_id)
        if isinstance(text, ParsedFrame):
            instance.receive_messages(conn.id, text.messages, self.now())
        else:  # bytes a fault edited: decoded (and maybe refused) by the core
            instance.receive(conn.id, text, self.now())
        if client_id is not None:
            self._learn_chat(conn, client_id, bound)
        self._pump(conn)

    def _learn_chat(self, conn: Conn, client_id: str, before: str | None) -> None:
        """A chat the frame bound the client to (a requestChat names it before the
        client ever sends its id), from the cluster: for faults aimed at the chat."""
        chat_id = self.cluster.chat_of(client_id)
        if chat_id is not None and chat_id != before:
            conn.chat_id = chat_id
            self._chats[client_id] = chat_id

    # -- the control API ------------------------------------------------------------
    def agent_say(self, chat_id: str, text: str) -> int | None:
        """The agent writes `text` into chat `chat_id` now; its index (None: no such chat)."""
        index = self.cluster.agent_say(chat_id, text, self.now())
        self._pump()
        return index

    def authorised(self, request: web.Request) -> bool:
        return self._token is None or has_token(request, self._token)

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
