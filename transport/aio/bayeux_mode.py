"""Pure-Bayeux mode of the client core: subscribe/publish on broadcast channels.

For servers that speak Bayeux but not the chat service (a Faye server, any
CometD server). It is the chat client core with the chat step swapped out:
instead of `requestChat` the "session" is the set of broadcast subscriptions,
so the Bayeux layer, the statechart and the outage rules (interrupted after
`interrupt_after`, continued, 402 → re-handshake) are the core's own.

The session works once every channel's subscription is confirmed on the
current clientId; a re-handshake (the server forgot us) subscribes again.
Deliveries come out as `Broadcast` events; publish outcomes as `CommandDone`
with operation "publish".
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from statecharts.catalog import ErrorCode
from statecharts.chart import State, Trigger, works_again_trigger
from statecharts.errors import UsageError
from statecharts.events import AppEvent, CommandDone, Ready
from transport import wire
from transport.bayeux import Pending, RequestKind
from transport.core import ClientConfig, ClientCore, Conn

PUBLISH = "publish"
SUBSCRIBE = "bayeux-subscribe"


@dataclass(frozen=True)
class Broadcast(AppEvent):
    """A message delivered on a subscribed broadcast channel."""

    kind: ClassVar[str] = "broadcast"
    channel: str
    data: Any


class BayeuxCore(ClientCore):
    def __init__(
        self,
        client_id: str,
        channels: Sequence[str],
        config: ClientConfig | None = None,
        servers: Sequence[str] = ("i1",),
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(client_id, config, servers, rng)
        for channel in channels:
            if not channel.startswith("/") or channel.startswith(("/meta/", "/service/")):
                raise UsageError(f"not a broadcast channel: {channel!r}")
        self.channels = list(channels)
        self._confirmed: set[str] = set()
        self._subscribed_as: str | None = None  # the clientId the subscriptions belong to
        self._queued: list[tuple[str, str, Any]] = []  # (command id, channel, data)
        self._publishes = 0

    # -- application commands ----------------------------------------------------
    def publish(self, channel: str, data: Any, now: float) -> str:
        """Publish on a broadcast channel; returns the command id of its CommandDone."""
        self._advance(now)
        self._require_session("publish")
        if not channel.startswith("/") or channel.startswith("/meta/"):
            raise UsageError(f"cannot publish on {channel!r}")
        self._publishes += 1
        command_id = f"{self.client_id}-p{self._publishes}"
        self._queued.append((command_id, channel, data))
        self._flush(now)
        return command_id

    # -- the session step, Bayeux style --------------------------------------------
    def _works(self) -> bool:
        return self._subscribed_as is not None and self._subscribed_as == self.bayeux.client_id

    def _session_step(self, now: float) -> None:
        if self._works():
            if self.state in (State.RECONNECTING, State.INTERRUPTED):
                self._session_works(now, Trigger.RECONNECTED, None)
            return
        if self._pending_purpose(SUBSCRIBE):
            return
        self._confirmed.clear()
        messages = [self._subscribe(channel, now) for channel in self.channels]
        if messages:
            self._send(messages)
        else:
            self._subscriptions_done(now)

    def _subscribe(self, channel: str, now: float) -> wire.Message:
        msg = self.bayeux.subscribe(channel, now)
        old = self.bayeux.pending[msg["id"]]
        self.bayeux.pending[msg["id"]] = Pending(
            RequestKind.SUBSCRIBE, old.deadline, msg, purpose=SUBSCRIBE,
        )
        return msg

    def _on_subscribe(self, msg: wire.Message) -> None:
        pending = self.bayeux.resolve(msg)
        if pending is None or pending.purpose != SUBSCRIBE:
            return
        now = self._now_of_frame
        if not msg["successful"]:
            self._on_failure(now, f"subscribe refused: {msg.get('error')}", close=True)
            return
        self._confirmed.add(str(pending.message["subscription"]))
        if self._confirmed >= set(self.channels):
            self._subscriptions_done(now)

    def _subscriptions_done(self, now: float) -> None:
        self._subscribed_as = self.bayeux.client_id
        first = self.state is State.OPENING
        self._session_works(now, works_again_trigger(self.state), Ready(None) if first else None)

    # -- frames ----------------------------------------------------------------------
    _now_of_frame: float = 0.0

    def _handle(self, msg: wire.Message, now: float, *, batch_ok: bool) -> None:
        self._now_of_frame = now
        channel: str = msg["channel"]
        if channel.startswith("/meta/") or self.draining:
            super()._handle(msg, now, batch_ok=batch_ok)
            return
        if "successful" not in msg:
            # A delivery. Faye keeps the publisher's `id` on it, so the id says nothing.
            if "data" in msg:
                self._emit(now, Broadcast(channel, msg["data"]))
            return
        pending = self.bayeux.resolve(msg)
        if pending is not None and pending.purpose == PUBLISH:
            ok = msg["successful"] is True
            code = None if ok else int(ErrorCode.EXECUTION_ERROR)
            self._emit(now, CommandDone(pending.command_id or "", PUBLISH, ok, None, code))

    def _flush(self, now: float) -> None:
        super()._flush(now)
        if self.state is not State.READY or self.conn is not Conn.OPEN or not self._works():
            return
        batch = [self._publish_message(cid, channel, data, now)
                 for cid, channel, data in self._queued]
        self._queued.clear()
        if batch:
            self._send(batch)

    def _publish_message(
        self, command_id: str, channel: str, data: Any, now: float,
    ) -> wire.Message:
        msg: wire.Message = {
            "channel": channel, "clientId": self.bayeux.client_id,
            "id": self.bayeux.new_id(), "data": data,
        }
        deadline = now + self.timers.max_network_delay
        self.bayeux.pending[msg["id"]] = Pending(
            RequestKind.PUBLISH, deadline, msg, command_id=command_id, purpose=PUBLISH,
        )
        return msg

    def _rehandshake(self, now: float) -> None:
        self._subscribed_as = None
        super()._rehandshake(now)
