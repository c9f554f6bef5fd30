"""Replies on /meta/ channels: the handshake, the connect loop, subscriptions.

A successful handshake adopts the clientId and a connection type both sides
speak, then starts the connect loop and the service's step; a refused one is a
failure (or the end, with advice `none`). Each connect reply is answered by the
next connect (after `advice.interval`); a refused connect means a new handshake
(402 or advice `handshake`), the end (`none`) or a failure.
"""

from __future__ import annotations

from typing import Protocol

from mypy_extensions import mypyc_attr, trait

from statecharts.chart import Trigger
from transport import recovery, wire
from transport.bayeux import BayeuxLayer
from transport.outputs import LinkState
from transport.replies import MetaReply
from transport.service import Service
from transport.wire import Reconnect

UNKNOWN_CLIENT = int(wire.BayeuxError.UNKNOWN_CLIENT)
_META_CONNECT = wire.META_CONNECT
_OPEN = LinkState.OPEN


class Meta(Protocol):
    bayeux: BayeuxLayer
    service: Service
    attempting: bool
    outage: recovery.Outage
    connect_at: float | None

    @property
    def link(self) -> LinkState: ...
    def fail(self, now: float, reason: str) -> None: ...
    def failure(self, now: float, reason: str, *, close: bool) -> None: ...
    def rehandshake(self, now: float) -> None: ...
    def send(self, messages: list[wire.Message]) -> None: ...
    def fire(self, trigger: Trigger, now: float, **context: float) -> None: ...


@trait  # a mixin of the connection: mypyc compiles it as a trait
@mypyc_attr(allow_interpreted_subclasses=True)  # see ClientCore
class MetaReplies:
    """Mixin of the connection: what each /meta/ reply does."""

    connect_at: float | None  # the connection's CONNECT timer

    def on_meta(self: Meta, reply: MetaReply, batch_ok: bool, now: float) -> None:
        channel = reply.channel
        if channel == _META_CONNECT:  # the common one first
            MetaReplies._on_connect(self, reply, now, batch_ok=batch_ok)
        elif channel == wire.META_HANDSHAKE:
            MetaReplies._on_handshake(self, reply, now)
        elif channel == wire.META_SUBSCRIBE:
            pending = self.bayeux.resolve(reply.id)
            if pending is not None:
                self.service.subscribed(reply, pending, now)
        else:
            self.bayeux.resolve(reply.id)

    def _on_handshake(self: Meta, reply: MetaReply, now: float) -> None:
        if self.bayeux.resolve(reply.id) is None:
            return
        self.bayeux.advice.update(reply.advice)
        if not reply.successful:
            if self.bayeux.advice.reconnect is Reconnect.NONE:
                self.fail(now, "handshake refused")
            else:
                self.failure(now, "handshake refused", close=True)
            return
        if not self.bayeux.negotiate(reply.connection_types):
            self.fail(now, "no connection type in common with the server")
            return
        self.bayeux.client_id = reply.client_id
        self.bayeux.ack = -1
        self.attempting = False
        self.outage = recovery.worked(self.outage)
        self.send([self.bayeux.connect(now, immediate=True)])
        self.fire(Trigger.HANDSHAKE_OK, now)
        self.service.step(now)

    def _on_connect(self: Meta, reply: MetaReply, now: float, *, batch_ok: bool) -> None:
        bayeux = self.bayeux
        if batch_ok:
            bayeux.took_batch(reply.ack)
        if bayeux.resolve(reply.id) is None:
            return  # a stale or duplicated reply
        advice = bayeux.advice
        if reply.advice is not advice.applied:
            advice.update(reply.advice)
        self.attempting = False
        if self.outage.instance_failures:
            self.outage = recovery.worked(self.outage)
        if not reply.successful:
            MetaReplies._on_connect_refused(self, reply, now)
            return
        self.service.connected(now)
        if self.link is not _OPEN:
            return
        if advice.interval > 0:
            self.connect_at = now + advice.interval
        else:
            self.send([bayeux.connect(now, immediate=False)])

    def _on_connect_refused(self: Meta, reply: MetaReply, now: float) -> None:
        reconnect = self.bayeux.advice.reconnect
        if reply.error_code == UNKNOWN_CLIENT or reconnect is Reconnect.HANDSHAKE:
            self.rehandshake(now)
        elif reconnect is Reconnect.NONE:
            self.fail(now, "server advised no reconnect")
        else:
            self.failure(now, f"connect refused: {reply.error}", close=True)
