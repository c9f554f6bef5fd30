"""One Chat Server instance: Bayeux 1.0 over whatever connections the driver feeds it.

Sans-I/O: `open`/`receive`/`closed`/`tick` take `now`; replies come out of
`take_outputs()`. Chat sessions live in the cluster's store; Bayeux clients
(subscriptions, queues, held connects) live here and die with a crash.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sim.server.bayeux import BayeuxClient, HeldConnect
from sim.server.bounds import MAX_CLIENTS
from sim.server.channels import subscription
from sim.server.inbound import check_envelope
from sim.server.outputs import Drop, Outbox, Output, Reply
from sim.server.replies import ack_of, failed, ok, unknown_client
from sim.server.services import LATE_TIMER, Services
from statecharts.errors import ProtocolViolation
from transport.wire import (
    BAYEUX_VERSION,
    META_CONNECT,
    META_DISCONNECT,
    META_HANDSHAKE,
    META_SUBSCRIBE,
    META_UNSUBSCRIBE,
    SERVICE_CHAT,
    BayeuxError,
    ConnectionType,
    Message,
    Reconnect,
    bayeux_error,
    decode,
    messages_of,
)

if TYPE_CHECKING:
    from sim.server.ports import InstancePort

# callback-polling is long-polling over JSONP GETs: the same requests to the core.
SERVER_CONNECTION_TYPES = [*(t.value for t in ConnectionType), "callback-polling"]
_HOLD, _IDLE = "hold", "idle"
_RETRY = Reconnect.RETRY.value


class ServerInstance(Services):
    def __init__(
        self,
        name: str,
        cluster: InstancePort,
        *,
        clock: bool = False,
        changes: list[int] | None = None,
        index: int = 0,
    ) -> None:
        """`clock`: this instance's `tick`/`next_deadline` also carry the cluster-wide
        timers (the cluster gives that to exactly one instance, so they wake once).
        `changes`, `index`: the cluster's list of changed instances and this one's
        place in it (see `Outbox`)."""
        self.name = name
        self.cluster = cluster
        self.clock = clock
        self.up = True
        self.connections: dict[str, None] = {}
        self.clients: dict[str, BayeuxClient] = {}
        self._held_by_conn: dict[str, str] = {}
        self.outbox = Outbox(changes, index)
        self._timers: list[tuple[float, int, str, str]] = []  # (due, seq, kind, client id)
        # no_reply: (conn, the timed-out answer) by key, sent at the dialect's request timeout
        self._late: dict[str, tuple[str, Message]] = {}
        self._seq = 0
        self.messages_received = 0  # Bayeux messages in the frames taken (a statistic)
        self._timeout_ms = round(cluster.hold * 1000)  # advice.timeout (the hold is fixed)

    # -- driver API ----------------------------------------------------------
    def open(self, conn_id: str, now: float) -> bool:
        if not self.up:
            return False
        self.connections[conn_id] = None
        return True

    def receive(self, conn_id: str, frame: str | Sequence[Message], now: float) -> None:
        """A frame as text, or as the values a peer in this process built (a client
        core's `SendFrame.messages`): decoded if text, its envelope checked, then
        `receive_messages`. A frame that is not Bayeux closes its connection (`bad_frame`)."""
        if not self.up:
            return
        try:
            messages = decode(frame) if isinstance(frame, str) else messages_of(list(frame))
            for message in messages:
                check_envelope(message)
        except ProtocolViolation as exc:
            self.cluster.emit(now, self.name, "bad_frame", {"reason": str(exc)})
            self.connections.pop(conn_id, None)
            self._send(Drop(conn_id, f"bad frame: {exc}"), now)
            return
        self.receive_messages(conn_id, messages, now)

    def receive_messages(self, conn_id: str, messages: list[Message], now: float) -> None:
        """A frame already parsed at the boundary (`decode` and `check_envelope`, or
        `sim.server.inbound.parse_frame`): the core entry point, nothing is checked again."""
        if not self.up:
            return
        self.connections[conn_id] = None  # long-polling adapters may skip `open`
        self.messages_received += len(messages)
        if len(messages) == 1:  # the common frame: no list to gather into
            replies = self._dispatch(conn_id, messages[0], now)
        else:
            replies = []
            for message in messages:
                replies.extend(self._dispatch(conn_id, message, now))
        retry_after = self.cluster.chat.take_retry_after()
        if replies:
            self.outbox.send(Reply(conn_id, replies, retry_after), now)
        self.cluster.flush(now)

    def closed(self, conn_id: str, now: float) -> None:
        self.connections.pop(conn_id, None)
        client_id = self._held_by_conn.pop(conn_id, None)
        client = self.clients.get(client_id) if client_id else None
        if client is not None and client.held is not None and client.held.conn_id == conn_id:
            client.held = None
            client.last_contact = now
            self._arm_idle_check(client)

    def tick(self, now: float) -> None:
        self.outbox.deadline_moved()  # its wake-up fired: the driver re-arms it
        if self.outbox.delayed:
            self.outbox.release(now)
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, kind, client_id = heapq.heappop(timers)
            self._on_timer(kind, client_id, now)
        if self.clock:
            self.cluster.run_timers(now)
        self.cluster.flush(now)

    def next_deadline(self) -> float | None:
        # Asked after every input of every instance: no temporary lists.
        earliest = self.cluster.own_deadline() if self.clock else None
        delayed = self.outbox.delayed
        if delayed:
            due = delayed[0][0]
            if earliest is None or due < earliest:
                earliest = due
        if self._timers:
            due = self._timers[0][0]
            if earliest is None or due < earliest:
                earliest = due
        return earliest

    def take_outputs(self) -> list[Output]:
        outbox = self.outbox  # Outbox.take, inlined: asked after most inputs
        outputs, outbox.ready = outbox.ready, []
        return outputs

    # -- faults (called through the cluster) ------------------------------------
    def crash(self, now: float) -> list[Drop]:
        drops = [Drop(conn_id, "crash") for conn_id in self.connections]
        for client in list(self.clients.values()):
            self.cluster.unbind(self.name, client)
        self.up = False
        self.clients.clear()
        self.connections.clear()
        self._held_by_conn.clear()
        self.outbox.delayed.clear()
        self._timers.clear()
        self._late.clear()
        self.outbox.extend(drops)
        return drops

    def set_slow(self, ms: float) -> None:
        """Delay every reply by `ms` (0: back to normal)."""
        self.outbox.set_slow(ms)

    @property
    def slow_ms(self) -> float:
        return self.outbox.slow_ms

    def recover(self) -> None:
        self.up = True

    def forget_client(self, client_id: str, now: float, reason: str) -> None:
        """Drop a Bayeux client; a held connect learns it at once (402 + handshake)."""
        client = self.clients.pop(client_id, None)
        if client is None:
            return
        self.cluster.unbind(self.name, client)
        self.cluster.emit(now, self.name, "client.end", {"client": client_id, "reason": reason})
        held = client.held
        if held is not None:
            self._held_by_conn.pop(held.conn_id, None)
            if held.conn_id in self.connections:
                reply = unknown_client(META_CONNECT, held.msg_id)
                self._send(Reply(held.conn_id, [reply]), now)

    def complete_held(self, client_id: str, now: float) -> None:
        """Answer a held connect if its client has something to deliver."""
        client = self.clients.get(client_id)
        if client is not None and client.held is not None and client.has_pending():
            self._answer_held(client, now, deliver=True)

    # -- dispatch -------------------------------------------------------------------
    def _dispatch(self, conn_id: str, msg: Message, now: float) -> list[Message]:
        channel = msg["channel"]
        if channel == META_HANDSHAKE:
            return [self._handshake(msg, now)]
        client = self.clients.get(msg.get("clientId", ""))
        if client is None:
            return [unknown_client(channel, msg.get("id"))]
        client.last_contact = now
        if client.chats:
            self.cluster.touch_chats(client, now)
        # The two common channels first (neither is any of the others).
        if channel == META_CONNECT:
            return self._connect(conn_id, client, msg, now)
        if channel == SERVICE_CHAT:
            return self._service_chat(conn_id, client, msg, now)
        if channel in (META_SUBSCRIBE, META_UNSUBSCRIBE):
            subscribe = channel == META_SUBSCRIBE
            return [subscription(self.cluster, self.name, client, msg, subscribe=subscribe)]
        if channel == META_DISCONNECT:
            self.forget_client(client.client_id, now, "disconnect")
            return [ok(msg, client)]
        if channel.startswith("/meta/"):
            return [failed(msg, bayeux_error(BayeuxError.BAD_REQUEST, "Unknown meta channel"))]
        return [self._publish(client, msg, now)]

    def _handshake(self, msg: Message, now: float) -> Message:
        offered = msg.get("supportedConnectionTypes")
        if not isinstance(msg.get("version"), str) or not isinstance(offered, list):
            return failed(msg, bayeux_error(BayeuxError.BAD_REQUEST, "Bad handshake"))
        if len(self.clients) >= MAX_CLIENTS:
            refusal = failed(msg, bayeux_error(BayeuxError.BAD_REQUEST, "Too many clients"))
            refusal["advice"] = {"reconnect": Reconnect.HANDSHAKE.value, "interval": 1000}
            return refusal
        if not any(t in offered for t in SERVER_CONNECTION_TYPES):
            refusal = failed(
                msg, bayeux_error(BayeuxError.UNSUPPORTED, "Unsupported connection types")
            )
            refusal["supportedConnectionTypes"] = SERVER_CONNECTION_TYPES
            refusal["advice"] = {"reconnect": Reconnect.NONE.value}
            return refusal
        ext = msg.get("ext")
        nonce = ext.get("nonce") if isinstance(ext, dict) else None
        if nonce is not None and not self.cluster.answer_nonce(nonce):
            self.cluster.emit(now, self.name, "credential.refused", {})
            return failed(msg, bayeux_error(BayeuxError.BAD_REQUEST, "Unknown nonce"))
        client_id = self.cluster.new_client_id(self.name)
        ack = isinstance(ext, dict) and ext.get("ack") is True
        client = BayeuxClient(client_id, ack_enabled=ack, last_contact=now)
        self.clients[client_id] = client
        self._arm_idle_check(client)
        self.cluster.emit(now, self.name, "client.start", {"client": client_id})
        if nonce is not None:  # an expired credential's challenge, answered
            self.cluster.emit(now, self.name, "credential.renewed", {"client": client_id})
        reply: Message = {
            "channel": META_HANDSHAKE,
            "successful": True,
            "clientId": client_id,
            "version": BAYEUX_VERSION,
            "supportedConnectionTypes": SERVER_CONNECTION_TYPES,
            "advice": self._advice(),
        }
        if "id" in msg:
            reply["id"] = msg["id"]
        if ack:
            reply["ext"] = {"ack": True}
        return reply

    def _connect(
        self, conn_id: str, client: BayeuxClient, msg: Message, now: float
    ) -> list[Message]:
        if not isinstance(msg.get("connectionType"), str):
            return [failed(msg, bayeux_error(BayeuxError.BAD_REQUEST, "Missing connectionType"))]
        if client.held is not None:  # superseded: answer the old one empty
            self._answer_held(client, now, deliver=False)
        ack_in = None
        if client.ack_enabled:
            ack_in = ack_of(msg)
            if ack_in is not None:
                client.acknowledge(ack_in)
        hold = self.cluster.hold if msg.get("advice") is None else self._hold_for(msg)
        if client.queue or client.unacked or hold <= 0:
            return self._connect_reply(client, msg.get("id"), ack_in, deliver=True)
        self._seq += 1
        client.held = HeldConnect(conn_id, msg.get("id"), now + hold, ack_in, self._seq)
        self._held_by_conn[conn_id] = client.client_id
        self.schedule_wakeup(now + hold, _HOLD, client.client_id)
        return []

    def _hold_for(self, msg: Message) -> float:
        advice = msg.get("advice")
        hold = self.cluster.hold
        if isinstance(advice, dict):
            asked = advice.get("timeout")
            # Compared before dividing: 10**400 / 1000.0 would raise OverflowError.
            if isinstance(asked, int | float) and not isinstance(asked, bool) and asked >= 0:
                hold = hold if asked > hold * 1000.0 else min(hold, asked / 1000.0)
        return hold

    def _connect_reply(
        self, client: BayeuxClient, msg_id: object, ack_in: int | None, *, deliver: bool
    ) -> list[Message]:
        messages, batch = client.take_batch() if deliver else ([], None)
        reply: Message = {
            "channel": META_CONNECT,
            "successful": True,
            "clientId": client.client_id,
            "advice": {"reconnect": _RETRY, "interval": 0, "timeout": self._timeout_ms},
        }
        if msg_id is not None:
            reply["id"] = msg_id
        ack_out = batch if batch is not None else ack_in
        if client.ack_enabled and ack_out is not None:
            reply["ext"] = {"ack": ack_out}
        return [*messages, reply]

    def _answer_held(self, client: BayeuxClient, now: float, *, deliver: bool) -> None:
        held = client.held
        assert held is not None
        client.held = None
        client.last_contact = now
        self._held_by_conn.pop(held.conn_id, None)
        if client.chats:
            self.cluster.touch_chats(client, now)
        if client.idle_check is None:
            self._arm_idle_check(client)
        frame = self._connect_reply(client, held.msg_id, held.ack_in, deliver=deliver)
        self.outbox.send(Reply(held.conn_id, frame), now)

    # -- timers and output ---------------------------------------------------------
    def schedule_wakeup(self, due: float, kind: str, client_id: str) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (due, self._seq, kind, client_id))
        self.outbox.deadline_moved()

    def _on_timer(self, kind: str, client_id: str, now: float) -> None:
        if kind == LATE_TIMER:
            conn_id, answer = self._late.pop(client_id, ("", {}))
            if conn_id in self.connections:
                self._send(Reply(conn_id, [answer]), now)
            return
        client = self.clients.get(client_id)
        if client is None:
            return
        if kind == _HOLD:
            if client.held is not None and client.held.deadline <= now:
                self._answer_held(client, now, deliver=True)
            return
        # idle check: expire a client with no connect for `max_interval`
        client.idle_check = None
        if client.held is not None:
            return  # alive; answering or losing the held connect arms the next check
        if client.last_contact + self.cluster.max_interval <= now:
            self.forget_client(client_id, now, "timeout")
        else:
            self._arm_idle_check(client)

    def _arm_idle_check(self, client: BayeuxClient) -> None:
        """Keep exactly one idle check per client; an early one re-arms itself when it runs."""
        if client.idle_check is None:
            client.idle_check = client.last_contact + self.cluster.max_interval
            self.schedule_wakeup(client.idle_check, _IDLE, client.client_id)

    def _advice(self) -> dict[str, Any]:
        return {"reconnect": _RETRY, "interval": 0, "timeout": self._timeout_ms}

    def _send(self, output: Output, now: float) -> None:
        self.outbox.send(output, now)
