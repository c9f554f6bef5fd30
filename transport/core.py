"""The sans-I/O chat client core (ARCHITECTURE.md "Client core").

Theory of operation
-------------------
The core is the browser side of the chat: a Bayeux client (`transport.bayeux`)
carrying a Genesys-style chat session (`transport.session`), driven by the one
statechart of `statecharts.chart`. Inputs are application commands (`start`,
`send_message`, ...), network happenings (`connection_made`, `frame_received`,
...) and `tick`; every input takes `now`. Outputs are drained by the driver:
`take_outputs()` (open/close a connection, send a frame) and `take_events()`
(state changes, application events, diagnostics). The core never reads a clock.

Every visible state change is a trigger fired through `Chart` and reported as
`StateChanged`; retries inside a state are not transitions.

The outage rules (DESIGN §2): the first observed failure (closed socket,
refused connection, a request past its deadline, an invalid handshake reply)
starts the loss — a `Loss` event, and the interruption timer is armed at
`loss + interrupt_after`; retries never restart it. When it fires the
application hears `interrupted` (and EventError 150 if enabled); when the
session works again it hears `continued(duration)`. Shorter outages stay silent.

Recovery: the same instance is retried with backoff (`Timers.backoff`); after
`failover_after` failed attempts on one instance the next of `servers` is
tried (with a chat: EventError 100 notice, `failover` -> restoring; before
the first chat: silently, no session to restore). A server that forgot
the client (402) gets a new handshake (`rehandshake` -> restoring). Restoring
means handshake + subscribe + `requestNotifications` from the saved position;
a session gone on the server (50) ends it with EventError 152.

Subclasses may override the `_emit_*`, `_deliver_transcript`, `_backoff_delay`
and `_interrupt_deadline` hooks (property tests plant bugs there).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeGuard

from statecharts.catalog import ErrorCode, describe
from statecharts.chart import LIVE, TERMINAL, Chart, State, Timers, Trigger
from statecharts.errors import ProtocolViolation, UsageError
from statecharts.events import (
    Acked,
    AppEvent,
    CommandDone,
    Continued,
    Ended,
    EventError,
    Interrupted,
    Loss,
    Message,
    Ready,
    Restored,
    SendFailed,
    StateChanged,
)
from transport import wire
from transport.bayeux import (
    Advice,
    BayeuxClient,
    Pending,
    RequestKind,
    command_error,
    error_code,
    reply_problem,
)
from transport.reactions import MoveTo, WaitThenRetry, reaction_to
from transport.session import Chat, Outbox, Transcript
from transport.state import SavedState
from transport.wire import ConnectionType, Operation, Reconnect

UNKNOWN_CLIENT = int(wire.BayeuxError.UNKNOWN_CLIENT)
RESTORE = "restore"
CATCH_UP = "catch-up"
# Deliveries kept while a login is outstanding (a bound on a misbehaving server).
MAX_EARLY = 1000
# Codes after which retrying a login is pointless.
FATAL_LOGIN_CODES = frozenset({1, 2, 3, int(ErrorCode.LOGIN_FAILED)})
# wire.encode's exact output, from one encoder built once (json.dumps with
# options builds a new JSONEncoder on every call; a frame is sent per input).
_encode_frame = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


# -- outputs -------------------------------------------------------------------
@dataclass(frozen=True)
class OpenConnection:
    instance: str


@dataclass(frozen=True)
class SendFrame:
    text: str


@dataclass(frozen=True)
class CloseConnection:
    reason: str


Output = OpenConnection | SendFrame | CloseConnection


@dataclass(frozen=True)
class ClientConfig:
    timers: Timers = field(default_factory=Timers)
    interruption_error: bool = True
    transport: ConnectionType = ConnectionType.WEBSOCKET
    failover_after: int = 2
    nickname: str = "client"
    subject: str | None = None


class Conn(StrEnum):
    NONE = "none"
    OPENING = "opening"
    OPEN = "open"


class ClientCore:
    """One chat client: a sans-I/O transport core (see the module docstring)."""

    def __init__(
        self,
        client_id: str,
        config: ClientConfig | None = None,
        servers: Sequence[str] = ("i1",),
        rng: random.Random | None = None,
    ) -> None:
        if not servers:
            raise UsageError("ClientCore needs at least one server instance")
        self.client_id = client_id
        self.login_key: str | None = None
        self.config = config or ClientConfig()
        self.timers = self.config.timers
        self.servers = list(servers)
        self.rng = rng if rng is not None else random.Random(0)
        self.chart = Chart()
        self._state = self.chart.current  # a cache: read on every input
        self.bayeux = BayeuxClient(
            self.config.transport,
            self.timers.max_network_delay,
            Advice(hold=self.timers.long_poll_hold),
        )
        self.server_index = 0
        self.conn = Conn.NONE
        self.conn_deadline: float | None = None
        self.attempting = False  # the current connection has not worked yet
        self.chat: Chat | None = None
        self.transcript = Transcript()
        self.outbox = Outbox()
        # Chat deliveries that overtook the requestChat result (reorder): kept until
        # the result names their chat, since the server counts them as delivered.
        self.early_deliveries: list[wire.Message] = []
        self.need_restore = False
        self.typing_queued = False
        self.draining = False
        # outage bookkeeping
        self.lost_since: float | None = None
        self.told = False
        self.failures = 0
        self.instance_failures = 0
        # timers
        self.retry_at: float | None = None
        self.connect_at: float | None = None
        self.session_retry_at: float | None = None
        self.drain_until: float | None = None
        self._messages = 0
        self._commands = 0
        self._outputs: list[Output] = []
        self._events: list[tuple[float, AppEvent]] = []
        self.messages_received = 0  # Bayeux messages in the frames taken (a statistic)

    # == public API =================================================================
    @property
    def state(self) -> State:
        return self._state

    @property
    def instance(self) -> str:
        return self.servers[self.server_index]

    def take_outputs(self) -> list[Output]:
        out, self._outputs = self._outputs, []
        return out

    def take_events(self) -> list[tuple[float, AppEvent]]:
        out, self._events = self._events, []
        return out

    def saved_state(self) -> SavedState | None:
        if self.chat is None:
            return None
        return SavedState(
            self.chat.chat_id,
            self.chat.secure_key,
            self.instance,
            self.transcript.position,
            tuple(self.servers),
        )

    # -- application commands ------------------------------------------------------
    def start(self, now: float) -> None:
        self._require(State.IDLE, "start")
        self._fire(Trigger.START, now)
        self.retry_at = now
        self._advance(now)

    def restore(self, saved: SavedState, now: float) -> None:
        self._require(State.IDLE, "restore")
        servers = list(saved.servers) or list(self.servers)
        if saved.instance not in servers:
            servers.insert(0, saved.instance)
        self.servers = servers
        self.server_index = servers.index(saved.instance)
        self.chat = Chat(saved.chat_id, saved.secure_key)
        self.transcript = Transcript(position=saved.position)
        self.need_restore = True
        self._fire(Trigger.RESTORE, now)
        self.retry_at = now
        self._advance(now)

    def reload(self, now: float) -> None:
        """Page reload: drop the connection, keep the saved state, restore from it."""
        self._advance(now)
        if self.state not in LIVE:
            raise UsageError(f"reload needs a live session, the transport is {self.state}")
        if self.conn is not Conn.NONE:
            self._output(CloseConnection("reload"))
        self._connection_gone()
        self.bayeux.forget()
        self.transcript.forget_waiting()
        self.need_restore = self.chat is not None
        self.instance_failures = 0
        self.session_retry_at = None
        self._fire(Trigger.RELOAD, now)
        self.retry_at = now
        self._advance(now)

    def send_message(self, text: str, now: float) -> str:
        """Send a chat message; returns its client message id (`<client>-m<n>`)."""
        self._advance(now)
        self._require_session("send_message")
        self._messages += 1
        message_id = f"{self.client_id}-m{self._messages}"
        self.outbox.add(message_id, text)
        self._emit(now, Message("out", id=message_id, text=text))
        self._flush(now)
        return message_id

    def send_typing(self, now: float) -> None:
        self._advance(now)
        self._require_session("send_typing")
        self.typing_queued = True
        self._flush(now)

    def end(self, now: float) -> None:
        """End the chat: disconnect, then report client messages never acknowledged."""
        self._advance(now)
        if self.state is State.IDLE:
            raise UsageError("end: there is no chat to end")
        if self.state in TERMINAL:
            return
        for message_id, _text in self.outbox.unsent():
            self._settle_failed(now, message_id, ErrorCode.SERVER_UNAVAILABLE)
        self._fire(Trigger.END, now)
        self._emit(now, Ended("client"))
        if self.conn is Conn.OPEN and self.bayeux.client_id and self.chat is not None:
            farewell = self._publish(Operation.DISCONNECT, self.chat.params(), now)
            self._send([farewell, self.bayeux.disconnect(now)])
            self.draining = True
            self.drain_until = now + self.timers.max_network_delay
        else:
            self._finish_drain(now)

    # -- network inputs ------------------------------------------------------------
    def connection_made(self, now: float) -> None:
        self._advance(now)
        if self.conn is not Conn.OPENING:
            return
        self.conn = Conn.OPEN
        self.conn_deadline = None
        if self.bayeux.client_id is None:
            self._send([self.bayeux.handshake(now)])
        else:
            self._send([self.bayeux.connect(now, immediate=True)])
        self._advance(now)

    def connection_failed(self, now: float, reason: str = "refused") -> None:
        self._advance(now)
        if self.conn is not Conn.NONE:
            self._on_failure(now, f"connection refused: {reason}", close=False)
        self._advance(now)

    def connection_closed(self, now: float, reason: str = "closed") -> None:
        self._advance(now)
        if self.draining:
            self._finish_drain(now, close=False)
        elif self.conn is not Conn.NONE:
            self._on_failure(now, f"connection closed: {reason}", close=False)
        self._advance(now)

    def frame_received(self, text: str, now: float) -> None:
        self._advance(now)
        if self._listening():
            self._take_frame(text, now)
            self._after_frame(now)
        elif self.state in LIVE:
            self._judge_late_frame(text, now)
        self._advance(now)

    # -- time ----------------------------------------------------------------------
    def tick(self, now: float) -> None:
        self._advance(now)

    def next_deadline(self) -> float | None:
        earliest: float | None = None
        for when in self._deadlines():
            if when is not None and (earliest is None or when < earliest):
                earliest = when
        return earliest

    # == hooks (override in subclasses to plant bugs) ==================================
    def _emit_interrupted(self, now: float) -> None:
        self._emit(now, Interrupted())
        if self.config.interruption_error:
            self._emit(now, EventError.of(ErrorCode.NETWORK_INTERRUPTED))

    def _emit_continued(self, now: float, duration: float) -> None:
        self._emit(now, Continued(duration))

    def _deliver_transcript(self, now: float, data: dict[str, Any]) -> None:
        self._emit(
            now,
            Message(
                "in",
                index=int(data["index"]),
                id=_opt_str(data.get("clientMessageId")),
                party=_opt_str(data.get("party")),
                text=_opt_str(data.get("text")),
            ),
        )

    def _emit_invalid_reply(self, now: float, reason: str) -> None:
        self._emit(now, EventError.of(ErrorCode.INVALID_RESPONSE, {"reason": reason}))

    def _backoff_delay(self, failures: int) -> float:
        """Delay before the next attempt after `failures` consecutive failures."""
        return self.timers.backoff(failures - 1, self.rng)

    def _interrupt_deadline(self) -> float | None:
        if self.lost_since is None or self.told:
            return None
        if self.state not in (State.RECONNECTING, State.RESTORING):
            return None
        return self.lost_since + self.timers.interrupt_after

    # == timers =====================================================================
    def _timers(self) -> tuple[tuple[float | None, Callable[[float], None]], ...]:
        """Every timer (None: not armed) in priority order: ties run in this order."""
        return (
            (self.conn_deadline, self._open_timed_out),
            (self.bayeux.next_deadline(), self._request_timed_out),
            (self._interrupt_deadline(), self._interrupt_due),
            (self.drain_until, self._finish_drain),
            (self.retry_at if self.conn is Conn.NONE else None, self._attempt),
            (self.connect_at, self._connect_due),
            (self.session_retry_at, self._session_retry_due),
        )

    def _deadlines(self) -> tuple[float | None, ...]:
        """The deadlines of `_timers()`, in the same order, without the bound methods.

        On the hot path (every input calls `_advance` twice, and the driver asks
        `next_deadline` after each): building seven bound methods each time cost
        more than the protocol work it guards.
        """
        return (
            self.conn_deadline,
            self.bayeux.next_deadline(),
            self._interrupt_deadline(),
            self.drain_until,
            self.retry_at if self.conn is Conn.NONE else None,
            self.connect_at,
            self.session_retry_at,
        )

    def _advance(self, now: float) -> None:
        """Run every timer due at `now`, earliest first (ties in `_timers()` order)."""
        for _ in range(10_000):
            first = -1
            first_when = 0.0
            for slot, when in enumerate(self._deadlines()):
                if when is not None and when <= now and (first < 0 or when < first_when):
                    first, first_when = slot, when
            if first < 0:
                return
            self._timers()[first][1](now)
        raise RuntimeError("client core timers do not settle")  # a bug, never input

    def _open_timed_out(self, now: float) -> None:
        self.conn_deadline = None
        self._on_failure(now, "connection attempt timed out", close=True)

    def _request_timed_out(self, now: float) -> None:
        if self.draining:
            self._finish_drain(now)
        else:
            self._on_failure(now, "request past its deadline", close=True)

    def _interrupt_due(self, now: float) -> None:
        assert self.lost_since is not None
        self.told = True
        self._fire(
            Trigger.INTERRUPT_TIMEOUT,
            now,
            lost_for=now - self.lost_since,
            interrupt_after=self.timers.interrupt_after,
        )
        self._emit_interrupted(now)

    def _attempt(self, now: float) -> None:
        self.retry_at = None
        if self.state in TERMINAL or self.state is State.IDLE:
            return
        self.conn = Conn.OPENING
        self.conn_deadline = now + self.timers.max_network_delay
        self.attempting = True
        self._output(OpenConnection(self.instance))

    def _connect_due(self, now: float) -> None:
        self.connect_at = None
        if self.conn is Conn.OPEN and self.bayeux.client_id is not None:
            self._send([self.bayeux.connect(now, immediate=False)])

    def _session_retry_due(self, now: float) -> None:
        self.session_retry_at = None
        if self.conn is Conn.OPEN and self.bayeux.client_id is not None:
            self._session_step(now)
            self._flush(now)  # what a rate limit held back

    # == failures and recovery ======================================================
    def _on_failure(self, now: float, reason: str, *, close: bool) -> None:
        """A failure observed: starts the loss (once), then schedules the next attempt."""
        if self.state in TERMINAL:
            self._shutdown("")
            return
        if close and self.conn is not Conn.NONE:
            self._output(CloseConnection(reason))
        self._connection_gone()
        if self.lost_since is None:
            self.lost_since = now
            self._emit(now, Loss(reason))
        if self.chart.can(Trigger.CONNECTION_LOST):
            self._fire(Trigger.CONNECTION_LOST, now)
        self.failures += 1
        if self.attempting:
            self.instance_failures += 1
        self.attempting = False
        if self.instance_failures >= self.config.failover_after and len(self.servers) > 1:
            self._failover(now)
            self.retry_at = now  # a fresh instance: no reason to wait
        else:
            self.retry_at = now + self._backoff_delay(self.failures)

    def _failover(self, now: float) -> None:
        """Move to the next instance; a chat moves with it (100 notice, then restore).

        Before a chat exists there is no session to move or restore: the next
        instance is simply where the handshake and login are tried (the outage
        rules still tell the application about a long loss).
        """
        old = self.instance
        self.server_index = (self.server_index + 1) % len(self.servers)
        self.instance_failures = 0
        self.bayeux.forget()
        if self.chat is None:
            return
        notice = {"from": old, "to": self.instance}
        self._emit(now, EventError.of(ErrorCode.SERVER_UNAVAILABLE, notice))
        self.need_restore = True
        if self.chart.can(Trigger.FAILOVER):
            self._fire(Trigger.FAILOVER, now)

    def _rehandshake(self, now: float) -> None:
        """The server no longer knows this client: handshake again, restore the chat."""
        self.bayeux.forget()
        self.outbox.connection_gone()
        self.connect_at = None
        self.session_retry_at = None
        if self.chat is not None:
            self.need_restore = True
            if self.chart.can(Trigger.REHANDSHAKE):
                self._fire(Trigger.REHANDSHAKE, now)
        if self.conn is Conn.OPEN:
            self._send([self.bayeux.handshake(now)])
        elif self.conn is Conn.NONE:
            self.retry_at = now

    def _connection_gone(self) -> None:
        self.conn = Conn.NONE
        self.conn_deadline = None
        self.connect_at = None
        self.session_retry_at = None
        self.bayeux.connection_gone()
        self.outbox.connection_gone()
        self.early_deliveries.clear()  # the login they preceded died with the connection

    def _session_works(self, now: float, trigger: Trigger, event: AppEvent | None) -> None:
        """The chat works (again): leave the lost states, tell the app, flush the outbox."""
        if self.chart.can(trigger):
            self._fire(trigger, now)
        if self.told and self.lost_since is not None:
            self._emit_continued(now, now - self.lost_since)
        self.lost_since = None
        self.told = False
        self.failures = 0
        self.instance_failures = 0
        self.attempting = False
        if event is not None:
            self._emit(now, event)
        self._flush(now)

    def _restore_failed(self, now: float) -> None:
        for message_id in list(self.outbox.texts):
            self._settle_failed(now, message_id, ErrorCode.RESTORE_FAILED)
        chat_id = self.chat.chat_id if self.chat else None
        self._emit(now, EventError.of(ErrorCode.RESTORE_FAILED, {"chatId": chat_id}))
        gone = Trigger.RESTORE_FAILED
        self._fire(gone if self.chart.can(gone) else Trigger.FAIL, now)
        self._emit(now, Ended("restore_failed"))
        self._shutdown("restore failed")

    def _fail(self, now: float, reason: str) -> None:
        for message_id in list(self.outbox.texts):
            self._settle_failed(now, message_id, ErrorCode.SERVER_UNAVAILABLE)
        self._fire(Trigger.FAIL, now)
        self._emit(now, Ended(reason))
        self._shutdown(reason)

    def _finish_drain(self, now: float, *, close: bool = True) -> None:
        for message_id in list(self.outbox.texts):
            self._settle_failed(now, message_id, ErrorCode.SERVER_UNAVAILABLE)
        self._shutdown("end" if close else "")

    def _shutdown(self, reason: str) -> None:
        if reason and self.conn is not Conn.NONE:
            self._output(CloseConnection(reason))
        self._connection_gone()
        self.bayeux.forget()
        self.draining = False
        self.drain_until = None
        self.retry_at = None
        self.chat = None
        self.need_restore = False

    def _settle_failed(self, now: float, message_id: str, code: int) -> None:
        if self.outbox.settle(message_id):
            self._emit(now, SendFailed(message_id, int(code)))

    # == the session steps ==========================================================
    def _after_handshake(self, now: float) -> None:
        self._send([self.bayeux.connect(now, immediate=True)])
        if self.state is State.CONNECTING:
            self._fire(Trigger.HANDSHAKE_OK, now)
        self._session_step(now)

    def _session_step(self, now: float) -> None:
        """On a working channel: log in, or restore, as the session needs."""
        if self.session_retry_at is not None:
            return
        if self.chat is None:
            if not self._pending_purpose("login"):
                params: dict[str, Any] = {
                    "nickname": self.config.nickname,
                    "clientRequestId": self._login_key(),
                }
                if self.config.subject is not None:
                    params["subject"] = self.config.subject
                self._send([self._publish(Operation.REQUEST_CHAT, params, now, purpose="login")])
        elif self.need_restore and not self._pending_purpose(RESTORE):
            self._send(self._notifications(now, RESTORE))

    def set_transport(self, kind: ConnectionType) -> None:
        """Use another connection type from the next handshake on (an adapter's fallback)."""
        self.bayeux.connection_type = kind

    def _login_key(self) -> str:
        """One id for this login and all its retries: the server opens one chat, not two."""
        if self.login_key is None:
            self.login_key = f"{self.client_id}-{self.rng.getrandbits(48):012x}"
        return self.login_key

    def _notifications(self, now: float, purpose: str) -> list[wire.Message]:
        """Ask for every transcript event past our position, then subscribe to the chat."""
        assert self.chat is not None
        channel = wire.chat_channel(self.chat.chat_id)
        return [self._replay_request(now, purpose), self.bayeux.subscribe(channel, now)]

    def _replay_request(self, now: float, purpose: str) -> wire.Message:
        assert self.chat is not None
        params = {**self.chat.params(), "transcriptPosition": self.transcript.position}
        return self._publish(Operation.REQUEST_NOTIFICATIONS, params, now, purpose=purpose)

    def _flush(self, now: float) -> None:
        """Send what the application queued, once the session works."""
        if self.state is not State.READY or self.conn is not Conn.OPEN or self.chat is None:
            return
        if self.bayeux.client_id is None or self.need_restore:
            return
        if self.session_retry_at is not None:
            return  # told to wait (Retry-After): `_session_retry_due` flushes
        batch: list[wire.Message] = []
        for message_id, text in self.outbox.unsent():
            params = {**self.chat.params(), "text": text, "clientMessageId": message_id}
            batch.append(self._publish(Operation.SEND_MESSAGE, params, now, command_id=message_id))
            self.outbox.sent(message_id)
        if self.typing_queued:
            self.typing_queued = False
            batch.append(self._publish(Operation.SEND_TYPING, self.chat.params(), now))
        if batch:
            self._send(batch)

    def _publish(
        self,
        operation: Operation,
        params: dict[str, Any],
        now: float,
        *,
        command_id: str | None = None,
        purpose: str = "",
    ) -> wire.Message:
        if command_id is None:
            self._commands += 1
            command_id = f"{self.client_id}-c{self._commands}"
        data = {"operation": operation.value, **params}
        return self.bayeux.publish(data, now, command_id=command_id, purpose=purpose)

    def _pending_purpose(self, purpose: str) -> bool:
        return any(p.purpose == purpose for p in self.bayeux.pending.values())

    # == frames =====================================================================
    def _take_frame(self, text: str, now: float) -> None:
        try:
            messages = wire.decode(text)
        except ProtocolViolation as exc:
            self._emit_invalid_reply(now, str(exc))
            self._recover_all(now)
            return
        self.messages_received += len(messages)
        checked = [(m, self.bayeux.lookup(m)) for m in messages]
        verdicts = [(m, p, reply_problem(m, p)) for m, p in checked]
        problems = [problem for _, _, problem in verdicts if problem is not None]
        if problems:
            self._emit_invalid_reply(now, problems[0])
        for msg, _pending, problem in verdicts:
            if problem is None and self._listening():
                self._handle(msg, now, batch_ok=not problems)
        for msg, pending, problem in verdicts:
            if problem is None or not self._listening():
                continue
            if pending is not None:
                if self.bayeux.resolve(msg) is not None:
                    self._recover(pending, now)
            elif not msg["channel"].startswith(wire.CHAT_PREFIX):
                self._recover_all(now)  # cannot tell which request it answered
                return

    def _judge_late_frame(self, text: str, now: float) -> None:
        """A frame on a connection given up a moment ago: ignored, but an invalid one is told."""
        try:
            messages = wire.decode(text)
        except ProtocolViolation as exc:
            self._emit_invalid_reply(now, str(exc))
            return
        self.messages_received += len(messages)
        for msg in messages:
            problem = reply_problem(msg, self.bayeux.lookup(msg))
            if problem is not None:
                self._emit_invalid_reply(now, problem)
                return

    def _listening(self) -> bool:
        return self.conn is Conn.OPEN and (self._state not in TERMINAL or self.draining)

    def _recover(self, pending: Pending, now: float) -> None:
        """A reply to `pending` was dropped as invalid: ask again so nothing is lost."""
        if pending.kind is RequestKind.HANDSHAKE:
            self._on_failure(now, "invalid handshake reply", close=True)
        elif pending.kind is RequestKind.DISCONNECT or pending.operation is Operation.DISCONNECT:
            return
        elif pending.kind is RequestKind.CONNECT:
            self.connect_at = None
            self._send([self.bayeux.resend(pending, now)])
        else:
            self._send([self.bayeux.resend(pending, now)])

    def _recover_all(self, now: float) -> None:
        for ident, pending in list(self.bayeux.pending.items()):
            if not self._listening():
                return
            if self.bayeux.pending.pop(ident, None) is not None:
                self._recover(pending, now)

    def _after_frame(self, now: float) -> None:
        """A gap that the frame did not fill: ask the server to replay from our position."""
        if not self.transcript.has_gap or self.state is not State.READY:
            return
        if self.conn is Conn.OPEN and not self._pending_purpose(CATCH_UP):
            self._send([self._replay_request(now, CATCH_UP)])

    def _handle(self, msg: wire.Message, now: float, *, batch_ok: bool) -> None:
        channel: str = msg["channel"]
        if self.draining:
            if channel == wire.SERVICE_CHAT:
                self._on_service(msg, now)
            if not any(p.kind is RequestKind.PUBLISH for p in self.bayeux.pending.values()):
                self._finish_drain(now)
            return
        if channel == wire.META_HANDSHAKE:
            self._on_handshake(msg, now)
        elif channel == wire.META_CONNECT:
            self._on_connect(msg, now, batch_ok=batch_ok)
        elif channel in (wire.META_SUBSCRIBE, wire.META_UNSUBSCRIBE):
            self._on_subscribe(msg)
        elif channel == wire.SERVICE_CHAT:
            self._on_service(msg, now)
        elif channel.startswith(wire.CHAT_PREFIX):
            self._on_delivery(msg, now)
        else:
            self.bayeux.resolve(msg)

    def _on_handshake(self, msg: wire.Message, now: float) -> None:
        if self.bayeux.resolve(msg) is None:
            return
        self.bayeux.advice.update(msg.get("advice"))
        if not msg["successful"]:
            if self.bayeux.advice.reconnect is Reconnect.NONE:
                self._fail(now, "handshake refused")
            else:
                self._on_failure(now, "handshake refused", close=True)
            return
        if not self.bayeux.negotiate(msg.get("supportedConnectionTypes")):
            self._fail(now, "no connection type in common with the server")
            return
        self.bayeux.client_id = msg["clientId"]
        self.bayeux.ack = -1
        self.attempting = False
        self.instance_failures = 0
        self._after_handshake(now)

    def _on_connect(self, msg: wire.Message, now: float, *, batch_ok: bool) -> None:
        if batch_ok:
            self.bayeux.took_batch(msg)
        if self.bayeux.resolve(msg) is None:
            return  # a stale or duplicated reply
        self.bayeux.advice.update(msg.get("advice"))
        self.attempting = False
        self.instance_failures = 0
        if not msg["successful"]:
            self._on_connect_refused(msg, now)
            return
        if self.chat is not None and not self.need_restore:
            if self.state in (State.RECONNECTING, State.INTERRUPTED):
                self._session_works(now, Trigger.RECONNECTED, None)
        elif self.state is not State.CONNECTING:
            self._session_step(now)  # log in or restore on a channel that works again
        if self.conn is not Conn.OPEN:
            return
        if self.bayeux.advice.interval > 0:
            self.connect_at = now + self.bayeux.advice.interval
        else:
            self._send([self.bayeux.connect(now, immediate=False)])

    def _on_connect_refused(self, msg: wire.Message, now: float) -> None:
        reconnect = self.bayeux.advice.reconnect
        if error_code(msg) == UNKNOWN_CLIENT or reconnect is Reconnect.HANDSHAKE:
            self._rehandshake(now)
        elif reconnect is Reconnect.NONE:
            self._fail(now, "server advised no reconnect")
        else:
            self._on_failure(now, f"connect refused: {msg.get('error')}", close=True)

    def _on_subscribe(self, msg: wire.Message) -> None:
        # A refused subscription is only retried through a new handshake (402).
        self.bayeux.resolve(msg)

    def _on_service(self, msg: wire.Message, now: float) -> None:
        if msg["successful"] and "data" not in msg:
            return  # the publish ack; the result comes in its own message with the same id
        pending = self.bayeux.resolve(msg)
        if pending is None or pending.operation is None:
            return
        if not msg["successful"]:
            if error_code(msg) == UNKNOWN_CLIENT and not self.draining:
                self._rehandshake(now)
                return
            failure = (int(ErrorCode.EXECUTION_ERROR), "", {"reason": msg.get("error")})
            self._on_command_error(pending, failure, now)
            return
        data = msg["data"]
        if "error" in data:
            error = command_error(data["error"])
            assert error is not None  # validated
            self._on_command_error(pending, error, now)
        else:
            self._on_command_result(pending, data["result"], now)

    def _on_command_result(self, pending: Pending, result: dict[str, Any], now: float) -> None:
        operation = pending.operation
        assert operation is not None
        command_id = pending.command_id or ""
        if operation is Operation.SEND_MESSAGE:
            if not self.outbox.settle(command_id):
                return  # a second answer for the same message
            self._emit(now, Acked(command_id, int(result["index"])))
        self._emit(now, CommandDone(command_id, operation.value, True, result))
        if self.draining:
            return
        if operation is Operation.REQUEST_CHAT:
            self._on_chat_started(result, now)
        elif operation is Operation.REQUEST_NOTIFICATIONS and pending.purpose == RESTORE:
            self._on_restored(result, now)

    def _on_command_error(
        self, pending: Pending, error: tuple[int, str, dict[str, Any]], now: float
    ) -> None:
        operation = pending.operation
        assert operation is not None
        command_id = pending.command_id or ""
        code, description, data = error
        if operation is Operation.SEND_MESSAGE and command_id not in self.outbox.texts:
            return
        self._emit(now, CommandDone(command_id, operation.value, False, code=code))
        if self.draining:
            self._settle_failed(now, command_id, code)
            return
        if self._react(pending, error, now):
            return
        if operation is Operation.REQUEST_CHAT:
            self._on_login_error(code, description, data, now)
            return
        if operation is Operation.REQUEST_NOTIFICATIONS and pending.purpose == RESTORE:
            if code == ErrorCode.UNKNOWN_SESSION:
                self._restore_failed(now)
                return
            self.session_retry_at = now + self.timers.backoff_increment
        self._emit(now, _server_error(code, description, data))
        if operation is Operation.SEND_MESSAGE:
            self._settle_failed(now, command_id, code)
        if code == ErrorCode.UNKNOWN_SESSION and self.state is State.READY:
            self._rehandshake(now)  # the chat may be gone: a restore finds out (152)

    def _react(
        self, pending: Pending, error: tuple[int, str, dict[str, Any]], now: float
    ) -> bool:
        """The seeds' reactions (transport.reactions): tell the app, retry the command."""
        code, description, data = error
        reaction = reaction_to(code, data, self.servers, self.instance)
        is_login = pending.operation is Operation.REQUEST_CHAT
        if reaction is None or (is_login and isinstance(reaction, WaitThenRetry)):
            return False  # a login told to wait is the not-ready case (_on_login_error)
        self._emit(now, _server_error(code, description, data))
        if pending.operation is Operation.SEND_MESSAGE and pending.command_id is not None:
            self.outbox.unsend(pending.command_id)
        if isinstance(reaction, WaitThenRetry):
            later = now + reaction.seconds
            self.session_retry_at = max(self.session_retry_at or later, later)
        elif isinstance(reaction, MoveTo):
            self._move_to(reaction.instance, now)
        else:
            self.bayeux.challenge = reaction.nonce
            self._rehandshake(now)
        return True

    def _move_to(self, instance: str, now: float) -> None:
        """Redirected: the session goes to `instance` (handshake there, then restore)."""
        self.server_index = self.servers.index(instance)
        self.instance_failures = 0
        if self.conn is not Conn.NONE:
            self._output(CloseConnection(f"redirected to {instance}"))
            self._connection_gone()
        self._rehandshake(now)

    def _on_login_error(
        self, code: int, description: str, data: dict[str, Any], now: float
    ) -> None:
        if code == ErrorCode.SERVER_UNAVAILABLE:
            # Channel open, server not ready: wait as told, commands stay queued.
            retry_after = data.get("retryAfter")
            wait = float(retry_after) if _is_seconds(retry_after) else self.timers.backoff_increment
            self.session_retry_at = now + wait
            return
        self._emit(now, _server_error(code, description, data))
        if code in FATAL_LOGIN_CODES:
            self._fail(now, "login failed")
        else:
            self.session_retry_at = now + self.timers.backoff_increment

    def _on_chat_started(self, result: dict[str, Any], now: float) -> None:
        self.chat = Chat(result["chatId"], result["secureKey"])
        self._adopt_instance(result.get("instance"))
        position = result.get("position")
        start = position if isinstance(position, int) and not isinstance(position, bool) else 0
        self.transcript = Transcript(position=start)
        self.need_restore = False
        self._send([self.bayeux.subscribe(wire.chat_channel(self.chat.chat_id), now)])
        trigger = {
            State.OPENING: Trigger.SERVER_READY,
            State.RESTORING: Trigger.RESTORED,
        }.get(self.state, Trigger.RECONNECTED)
        self._session_works(now, trigger, Ready(self.chat.chat_id))
        self._take_early_deliveries(now)

    def _take_early_deliveries(self, now: float) -> None:
        """Deliver what arrived for this chat before the requestChat result did."""
        early, self.early_deliveries = self.early_deliveries, []
        for msg in early:
            self._on_delivery(msg, now)

    def _on_restored(self, result: dict[str, Any], now: float) -> None:
        if not self.need_restore:
            return
        self.need_restore = False
        self._adopt_instance(result.get("instance"))
        position = result.get("position", self.transcript.position)
        replayed = result.get("replayed", 0)
        self._session_works(now, Trigger.RESTORED, Restored(self.instance, position, replayed))

    def _adopt_instance(self, alias: object) -> None:
        if isinstance(alias, str) and alias in self.servers:
            self.server_index = self.servers.index(alias)

    def _on_delivery(self, msg: wire.Message, now: float) -> None:
        if self.chat is None:
            if self._pending_purpose("login") and len(self.early_deliveries) < MAX_EARLY:
                self.early_deliveries.append(msg)
            return
        if msg["channel"] != wire.chat_channel(self.chat.chat_id):
            return
        data = msg["data"]
        index = data.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            return  # typing notices and other unindexed news
        for item in self.transcript.accept(data):
            self._deliver_transcript(now, item)

    # == plumbing ===================================================================
    def _fire(self, trigger: Trigger, now: float, **context: Any) -> None:
        before, after = self.chart.fire(trigger, **context)
        self._state = after
        self._emit(now, StateChanged(before.value, after.value, trigger.value))

    def _emit(self, now: float, event: AppEvent) -> None:
        self._events.append((now, event))

    def _output(self, output: Output) -> None:
        self._outputs.append(output)

    def _send(self, messages: list[wire.Message]) -> None:
        if messages:
            self._output(SendFrame(_encode_frame(messages)))

    def _require(self, state: State, command: str) -> None:
        if self.state is not state:
            raise UsageError(f"{command} needs state '{state}', the transport is '{self.state}'")

    def _require_session(self, command: str) -> None:
        if self.state is State.IDLE or self.state in TERMINAL:
            raise UsageError(f"{command}: no live chat (the transport is '{self.state}')")


def _server_error(code: int, description: str, data: dict[str, Any]) -> EventError:
    """A server's command error, delivered to the application as it is."""
    if not description:
        try:
            description = describe(code)
        except ValueError:
            description = f"Server error {code}"
    return EventError(code, description, data or None)


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _is_seconds(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
