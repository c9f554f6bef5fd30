"""The chat service (a `transport.service.Service`): a Genesys-style chat session.

Login (`requestChat`, one `clientRequestId` for all retries while the server is
not ready), restore (`requestNotifications` from the saved position after a
reload, a failover or a 402; a session gone on the server is EventError 152),
catch-up of gaps, the outbox (re-sent whenever the session works again, acked
once or failed) and deliveries that overtook the login result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from statecharts.catalog import ErrorCode, describe
from statecharts.chart import LOST, State, Trigger, works_again_trigger
from statecharts.dialects import SESSION_END_TYPES, read_session_end
from statecharts.events import (
    Acked,
    CommandDone,
    Ended,
    EventError,
    Message,
    MessageDirection,
    Ready,
    Restored,
    SendFailed,
)
from transport import wire
from transport.bayeux import Pending, Purpose
from transport.checks import Invalid, retry_after
from transport.connection import ClientConnection
from transport.outputs import LinkState
from transport.reactions import MoveTo, WaitThenRetry, reaction_to
from transport.replies import (
    CommandError,
    Delivery,
    LoginResult,
    MetaReply,
    OtherMessage,
    ReplayResult,
    ServiceReply,
    TranscriptItem,
)
from transport.session import Chat, Outbox, Transcript
from transport.wire import Operation

# Deliveries kept while a login is outstanding (a bound on a misbehaving server).
MAX_EARLY = 1000
# Codes after which retrying a login is pointless.
FATAL_LOGIN_CODES = frozenset({1, 2, 3, int(ErrorCode.LOGIN_FAILED)})
UNKNOWN_CLIENT = int(wire.BayeuxError.UNKNOWN_CLIENT)

Deliver = Callable[[float, TranscriptItem], None]


class ChatService:
    """The chat a client holds; see the module docstring."""

    def __init__(self, client_id: str, deliver: Deliver) -> None:
        self.client_id = client_id
        self.deliver = deliver  # the application hears a transcript event (a hook)
        self.conn: ClientConnection
        self.chat: Chat | None = None
        self.transcript = Transcript()
        self.outbox = Outbox()
        # Deliveries that overtook the login result (reorder), kept till it names their chat.
        self.early_deliveries: list[Delivery] = []
        self.need_restore = False
        self.typing_queued = False
        self.login_key: str | None = None
        self.retry_at: float | None = None
        self._messages = 0
        self._commands = 0

    def bind(self, conn: ClientConnection) -> None:
        self.conn = conn

    # -- application commands (through the core) -----------------------------------
    def resume(self, chat_id: str, secure_key: str, position: int) -> None:
        self.chat = Chat(chat_id, secure_key)
        self.transcript = Transcript(position=position)
        self.need_restore = True

    def queue_message(self, text: str, now: float) -> str:
        self._messages += 1
        message_id = f"{self.client_id}-m{self._messages}"
        self.outbox.add(message_id, text)
        self.conn.emit(now, Message(MessageDirection.OUT, None, message_id, None, text))
        self.flush(now)
        return message_id

    def queue_typing(self, now: float) -> None:
        self.typing_queued = True
        self.flush(now)

    # -- the Service seam ------------------------------------------------------------
    def step(self, now: float) -> None:
        """On a working channel: log in, or restore, as the session needs."""
        if self.retry_at is not None:
            return
        if self.chat is None:
            if not self.conn.bayeux.has_pending(Purpose.LOGIN):
                params: dict[str, Any] = {
                    "nickname": self.conn.config.nickname,
                    "clientRequestId": self._login_key(),
                }
                if self.conn.config.subject is not None:
                    params["subject"] = self.conn.config.subject
                login = self._publish(Operation.REQUEST_CHAT, params, now, purpose=Purpose.LOGIN)
                self.conn.send([login])
        elif self.need_restore and not self.conn.bayeux.has_pending(Purpose.RESTORE):
            self.conn.send(self._notifications(now, Purpose.RESTORE))

    def connected(self, now: float) -> None:
        if self.chat is not None and not self.need_restore:
            if self.conn.state in LOST:
                self.conn.session_works(now, Trigger.RECONNECTED, None)
        elif self.conn.state is not State.CONNECTING:
            self.step(now)  # log in or restore on a channel that works again

    def retry_due(self, now: float) -> None:
        self.step(now)
        self.flush(now)  # what a Retry-After held back

    def subscribed(self, reply: MetaReply, pending: Pending, now: float) -> None:
        """A refused subscription is only retried through a new handshake (402)."""

    def on_reply(
        self, reply: ServiceReply | Delivery | OtherMessage, pending: Pending | None, now: float
    ) -> None:
        if isinstance(reply, Delivery):
            self._on_delivery(reply, now)
        elif isinstance(reply, ServiceReply):
            self._on_service(reply, pending, now)

    def after_frame(self, now: float) -> None:
        """A gap that the frame did not fill: ask the server to replay from our position."""
        if not self.transcript.waiting or self.conn.state is not State.READY:  # no gap
            return
        if self.conn.link is LinkState.OPEN and not self.conn.bayeux.has_pending(Purpose.CATCH_UP):
            self.conn.send([self._replay_request(now, Purpose.CATCH_UP)])

    def flush(self, now: float) -> None:
        """Send what the application queued, once the session works."""
        if self.conn.state is not State.READY or self.chat is None or self.need_restore:
            return
        if not self.conn.channel_up:
            return
        if self.retry_at is not None:
            return  # told to wait (Retry-After): `retry_due` flushes
        batch: list[wire.Message] = []
        for message_id, text in self.outbox.unsent():
            params = self.chat.message_params(text, message_id)
            batch.append(self._publish(Operation.SEND_MESSAGE, params, now, command_id=message_id))
            self.outbox.sent(message_id)
        if self.typing_queued:
            self.typing_queued = False
            batch.append(self._publish(Operation.SEND_TYPING, self.chat.params(), now))
        self.conn.send(batch)

    def connection_gone(self, now: float) -> None:
        self.retry_at = None
        self.outbox.connection_gone()
        self.early_deliveries.clear()  # the login they preceded died with the connection

    def rehandshake(self, now: float) -> None:
        self.outbox.connection_gone()
        self.retry_at = None
        if self.chat is not None:
            self.need_restore = True
            self.conn.fire(Trigger.REHANDSHAKE, now)

    def failover(self, now: float, old: str, new: str) -> None:
        """A chat moves with the instance (100 notice, then restore); before one, nothing."""
        if self.chat is None:
            return
        self.conn.emit(now, EventError.of(ErrorCode.SERVER_UNAVAILABLE, {"from": old, "to": new}))
        self.need_restore = True
        self.conn.fire(Trigger.FAILOVER, now)

    def reload(self, now: float) -> None:
        self.transcript.forget_waiting()
        self.need_restore = self.chat is not None
        self.retry_at = None

    def farewell(self, now: float) -> list[wire.Message]:
        if self.chat is None:
            return []
        return [self._publish(Operation.DISCONNECT, self.chat.params(), now)]

    def settle_all(self, now: float, code: int) -> None:
        for message_id in list(self.outbox.texts):
            self._settle_failed(now, message_id, code)

    def settle_unsent(self, now: float, code: int) -> None:
        for message_id, _text in self.outbox.unsent():
            self._settle_failed(now, message_id, code)

    def shutdown(self, now: float) -> None:
        self.chat = None
        self.need_restore = False

    # -- service replies -------------------------------------------------------------
    def _on_service(self, reply: ServiceReply, pending: Pending | None, now: float) -> None:
        if pending is None or pending.operation is None:
            return
        if not reply.successful:
            if reply.error_code == UNKNOWN_CLIENT and not self.conn.draining:
                self.conn.rehandshake(now)
                return
            failure = CommandError(int(ErrorCode.EXECUTION_ERROR), "", {"reason": reply.error})
            self._on_command_error(pending, failure, now)
        elif reply.command_error is not None:
            self._on_command_error(pending, reply.command_error, now)
        else:
            self._on_command_result(pending, reply, now)

    def _on_command_result(self, pending: Pending, reply: ServiceReply, now: float) -> None:
        operation = pending.operation
        assert operation is not None and reply.result is not None
        command_id = pending.command_id or ""
        if operation is Operation.SEND_MESSAGE:
            if not self.outbox.settle(command_id):
                return  # a second answer for the same message
            assert reply.index is not None
            self.conn.emit(now, Acked(command_id, reply.index))
        self.conn.emit(now, CommandDone(command_id, operation._value_, True, reply.result))
        if self.conn.draining:
            return
        if reply.login is not None:
            self._on_chat_started(reply.login, now)
        elif reply.replay is not None and pending.purpose is Purpose.RESTORE:
            self._on_restored(reply.replay, now)

    def _on_command_error(self, pending: Pending, error: CommandError, now: float) -> None:
        operation = pending.operation
        assert operation is not None
        command_id = pending.command_id or ""
        if operation is Operation.SEND_MESSAGE and command_id not in self.outbox.texts:
            return
        self.conn.emit(now, CommandDone(command_id, operation.value, False, code=error.code))
        if self.conn.draining:
            self._settle_failed(now, command_id, error.code)
            return
        if self._react(pending, error, now):
            return
        if operation is Operation.REQUEST_CHAT:
            self._on_login_error(error, now)
            return
        if operation is Operation.REQUEST_NOTIFICATIONS and pending.purpose is Purpose.RESTORE:
            if error.code == ErrorCode.UNKNOWN_SESSION:
                self._restore_failed(now)
                return
            self.retry_at = now + self.conn.timers.backoff_increment
        self.conn.emit(now, _server_error(error))
        if operation is Operation.SEND_MESSAGE:
            self._settle_failed(now, command_id, error.code)
        if error.code == ErrorCode.UNKNOWN_SESSION and self.conn.state is State.READY:
            self.conn.rehandshake(now)  # the chat may be gone: a restore finds out (152)

    def _react(self, pending: Pending, error: CommandError, now: float) -> bool:
        """The seeds' reactions (transport.reactions): tell the app, retry the command."""
        reaction = reaction_to(error.code, error.data, self.conn.servers, self.conn.instance)
        is_login = pending.operation is Operation.REQUEST_CHAT
        if reaction is None or (is_login and isinstance(reaction, WaitThenRetry)):
            return False  # a login told to wait is the not-ready case (_on_login_error)
        self.conn.emit(now, _server_error(error))
        if pending.operation is Operation.SEND_MESSAGE and pending.command_id is not None:
            self.outbox.unsend(pending.command_id)
        if isinstance(reaction, WaitThenRetry):
            later = now + reaction.seconds
            self.retry_at = max(self.retry_at or later, later)
        elif isinstance(reaction, MoveTo):
            self.conn.move_to(reaction.instance, now)
        else:
            self.conn.bayeux.challenge = reaction.nonce
            self.conn.rehandshake(now)
        return True

    def _on_login_error(self, error: CommandError, now: float) -> None:
        if error.code == ErrorCode.SERVER_UNAVAILABLE:
            # Channel open, server not ready: wait as told, commands stay queued.
            wait = retry_after(error.data)
            if wait is None or isinstance(wait, Invalid):
                wait = self.conn.timers.backoff_increment
            self.retry_at = now + wait
            return
        self.conn.emit(now, _server_error(error))
        if error.code in FATAL_LOGIN_CODES:
            self.conn.fail(now, "login failed")
        else:
            self.retry_at = now + self.conn.timers.backoff_increment

    def _on_chat_started(self, login: LoginResult, now: float) -> None:
        self.chat = Chat(login.chat_id, login.secure_key)
        self.conn.adopt_instance(login.instance)
        self.transcript = Transcript(position=login.position)
        self.need_restore = False
        channel = wire.chat_channel(self.chat.chat_id)
        self.conn.send([self.conn.bayeux.subscribe(channel, now)])
        trigger = works_again_trigger(self.conn.state)
        self.conn.session_works(now, trigger, Ready(self.chat.chat_id))
        early, self.early_deliveries = self.early_deliveries, []
        for delivery in early:  # what arrived for this chat before the result did
            self._on_delivery(delivery, now)

    def _on_restored(self, replay: ReplayResult, now: float) -> None:
        if not self.need_restore:
            return
        self.need_restore = False
        self.conn.adopt_instance(replay.instance)
        position = self.transcript.position if replay.position is None else replay.position
        restored = Restored(self.conn.instance, position, replay.replayed)
        self.conn.session_works(now, Trigger.RESTORED, restored)

    def _restore_failed(self, now: float) -> None:
        self.settle_all(now, ErrorCode.RESTORE_FAILED)
        chat_id = self.chat.chat_id if self.chat else None
        self.conn.emit(now, EventError.of(ErrorCode.RESTORE_FAILED, {"chatId": chat_id}))
        self.conn.fire(Trigger.RESTORE_FAILED, now)
        self.conn.emit(now, Ended("restore_failed"))
        self.conn.shutdown(now, "restore failed")

    def _ended_by_server(self, event: dict[str, Any], chat_id: str, now: float) -> None:
        """PolyAI's SESSION_END: error 50 with the event in `data.native`, then `ended`."""
        code, description, data = read_session_end(event) or (ErrorCode.UNKNOWN_SESSION, "", {})
        self.conn.emit(now, EventError(code, description, {**data, "chatId": chat_id}))
        self.conn.fail(now, "server", trigger=Trigger.END, code=ErrorCode.UNKNOWN_SESSION)

    def _on_delivery(self, delivery: Delivery, now: float) -> None:
        if self.chat is None:
            logging_in = self.conn.bayeux.has_pending(Purpose.LOGIN)
            if logging_in and len(self.early_deliveries) < MAX_EARLY:
                self.early_deliveries.append(delivery)
            return
        if delivery.channel != self.chat.channel:
            return
        index = delivery.index
        if index is None:
            if delivery.type in SESSION_END_TYPES and not self.conn.draining:
                self._ended_by_server(delivery.data, self.chat.chat_id, now)
            return  # typing notices and other unindexed news
        for item in self.transcript.accept(delivery, index):
            self.deliver(now, item)

    # -- requests ----------------------------------------------------------------------
    def _publish(
        self,
        operation: Operation,
        params: dict[str, Any],
        now: float,
        *,
        command_id: str | None = None,
        purpose: Purpose = Purpose.NONE,
    ) -> wire.Message:
        if command_id is None:
            self._commands += 1
            command_id = f"{self.client_id}-c{self._commands}"
        data = {"operation": operation._value_, **params}  # _value_: no descriptor call
        return self.conn.bayeux.publish_to(
            wire.SERVICE_CHAT,
            data,
            now,
            command_id=command_id,
            purpose=purpose,
            operation=operation,
        )

    def _login_key(self) -> str:
        """One id for this login and all its retries: the server opens one chat, not two."""
        if self.login_key is None:
            self.login_key = wire.login_id(self.client_id, self.conn.rng.getrandbits(48))
        return self.login_key

    def _notifications(self, now: float, purpose: Purpose) -> list[wire.Message]:
        """Ask for every transcript event past our position, then subscribe to the chat."""
        assert self.chat is not None
        channel = wire.chat_channel(self.chat.chat_id)
        return [self._replay_request(now, purpose), self.conn.bayeux.subscribe(channel, now)]

    def _replay_request(self, now: float, purpose: Purpose) -> wire.Message:
        assert self.chat is not None
        params = {**self.chat.params(), "transcriptPosition": self.transcript.position}
        return self._publish(Operation.REQUEST_NOTIFICATIONS, params, now, purpose=purpose)

    def _settle_failed(self, now: float, message_id: str, code: int) -> None:
        if self.outbox.settle(message_id):
            self.conn.emit(now, SendFailed(message_id, int(code)))


def _server_error(error: CommandError) -> EventError:
    """A server's command error, delivered to the application as it is."""
    description = error.description
    if not description:
        try:
            description = describe(error.code)
        except ValueError:
            description = f"Server error {error.code}"
    return EventError(error.code, description, dict(error.data) or None)
