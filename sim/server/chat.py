"""The chat service on /service/chat: parameter checks, faults, decorators, the operations.

Each command's outcome is `{"operation", "result": {...}}` or
`{"operation", "error": {"code", "description", "data"}}` (descriptions from
the catalog). Order of checks: operation name (1), a pending `command_error`
fault, the other seeds' behaviours (`Behaviours`: redirect, rate limit,
expired credential, no reply, a rejection by row, an error that ends the
session), parameters (2 missing, 3 wrong type/value; Layer: a request id that
is not a UUID), decorators (51, or 52 when a decorator raises), then the
operation itself (50, 100, 101, 3).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.server.bayeux import BayeuxClient
from sim.server.bounds import MAX_TRANSCRIPT_CHARS
from sim.server.store import StoredChat
from statecharts.catalog import ErrorCode
from statecharts.dialects import (
    EXPIRED_CREDENTIAL,
    RATE_LIMIT,
    REDIRECT,
    REJECT,
    SESSION_END,
    TOO_LARGE,
)
from transport.wire import Message, Operation, is_uuid

if TYPE_CHECKING:
    from sim.server.ports import ChatPort

# fn(operation, data) -> reason to veto (error 51) or None
Decorator = Callable[[Operation, dict[str, Any]], str | None]
# fn(nickname, data) -> reason to refuse the login (error 101) or None
LoginPolicy = Callable[[str, dict[str, Any]], str | None]

_SESSION = (("chatId", str, True), ("secureKey", str, True))
_PARAMS: dict[Operation, tuple[tuple[str, type, bool], ...]] = {
    Operation.REQUEST_CHAT: (
        ("nickname", str, True),
        ("subject", str, False),
        ("clientRequestId", str, False),
    ),
    Operation.SEND_MESSAGE: (*_SESSION, ("text", str, True), ("clientMessageId", str, True)),
    Operation.SEND_TYPING: _SESSION,
    Operation.REQUEST_NOTIFICATIONS: (*_SESSION, ("transcriptPosition", int, True)),
    Operation.DISCONNECT: _SESSION,
}
_NON_EMPTY = frozenset({"nickname", "clientMessageId", "chatId"})
_NON_NEGATIVE = frozenset({"transcriptPosition"})
# Each parameter as (name, type, required, non-empty, non-negative), checked in one pass.
_CHECKS = {
    op: tuple((n, t, r, n in _NON_EMPTY, n in _NON_NEGATIVE) for n, t, r in spec)
    for op, spec in _PARAMS.items()
}
_OPERATIONS = {op.value: op for op in Operation}


@dataclass(frozen=True)
class Login:
    """A requestChat that carried a clientRequestId: its chat and who sent it."""

    chat_id: str
    client_id: str


class Refused(Exception):
    """A command answered with an EventError code (or a dialect's behaviour row)."""

    # A plain class, not a dataclass: a compiled build allows no dataclass exception.
    def __init__(
        self,
        code: ErrorCode,
        data: dict[str, Any] | None = None,
        behaviour: str | None = None,
        row: str | None = None,  # one row of the dialect's table (the `reject` fault)
    ) -> None:
        super().__init__(code, data, behaviour, row)
        self.code = code
        self.data: dict[str, Any] = {} if data is None else data
        self.behaviour = behaviour
        self.row = row


class Unanswered(Exception):
    """A command the server never answers (the `no_reply` fault)."""


@dataclass
class Behaviours:
    """The other seeds' server behaviours the faults switch on (see statecharts.faults)."""

    rate_limited: int = 0
    retry_after: float = 1.0
    expired_credentials: int = 0
    unanswered: int = 0
    cursor_resets: int = 0
    redirect_to: str | None = None
    rejections: int = 0
    reject_row: str = ""
    session_ends: int = 0
    session_end_code: int = int(ErrorCode.EXECUTION_ERROR)


def parse_operation(data: dict[str, Any]) -> Operation:
    name = data.get("operation")
    if name is None:
        raise Refused(ErrorCode.MISSING_PARAMETER, {"parameter": "operation"})
    if not isinstance(name, str):
        raise Refused(ErrorCode.INCORRECT_PARAMETER, {"parameter": "operation"})
    op = _OPERATIONS.get(name)
    if op is None:
        raise Refused(ErrorCode.UNKNOWN_COMMAND, {"operation": name})
    return op


def check_parameters(op: Operation, data: dict[str, Any]) -> None:
    """A missing required parameter (the first, in the operation's order) is reported
    before a wrong one (the first likewise)."""
    missing = wrong = None
    for name, kind, required, non_empty, non_negative in _CHECKS[op]:
        value = data.get(name)
        if value is None:
            if required and missing is None:
                missing = name
        elif wrong is None:
            wrong_type = not isinstance(value, kind) or isinstance(value, bool)
            if wrong_type or (non_empty and value == "") or (non_negative and value < 0):
                wrong = name
    if missing is not None:
        raise Refused(ErrorCode.MISSING_PARAMETER, {"parameter": missing})
    if wrong is not None:
        raise Refused(ErrorCode.INCORRECT_PARAMETER, {"parameter": wrong})


class ChatService:
    def __init__(self, cluster: ChatPort) -> None:
        self.cluster = cluster
        self.decorators: list[Decorator] = []
        self.login_policy: LoginPolicy | None = None
        self._forced_code = ErrorCode.EXECUTION_ERROR
        self._forced_count = 0
        self.behaviours = Behaviours()
        self._retry_after: float | None = None  # a rate limit told since take_retry_after
        self._chat_counter = 0
        # clientRequestId -> Login: a retried requestChat finds its chat again;
        # pruned with the chat (`forget`).
        self._logins: dict[str, Login] = {}
        self._login_of_chat: dict[str, str] = {}

    def force_errors(self, code: int, count: int) -> None:
        self._forced_code = ErrorCode(code)
        self._forced_count = count

    def handle(
        self, instance: str, client: BayeuxClient, data: dict[str, Any], now: float
    ) -> Message | None:
        """The command's outcome; None when a `no_reply` fault swallows it."""
        name = data.get("operation")
        fields: dict[str, Any] = {"operation": name, "client": client.client_id}
        if isinstance(data.get("chatId"), str):
            fields["chatId"] = data["chatId"]
        try:
            op = parse_operation(data)
            if self._forced_count > 0:
                self._take_forced_error()
            self._take_behaviour(instance)
            check_parameters(op, data)
            self._check_request_id(op, data)
            if self.decorators:
                self._run_decorators(op, data)
            result = self._execute(op, instance, client, data, now)
        except Unanswered:
            self.cluster.emit(now, instance, "command", {**fields, "behaviour": "no_reply"})
            return None
        except Refused as refused:
            fields["error"] = int(refused.code)
            if refused.behaviour is not None:
                fields["behaviour"] = refused.behaviour
            self.cluster.emit(now, instance, "command", fields)
            # Errors speak the cluster's dialect (genesys: {code, description, data}).
            dialect = self.cluster.dialect
            error = dialect.render(refused.code, refused.data, refused.behaviour, refused.row)
            row = dialect.row_for(refused.code, refused.behaviour, refused.row)
            if refused.behaviour == SESSION_END or (row is not None and row.ends_session):
                self._end_after_error(data, instance, now)
            return {"operation": name, "error": error}
        if "chatId" in result:
            fields["chatId"] = result["chatId"]
        self.cluster.emit(now, instance, "command", fields)
        return {"operation": name, "result": result}

    def take_retry_after(self) -> float | None:
        """The Retry-After of a rate limit refused since the last call (None: none)."""
        told, self._retry_after = self._retry_after, None
        return told

    def _take_forced_error(self) -> None:
        """Called while a `command_error` fault has commands left to refuse."""
        self._forced_count -= 1
        raise Refused(self._forced_code, {"reason": "command_error fault"})

    def _take_behaviour(self, instance: str) -> None:
        """Refuse (or swallow) the command as a pending seed behaviour says."""
        pending, dialect = self.behaviours, self.cluster.dialect
        if pending.redirect_to is not None and instance != pending.redirect_to:
            to = pending.redirect_to
            raise Refused(dialect.behaviour_code(REDIRECT), {"region": to}, REDIRECT)
        if pending.unanswered > 0:
            pending.unanswered -= 1
            raise Unanswered
        if pending.rate_limited > 0:
            pending.rate_limited -= 1
            wait = {"retryAfter": pending.retry_after}
            self._retry_after = pending.retry_after
            raise Refused(dialect.behaviour_code(RATE_LIMIT), wait, RATE_LIMIT)
        if pending.expired_credentials > 0:
            pending.expired_credentials -= 1
            # A challenge the client answers with its next handshake (Layer's nonce).
            nonce = {"nonce": self.cluster.issue_nonce()}
            code = dialect.behaviour_code(EXPIRED_CREDENTIAL)
            raise Refused(code, nonce, EXPIRED_CREDENTIAL)
        if pending.rejections > 0:
            pending.rejections -= 1
            row = dialect.row(pending.reject_row)
            raise Refused(row.maps_to, {}, REJECT, row.key)
        if pending.session_ends > 0:
            pending.session_ends -= 1
            raise Refused(ErrorCode(pending.session_end_code), {}, SESSION_END)

    def _end_after_error(self, data: dict[str, Any], instance: str, now: float) -> None:
        """A `session_end` error: the server then ends the command's chat itself."""
        chat_id, key = data.get("chatId"), data.get("secureKey")
        if not isinstance(chat_id, str) or not isinstance(key, str):
            return  # no chat yet (a login): only the error
        session = self.cluster.store.get(chat_id)
        if session is not None and _same_secret(session.secure_key, key):
            self.cluster.end_by_server(chat_id, instance, now)

    def _check_request_id(self, op: Operation, data: dict[str, Any]) -> None:
        """A dialect that wants UUID request ids (Layer) refuses any other login id."""
        row = self.cluster.dialect.request_id_row
        request_id = data.get("clientRequestId")
        if row is None or op is not Operation.REQUEST_CHAT or request_id is None:
            return
        if not is_uuid(request_id):
            code = self.cluster.dialect.row(row).maps_to
            raise Refused(code, {"parameter": "clientRequestId"}, row=row)

    def _run_decorators(self, op: Operation, data: dict[str, Any]) -> None:
        for decorator in self.decorators:
            try:
                reason = decorator(op, data)
            except Exception as exc:  # a failing decorator is an execution error, not a crash
                raise Refused(ErrorCode.EXECUTION_ERROR, {"reason": str(exc)}) from None
            if reason is not None:
                raise Refused(ErrorCode.STOPPED_BY_DECORATOR, {"reason": reason})

    def _execute(
        self, op: Operation, instance: str, client: BayeuxClient, data: dict[str, Any], now: float
    ) -> dict[str, Any]:
        if op is Operation.REQUEST_CHAT:
            return self._request_chat(instance, client, data, now)
        session = self._session(data, now)
        if op is Operation.SEND_MESSAGE:
            return self._send_message(session, data, now)
        if op is Operation.SEND_TYPING:
            self.cluster.deliver_chat(session.chat_id, {"type": "Typing", "party": "client"})
            return {}
        if op is Operation.REQUEST_NOTIFICATIONS:
            return self._request_notifications(session, instance, client, data, now)
        return self._disconnect(session, instance, now)

    def _session(self, data: dict[str, Any], now: float) -> StoredChat:
        session = self.cluster.store.get(data["chatId"])
        if session is None or not _same_secret(session.secure_key, data["secureKey"]):
            raise Refused(ErrorCode.UNKNOWN_SESSION, {"chatId": data["chatId"]})
        self.cluster.store.touch(session.chat_id, now)
        return session

    def _request_chat(
        self, instance: str, client: BayeuxClient, data: dict[str, Any], now: float
    ) -> dict[str, Any]:
        cluster = self.cluster
        if now < cluster.not_ready_until:
            retry_after = round(cluster.not_ready_until - now, 6)
            raise Refused(ErrorCode.SERVER_UNAVAILABLE, {"retryAfter": retry_after})
        earlier = self._login_of(data.get("clientRequestId"), client)
        if earlier is not None:
            return self._rejoin(earlier, instance, client)
        if self.login_policy is not None:
            reason = self.login_policy(data["nickname"], data)
            if reason is not None:
                raise Refused(ErrorCode.LOGIN_FAILED, {"reason": reason})
        self._chat_counter += 1
        session = StoredChat(
            chat_id=f"chat-{self._chat_counter}",
            secure_key=cluster.secrets.secure_key(),
            nickname=data["nickname"],
            instance=instance,
            last_contact=now,
        )
        cluster.start_session(session, instance, client, now)
        request_id = data.get("clientRequestId")
        if isinstance(request_id, str) and request_id not in self._logins:
            self._logins[request_id] = Login(session.chat_id, client.client_id)
            self._login_of_chat[session.chat_id] = request_id
        return {
            "chatId": session.chat_id,
            "secureKey": session.secure_key,
            "instance": instance,
            "position": 0,
        }

    def _login_of(self, request_id: object, client: BayeuxClient) -> StoredChat | None:
        """The live chat an earlier requestChat with this clientRequestId opened, if the
        asker may have it: the Bayeux client that logged in, or once that client is
        gone (its connection was lost for good) the next one to retry the login.

        Anyone else repeating the id gets a chat of their own, never this one's key."""
        if not isinstance(request_id, str) or request_id not in self._logins:
            return None
        login = self._logins[request_id]
        if login.client_id != client.client_id and self.cluster.has_client(login.client_id):
            return None
        self._logins[request_id] = Login(login.chat_id, client.client_id)
        return self.cluster.store.get(login.chat_id)

    def forget(self, chat_id: str) -> None:
        """The chat ended or expired: its login can no longer be retried."""
        request_id = self._login_of_chat.pop(chat_id, None)
        if request_id is not None:
            self._logins.pop(request_id, None)

    def _rejoin(self, session: StoredChat, instance: str, client: BayeuxClient) -> dict[str, Any]:
        """A retried login (its reply was lost): the same chat, its transcript from the start."""
        self.cluster.bind(session.chat_id, instance, client)
        events = [e.as_data() for e in session.since(0)]
        self.cluster.deliver_to(instance, client, session.chat_id, events)
        return {
            "chatId": session.chat_id,
            "secureKey": session.secure_key,
            "instance": session.instance,
            "position": 0,
        }

    def _send_message(
        self, session: StoredChat, data: dict[str, Any], now: float
    ) -> dict[str, Any]:
        message_id = data["clientMessageId"]
        known = session.message_ids.get(message_id)
        if known is not None:
            self.cluster.acked(session, message_id, known, now)
            return {"index": known}
        limit = self.cluster.max_message_bytes
        if limit is not None and len(data["text"].encode()) > limit:
            code = self.cluster.dialect.behaviour_code(TOO_LARGE)
            raise Refused(code, {"limit": limit}, TOO_LARGE)
        if session.chars + len(data["text"]) > MAX_TRANSCRIPT_CHARS:
            reason = f"the transcript is full ({MAX_TRANSCRIPT_CHARS} characters)"
            raise Refused(ErrorCode.EXECUTION_ERROR, {"reason": reason})
        event = session.append("Message", "client", data["text"], message_id)
        self.cluster.store.put(session)
        self.cluster.deliver_chat(session.chat_id, event.as_data())
        self.cluster.accepted(session, event, now)
        self.cluster.client_said(session.chat_id, data["text"], now)
        self.cluster.acked(session, message_id, event.index, now)
        return {"index": event.index}

    def _request_notifications(
        self,
        session: StoredChat,
        instance: str,
        client: BayeuxClient,
        data: dict[str, Any],
        now: float,
    ) -> dict[str, Any]:
        position = data["transcriptPosition"]
        if position > session.position:
            raise Refused(ErrorCode.INCORRECT_PARAMETER, {"parameter": "transcriptPosition"})
        if self.behaviours.cursor_resets > 0:  # an invalid cursor: the whole history again
            self.behaviours.cursor_resets -= 1
            position = 0
        missed = session.since(position)
        self.cluster.bind(session.chat_id, instance, client)
        self.cluster.deliver_to(instance, client, session.chat_id, [e.as_data() for e in missed])
        if session.instance != instance:
            moved = {"chatId": session.chat_id, "from": session.instance, "to": instance}
            self.cluster.emit(now, instance, "session.move", moved)
            session.instance = instance
            self.cluster.store.put(session)
        return {"instance": instance, "position": session.position, "replayed": len(missed)}

    def _disconnect(self, session: StoredChat, instance: str, now: float) -> dict[str, Any]:
        event = session.append("ParticipantLeft", "client", session.nickname)
        self.cluster.deliver_chat(session.chat_id, event.as_data())
        self.cluster.accepted(session, event, now)
        self.cluster.end_session(session.chat_id, instance, now)
        return {}


def _same_secret(known: str, given: str) -> bool:
    """Compared in constant time, so response times do not leak the key."""
    return hmac.compare_digest(known.encode(), given.encode("utf-8", "surrogatepass"))
