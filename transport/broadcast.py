"""The broadcast service: pure Bayeux, subscribe/publish on broadcast channels.

For servers that speak Bayeux but not the chat service (a Faye server, any
CometD server). The "session" is the set of broadcast subscriptions: it works
once every channel's subscription is confirmed on the current clientId, and a
new handshake (the server forgot us) subscribes again. The connection, the
statechart and the outage rules (interrupted after `interrupt_after`,
continued, 402 → handshake again) are the connection's own. Deliveries come
out as `Broadcast` events; publish outcomes as `CommandDone` with operation
"publish".
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from statecharts.catalog import ErrorCode
from statecharts.chart import LOST, State, Trigger, works_again_trigger
from statecharts.errors import UsageError
from statecharts.events import AppEvent, CommandDone, Ready
from transport import wire
from transport.bayeux import Pending, Purpose
from transport.connection import ClientConnection
from transport.outputs import ClientConfig, LinkState
from transport.replies import Delivery, MetaReply, OtherMessage, ServiceReply

PUBLISH = "publish"


@dataclass(frozen=True)
class Broadcast(AppEvent):
    """A message delivered on a subscribed broadcast channel."""

    kind: ClassVar[str] = "broadcast"
    channel: str
    data: Any


class BroadcastService:
    """Subscriptions and publishes on broadcast channels (a `transport.service.Service`)."""

    def __init__(self, client_id: str, channels: Sequence[str]) -> None:
        for channel in channels:
            if not channel.startswith("/") or channel.startswith(("/meta/", "/service/")):
                raise UsageError(f"not a broadcast channel: {channel!r}")
        self.client_id = client_id
        self.channels = list(channels)
        self.conn: ClientConnection
        self.retry_at: float | None = None  # never armed: subscriptions retry by failure
        self._confirmed: set[str] = set()
        self._subscribed_as: str | None = None  # the clientId the subscriptions belong to
        self._queued: list[tuple[str, str, Any]] = []  # (command id, channel, data)
        self._publishes = 0

    def bind(self, conn: ClientConnection) -> None:
        self.conn = conn

    def queue_publish(self, channel: str, data: Any, now: float) -> str:
        if not channel.startswith("/") or channel.startswith("/meta/"):
            raise UsageError(f"cannot publish on {channel!r}")
        self._publishes += 1
        command_id = f"{self.client_id}-p{self._publishes}"
        self._queued.append((command_id, channel, data))
        self.flush(now)
        return command_id

    def _works(self) -> bool:
        return self._subscribed_as is not None and self._subscribed_as == self.conn.bayeux.client_id

    # -- the Service seam ------------------------------------------------------------
    def step(self, now: float) -> None:
        if self._works():
            if self.conn.state in LOST:
                self.conn.session_works(now, Trigger.RECONNECTED, None)
            return
        if self.conn.bayeux.has_pending(Purpose.SUBSCRIBE):
            return
        self._confirmed.clear()
        bayeux = self.conn.bayeux
        messages = [bayeux.subscribe(channel, now, Purpose.SUBSCRIBE) for channel in self.channels]
        if messages:
            self.conn.send(messages)
        else:
            self._subscriptions_done(now)

    def connected(self, now: float) -> None:
        if self.conn.state is not State.CONNECTING:
            self.step(now)

    def retry_due(self, now: float) -> None:
        self.step(now)

    def subscribed(self, reply: MetaReply, pending: Pending, now: float) -> None:
        if pending.purpose is not Purpose.SUBSCRIBE:
            return
        if not reply.successful:
            self.conn.failure(now, f"subscribe refused: {reply.error}", close=True)
            return
        self._confirmed.add(str(pending.message["subscription"]))
        if self._confirmed >= set(self.channels):
            self._subscriptions_done(now)

    def _subscriptions_done(self, now: float) -> None:
        self._subscribed_as = self.conn.bayeux.client_id
        state = self.conn.state
        first = state is State.OPENING
        self.conn.session_works(now, works_again_trigger(state), Ready(None) if first else None)

    def on_reply(
        self, reply: ServiceReply | Delivery | OtherMessage, pending: Pending | None, now: float
    ) -> None:
        if isinstance(reply, Delivery):
            self.conn.emit(now, Broadcast(reply.channel, reply.data))
        elif isinstance(reply, OtherMessage) and reply.successful is None:
            # A delivery. Faye keeps the publisher's `id` on it, so the id says nothing.
            if reply.has_data:
                self.conn.emit(now, Broadcast(reply.channel, reply.data))
        elif pending is not None and pending.purpose is Purpose.PUBLISH:
            ok = reply.successful is True
            code = None if ok else int(ErrorCode.EXECUTION_ERROR)
            self.conn.emit(now, CommandDone(pending.command_id or "", PUBLISH, ok, None, code))

    def after_frame(self, now: float) -> None:
        pass

    def flush(self, now: float) -> None:
        if (
            self.conn.state is not State.READY
            or self.conn.link is not LinkState.OPEN
            or not self._works()
        ):
            return
        bayeux = self.conn.bayeux
        batch = [
            bayeux.publish_to(channel, data, now, command_id=cid, purpose=Purpose.PUBLISH)
            for cid, channel, data in self._queued
        ]
        self._queued.clear()
        self.conn.send(batch)

    def connection_gone(self, now: float) -> None:
        self.retry_at = None

    def rehandshake(self, now: float) -> None:
        self._subscribed_as = None
        self.retry_at = None

    def failover(self, now: float, old: str, new: str) -> None:
        pass  # no session on the server to move: the next handshake subscribes again

    def reload(self, now: float) -> None:
        self.retry_at = None

    def farewell(self, now: float) -> list[wire.Message]:
        return []

    def settle_all(self, now: float, code: int) -> None:
        pass

    def settle_unsent(self, now: float, code: int) -> None:
        pass

    def shutdown(self, now: float) -> None:
        pass


class BroadcastCore(ClientConnection):
    """A pure-Bayeux client: a connection running the broadcast service."""

    def __init__(
        self,
        client_id: str,
        channels: Sequence[str],
        config: ClientConfig | None = None,
        servers: Sequence[str] = ("i1",),
        rng: random.Random | None = None,
    ) -> None:
        self.broadcasts = BroadcastService(client_id, channels)
        super().__init__(client_id, self.broadcasts, config, servers, rng)
        self.broadcasts.bind(self)

    @property
    def channels(self) -> list[str]:
        return self.broadcasts.channels

    def publish(self, channel: str, data: Any, now: float) -> str:
        """Publish on a broadcast channel; returns the command id of its CommandDone."""
        self.advance(now)
        self.require_session("publish")
        return self.broadcasts.queue_publish(channel, data, now)
