"""Taking a frame: parse every message at the boundary, hand the valid ones on, recover.

A frame with an invalid message gives one EventError 151 (the first reason);
its valid messages are still taken (a connect reply's batch is then not
acknowledged, so the server sends it again), and every request an invalid
reply answered is asked again, so nothing is lost.
"""

from __future__ import annotations

from typing import Protocol

from mypy_extensions import mypyc_attr, trait

from statecharts.errors import ProtocolViolation
from transport import wire
from transport.bayeux import BayeuxLayer, Pending, RequestKind
from transport.checks import Invalid
from transport.replies import (
    Delivery,
    MetaReply,
    Reply,
    ServiceReply,
    decode_frame,
    parse_message,
)
from transport.service import Service


class Reader(Protocol):
    bayeux: BayeuxLayer
    service: Service
    draining: bool
    messages_received: int

    def listening(self) -> bool: ...
    def emit_invalid_reply(self, now: float, reason: str) -> None: ...

    connect_at: float | None

    def failure(self, now: float, reason: str, *, close: bool) -> None: ...
    def send(self, messages: list[wire.Message]) -> None: ...
    def on_meta(self, reply: MetaReply, batch_ok: bool, now: float) -> None: ...
    def finish_drain(self, now: float) -> None: ...
    def recover_all(self, now: float) -> None: ...
    def recover(self, pending: Pending, now: float) -> None: ...
    def handle(self, reply: Reply, now: float, *, batch_ok: bool) -> None: ...


@trait  # a mixin of the connection: mypyc compiles it as a trait
@mypyc_attr(allow_interpreted_subclasses=True)  # see ClientCore
class FrameReader:
    """Mixin of the connection: frames in, typed replies to the right layer."""

    connect_at: float | None  # the connection's CONNECT timer (a resent connect replaces it)

    def take_frame(self: Reader, text: str | list[wire.Message], now: float) -> None:
        try:
            messages = decode_frame(text)
        except ProtocolViolation as exc:
            self.emit_invalid_reply(now, str(exc))
            self.recover_all(now)
            return
        self.messages_received += len(messages)
        requests = self.bayeux.pending
        replies: list[Reply] = []
        # (message, the request it answered) of each invalid one: rare, so built lazily.
        invalid: list[tuple[wire.Message, Pending | None]] | None = None
        problem = ""
        for msg in messages:
            parsed = parse_message(msg, requests)
            if isinstance(parsed, Invalid):
                if invalid is None:
                    invalid, problem = [], parsed.reason
                invalid.append((msg, self.bayeux.lookup(msg)))
            else:
                replies.append(parsed)
        if invalid is not None:
            self.emit_invalid_reply(now, problem)
        batch_ok = invalid is None
        for reply in replies:
            if self.listening():
                self.handle(reply, now, batch_ok=batch_ok)
        if invalid is not None:
            FrameReader._recover_invalid(self, invalid, now)

    def _recover_invalid(
        self: Reader, invalid: list[tuple[wire.Message, Pending | None]], now: float
    ) -> None:
        """Ask again what the invalid replies of a frame answered."""
        for msg, pending in invalid:
            if not self.listening():
                continue
            if pending is not None:
                if self.bayeux.resolve(msg.get("id")) is not None:
                    self.recover(pending, now)
            elif not msg["channel"].startswith(wire.CHAT_PREFIX):
                self.recover_all(now)  # cannot tell which request it answered
                return

    def judge_late_frame(self: Reader, text: str | list[wire.Message], now: float) -> None:
        """A frame on a connection given up a moment ago: ignored, but an invalid one is told."""
        try:
            messages = decode_frame(text)
        except ProtocolViolation as exc:
            self.emit_invalid_reply(now, str(exc))
            return
        self.messages_received += len(messages)
        for msg in messages:
            parsed = parse_message(msg, self.bayeux.pending)
            if isinstance(parsed, Invalid):
                self.emit_invalid_reply(now, parsed.reason)
                return

    def recover_all(self: Reader, now: float) -> None:
        for ident, pending in list(self.bayeux.pending.items()):
            if not self.listening():
                return
            if self.bayeux.pending.pop(ident, None) is not None:
                self.recover(pending, now)

    def recover(self: Reader, pending: Pending, now: float) -> None:
        """A reply to `pending` was dropped as invalid: ask again so nothing is lost."""
        if pending.kind is RequestKind.HANDSHAKE:
            self.failure(now, "invalid handshake reply", close=True)
        elif (
            pending.kind is RequestKind.DISCONNECT or pending.operation is wire.Operation.DISCONNECT
        ):
            return
        elif pending.kind is RequestKind.CONNECT:
            self.connect_at = None
            self.send([self.bayeux.resend(pending, now)])
        else:
            self.send([self.bayeux.resend(pending, now)])

    def handle(self: Reader, reply: Reply, now: float, *, batch_ok: bool) -> None:
        # The common kinds first: a connect reply, a delivery, a command's result.
        if self.draining:
            FrameReader._drain_reply(self, reply, now)
        elif isinstance(reply, MetaReply):
            self.on_meta(reply, batch_ok, now)
        elif isinstance(reply, Delivery):
            self.service.on_reply(reply, None, now)
        elif isinstance(reply, ServiceReply):
            if not reply.ack_only:  # the publish ack beside a result: the result follows
                self.service.on_reply(reply, self.bayeux.resolve(reply.id), now)
        elif reply.successful is not None:
            self.service.on_reply(reply, self.bayeux.resolve(reply.id), now)
        else:
            self.service.on_reply(reply, None, now)

    def _drain_reply(self: Reader, reply: Reply, now: float) -> None:
        """Ending: only command results matter, until no publish is outstanding."""
        if isinstance(reply, ServiceReply) and not reply.ack_only:
            self.service.on_reply(reply, self.bayeux.resolve(reply.id), now)
        if not any(p.kind is RequestKind.PUBLISH for p in self.bayeux.pending.values()):
            self.finish_drain(now)
